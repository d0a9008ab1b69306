#!/usr/bin/env node
/**
 * Local stand-ins for the images docker-compose.yaml names (postgres, temporalio/server,
 * temporalio/admin-tools, temporalio/ui, node), for machines that reach no image registry.
 * Part of `npm run setup`; the compose test points the file's image variables at them.
 *
 *   provisioning-standin/debian:<suite>          debootstrap --variant=minbase, imported once
 *   provisioning-standin/postgres:15             Debian's PostgreSQL + an entrypoint like the official one
 *   provisioning-standin/temporal-server:<v>     the server set-up builds from the Go module proxy
 *   provisioning-standin/temporal-admin-tools:<v> temporal-sql-tool, the schema, the temporal CLI
 *   provisioning-standin/temporal-ui:<v>         the ui-server built from the Go module proxy (assets embedded)
 *   provisioning-standin/node:<major>            this machine's Node.js and npm
 *
 * Each image carries a label with the hash of what it was built from; a present image with
 * the same hash is kept (built once per machine). The image variables for docker compose are
 * written to <cache>/standins/compose.env.json. Node built-ins only: runs before `npm ci`.
 *
 *   node scripts/standins.mjs           build what is missing
 *   node scripts/standins.mjs --env     print the compose image variables (KEY=VALUE lines)
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const standinsDir = path.join(root, 'deploy', 'standins');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
const HASH_LABEL = 'provisioning.standin.hash';

export const DEBIAN_SUITE = 'bookworm';
export const TEMPORAL_SERVER_VERSION = pkg.config.temporalServer; // v1.30.4
export const TEMPORAL_UI_VERSION = pkg.config.temporalUi; // v2.54.1
const NODE_MAJOR = process.versions.node.split('.')[0];

export function cacheDir(env = process.env) {
  return path.join(env.XDG_CACHE_HOME || path.join(env.HOME || os.homedir(), '.cache'), 'provisioning');
}

const bare = (v) => v.replace(/^v/, '');

/** Every stand-in: its tag and what goes into its build context. */
function images(env) {
  const serverDir = path.join(cacheDir(env), 'temporal-server', TEMPORAL_SERVER_VERSION);
  const uiDir = path.join(cacheDir(env), 'temporal-ui', TEMPORAL_UI_VERSION);
  const minbase = `provisioning-standin/debian-minbase:${DEBIAN_SUITE}`;
  const base = `provisioning-standin/debian:${DEBIAN_SUITE}`;
  const npmDir = path.resolve(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm');
  const temporalCli = path.join(cacheDir(env), 'bin', 'temporal');
  const moduleEntrypoint = () => path.join(goModCache(), 'go.temporal.io', `server@${TEMPORAL_SERVER_VERSION}`, 'docker', 'scripts', 'sh', 'entrypoint.sh');
  return {
    minbase,
    base,
    list: [
      // The minbase with this machine's extra CA certificates (a TLS-inspecting egress proxy's, say),
      // so apt and npm inside builds trust what the host trusts.
      { name: 'debian', tag: base, from: minbase, files: { 'ca-certificates': '/usr/local/share/ca-certificates' }, hashOf: [...extraCaCerts()] },
      { name: 'postgres', tag: 'provisioning-standin/postgres:15', files: {}, hashOf: [] },
      {
        name: 'temporal-server',
        tag: `provisioning-standin/temporal-server:${bare(TEMPORAL_SERVER_VERSION)}`,
        files: { 'temporal-server': path.join(serverDir, 'bin', 'temporal-server'), 'entrypoint.sh': moduleEntrypoint },
        hashOf: [TEMPORAL_SERVER_VERSION],
      },
      {
        name: 'temporal-admin-tools',
        tag: `provisioning-standin/temporal-admin-tools:${bare(TEMPORAL_SERVER_VERSION)}`,
        files: { 'temporal-sql-tool': path.join(serverDir, 'bin', 'temporal-sql-tool'), temporal: temporalCli, schema: path.join(serverDir, 'schema') },
        hashOf: [TEMPORAL_SERVER_VERSION],
      },
      {
        name: 'temporal-ui',
        tag: `provisioning-standin/temporal-ui:${bare(TEMPORAL_UI_VERSION)}`,
        files: { 'ui-server': path.join(uiDir, 'ui-server'), 'docker.yaml': path.join(uiDir, 'docker.yaml'), 'start-ui-server.sh': path.join(uiDir, 'start-ui-server.sh') },
        hashOf: [TEMPORAL_UI_VERSION],
      },
      { name: 'node', tag: `provisioning-standin/node:${NODE_MAJOR}`, files: { node: process.execPath, npm: npmDir }, hashOf: [process.version] },
    ],
  };
}

/** The compose file's image variables that point it at the stand-ins. */
export function composeEnv() {
  return {
    POSTGRES_IMAGE: 'provisioning-standin/postgres',
    POSTGRES_VERSION: '15',
    TEMPORAL_IMAGE: 'provisioning-standin/temporal-server',
    TEMPORAL_VERSION: bare(TEMPORAL_SERVER_VERSION),
    TEMPORAL_ADMINTOOLS_IMAGE: 'provisioning-standin/temporal-admin-tools',
    TEMPORAL_ADMINTOOLS_VERSION: bare(TEMPORAL_SERVER_VERSION),
    TEMPORAL_UI_IMAGE: 'provisioning-standin/temporal-ui',
    TEMPORAL_UI_VERSION: bare(TEMPORAL_UI_VERSION),
    NODE_IMAGE: `provisioning-standin/node:${NODE_MAJOR}`,
  };
}

/** The contents of the host's locally added CA certificates (none on most machines). */
function extraCaCerts() {
  const dir = '/usr/local/share/ca-certificates';
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true }).map(String).filter((f) => f.endsWith('.crt')).sort().map((f) => readFileSync(path.join(dir, f), 'utf8'));
}

