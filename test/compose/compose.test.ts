/**
 * The top-level docker-compose.yaml, for real: PostgreSQL, the schema job, Temporal, the
 * namespace job, the Web UI, workers and the REST API come up on the stand-in images (no
 * registry is reachable here; `npm run setup` builds them), with our own image built from the
 * Dockerfile. The host CLI's jobs complete on the compose workers through the published ports,
 * workers scale and one stops mid-run without loss; bad inputs show up named; `down -v`
 * leaves nothing of the project.
 */
import { cp, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EnvState } from '../../src/model/testenv.js';
import { cli, scratchDir } from '../support/cli.js';
import { composeProject, type ComposeProject } from '../support/compose.js';
import { dockerAvailable } from '../support/docker.js';
import { uniqueId } from '../support/temporal.js';
import { envResources, exampleCatalog, forceRemove, planFor, startEnv, waitFor } from '../support/testenv.js';

let project: ComposeProject;
let client: Client;
let scratch: Awaited<ReturnType<typeof scratchDir>>;
const envIds: string[] = [];
const infras: string[] = [];

const address = () => `127.0.0.1:${project.ports.temporal}`;
const api = (p: string, init: RequestInit = {}) => fetch(`http://127.0.0.1:${project.ports.api}${p}`, init);

beforeAll(async () => {
  scratch = await scratchDir();
  project = await composeProject();
  // Our image from the Dockerfile on the Node stand-in (the dependency layer is cached between runs).
  const built = await project.run(['build', 'worker']);
  expect(built.code, built.stdout.slice(-2000) + built.stderr.slice(-2000)).toBe(0);
  const up = await project.run(['up', '-d']);
  expect(up.code, up.stderr).toBe(0);
  await project.waitReady({ postgresql: 1, temporal: 1, 'temporal-ui': 1, worker: 1, api: 1 });
  client = new Client({ connection: await Connection.connect({ address: address() }), namespace: 'default' });
}, 900_000);

afterAll(async () => {
  await client?.connection.close();
  for (const id of envIds) await forceRemove(id);
  const { dockerClient } = await import('../../src/docker/client.js');
  const docker = dockerClient();
  for (const infra of infras) {
    for (const c of await docker.listContainers({ all: true, filters: { label: [`provisioning.infra=${infra}`] } })) await docker.getContainer(c.Id).remove({ force: true });
    for (const n of await docker.listNetworks({ filters: { label: [`provisioning.infra=${infra}`] } })) await docker.getNetwork(n.Id).remove();
  }
  await project?.cleanup();
  await scratch?.cleanup();
}, 120_000);

/** The host names of the activity workers that ran `workflowId`'s activities. */
async function activityHosts(workflowId: string): Promise<string[]> {
  const { events } = await client.workflow.getHandle(workflowId).fetchHistory();
  return [...new Set((events ?? []).flatMap((e) => (e.activityTaskStartedEventAttributes?.identity ? [e.activityTaskStartedEventAttributes.identity.split('@')[1]!] : [])))];
}

