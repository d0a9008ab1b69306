/**
 * `platform metrics`, `platform versions` and `platform monitor` as a user runs them, against
 * real processes, the real dev server and its supervisors; `platform monitor` also in a real
 * terminal (tmux), where it redraws in place and quits on q and on Ctrl-C.
 */
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { cli, scratchIn } from '../support/cli.js';
import { BASE_IMAGE } from '../../src/docker/base-image.js';
import { dockerAvailable } from '../support/docker.js';
import { runningServices, testPlatform, type TestPlatform } from '../support/services.js';
import { uniqueId, withWorker } from '../support/temporal.js';

const root = path.resolve(import.meta.dirname, '../..');
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!().catch(() => undefined);
});

/**
 * api (supervised: restart_on_failure, checks every 0.3 s) depends on db (not supervised);
 * idle (not started) depends on api and ghost (never started): what monitor says it waits on.
 */
async function observed(): Promise<{ platform: TestPlatform; file: string }> {
  const platform = await testPlatform([
    { name: 'db', extra: 'category = "infrastructure"' },
    { name: 'api', deps: ['db'], startup: 'restart_on_failure = true\nmax_restarts = 3' },
    { name: 'ghost' },
    { name: 'idle', deps: ['api', 'ghost'] },
  ]);
  cleanups.push(() => platform.cleanup());
  const file = path.join(platform.home, 'services.toml');
  await writeFile(file, platform.toml.replace(/(\[services\.api\.health_check\]\ntype = "tcp"\n)interval = 0\.5\n/, '$1interval = 0.3\nretries = 1\n'));
  return { platform, file };
}

interface Metrics {
  service: string;
  supervised: boolean;
  status?: string;
  restarts?: number;
  timeToHealthyMs?: number;
  checks?: number;
  successRate?: number;
  uptimeSeconds?: number;
  latencyMs?: { mean: number; p95: number; max: number };
}

async function untilJson<T>(run: () => Promise<{ code: number; stdout: string; stderr: string }>, done: (value: T) => boolean, what: string): Promise<T> {
  let last: unknown;
  for (let i = 0; i < 200; i++) {
    const r = await run();
    if (r.code === 0) {
      last = JSON.parse(r.stdout) as T;
      if (done(last as T)) return last as T;
    } else last = r.stderr;
    await sleep(150);
  }
  throw new Error(`${what}; last: ${JSON.stringify(last)}`);
}

