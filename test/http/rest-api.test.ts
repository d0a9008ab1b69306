/**
 * The REST API over real HTTP, from outside the server's process: `provisioning api` runs as
 * its own process against the real dev server, a worker and the Docker engine; the test
 * talks to it with fetch only.
 */
import { execFile } from 'node:child_process';
import { cp, mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dockerClient } from '../../src/docker/client.js';
import { cli, scratchDir } from '../support/cli.js';
import { testPlatform, runningServices, type TestPlatform } from '../support/services.js';
import { forceRemove } from '../support/testenv.js';
import { testClient, uniqueId, withWorker } from '../support/temporal.js';
import { parseExposition, sumOf } from '../support/prometheus.js';
import { apiServer, readEvents, type ApiServer } from './api-server.js';

const examples = path.resolve(import.meta.dirname, '../../examples/taskservs');
let root: string;
let outside: string;
let cleanup: () => Promise<void>;
let cleanupOutside: () => Promise<void>;
let platform: TestPlatform;
const infra = uniqueId('rest');
const envs: string[] = [];

beforeAll(async () => {
  ({ dir: root, cleanup } = await scratchDir());
  ({ dir: outside, cleanup: cleanupOutside } = await scratchDir());
  await cp(examples, path.join(root, 'taskservs'), { recursive: true });
  await writeFile(path.join(root, 'settings.yaml'), `infra: ${infra}\ncatalog: taskservs\nservers:\n  - hostname: web-01\n    taskservs: [webserver]\n  - hostname: web-02\n    taskservs: [webserver]\n`);
  // A FIFO outside the root: reading it would block, so a request that read it would hang.
  await promisify(execFile)('mkfifo', [path.join(outside, 'settings.yaml')]);
  await mkdir(path.join(root, 'links'));
  await symlink(path.join(outside, 'settings.yaml'), path.join(root, 'links/settings.yaml'));
  platform = await testPlatform([{ name: 'db', delay: 0.2, startup: 'auto_start = true' }]);
  await writeFile(path.join(platform.home, 'services.toml'), platform.toml);
});
afterAll(async () => {
  const docker = dockerClient();
  for (const c of await docker.listContainers({ all: true, filters: { label: [`provisioning.infra=${infra}`] } })) await docker.getContainer(c.Id).remove({ force: true });
  for (const n of await docker.listNetworks({ filters: { label: [`provisioning.infra=${infra}`] } })) await docker.getNetwork(n.Id).remove();
  for (const id of envs) await forceRemove(id);
  await platform.cleanup();
  await cleanup();
  await cleanupOutside();
});

async function withApi(fn: (api: ApiServer, taskQueue: string) => Promise<void>): Promise<void> {
  await withWorker(async (taskQueue) => {
    const api = await apiServer(['--task-queue', taskQueue, '--settings-root', root, '--registry', path.join(platform.home, 'services.toml')], { env: { PROVISIONING_HOME: platform.home } });
    try {
      await fn(api, taskQueue);
    } finally {
      await api.stop();
    }
  });
}

const json = async <T>(r: Response) => (await r.json()) as T;

describe('provisioning api refuses to start insecurely or with bad flags (exit 2)', () => {
  it.each([
    { args: [], env: {}, message: 'no API token' },
    { args: ['--no-auth', '--listen', '0.0.0.0:8080'], env: {}, message: 'an API without a token may listen on a loopback address only' },
    { args: ['--listen', 'localhost'], env: { PROVISIONING_API_TOKEN: 'x'.repeat(20) }, message: '--listen "localhost" is not host:port' },
    { args: [], env: { PROVISIONING_API_TOKEN: 'short' }, message: 'shorter than 16 characters' },
    { args: ['--token-file', '/no/such/file'], env: {}, message: 'cannot read the token file /no/such/file' },
  ])('$message', async ({ args, env, message }) => {
    const result = await cli(['api', ...args], { env: { PATH: process.env.PATH, ...env } });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
  });
});