describe.runIf(dockerAvailable)('docker-compose.yaml on the stand-in images', () => {
  it('serves /health, the Web UI and the token-protected API on 127.0.0.1; test quick and server create from the host CLI complete on the compose workers', async () => {
    const health = await api('/health');
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', temporal: { ok: true }, workers: { ok: true } });
    expect((await api('/tasks')).status).toBe(401);
    expect((await api('/tasks', { headers: { authorization: `Bearer ${project.token}` } })).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${project.ports.ui}/`)).status).toBe(200);
    const workers = new Set((await project.containers('worker')).map((c) => c.hostname));

    const id = uniqueId('cq');
    envIds.push(id);
    const env = { PATH: process.env.PATH, PROVISIONING_HOME: scratch.dir };
    const quick = await cli(['test', 'quick', 'webserver', '--id', id, '--json', '--address', address()], { env });
    expect(quick.code, quick.stdout + quick.stderr).toBe(0);
    expect(JSON.parse(quick.stdout)).toMatchObject({ passed: true });
    expect(await envResources(id)).toEqual({ containers: [], networks: [] });

    const infra = uniqueId('cinfra');
    infras.push(infra);
    await cp(exampleCatalog, path.join(scratch.dir, 'taskservs'), { recursive: true });
    const settings = path.join(scratch.dir, `${infra}.yaml`);
    await writeFile(settings, `infra: ${infra}\ncatalog: taskservs\nservers:\n  - hostname: web-01\n    taskservs: [webserver]\n`);
    const created = await cli(['server', 'create', '--settings', settings, '--json', '--address', address()], { env });
    expect(created.code, created.stdout + created.stderr).toBe(0);

    // Every activity of both runs and their children ran in a worker container (no other worker exists, and the identities say so).
    const runs: string[] = [];
    for await (const w of client.workflow.list()) runs.push(w.workflowId);
    expect(runs.length).toBeGreaterThanOrEqual(2);
    for (const run of runs) for (const host of await activityHosts(run)) expect(workers, `${run} ran on ${host}`).toContain(host);
  });

  it('scales to three workers that share the work, and loses nothing when one is stopped mid-run', async () => {
    const scaled = await project.run(['up', '-d', '--no-recreate', '--scale', 'worker=3']);
    expect(scaled.code, scaled.stderr).toBe(0);
    await project.waitReady({ worker: 3 });
    const plans = await Promise.all(Array.from({ length: 9 }, () => planFor({ config: { type: 'single_taskserv', taskserv: 'base' }, auto_cleanup: false })));
    envIds.push(...plans.map((p) => p.id));
    const handles = await Promise.all(plans.map((plan) => startEnv(client, 'provisioning', plan)));
    await waitFor(handles[0]!, (s) => ['creating-containers', 'created', 'starting', 'installing'].includes(s.phase), 'the first environment under way');
    const [victim] = await project.containers('worker');
    const { execa } = await import('execa');
    await execa('docker', ['stop', '-t', '40', victim!.id]);
    for (const [i, handle] of handles.entries()) {
      const ready = await waitFor(handle, (s) => s.phase === 'ready' || s.phase === 'failed', `environment ${i} ready`);
      expect(ready.phase, ready.error).toBe('ready');
      await handle.signal('cleanup');
      expect(((await handle.result()) as EnvState).phase).toBe('cleaned');
      expect(await envResources(plans[i]!.id)).toEqual({ containers: [], networks: [] });
    }
    const hosts = new Set((await Promise.all(plans.map((p) => activityHosts(p.workflowId)))).flat());
    expect(hosts.size, [...hosts].join(', ')).toBeGreaterThanOrEqual(2);
  }, 300_000);

  it('names each bad input: a missing or unusable token file, a port already taken, a worker that cannot reach Temporal', async () => {
    // A missing token file: the engine refuses the secret's mount, naming the file; no api container runs.
    const missing = path.join(scratch.dir, 'no-such-token');
    const refused = await project.run(['up', '-d', '--no-deps', 'api'], { PROVISIONING_API_TOKEN_FILE: missing });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain(missing);
    expect((await project.containers('api')).filter((c) => c.status === 'running')).toEqual([]);

    // An unusable one: the API exits 2 naming the problem, and the container never turns healthy.
    const short = path.join(scratch.dir, 'short-token');
    await writeFile(short, 'short\n', { mode: 0o644 });
    expect((await project.run(['up', '-d', '--no-deps', 'api'], { PROVISIONING_API_TOKEN_FILE: short })).code).toBe(0);
    await until(async () => (await project.containers('api')).some((c) => c.exitCode === 2 && c.health !== 'healthy'), 'the api to exit 2');
    expect(await project.logs('api')).toContain('the API token is shorter than 16 characters');

    // A port already taken: the api does not start, and compose names the address.
    const holder = await hold();
    try {
      const port = (holder.address() as { port: number }).port;
      const taken = await project.run(['up', '-d', '--no-deps', 'api'], { PROVISIONING_API_PORT: String(port) });
      expect(taken.code).not.toBe(0);
      expect(taken.stderr).toContain(`127.0.0.1:${port}`);
      expect(taken.stderr).toMatch(/address already in use|port is already allocated/);
    } finally {
      holder.close();
    }

    // A worker pointed at no Temporal: it keeps trying, saying why, and its health check fails naming the address.
    const lost = await project.run(['up', '-d', '--no-deps', '--scale', 'worker=1', 'worker'], { WORKER_TEMPORAL_ADDRESS: 'nowhere.invalid:7233' });
    expect(lost.code, lost.stderr).toBe(0);
    const [worker] = await until(async () => {
      const list = await project.containers('worker');
      return list.length === 1 && list[0]!.health === 'unhealthy' ? list : undefined;
    }, 'the worker to turn unhealthy', 150_000);
    expect(worker!.healthLog.at(-1)).toMatch(/^error: unhealthy: cannot reach Temporal at nowhere\.invalid:7233/);
    expect(await project.logs('worker')).toContain('cannot reach Temporal at nowhere.invalid:7233');
  }, 300_000);

  it('down -v leaves no container, network or volume of the project', async () => {
    expect(await project.down()).toEqual({ containers: [], networks: [], volumes: [] });
  }, 120_000);
});

async function until<T>(read: () => Promise<T | undefined | false>, what: string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await read().catch(() => undefined);
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1_000));
  }
}

/** A listener on a free loopback port, standing for another program that took it. */
function hold(): Promise<Server> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}
