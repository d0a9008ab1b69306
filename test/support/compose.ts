/**
 * A project of the top-level docker-compose.yaml, on the stand-in images set-up builds
 * (scripts/standins.mjs), under a unique project name, with its own secrets and free ports.
 * Works with Compose v2 (`docker compose`) and Debian's v1 (`docker-compose`), which has no
 * `up --wait`: `waitReady` reads the containers' health itself, for both.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { dockerClient } from '../../src/docker/client.js';
import { userCacheDir } from '../../src/temporal/cli-binary.js';
import { freePort } from '../../src/util/net.js';

export const repoRoot = path.resolve(import.meta.dirname, '../..');
export const composeFile = path.join(repoRoot, 'docker-compose.yaml');

/** `docker compose` where the plugin answers, else `docker-compose`. */
export async function composeCommand(): Promise<[string, ...string[]]> {
  const plugin = await execa('docker', ['compose', 'version'], { reject: false });
  return plugin.exitCode === 0 ? ['docker', 'compose'] : ['docker-compose'];
}

/** The image variables that point the file at the stand-ins (written by `npm run setup`). */
export async function standinEnv(): Promise<Record<string, string>> {
  const manifest = path.join(userCacheDir(), 'standins', 'compose.env.json');
  if (!existsSync(manifest)) throw new Error(`${manifest} is missing: the compose stand-in images are built by "npm run setup"`);
  return JSON.parse(await readFile(manifest, 'utf8')) as Record<string, string>;
}

