/**
 * Docker Compose as the peer of a docker-mode platform start, on the same graph: every service
 * is a container of the local base image running the same script as the binary services
 * (sleep its delay, then busybox httpd on port 8080, published on a free loopback port).
 *
 *   docker-compose   a compose file (format 2.4, which Debian's docker-compose 1.x and the v2
 *                    plugin both read) where each service `depends_on` its dependencies with
 *                    `condition: service_healthy`, and a healthcheck that wgets its own httpd
 *                    every HEALTH_INTERVAL (compose's tightest setting that the 2 cores can
 *                    keep: every probe is an exec in the container). Timed from spawning
 *                    `docker-compose up -d` until the engine reports every container healthy
 *                    (polled every 25 ms): `up -d` itself returns once the last ones are
 *                    started, not healthy.
 *   platformStart    the same services as docker-mode registry entries (container per service,
 *                    the same image, command and published port), an http health check on the
 *                    published port; timed by the Temporal harness like the binary runs.
 *
 * Every container either method makes carries BENCH_LABEL=<run id>, and is removed by that
 * label after the run and on Ctrl-C, then checked gone.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { parseRegistry } from '../../src/config/registry.js';
import type { Registry } from '../../src/config/registry-schema.js';
import { BASE_IMAGE, ensureBaseImage } from '../../src/docker/base-image.js';
import { dockerClient } from '../../src/docker/client.js';
import { HOME_LABEL } from '../../src/model/labels.js';
import { which } from '../../src/util/which.js';
import type { BenchService, Shape } from './dag.js';
import { allocatePorts, withInterruptCleanup } from './procs.js';

export const BENCH_LABEL = 'provisioning.bench';
const CONTAINER_PORT = 8080;
/** The compose healthcheck's interval; below 100 ms the per-probe execs of 40 containers saturate two cores and slow both methods. */
export const COMPOSE_HEALTH_INTERVAL = process.env.BENCH_COMPOSE_INTERVAL ?? '100ms';
const READY_TIMEOUT_MS = 120_000;
const POLL_MS = 25;

export type Compose = { available: true; argv: string[]; version: string } | { available: false; reason: string };

/** Debian's docker-compose (1.x) or the docker CLI's compose plugin, and its version. */
export async function findCompose(): Promise<Compose> {
  const candidates: string[][] = [];
  if (which('docker-compose', process.env.PATH ?? '')) candidates.push(['docker-compose']);
  if (which('docker', process.env.PATH ?? '')) candidates.push(['docker', 'compose']);
  for (const argv of candidates) {
    const v = await execa(argv[0]!, [...argv.slice(1), 'version', '--short'], { reject: false, timeout: 30_000 });
    if (v.exitCode === 0) return { available: true, argv, version: v.stdout.trim() };
  }
  return { available: false, reason: 'neither docker-compose nor `docker compose` answers (npm run setup installs Debian\'s docker-compose)' };
}

/** The in-container command: a page to serve, the delay, then httpd in the foreground. */
export function containerScript(service: BenchService): string {
  return `mkdir -p /www && echo ok > /www/index.html; sleep ${service.delay}; exec httpd -f -p ${CONTAINER_PORT} -h /www`;
}

/** The docker-mode registry of a shape: one container per service, named <prefix>-<name>. */
export function dockerRegistry(shape: Shape, home: string, ports: Readonly<Record<string, number>>, prefix: string): Registry {
  const services = Object.fromEntries(
    shape.services.map((s) => [
      s.name,
      {
        dependencies: s.dependencies,
        deployment: {
          mode: 'docker',
          docker: { image: BASE_IMAGE, container_name: `${prefix}-${s.name}`, command: ['sh', '-c', containerScript(s)], ports: [`127.0.0.1:${ports[s.name]!}:${CONTAINER_PORT}`] },
        },
        health_check: { type: 'http', interval: 0.5, timeout: 1, http: { endpoint: `http://127.0.0.1:${ports[s.name]!}/` } },
        startup: { start_timeout: 60 },
      },
    ]),
  );
  return parseRegistry({ services }, path.join(home, 'services.toml'), {});
}

