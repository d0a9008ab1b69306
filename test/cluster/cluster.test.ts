/**
 * On a production-shape Temporal (the server on PostgreSQL, three `provisioning worker`
 * processes), not the dev server: the CLI's main jobs complete; a SIGKILLed server, a lost
 * worker and a PostgreSQL restart mid-run are survived with nothing started twice and nothing
 * leaked; host-bound activities stay on their host, and a gone host fails clearly.
 */
import { cp, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Client, Connection, WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadTopologies } from '../../src/config/testenv.js';
import { dockerClient } from '../../src/docker/client.js';
import type { EnvState } from '../../src/model/testenv.js';
import type { PlatformProgress, PlatformResult } from '../../src/model/platform.js';
import type { SupervisorState } from '../../src/model/supervisor.js';
import { hostQueue } from '../../src/model/worker-defaults.js';
import { supervisorId } from '../../src/model/ids.js';
import { startCluster, type TemporalCluster } from '../../src/temporal/cluster.js';
import { cli, scratchDir } from '../support/cli.js';
import { dockerAvailable } from '../support/docker.js';
import { runningServices, testPlatform, type ProcessSpec, type TestPlatform } from '../support/services.js';
import { uniqueId } from '../support/temporal.js';
import { envResources, exampleCatalog, forceRemove, planFor } from '../support/testenv.js';

let cluster: TemporalCluster;
let client: Client;
let scratch: Awaited<ReturnType<typeof scratchDir>>;
const platforms: TestPlatform[] = [];
const envIds: string[] = [];
const infras: string[] = [];

const workerEnv = () => ({ PROVISIONING_FROM_SOURCE: '1', PROVISIONING_WORKFLOW_BUNDLE: inject('workflowBundlePath') });

beforeAll(async () => {
  scratch = await scratchDir();
  cluster = await startCluster({ workers: 3, workerEnv: workerEnv() });
  client = new Client({ connection: await Connection.connect({ address: cluster.address }), namespace: cluster.namespace });
}, 300_000);

afterAll(async () => {
  await client?.connection.close();
  await cluster?.stop();
  for (const p of platforms) await p.cleanup();
  for (const id of envIds) await forceRemove(id);
  const docker = dockerClient();
  for (const infra of infras) {
    for (const c of await docker.listContainers({ all: true, filters: { label: [`provisioning.infra=${infra}`] } })) await docker.getContainer(c.Id).remove({ force: true });
    for (const n of await docker.listNetworks({ filters: { label: [`provisioning.infra=${infra}`] } })) await docker.getNetwork(n.Id).remove();
  }
  await scratch?.cleanup();
}, 120_000);

async function platform(specs: ProcessSpec[]): Promise<TestPlatform> {
  const p = await testPlatform(specs);
  platforms.push(p);
  return p;
}

/** Twelve services in four levels: a root, then 3, 4 and 4 that depend on the level above. */
function twelve(delay: number, extra: Partial<ProcessSpec> = {}): ProcessSpec[] {
  const levels = [['s1'], ['s2', 's3', 's4'], ['s5', 's6', 's7', 's8'], ['s9', 's10', 's11', 's12']];
  return levels.flatMap((names, i) => names.map((name, j) => ({ name, delay, deps: i === 0 ? [] : [levels[i - 1]![j % levels[i - 1]!.length]!], ...extra })));
}

const startPlatform = (p: TestPlatform, services: string[], extra: object = {}, taskQueue = cluster.taskQueue) =>
  client.workflow.start('platformStart', { taskQueue, workflowId: uniqueId('cluster-platform'), args: [{ registry: p.registry, home: p.home, services, platform: uniqueId('p'), ...extra }] });