function run(cmd, argv, options = {}) {
  const result = spawnSync(cmd, argv, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...options });
  return { ok: result.status === 0, status: result.status, stdout: result.stdout ?? '', stderr: result.stderr ?? '', error: result.error };
}

let goModCacheDir;
function goModCache() {
  goModCacheDir ??= run('go', ['env', 'GOMODCACHE']).stdout.trim();
  return goModCacheDir;
}

function imageHash(tag) {
  const r = run('docker', ['image', 'inspect', '--format', `{{ index .Config.Labels "${HASH_LABEL}" }}`, tag]);
  return r.ok ? r.stdout.trim() : undefined;
}

function hashDir(dir, extra) {
  const hash = createHash('sha256');
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true }).filter((x) => x.isFile()).map((x) => path.join(x.parentPath, x.name)).sort()) {
    hash.update(path.relative(dir, e));
    hash.update(readFileSync(e));
  }
  for (const x of extra) hash.update(String(x));
  return hash.digest('hex').slice(0, 16);
}

/**
 * Builds what is missing. `runLoud(what, cmd, argv, options)` runs a step with its output
 * logged (set-up's own); `say(line)` reports progress. Returns the tags it built.
 */
export function ensureStandins({ runLoud, say, env = process.env, asRoot = [] }) {
  const { minbase, base, list } = images(env);
  const built = [];
  const baseHash = createHash('sha256').update(`${DEBIAN_SUITE} minbase ca-certificates netcat-openbsd procps wget`).digest('hex').slice(0, 16);
  if (imageHash(minbase) !== baseHash) {
    if (!asRoot) throw new Error(`building ${minbase} runs debootstrap, which needs root, and this user is not root and has no password-less sudo`);
    const [rootCmd, ...rootArgs] = asRoot.length ? asRoot : [undefined];
    const asRootArgv = (cmd, argv) => (rootCmd ? [rootCmd, [...rootArgs, cmd, ...argv]] : [cmd, argv]);
    const rootfs = path.join(cacheDir(env), 'standins', `rootfs-${DEBIAN_SUITE}.partial`);
    if (existsSync(rootfs)) runLoud('remove an old root file system', ...asRootArgv('rm', ['-rf', rootfs]));
    mkdirSync(path.dirname(rootfs), { recursive: true });
    const mirror = env.PROVISIONING_DEBIAN_MIRROR || 'http://deb.debian.org/debian';
    say(`debootstrap ${DEBIAN_SUITE} (minbase) from ${mirror} for ${minbase} (a few minutes, once) ...`);
    // An administrator's tool: /usr/sbin is not on every user's PATH.
    const debootstrap = existsSync('/usr/sbin/debootstrap') ? '/usr/sbin/debootstrap' : 'debootstrap';
    runLoud('debootstrap', ...asRootArgv(debootstrap, ['--variant=minbase', '--include=ca-certificates,netcat-openbsd,procps,wget', DEBIAN_SUITE, rootfs, mirror]));
    runLoud('drop the package cache', ...asRootArgv('find', [path.join(rootfs, 'var', 'cache', 'apt', 'archives'), '-name', '*.deb', '-delete']));
    const tar = path.join(cacheDir(env), 'standins', `rootfs-${DEBIAN_SUITE}.tar`);
    runLoud('tar the root file system', ...asRootArgv('tar', ['--numeric-owner', '-C', rootfs, '-cf', tar, '.']));
    runLoud('docker import', 'docker', ['import', '--change', `LABEL ${HASH_LABEL}=${baseHash}`, '--change', 'CMD ["bash"]', '--change', 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', tar, minbase]);
    runLoud('remove the root file system', ...asRootArgv('rm', ['-rf', rootfs, tar]));
    built.push(minbase);
  }
  // Each image's hash covers its parent's, so a rebuilt base rebuilds the rest.
  let parent = baseHash;
  for (const image of list) {
    const want = hashDir(path.join(standinsDir, image.name), [parent, ...image.hashOf]);
    if (image.tag === base) parent = want;
    if (imageHash(image.tag) === want) continue;
    if (image.name === 'temporal-ui') buildUiServer({ runLoud, say, env });
    say(`docker build ${image.tag} ...`);
    const context = mkdtempSync(path.join(os.tmpdir(), 'provisioning-standin-'));
    try {
      cpSync(path.join(standinsDir, image.name), context, { recursive: true });
      for (const [name, from] of Object.entries(image.files)) {
        const source = typeof from === 'function' ? from() : from;
        if (!existsSync(source)) {
          if (image.name === 'debian') {
            mkdirSync(path.join(context, name));
            continue;
          }
          throw new Error(`${image.tag} needs ${source}, which is missing (run "npm run setup" to build it)`);
        }
        cpSync(source, path.join(context, name), { recursive: true, dereference: true });
      }
      for (const name of ['entrypoint.sh', 'start-ui-server.sh', 'temporal-server', 'temporal-sql-tool', 'temporal', 'ui-server', 'node']) {
        if (existsSync(path.join(context, name))) chmodSync(path.join(context, name), 0o755);
      }
      runLoud(`docker build ${image.tag}`, 'docker', ['build', '-q', '--build-arg', `BASE_IMAGE=${image.from ?? base}`, '--label', `${HASH_LABEL}=${want}`, '-t', image.tag, context], { env: { ...env, DOCKER_BUILDKIT: '0' } });
    } finally {
      rmSync(context, { recursive: true, force: true });
    }
    built.push(image.tag);
  }
  const manifest = path.join(cacheDir(env), 'standins', 'compose.env.json');
  mkdirSync(path.dirname(manifest), { recursive: true });
  const content = `${JSON.stringify(composeEnv(), null, 2)}\n`;
  if (!existsSync(manifest) || readFileSync(manifest, 'utf8') !== content) writeFileSync(manifest, content);
  return built;
}

/** The ui-server at the pinned version from the Go module proxy, with the image's config template and start script. */
function buildUiServer({ runLoud, say, env }) {
  const dir = path.join(cacheDir(env), 'temporal-ui', TEMPORAL_UI_VERSION);
  if (existsSync(path.join(dir, '.provisioning-setup'))) return;
  say(`building the Temporal UI server ${TEMPORAL_UI_VERSION} from the Go module proxy (about a minute, once) ...`);
  const partial = `${dir}.partial`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(path.join(partial, 'bin'), { recursive: true });
  const goEnv = { ...env, CGO_ENABLED: '0', GOBIN: path.join(partial, 'bin'), GOFLAGS: '-buildvcs=false', GOTOOLCHAIN: env.GOTOOLCHAIN || 'auto' };
  runLoud('go install the Temporal UI server', 'go', ['install', `github.com/temporalio/ui-server/v2/cmd/server@${TEMPORAL_UI_VERSION}`], { env: goEnv });
  renameSync(path.join(partial, 'bin', 'server'), path.join(partial, 'ui-server'));
  const module = path.join(goModCache(), 'github.com', 'temporalio', `ui-server/v2@${TEMPORAL_UI_VERSION}`);
  copyFileSync(path.join(module, 'config', 'docker.yaml'), path.join(partial, 'docker.yaml'));
  copyFileSync(path.join(module, 'docker', 'start-ui-server.sh'), path.join(partial, 'start-ui-server.sh'));
  run('chmod', ['-R', 'u+w', partial]);
  writeFileSync(path.join(partial, '.provisioning-setup'), `${TEMPORAL_UI_VERSION}\n`);
  rmSync(dir, { recursive: true, force: true });
  renameSync(partial, dir);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (process.argv.includes('--env')) {
    for (const [k, v] of Object.entries(composeEnv())) process.stdout.write(`${k}=${v}\n`);
  } else {
    const runLoud = (what, cmd, argv, options = {}) => {
      const r = spawnSync(cmd, argv, { stdio: 'inherit', ...options });
      if (r.status !== 0) throw new Error(`${what} failed (${cmd} exited ${r.status ?? r.signal})`);
    };
    const built = ensureStandins({ runLoud, say: (line) => process.stdout.write(`${line}\n`) });
    process.stdout.write(built.length ? `built ${built.join(', ')}\n` : 'all stand-ins present\n');
  }
}