/** The compose file of a shape (JSON is YAML). */
export function composeFile(shape: Shape, ports: Readonly<Record<string, number>>, runId: string): string {
  const services = Object.fromEntries(
    shape.services.map((s) => [
      s.name,
      {
        image: BASE_IMAGE,
        command: ['sh', '-c', containerScript(s)],
        ports: [`127.0.0.1:${ports[s.name]!}:${CONTAINER_PORT}`],
        labels: { [BENCH_LABEL]: runId },
        healthcheck: { test: ['CMD', 'wget', '-q', '-O', '/dev/null', `http://127.0.0.1:${CONTAINER_PORT}/`], interval: COMPOSE_HEALTH_INTERVAL, timeout: '1s', retries: 600 },
        ...(s.dependencies.length ? { depends_on: Object.fromEntries(s.dependencies.map((d) => [d, { condition: 'service_healthy' }])) } : {}),
      },
    ]),
  );
  return JSON.stringify({ version: '2.4', services }, null, 2);
}

/** Removes every container labelled with `label=value`; returns how many were left after. */
export async function removeLabelled(label: string, value: string): Promise<number> {
  const docker = dockerClient();
  const find = () => docker.listContainers({ all: true, filters: { label: [`${label}=${value}`] } });
  await Promise.allSettled((await find()).map((c) => docker.getContainer(c.Id).remove({ force: true })));
  return (await find()).length;
}

export async function ensureImage(): Promise<void> {
  await ensureBaseImage(dockerClient());
}

/** Seconds from `up -d` until every container of the project is healthy; everything removed after. */
export async function runCompose(compose: Extract<Compose, { available: true }>, shape: Shape, runId: string): Promise<number> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'provisioning-bench-compose-'));
  const project = runId.replace(/[^a-z0-9]/g, '');
  const file = path.join(dir, 'docker-compose.yaml');
  const argv = (...rest: string[]) => [...compose.argv.slice(1), '-p', project, '-f', file, ...rest];
  const cleanup = async () => {
    await execa(compose.argv[0]!, argv('down', '-t', '0', '--remove-orphans'), { reject: false, timeout: 120_000 });
    const left = await removeLabelled(BENCH_LABEL, runId);
    await rm(dir, { recursive: true, force: true });
    if (left > 0) throw new Error(`docker-compose run ${runId}: ${left} container(s) could not be removed`);
  };
  return withInterruptCleanup(cleanup, async () => {
    try {
      await writeFile(file, composeFile(shape, await allocatePorts(shape), runId));
      const docker = dockerClient();
      const t0 = performance.now();
      const up = execa(compose.argv[0]!, argv('up', '-d', '--no-color', '--quiet-pull'), { reject: false, all: true, timeout: READY_TIMEOUT_MS });
      let upDone = false;
      void up.finally(() => (upDone = true));
      for (;;) {
        const all = await docker.listContainers({ filters: { label: [`${BENCH_LABEL}=${runId}`] } });
        if (all.length === shape.services.length && all.every((c) => c.Status.includes('(healthy)'))) break;
        if (upDone) {
          const r = await up;
          if (r.exitCode !== 0) throw new Error(`docker-compose up failed (exit ${r.exitCode}): ${r.all?.split('\n').slice(-3).join(' / ')}`);
        }
        if (performance.now() - t0 > READY_TIMEOUT_MS) throw new Error(`docker-compose: not every container healthy after ${READY_TIMEOUT_MS / 1000} s`);
        await sleep(POLL_MS);
      }
      const seconds = (performance.now() - t0) / 1000;
      await up;
      return seconds;
    } finally {
      await cleanup();
    }
  });
}

/** Removes the containers a docker-mode platformStart made for `home`; throws if any is left. */
export async function removeHomeContainers(home: string): Promise<void> {
  const left = await removeLabelled(HOME_LABEL, home);
  if (left > 0) throw new Error(`platformStart (docker) in ${home}: ${left} container(s) could not be removed`);
}