describe('platform metrics, versions and monitor from the command line', () => {
  it('metrics: uptime, restarts, time to healthy, success rate and latency from the supervisor; monitor: every service, once per change', async () => {
    const { platform, file } = await observed();
    await withWorker(async (taskQueue) => {
      const common = ['--registry', file, '--address', inject('temporalAddress'), '--task-queue', taskQueue, '--platform', uniqueId('p')];
      const env = { PROVISIONING_HOME: platform.home, PATH: process.env.PATH };
      const run = (...argv: string[]) => cli([...argv, ...common], { env });
      try {
        expect((await run('platform', 'start', 'api')).code).toBe(0);
        // Unwatched, a supervisor's watch heartbeats its checks once a minute: watch a few live
        // first (the live view goes on for a minute), as someone looking into a service would.
        const watched = await run('services', 'monitor', 'api', '--json', '--count', '3');
        expect(watched.code).toBe(0);
        const metricsOf = () => run('platform', 'metrics', '--json');
        const healthy = await untilJson<{ services: Metrics[] }>(metricsOf, (m) => (m.services.find((s) => s.service === 'api')?.checks ?? 0) >= 3, 'api never had 3 checks');
        const api = healthy.services.find((s) => s.service === 'api')!;
        expect(api).toMatchObject({ supervised: true, status: 'healthy', restarts: 0, successRate: 1 });
        expect(api.timeToHealthyMs).toBeGreaterThan(0);
        expect(api.uptimeSeconds).toBeGreaterThanOrEqual(0);
        expect(api.latencyMs!.max).toBeGreaterThanOrEqual(api.latencyMs!.mean);
        expect(healthy.services.find((s) => s.service === 'db')).toEqual({ service: 'db', supervised: false });

        // Killed, the service fails its checks and is restarted: the figures say so.
        process.kill(-(await runningServices(platform.home)).get('api')![0]!, 'SIGKILL');
        const restarted = await untilJson<{ services: Metrics[] }>(() => run('platform', 'metrics', '--service', 'api', '--json'), (m) => m.services[0]!.restarts === 1 && m.services[0]!.status === 'healthy', 'api was never restarted');
        expect(restarted.services).toHaveLength(1);
        expect(restarted.services[0]!.successRate).toBeLessThan(1);
        const table = await run('platform', 'metrics');
        expect(table.code).toBe(0);
        expect(table.stdout).toMatch(/^SERVICE\s+STATUS\s+UPTIME\s+RESTARTS\s+TO HEALTHY\s+CHECKS\s+SUCCESS\s+LATENCY mean\/p95\/max/);
        expect(table.stdout).toMatch(/\napi\s+healthy\s+\d+s\s+1 \(1 in 10m\)/);
        expect(table.stdout).toContain('Not supervised: db, ghost, idle.');

        const frames = (await run('platform', 'monitor', '--json', '--count', '2', '--interval', '0.2', '--service', 'api')).stdout.split('\n').map((l) => JSON.parse(l) as { temporal: boolean; services: Array<Record<string, unknown>>; checks: { service: string; checks: unknown[] } });
        expect(frames).toHaveLength(2);
        const rows: Record<string, Record<string, unknown>> = Object.fromEntries(frames[1]!.services.map((r) => [String(r.service), r]));
        expect(frames[1]!.temporal).toBe(true);
        expect(rows.api).toMatchObject({ state: 'running', health: 'healthy', restarts: 1, supervision: 'healthy' });
        expect(typeof rows.api!.pid).toBe('number');
        expect(typeof rows.api!.latencyMs).toBe('number');
        expect(rows.db).toMatchObject({ state: 'running', health: 'healthy', supervision: 'not supervised', category: 'infrastructure' });
        expect(rows.idle).toMatchObject({ state: 'stopped', health: 'not-running', waitingOn: ['ghost'] });
        expect(frames[1]!.checks.service).toBe('api');
        expect(frames[1]!.checks.checks.length).toBeGreaterThan(0);

        // Not a terminal: each service once, then only changes (nothing changes here).
        const plain = await run('platform', 'monitor', '--count', '3', '--interval', '0.2', '--category', 'general');
        expect(plain.code).toBe(0);
        const lines = plain.stdout.split('\n');
        expect(lines.map((l) => l.split(' ')[2])).toEqual(['api:', 'ghost:', 'idle:']);
        expect(lines[2]).toContain('idle: stopped, not-running, waits on ghost');
      } finally {
        await run('platform', 'stop', '--force');
      }
    });
  }, 180_000);

  it('rejects a zero interval, an unknown category and an unknown service (exit 2)', async () => {
    const { file } = await observed();
    const nowhere = ['--registry', file, '--address', '127.0.0.1:1'];
    const zero = await cli(['platform', 'monitor', '--interval', '0', ...nowhere]);
    expect(zero.code).toBe(2);
    expect(zero.stderr).toContain('"0" is not a number greater than 0');
    const category = await cli(['platform', 'monitor', '--category', 'databases', ...nowhere]);
    expect(category.code).toBe(2);
    expect(category.stderr).toContain('--category databases: no service of');
    expect(category.stderr).toContain('use one of infrastructure, general');
    for (const command of [['platform', 'monitor', '--service', 'apii'], ['platform', 'metrics', '--service', 'apii']]) {
      const unknown = await cli([...command, ...nowhere]);
      expect(unknown.code, command.join(' ')).toBe(2);
      expect(unknown.stderr).toContain('did you mean "api"?');
    }
  });

  it('metrics needs Temporal and says so (exit 1); monitor goes on without it, supervision unknown', async () => {
    const { file, platform } = await observed();
    const env = { PROVISIONING_HOME: platform.home, PATH: process.env.PATH };
    const metrics = await cli(['platform', 'metrics', '--registry', file, '--address', '127.0.0.1:1'], { env });
    expect(metrics.code).toBe(1);
    expect(metrics.stderr).toContain('cannot reach Temporal at 127.0.0.1:1');
    const frame = JSON.parse((await cli(['platform', 'monitor', '--json', '--count', '1', '--registry', file, '--address', '127.0.0.1:1'], { env })).stdout) as { temporal: boolean; services: Array<{ supervision: unknown; restarts: unknown }> };
    expect(frame.temporal).toBe(false);
    expect(frame.services.every((s) => s.supervision === null && s.restarts === null)).toBe(true);
  });

  it('versions: a binary\'s version_args, an image tag and digest, a compose image, a Helm chart, a remote service\'s health JSON, ours and the Temporal server\'s', async () => {
    const dir = await scratchIn(cleanups);
    const server = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'healthy', version: '5.0.0' })));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => server.close(resolve)));
    const port = (server.address() as { port: number }).port;
    await writeFile(path.join(dir, 'compose.yaml'), 'services:\n  cache:\n    image: redis:7.2.4\n');
    const file = path.join(dir, 'services.toml');
    await writeFile(
      file,
      `[services.tool.deployment]
mode = "binary"
[services.tool.deployment.binary]
binary_path = "/bin/sh"
version_args = ["-c", "echo 'tool version v2.4.1 (build 7)'"]

[services.plain.deployment]
mode = "binary"
[services.plain.deployment.binary]
binary_path = "/bin/sh"

[services.img.deployment]
mode = "docker"
[services.img.deployment.docker]
image = "${BASE_IMAGE}"

[services.cache.deployment]
mode = "docker-compose"
[services.cache.deployment.docker_compose]
compose_file = "${dir}/compose.yaml"
service_name = "cache"

[services.chart.deployment]
mode = "kubernetes"
[services.chart.deployment.kubernetes]
deployment_name = "chart"
[services.chart.deployment.kubernetes.helm_chart]
chart = "bitnami/nginx"
version = "15.1.0"

[services.orchestrator.deployment]
mode = "remote"
[services.orchestrator.deployment.remote]
endpoint = "http://127.0.0.1:${port}"
[services.orchestrator.health_check]
type = "http"
[services.orchestrator.health_check.http]
endpoint = "http://127.0.0.1:${port}/health"
`,
    );
    const r = await cli(['platform', 'versions', '--json', '--registry', file, '--address', inject('temporalAddress')]);
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout) as { provisioning: string; temporal: { version: string | null }; services: Array<{ service: string; version: string | null; source: string; digest?: string; note?: string }> };
    const own = JSON.parse(spawnSync('node', ['-p', 'JSON.stringify(require("./package.json").version)'], { cwd: root, encoding: 'utf8' }).stdout) as string;
    expect(json.provisioning).toBe(own);
    expect(json.temporal.version).toMatch(/^\d+\.\d+\.\d+/);
    const by = Object.fromEntries(json.services.map((s) => [s.service, s]));
    expect(by.tool).toMatchObject({ version: '2.4.1', source: `/bin/sh -c echo 'tool version v2.4.1 (build 7)'` });
    expect(by.plain!.version).toBeNull();
    expect(by.plain!.note).toContain('version_args');
    expect(by.cache).toMatchObject({ version: '7.2.4', source: 'compose compose.yaml: image redis:7.2.4' });
    expect(by.chart).toMatchObject({ version: '15.1.0', source: 'helm chart bitnami/nginx' });
    expect(by.orchestrator).toMatchObject({ version: '5.0.0', source: `GET http://127.0.0.1:${port}/health` });
    expect(by.img!.version).toBe(BASE_IMAGE.split(':')[1]);
    if (dockerAvailable) expect(by.img!.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    const table = await cli(['platform', 'versions', '--registry', file, '--address', '127.0.0.1:1']);
    expect(table.code).toBe(0);
    expect(table.stdout).toContain('Temporal server (127.0.0.1:1): unknown');
    expect(table.stdout).toMatch(/\ntool\s+binary\s+2\.4\.1\s+\/bin\/sh -c/);
  });
});