export interface ComposeRun {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ContainerView {
  id: string;
  name: string;
  service: string;
  hostname: string;
  status: string;
  exitCode: number;
  health?: string;
  healthLog: string[];
}

export interface ComposeProject {
  name: string;
  token: string;
  ports: { temporal: number; ui: number; api: number };
  /** Environment of every compose command: the stand-ins, ports, secrets, project name. */
  env: Record<string, string>;
  run(args: string[], env?: Record<string, string>): Promise<ComposeRun>;
  containers(service?: string): Promise<ContainerView[]>;
  /** Until every named service has `count` healthy containers and each one-shot job exited 0. */
  waitReady(services: Record<string, number>, timeoutMs?: number): Promise<void>;
  logs(service: string): Promise<string>;
  /** `down -v --remove-orphans`, then what is left with the project's label (should be nothing). */
  down(): Promise<{ containers: string[]; networks: string[]; volumes: string[] }>;
  cleanup(): Promise<void>;
}

const ONE_SHOT = ['temporal-schema', 'temporal-namespace'];

export async function composeProject(extraEnv: Record<string, string> = {}): Promise<ComposeProject> {
  const command = await composeCommand();
  const name = `provtest${randomBytes(3).toString('hex')}`;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'provisioning-compose-'));
  const token = randomBytes(32).toString('hex');
  // Secrets are bind-mounted as they are: the containers' non-root users must read them.
  await writeFile(path.join(dir, 'api-token'), `${token}\n`);
  await writeFile(path.join(dir, 'postgres-password'), `${randomBytes(16).toString('hex')}\n`);
  await chmod(path.join(dir, 'api-token'), 0o644);
  await chmod(path.join(dir, 'postgres-password'), 0o644);
  const ports = { temporal: await freePort(), ui: await freePort(), api: await freePort() };
  const socketGid = String(statSync('/var/run/docker.sock').gid);
  const env: Record<string, string> = {
    ...(await standinEnv()),
    COMPOSE_PROJECT_NAME: name,
    PROVISIONING_IMAGE: 'provisioning-compose-test',
    PROVISIONING_VERSION: 'test',
    PROVISIONING_API_TOKEN_FILE: path.join(dir, 'api-token'),
    POSTGRES_PASSWORD_FILE: path.join(dir, 'postgres-password'),
    DOCKER_GID: socketGid,
    TEMPORAL_PORT: String(ports.temporal),
    TEMPORAL_UI_PORT: String(ports.ui),
    PROVISIONING_API_PORT: String(ports.api),
    ...extraEnv,
  };
  const docker = dockerClient();
  const label = `com.docker.compose.project=${name}`;

  const run = async (args: string[], more: Record<string, string> = {}): Promise<ComposeRun> => {
    const r = await execa(command[0], [...command.slice(1), '-f', composeFile, ...args], { cwd: repoRoot, env: { ...env, ...more }, reject: false, all: false });
    return { code: r.exitCode ?? 1, stdout: String(r.stdout), stderr: String(r.stderr) };
  };

  const containers = async (service?: string): Promise<ContainerView[]> => {
    const list = await docker.listContainers({ all: true, filters: { label: [label, ...(service ? [`com.docker.compose.service=${service}`] : [])] } });
    return Promise.all(
      list.map(async (c) => {
        const info = await docker.getContainer(c.Id).inspect();
        const health = info.State.Health as { Status: string; Log?: Array<{ Output: string }> } | undefined;
        return {
          id: c.Id,
          name: info.Name.slice(1),
          service: c.Labels['com.docker.compose.service'] ?? '',
          hostname: info.Config.Hostname,
          status: info.State.Status,
          exitCode: info.State.ExitCode,
          ...(health ? { health: health.Status } : {}),
          healthLog: (health?.Log ?? []).map((l) => l.Output.trim()),
        };
      }),
    );
  };

  const logs = async (service: string): Promise<string> => {
    const r = await run(['logs', '--no-color', '--tail', '50', service]);
    return r.stdout + r.stderr;
  };

  const waitReady = async (services: Record<string, number>, timeoutMs = 300_000): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    for (;;) {
      const all = await containers();
      const problems: string[] = [];
      for (const job of ONE_SHOT) {
        const done = all.filter((c) => c.service === job);
        if (!done.some((c) => c.status === 'exited' && c.exitCode === 0)) problems.push(`${job}: ${done.map((c) => `${c.status} (${c.exitCode})`).join(', ') || 'no container'}`);
      }
      for (const [service, count] of Object.entries(services)) {
        const healthy = all.filter((c) => c.service === service && c.status === 'running' && c.health === 'healthy');
        if (healthy.length < count) problems.push(`${service}: ${healthy.length}/${count} healthy (${all.filter((c) => c.service === service).map((c) => `${c.status}/${c.health ?? '-'}`).join(', ')})`);
      }
      if (problems.length === 0) return;
      last = problems.join('; ');
      if (Date.now() > deadline) {
        const tails = await Promise.all(Object.keys(services).map(async (s) => `--- ${s}\n${(await logs(s)).split('\n').slice(-8).join('\n')}`));
        throw new Error(`compose project ${name} not ready after ${timeoutMs / 1000} s: ${last}\n${tails.join('\n')}`);
      }
      await new Promise((r) => setTimeout(r, 1_000));
    }
  };

  const down = async () => {
    const r = await run(['down', '-v', '--remove-orphans', '-t', '5']);
    if (r.code !== 0) throw new Error(`compose down failed: ${r.stderr}`);
    const [cs, ns, vs] = await Promise.all([
      docker.listContainers({ all: true, filters: { label: [label] } }),
      docker.listNetworks({ filters: { label: [label] } }),
      docker.listVolumes({ filters: { label: [label] } }),
    ]);
    return { containers: cs.map((c) => c.Names[0] ?? c.Id), networks: ns.map((n) => n.Name), volumes: (vs.Volumes ?? []).map((v) => v.Name) };
  };

  const cleanup = async () => {
    await run(['down', '-v', '--remove-orphans', '-t', '1']).catch(() => undefined);
    // The rebuilt image's previous version is left untagged: remove those of ours.
    await execa('docker', ['image', 'prune', '-f', '--filter', 'label=provisioning.image=true'], { reject: false });
    await rm(dir, { recursive: true, force: true });
  };

  return { name, token, ports, env, run, containers, waitReady, logs, down, cleanup };
}