async function until<T>(read: () => Promise<T | undefined>, done: (v: T) => boolean, what: string, timeoutMs = 240_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await read().catch(() => undefined);
    if (v !== undefined && done(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const progress = (h: WorkflowHandle) => () => h.query<PlatformProgress>('progress');
/** Services whose start has begun (a start and its health wait are one step: 'starting' until healthy). */
const started = (p: PlatformProgress) => p.services.filter((s) => ['starting', 'waiting-healthy', 'started'].includes(s.state)).length;
const healthy = (p: PlatformProgress) => p.services.filter((s) => s.state === 'started').length;

/** Every service up exactly once: one process group each, the one the result names. */
async function expectStartedOnce(p: TestPlatform, result: PlatformResult, names: string[]): Promise<void> {
  expect(result.ok).toBe(true);
  expect(result.services.map((s) => s.name).sort()).toEqual([...names].sort());
  const running = await runningServices(p.home);
  expect(Object.fromEntries([...running].map(([n, pids]) => [n, pids.length]))).toEqual(Object.fromEntries(names.map((n) => [n, 1])));
  for (const s of result.services) expect(running.get(s.name)).toEqual([s.pid]);
}

/** A three-node cluster environment, auto_start and auto_cleanup off. */
async function threeNodeEnv(): Promise<{ id: string; handle: WorkflowHandle }> {
  const template = (await loadTopologies())['web_3node']!;
  const plan = await planFor({ config: { type: 'cluster_topology', cluster_type: 'web', topology: { nodes: template.nodes } }, auto_cleanup: false });
  envIds.push(plan.id);
  const handle = await client.workflow.start('testEnvironment', { taskQueue: cluster.taskQueue, workflowId: plan.workflowId, args: [{ plan }] });
  return { id: plan.id, handle };
}

const envState = (h: WorkflowHandle) => () => h.query<EnvState>('testenvState');

async function cleanedUp(id: string, handle: WorkflowHandle): Promise<void> {
  await handle.signal('cleanup');
  expect(((await handle.result()) as EnvState).phase).toBe('cleaned');
  expect(await envResources(id)).toEqual({ containers: [], networks: [] });
}

describe.runIf(dockerAvailable)('on a production-shape Temporal (PostgreSQL, three workers)', () => {
  it('a platform start, a server create and a test quick complete through the CLI', async () => {
    const p = await platform([{ name: 'db' }, { name: 'api', deps: ['db'] }]);
    const registry = path.join(p.home, 'services.toml');
    await writeFile(registry, p.toml);
    const env = { PATH: process.env.PATH, PROVISIONING_HOME: p.home };
    const at = ['--address', cluster.address, '--namespace', cluster.namespace];
    const start = await cli(['platform', 'start', 'api', '--registry', registry, '--platform', uniqueId('p'), ...at], { env });
    expect(start.code, start.stdout + start.stderr).toBe(0);
    expect([...(await runningServices(p.home)).keys()].sort()).toEqual(['api', 'db']);

    const infra = uniqueId('infra');
    infras.push(infra);
    await cp(exampleCatalog, path.join(scratch.dir, 'taskservs'), { recursive: true });
    const settings = path.join(scratch.dir, `${infra}.yaml`);
    await writeFile(settings, `infra: ${infra}\ncatalog: taskservs\nservers:\n  - hostname: web-01\n    taskservs: [webserver]\n`);
    const created = await cli(['server', 'create', '--settings', settings, ...at], { env: { PATH: process.env.PATH, PROVISIONING_HOME: scratch.dir } });
    expect(created.code, created.stdout + created.stderr).toBe(0);
    expect(created.stdout).toContain('Done: 1/1 servers ready');

    const id = uniqueId('q');
    envIds.push(id);
    const quick = await cli(['test', 'quick', 'webserver', '--id', id, '--json', ...at], { env });
    expect(quick.code, quick.stdout + quick.stderr).toBe(0);
    expect(JSON.parse(quick.stdout)).toMatchObject({ passed: true });
    expect(await envResources(id)).toEqual({ containers: [], networks: [] });
  });

  it('survives a SIGKILLed Temporal server in the middle of a 12-service start and of a 3-node test environment', async () => {
    const p = await platform(twelve(1));
    const names = Object.keys(p.registry.services);
    const handle = await startPlatform(p, ['s9', 's10', 's11', 's12']);
    await until(progress(handle), (s) => started(s) >= 3 && healthy(s) < 12, 'a start half-way');
    // The environment is made in about a second: started once the platform is half-way (4 levels of 1 s), so both are under way at the kill.
    const env = await threeNodeEnv();
    await until(envState(env.handle), (s) => ['creating-containers', 'starting', 'installing'].includes(s.phase), 'the environment half-way');
    await cluster.killServer();
    await new Promise((r) => setTimeout(r, 2_000));
    await cluster.startServer();
    await expectStartedOnce(p, (await handle.result()) as PlatformResult, names);
    const ready = await until(envState(env.handle), (s) => s.phase === 'ready' || s.phase === 'failed', 'the environment ready');
    expect(ready.phase, ready.error).toBe('ready');
    expect(ready.nodes.map((n) => n.state)).toEqual(['ready', 'ready', 'ready']);
    // One container per node: nothing was created twice.
    expect((await envResources(env.id)).containers.sort()).toEqual(ready.nodes.map((n) => n.container).sort());
    await cleanedUp(env.id, env.handle);
  }, 420_000);

  it('survives losing one of three workers while 10 test environments and a 12-service start run; supervision moves to another worker', async () => {
    const p = await platform(twelve(1, { startup: 'restart_on_failure = true' }));
    const names = Object.keys(p.registry.services);
    const plans = await Promise.all(Array.from({ length: 10 }, () => planFor({ config: { type: 'single_taskserv', taskserv: 'base' }, auto_cleanup: false })));
    envIds.push(...plans.map((pl) => pl.id));
    const envs = await Promise.all(plans.map((plan) => client.workflow.start('testEnvironment', { taskQueue: cluster.taskQueue, workflowId: plan.workflowId, args: [{ plan }] })));
    const platformName = uniqueId('p');
    const handle = await startPlatform(p, ['s9', 's10', 's11', 's12'], { platform: platformName });
    await until(progress(handle), (s) => started(s) >= 3, 'a start half-way');
    const victim = cluster.workers[0]!;
    await victim.kill('SIGKILL');
    cluster.workers.splice(0, 1);
    const result = (await handle.result()) as PlatformResult;
    await expectStartedOnce(p, result, names);
    for (const [i, env] of envs.entries()) {
      const ready = await until(envState(env), (s) => s.phase === 'ready' || s.phase === 'failed', `environment ${i} ready`);
      expect(ready.phase).toBe('ready');
      await cleanedUp(plans[i]!.id, env);
    }
    // The work spread over the fleet with no code change: the environments' activities ran on several workers.
    const identities = new Set<string>();
    for (const env of envs) for (const e of (await env.fetchHistory()).events ?? []) if (e.activityTaskStartedEventAttributes?.identity) identities.add(e.activityTaskStartedEventAttributes.identity);
    expect(identities.size).toBeGreaterThanOrEqual(2);
    // A supervisor whose watch ran on the lost worker goes on on another: kill s1, it is restarted.
    const supervisor = client.workflow.getHandle(supervisorId(platformName, 's1'));
    const before = await until(() => supervisor.query<SupervisorState>('supervisorState'), (s) => s.status === 'healthy', 'supervision of s1');
    const pid = result.services.find((s) => s.name === 's1')!.pid!;
    process.kill(-pid, 'SIGKILL');
    const after = await until(() => supervisor.query<SupervisorState>('supervisorState'), (s) => s.restarts > before.restarts && s.status === 'healthy', 's1 restarted');
    expect(after.pid).not.toBe(pid);
    for (const name of names) await client.workflow.getHandle(supervisorId(platformName, name)).signal('stopSupervising').catch(() => undefined);
    await cluster.startWorker();
  }, 480_000);

  it('survives a PostgreSQL restart in the middle of a 12-service start', async () => {
    const p = await platform(twelve(1));
    const handle = await startPlatform(p, ['s9', 's10', 's11', 's12']);
    await until(progress(handle), (s) => started(s) >= 3 && started(s) < 12, 'a start half-way');
    await cluster.restartPostgres();
    await expectStartedOnce(p, (await handle.result()) as PlatformResult, Object.keys(p.registry.services));
  }, 300_000);

  it('keeps every host-bound activity of a platform on its host, and fails naming the host when its worker is gone', async () => {
    const taskQueue = uniqueId('routing');
    const hosts = ['host-a', 'host-b'];
    const workers: Array<Awaited<ReturnType<TemporalCluster['startWorker']>>> = [];
    // Two workers standing for two machines: own host names, identities and PROVISIONING_HOMEs.
    for (const host of hosts) workers.push(await cluster.startWorker({ host, identity: `routing-${host}`, env: { PROVISIONING_HOME: path.join(scratch.dir, host) }, args: ['--task-queue', taskQueue] }));
    const p = await platform([{ name: 'db' }, { name: 'api', deps: ['db'] }]);
    for (const requested of [undefined, 'host-b']) {
      const handle = await startPlatform(p, ['api'], requested ? { host: requested } : {}, taskQueue);
      expect(((await handle.result()) as PlatformResult).ok).toBe(true);
      const { events } = await handle.fetchHistory();
      const scheduled = new Map<number, { type: string; queue: string }>();
      const ran: Array<{ type: string; queue: string; identity: string }> = [];
      for (const e of events ?? []) {
        const s = e.activityTaskScheduledEventAttributes;
        if (s) scheduled.set(Number(e.eventId), { type: s.activityType!.name!, queue: s.taskQueue!.name! });
        const st = e.activityTaskStartedEventAttributes;
        if (st) ran.push({ ...scheduled.get(Number(st.scheduledEventId))!, identity: st.identity! });
      }
      // Without a host the run claims the host of the worker that ran its first workflow task (a
      // local activity, recorded as a marker); with one it claims nothing.
      const firstTask = (events ?? []).find((e) => e.workflowTaskStartedEventAttributes)!.workflowTaskStartedEventAttributes!.identity;
      const claims = (events ?? []).filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity').length;
      const host = requested ?? hosts.find((h) => firstTask === `routing-${h}`)!;
      expect(host).toBeDefined();
      expect(claims).toBe(requested ? 0 : 1);
      const bound = ran;
      expect(bound.map((r) => r.type)).toEqual(expect.arrayContaining(['preflight', 'startServiceHealthy']));
      for (const r of bound) expect(r, `${r.type}`).toMatchObject({ queue: hostQueue(taskQueue, host), identity: `routing-${host}` });
      await client.workflow.start('platformStop', { taskQueue, workflowId: uniqueId('stop'), args: [{ registry: p.registry, home: p.home, host }] }).then((h) => h.result());
    }
    await workers[0]!.kill('SIGKILL');
    const gone = await startPlatform(p, ['api'], { host: 'host-a', hostWaitSeconds: 3 }, taskQueue);
    const error: unknown = await gone.result().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(WorkflowFailedError);
    const cause = (error as WorkflowFailedError).cause;
    expect(cause?.message).toMatch(/^host host-a: no worker took "pre-flight 2 services" within 3 s \(task queue routing-[0-9a-f]+@host-a\); start one there: provisioning worker --host host-a$/);
    expect(await runningServices(p.home)).toEqual(new Map());
    await workers[1]!.kill('SIGTERM');
  }, 300_000);
});