describe('platform monitor in a real terminal (tmux)', () => {
  const tmux = (socket: string, ...args: string[]) => spawnSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
  const capture = (socket: string, session: string) => tmux(socket, 'capture-pane', '-p', '-t', session).stdout;

  async function untilPane(socket: string, session: string, text: string): Promise<string> {
    let pane = '';
    for (let i = 0; i < 300; i++) {
      pane = capture(socket, session);
      if (pane.includes(text)) return pane;
      await sleep(100);
    }
    throw new Error(`the pane never showed ${JSON.stringify(text)}; it shows:\n${pane}`);
  }

  it.each([
    ['q', 'q'],
    ['Ctrl-C', 'C-c'],
  ])('redraws in place and quits on %s', async (_name, key) => {
    const { platform, file } = await observed();
    const socket = uniqueId('mon');
    const session = 'monitor';
    cleanups.push(() => Promise.resolve(tmux(socket, 'kill-server')));
    const script = 'PROVISIONING_FROM_SOURCE=1 PROVISIONING_HOME="$1" node "$2" platform monitor --interval 0.3 --registry "$3" --address "$4"; echo MONITOR-EXIT=$?; sleep 60';
    const started = tmux(socket, 'new-session', '-d', '-s', session, '-x', '180', '-y', '40', 'sh', '-c', script, 'monitor', platform.home, path.join(root, 'bin/provisioning.js'), file, inject('temporalAddress'));
    expect(started.status, started.stderr).toBe(0);
    const first = await untilPane(socket, session, 'provisioning platform monitor');
    const clock = (pane: string) => /— (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) —/.exec(pane)?.[1];
    let later = first;
    for (let i = 0; i < 50 && clock(later) === clock(first); i++) {
      await sleep(100);
      later = capture(socket, session);
    }
    for (const pane of [first, later]) {
      // In place: one header and one row per service on the screen, however many refreshes.
      expect(pane.match(/provisioning platform monitor/g)).toHaveLength(1);
      expect(pane.match(/^idle\s/gm)).toHaveLength(1);
    }
    expect(clock(later)).not.toBe(clock(first));
    expect(later).toMatch(/idle\s+stopped\s+⚪ not-running.*waits on api, ghost/);
    expect(later).toMatch(/=== INFRASTRUCTURE ===\nSERVICE/);
    tmux(socket, 'send-keys', '-t', session, key);
    const ended = await untilPane(socket, session, 'MONITOR-EXIT=');
    expect(ended).toContain('MONITOR-EXIT=0');
  }, 60_000);
});