describe('provisioning api', () => {
  it('health, auth, errors, the OpenAPI document', async () => {
    await withApi(async (api) => {
      const health = await api.fetch('/health', { auth: false });
      expect(health.status).toBe(200);
      expect(await json(health)).toMatchObject({ status: 'ok', temporal: { ok: true }, workers: { ok: true } });

      for (const auth of [false, 'wrong-token-0123456789'] as const) {
        const denied = await api.fetch('/tasks', { auth });
        expect(denied.status).toBe(401);
        expect(await json<{ problems: Array<{ path: string }> }>(denied)).toMatchObject({ problems: [{ path: 'headers.authorization' }] });
      }
      expect(api.output()).not.toContain('test-token');

      const missing = await api.fetch(`/tasks/${encodeURIComponent('server-create/no-such')}`);
      expect(missing.status).toBe(404);
      expect(await json(missing)).toMatchObject({ error: 'no task "server-create/no-such"' });

      const bad = await api.fetch('/workflows/servers/create', { json: { settings: 'settings.yaml', servers: ['Web_01'], wait: 'yes', host: 'Build_01' } });
      expect(bad.status).toBe(400);
      const body = await json<{ problems: Array<{ path: string }> }>(bad);
      expect(body.problems.map((p) => p.path).sort()).toEqual(['body.host', 'body.servers[0]', 'body.wait']);

      const inline = await api.fetch('/workflows/servers/create', { json: { settings: { infra: 'x', catalog: 'taskservs', servers: [{ hostname: 'a', plan: { cpu_millicores: -1 } }] } } });
      expect(inline.status).toBe(400);
      expect((await json<{ problems: Array<{ path: string }> }>(inline)).problems.map((p) => p.path)).toContain('servers[0].plan.cpu_millicores');

      const huge = await api.fetch('/test/environments/create', { json: { config: { type: 'single_taskserv', taskserv: 'x'.repeat(2 * 1024 * 1024) } } });
      expect(huge.status).toBe(413);

      const doc = await json<{ openapi: string; paths: Record<string, unknown> }>(await api.fetch('/openapi.json'));
      expect(doc.openapi).toMatch(/^3\./);
      const docs = await api.fetch('/docs/');
      expect(docs.status).toBe(200);
      expect(docs.headers.get('content-type')).toContain('text/html');
      expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/health', '/tasks', '/tasks/{id}', '/tasks/{id}/events', '/workflows/servers/create', '/workflows/taskserv/create', '/workflows/cluster/create', '/test/environments/create', '/test/environments', '/test/environments/{id}', '/test/environments/{id}/run', '/test/environments/{id}/logs', '/platform/start', '/platform/update', '/platform/status']));

      // Its request metrics: the token is needed, and the requests above are counted by route pattern and status.
      expect((await api.fetch('/metrics', { auth: false })).status).toBe(401);
      const scraped = await api.fetch('/metrics');
      expect(scraped.status).toBe(200);
      const exposition = parseExposition(await scraped.text());
      const count = (route: string, status: string) => sumOf(exposition, 'provisioning_api_requests_total', { route, status });
      expect(count('/health', '200')).toBe(1);
      expect(count('/tasks/:id', '404')).toBe(1);
      expect(count('/workflows/servers/create', '400')).toBe(2);
      expect(exposition.samples.some((m) => m.labels.route?.includes('no-such'))).toBe(false);
      expect(sumOf(exposition, 'provisioning_api_request_duration_seconds_count', { route: '/health' })).toBe(1);
    });
  });

  it('refuses settings paths outside its root without reading them', async () => {
    await withApi(async (api) => {
      for (const settings of ['../' + path.basename(outside) + '/settings.yaml', path.join(outside, 'settings.yaml'), 'links/settings.yaml', '/etc/passwd']) {
        const r = await api.fetch('/workflows/servers/create', { json: { settings, check_mode: true, wait: true } });
        expect(r.status, settings).toBe(400);
        expect((await json<{ error: string }>(r)).error).toContain('is outside the settings root');
      }
    });
  });

  it('server create as in the seeds: a plan with wait, then a run with 202, Location, task polling, its events to the end, and 409 for a busy infra', async () => {
    await withApi(async (api) => {
      const plan = await api.fetch('/workflows/servers/create', { json: { infra, settings: 'settings.yaml', servers: ['web-01', 'web-02'], check_mode: true, wait: true } });
      expect(plan.status).toBe(200);
      expect(await json(plan)).toMatchObject({ id: `server-create/${infra}`, status: 'COMPLETED', operation: 'server-check', result: { checkMode: true, plan: { servers: [{ hostname: 'web-01', exists: false }, { hostname: 'web-02', exists: false }] } } });

      const submitted = await api.fetch('/workflows/servers/create', { json: { infra, settings: 'settings.yaml', servers: ['web-01'] } });
      expect(submitted.status).toBe(202);
      const { task_id, location } = await json<{ task_id: string; location: string }>(submitted);
      expect(submitted.headers.get('location')).toBe(`/tasks/${encodeURIComponent(`server-create/${infra}`)}`);
      const busy = await api.fetch('/workflows/servers/create', { json: { infra, settings: 'settings.yaml' } });
      expect(busy.status).toBe(409);
      expect(await json(busy)).toMatchObject({ holder: { workflowId: task_id, type: 'serverCreate' } });

      const events = await readEvents(await api.fetch(`${location}/events`));
      expect(events.at(-1)).toMatchObject({ event: 'done', data: { status: 'COMPLETED', result: { ok: true } } });
      expect(events.filter((e) => e.event === 'progress').length).toBeGreaterThan(0);
      const ids = events.map((e) => Number(e.id));
      expect(ids).toEqual([...ids].sort((a, b) => a - b));
      // Resuming after the last event id gives only the final event again (the task has closed).
      const resumed = await readEvents(await api.fetch(`${location}/events`, { headers: { 'last-event-id': String(ids.at(-2) ?? 0) } }));
      expect(resumed.map((e) => e.event)).toEqual(['done']);

      const task = await json<{ status: string; result: { servers: Array<{ hostname: string; state: string }> } }>(await api.fetch(location));
      expect(task.status).toBe('COMPLETED');
      expect(task.result.servers.map((s) => [s.hostname, s.state])).toEqual([['web-01', 'ready']]);

      const listed = await json<{ tasks: Array<{ id: string }>; next?: string }>(await api.fetch(`/tasks?operation=server-create&target=web-01&limit=1`));
      expect(listed.tasks.map((t) => t.id)).toEqual([task_id]);
      const bad = await api.fetch('/tasks?target=a%22%20OR%201%3D1');
      expect(bad.status).toBe(400);

      const taskserv = await api.fetch('/workflows/taskserv/create', { json: { infra, settings: 'settings.yaml', server: 'web-01', taskserv: 'jobrunner', wait: true } });
      expect(await json(taskserv)).toMatchObject({ status: 'COMPLETED', result: { state: 'ready' } });
    });
  }, 180_000);

  it('test environments as in the seeds: create (one run per Idempotency-Key), run, logs, logs as SSE, delete', async () => {
    await withApi(async (api) => {
      const key = uniqueId('key');
      const body = { config: { type: 'single_taskserv', taskserv: 'webserver', resources: { cpu_millicores: 500, memory_mb: 64 } }, auto_start: true, auto_cleanup: false };
      const [first, retry] = await Promise.all([0, 1].map(() => api.fetch('/test/environments/create', { json: body, headers: { 'idempotency-key': key } })));
      expect(first!.status).toBe(201);
      const created = await json<{ id: string; phase: string; task_id: string }>(first!);
      envs.push(created.id);
      expect(created.phase).toBe('ready');
      expect(await json(retry!)).toMatchObject({ id: created.id });
      const { client, close } = await testClient();
      try {
        let count = 0;
        for await (const _ of client.workflow.list({ query: `WorkflowType = "testEnvironment" AND WorkflowId = "${created.task_id}"` })) count++;
        expect(count).toBe(1);
      } finally {
        await close();
      }

      const run = await api.fetch(`/test/environments/${created.id}/run`, { json: {} });
      expect(await json(run)).toMatchObject({ id: created.id, passed: true });
      const failing = await api.fetch(`/test/environments/${created.id}/run`, { json: { command: ['sh', '-c', 'echo nope; exit 5'] } });
      expect(failing.status).toBe(200);
      expect(await json(failing)).toMatchObject({ passed: false, tests: [{ exitCode: 5 }] });
      const junit = await api.fetch(`/test/environments/${created.id}/run?format=junit`, { json: {} });
      expect(junit.headers.get('content-type')).toContain('application/xml');
      expect(await junit.text()).toMatch(/<testsuites[^>]*name="testenv\.[^"]+"[^>]*>[\s\S]*<testcase /);

      // The node's PID 1 follows its log file (tail -f polls once a second): new lines show up shortly.
      let text = '';
      for (let i = 0; i < 40 && !text.includes('nope'); i++) {
        if (i > 0) await new Promise((r) => setTimeout(r, 250));
        const logs = await json<{ nodes: Array<{ node: string; lines: string[] }> }>(await api.fetch(`/test/environments/${created.id}/logs?tail=50`));
        text = logs.nodes[0]!.lines.join('\n');
      }
      expect(text).toContain('nope');
      const stream = await readEvents(await api.fetch(`/test/environments/${created.id}/logs?follow=true&tail=5`), (e) => e.event === 'line');
      expect(stream[0]).toMatchObject({ event: 'line', data: { node: expect.any(String) as string } });

      const listed = await json<{ environments: Array<{ id: string }> }>(await api.fetch('/test/environments'));
      expect(listed.environments.map((e) => e.id)).toContain(created.id);
      const removed = await api.fetch(`/test/environments/${created.id}`, { method: 'DELETE' });
      expect(await json(removed)).toMatchObject({ id: created.id, removed: { containers: 1, networks: 1 } });
      expect(await json(await api.fetch(`/test/environments/${created.id}`))).toMatchObject({ status: 'COMPLETED', phase: 'cleaned' });
      expect((await api.fetch('/test/environments/no-such-env')).status).toBe(404);
      expect((await api.fetch('/test/environments/NOT_AN_ID')).status).toBe(400);
    });
  }, 180_000);

  it('the platform: start with wait, status, rolling update, stop', async () => {
    await withApi(async (api) => {
      const name = uniqueId('p');
      const started = await api.fetch('/platform/start', { json: { platform: name, wait: true } });
      expect(await json(started)).toMatchObject({ id: `platform/${name}`, status: 'COMPLETED', result: { ok: true } });
      expect([...(await runningServices(platform.home)).keys()]).toEqual(['db']);
      const status = await json<{ services: Array<{ name: string; status: string }> }>(await api.fetch(`/platform/status?platform=${name}`));
      expect(status.services).toEqual([expect.objectContaining({ name: 'db', status: 'running' })]);
      const unknown = await api.fetch('/platform/start', { json: { platform: name, services: ['dbb'] } });
      expect(unknown.status).toBe(400);
      expect((await json<{ problems: Array<{ fix: string }> }>(unknown)).problems[0]!.fix).toContain('db');
      const before = (await runningServices(platform.home)).get('db');
      const updated = await api.fetch('/platform/update', { json: { platform: name, wait: true } });
      expect(await json(updated)).toMatchObject({ id: `platform/${name}`, status: 'COMPLETED', result: { ok: true, operation: 'update', services: [{ name: 'db', state: 'started' }] } });
      expect((await runningServices(platform.home)).get('db')).not.toEqual(before);
      await api.fetch('/platform/stop', { json: { platform: name, wait: true } });
      expect((await runningServices(platform.home)).size).toBe(0);
    });
  }, 180_000);
});
