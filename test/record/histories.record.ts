/**
 * Records one history of each workflow type into test/fixtures/histories, from real runs on
 * the dev server and Docker engine: `npm run record:histories`. Not part of `npm test`:
 * fixtures are recorded before a workflow change and replayed (by the suite) after it.
 */
import { cp, mkdir, writeFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../../src/config/settings.js';
import { dockerClient } from '../../src/docker/client.js';
import {
  clusterCreate,
  planStartup,
  platformRestart,
  platformStart,
  platformStop,
  platformUpdate,
  reapTestEnvironmentsWorkflow,
  serverCreate,
  serverDelete,
  serviceSupervisor,
  taskservCreate,
} from '../../src/workflows/index.js';
import { liveViewSignal, type SupervisorState } from '../../src/model/supervisor.js';
import type { PlatformInput } from '../../src/model/platform.js';
import type { EnvState, RunRequest, RunResult } from '../../src/model/testenv.js';
import { scratchDir } from '../support/cli.js';
import { recordHistory } from '../support/histories.js';
import { testPlatform } from '../support/services.js';
import { testClient, uniqueId, withWorker } from '../support/temporal.js';
import { forceRemove, phase, planFor, startEnv, waitFor } from '../support/testenv.js';
import { supervisorId } from '../../src/model/ids.js';

let client: Awaited<ReturnType<typeof testClient>>['client'];
let close: () => Promise<void>;
const cleanups: Array<() => Promise<unknown>> = [];
beforeAll(async () => ({ client, close } = await testClient()));
afterAll(async () => {
  while (cleanups.length > 0) await cleanups.pop()!().catch(() => undefined);
  await close();
});

async function until(handle: WorkflowHandle, done: (s: SupervisorState) => boolean): Promise<SupervisorState> {
  for (let i = 0; i < 900; i++) {
    const state = await handle.query<SupervisorState>('supervisorState').catch(() => undefined);
    if (state && done(state)) return state;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('supervisor condition not met');
}

describe('record workflow histories', () => {
  it('platform: plan, start, stop, restart; supervisor with a restart and a continue-as-new', async () => {
    const platform = await testPlatform([{ name: 'db' }, { name: 'api', deps: ['db'] }]);
    cleanups.push(() => platform.cleanup());
    const services = ['db', 'api'];
    const name = uniqueId('rec');
    await withWorker(async (taskQueue) => {
      const run = async (wf: typeof platformStart, fixture: string) => {
        const workflowId = uniqueId(fixture);
        const result = await client.workflow.execute(wf, { taskQueue, workflowId, args: [{ registry: platform.registry, home: platform.home, services, platform: name }] });
        expect(result.ok).toBe(true);
        await recordHistory(client, workflowId, fixture);
        return result;
      };
      const planId = uniqueId('plan-startup');
      await client.workflow.execute(planStartup, { taskQueue, workflowId: planId, args: [{ registry: platform.registry }] });
      await recordHistory(client, planId, 'plan-startup');
      await run(platformStart, 'platform-start');
      await run(platformRestart, 'platform-restart');
      await run(platformStop, 'platform-stop');

      const api = { ...platform.registry.services.api!, startup: { ...platform.registry.services.api!.startup, restart_on_failure: true, max_restarts: 3 } };
      api.health_check = { ...api.health_check, interval: 0.3, retries: 1 };
      const started = await client.workflow.execute(platformStart, { taskQueue, workflowId: uniqueId('start'), args: [{ registry: { ...platform.registry, services: { ...platform.registry.services, api: { ...api, startup: { ...api.startup, restart_on_failure: false } } } }, home: platform.home, services, platform: name }] });
      const handle = await client.workflow.start(serviceSupervisor, {
        taskQueue,
        workflowId: supervisorId(name, 'api'),
        args: [{ service: api, home: platform.home, platform: name, historyLimit: 40, watchBudgetSeconds: 1 }],
      });
      await until(handle, (s) => s.status === 'healthy');
      process.kill(-started.services.find((s) => s.name === 'api')!.pid!, 'SIGKILL');
      await until(handle, (s) => s.restarts === 1 && s.status === 'healthy');
      await until(handle, (s) => s.generation >= 1);
      await handle.signal('stopSupervising');
      await handle.result();
      // The first run holds the restart and ends in continue-as-new; the last one ends on the stop signal.
      await recordHistory(client, handle.workflowId, 'supervisor-restart-continue-as-new', handle.firstExecutionRunId);
      await recordHistory(client, handle.workflowId, 'supervisor-stopped');
      await client.workflow.execute(platformStop, { taskQueue, workflowId: uniqueId('stop'), args: [{ registry: platform.registry, home: platform.home, services, platform: name }] });
    });
  }, 180_000);

  it('platform start and stop with one activity per service (patches start-healthy, end-supervision-first)', async () => {
    const platform = await testPlatform([{ name: 'db' }, { name: 'api', deps: ['db'] }]);
    cleanups.push(() => platform.cleanup());
    const args: [PlatformInput] = [{ registry: platform.registry, home: platform.home, services: ['db', 'api'], platform: uniqueId('rec') }];
    await withWorker(async (taskQueue) => {
      const workflowId = uniqueId('platform-start-healthy');
      expect((await client.workflow.execute(platformStart, { taskQueue, workflowId, args })).ok).toBe(true);
      await recordHistory(client, workflowId, 'platform-start-healthy');
      const stopId = uniqueId('platform-stop-batched');
      expect((await client.workflow.execute(platformStop, { taskQueue, workflowId: stopId, args })).ok).toBe(true);
      await recordHistory(client, stopId, 'platform-stop-batched');
    });
  }, 120_000);

  it('platform restart and stop in batches: one stopServices activity for the services stoppable together (patch batched-stop)', async () => {
    const platform = await testPlatform([{ name: 'db' }, { name: 'api', deps: ['db'] }, { name: 'web', deps: ['db'] }]);
    cleanups.push(() => platform.cleanup());
    const args: [PlatformInput] = [{ registry: platform.registry, home: platform.home, services: ['db', 'api', 'web'], platform: uniqueId('rec') }];
    await withWorker(async (taskQueue) => {
      expect((await client.workflow.execute(platformStart, { taskQueue, workflowId: uniqueId('start'), args })).ok).toBe(true);
      const restartId = uniqueId('platform-restart-in-batches');
      expect((await client.workflow.execute(platformRestart, { taskQueue, workflowId: restartId, args })).ok).toBe(true);
      await recordHistory(client, restartId, 'platform-restart-in-batches');
      const stopId = uniqueId('platform-stop-in-batches');
      expect((await client.workflow.execute(platformStop, { taskQueue, workflowId: stopId, args })).ok).toBe(true);
      await recordHistory(client, stopId, 'platform-stop-in-batches');
    });
  }, 120_000);

  it('platform update: a rolling restart', async () => {
    const platform = await testPlatform([{ name: 'db' }, { name: 'api', deps: ['db'] }]);
    cleanups.push(() => platform.cleanup());
    const args: [PlatformInput] = [{ registry: platform.registry, home: platform.home, services: ['db', 'api'], platform: uniqueId('rec') }];
    await withWorker(async (taskQueue) => {
      await client.workflow.execute(platformStart, { taskQueue, workflowId: uniqueId('start'), args });
      const workflowId = uniqueId('platform-update');
      expect((await client.workflow.execute(platformUpdate, { taskQueue, workflowId, args })).ok).toBe(true);
      await recordHistory(client, workflowId, 'platform-update');
      await client.workflow.execute(platformStop, { taskQueue, workflowId: uniqueId('stop'), args });
    });
  }, 120_000);

  it('supervisor with alerts: a restart alerted to a webhook', async () => {
    const platform = await testPlatform([{ name: 'api' }]);
    cleanups.push(() => platform.cleanup());
    const received: string[] = [];
    const server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        received.push(String(req.headers['idempotency-key']));
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => server.close(resolve)));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`;
    const api = { ...platform.registry.services.api!, health_check: { ...platform.registry.services.api!.health_check, interval: 0.3, retries: 1 }, startup: { ...platform.registry.services.api!.startup, restart_on_failure: true, max_restarts: 3 } };
    const name = uniqueId('rec');
    await withWorker(async (taskQueue) => {
      const started = await client.workflow.execute(platformStart, { taskQueue, workflowId: uniqueId('start'), args: [{ registry: platform.registry, home: platform.home, services: ['api'], platform: name }] });
      const handle = await client.workflow.start(serviceSupervisor, {
        taskQueue,
        workflowId: supervisorId(name, 'api'),
        args: [{ service: api, home: platform.home, platform: name, alerts: [{ url, format: 'json', events: ['unhealthy', 'restarted', 'restart-failed', 'gave-up'], attempts: 3 }] }],
      });
      await until(handle, (s) => s.status === 'healthy');
      process.kill(-started.services[0]!.pid!, 'SIGKILL');
      await until(handle, (s) => s.restarts === 1 && s.status === 'healthy' && s.alerts?.delivered === 2);
      await handle.signal('stopSupervising');
      await handle.result();
      expect(received).toHaveLength(2);
      await recordHistory(client, handle.workflowId, 'supervisor-alerts');
      await client.workflow.execute(platformStop, { taskQueue, workflowId: uniqueId('stop'), args: [{ registry: platform.registry, home: platform.home, services: ['api'], platform: name }] });
    });
  }, 120_000);

  it('supervisor with a live view: unwatched, live for 2 s (patch quiet-watch), unwatched again, stopped', async () => {
    const platform = await testPlatform([{ name: 'api' }]);
    cleanups.push(() => platform.cleanup());
    const api = { ...platform.registry.services.api!, health_check: { ...platform.registry.services.api!.health_check, interval: 0.3, retries: 1 } };
    const name = uniqueId('rec');
    await withWorker(async (taskQueue) => {
      await client.workflow.execute(platformStart, { taskQueue, workflowId: uniqueId('start'), args: [{ registry: platform.registry, home: platform.home, services: ['api'], platform: name }] });
      const handle = await client.workflow.start(serviceSupervisor, { taskQueue, workflowId: supervisorId(name, 'api'), args: [{ service: api, home: platform.home, platform: name }] });
      await until(handle, (s) => s.status === 'healthy');
      await handle.signal(liveViewSignal, { seconds: 2, everySeconds: 1 });
      const watches = async () => ((await handle.fetchHistory()).events ?? []).filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'watchService').length;
      const before = await watches();
      for (let i = 0; i < 100 && (await watches()) < before + 2; i++) await new Promise((r) => setTimeout(r, 100));
      expect(await watches()).toBeGreaterThanOrEqual(before + 2);
      await handle.signal('stopSupervising');
      await handle.result();
      await recordHistory(client, handle.workflowId, 'supervisor-live-view');
      await client.workflow.execute(platformStop, { taskQueue, workflowId: uniqueId('stop'), args: [{ registry: platform.registry, home: platform.home, services: ['api'], platform: name }] });
    });
  }, 120_000);

  it('servers: server create with its children, taskserv create, cluster create, server delete', async () => {
    const { dir, cleanup } = await scratchDir();
    cleanups.push(cleanup);
    await cp(path.resolve(import.meta.dirname, '../../examples/taskservs'), path.join(dir, 'taskservs'), { recursive: true });
    const infraName = uniqueId('infra');
    await mkdir(dir, { recursive: true });
    await writeFile(
      path.join(dir, 'settings.yaml'),
      `infra: ${infraName}\ncatalog: taskservs\nservers:\n  - hostname: cp-01\n    role: control-plane\n    taskservs: [webserver]\n  - hostname: w-01\n    role: worker\n    taskservs: [base]\n`,
    );
    const settings = await loadSettings(path.join(dir, 'settings.yaml'));
    cleanups.push(async () => {
      const docker = dockerClient();
      for (const c of await docker.listContainers({ all: true, filters: { label: [`provisioning.infra=${infraName}`] } })) await docker.getContainer(c.Id).remove({ force: true });
      for (const n of await docker.listNetworks({ filters: { label: [`provisioning.infra=${infraName}`] } })) await docker.getNetwork(n.Id).remove();
    });
    await withWorker(async (taskQueue) => {
      const exec = async <T>(wf: (input: never) => Promise<T>, fixture: string, input: unknown): Promise<T> => {
        const workflowId = uniqueId(fixture);
        const result = await client.workflow.execute(wf as (input: unknown) => Promise<T>, { taskQueue, workflowId, args: [input] });
        await recordHistory(client, workflowId, fixture);
        return result;
      };
      expect((await exec(serverCreate, 'server-create', { settings })).ok).toBe(true);
      expect((await exec(taskservCreate, 'taskserv-create', { settings, hostname: 'w-01', taskserv: 'kvstore' })).state).toBe('ready');
      await exec(serverDelete, 'server-delete', { settings });
      expect((await exec(clusterCreate, 'cluster-create', { settings })).ok).toBe(true);
      await client.workflow.execute(serverDelete, { taskQueue, workflowId: uniqueId('delete'), args: [{ settings }] });
    });
  }, 180_000);

  it('a test environment that creates and starts each container in one step (patch create-and-start)', async () => {
    await withWorker(async (taskQueue) => {
      const p = await planFor({ config: { type: 'cluster_topology', cluster_type: 'web', topology: { nodes: [{ name: 'lb-01', role: 'control-plane', taskservs: ['webserver'] }, { name: 'web-01', taskservs: ['webserver'] }] } } });
      cleanups.push(() => forceRemove(p.id));
      const handle = await startEnv(client, taskQueue, p);
      await waitFor(handle, phase('ready'), 'ready');
      expect((await handle.executeUpdate<RunResult, [RunRequest]>('run', { args: [{}] })).passed).toBe(true);
      await handle.signal('cleanup');
      expect(((await handle.result()) as EnvState).phase).toBe('cleaned');
      await recordHistory(client, p.workflowId, 'testenv-create-and-start');
    });
  }, 180_000);

  it('test environments: a completed run, a cancelled one, the reaper', async () => {
    await withWorker(async (taskQueue) => {
      const done = await planFor({ config: { type: 'single_taskserv', taskserv: 'webserver' } });
      cleanups.push(() => forceRemove(done.id));
      const handle = await startEnv(client, taskQueue, done);
      await waitFor(handle, phase('ready'), 'ready');
      expect((await handle.executeUpdate<RunResult, [RunRequest]>('run', { args: [{}] })).passed).toBe(true);
      await handle.signal('cleanup');
      expect(((await handle.result()) as EnvState).phase).toBe('cleaned');
      await recordHistory(client, done.workflowId, 'testenv-completed');

      const cancelled = await planFor({ config: { type: 'single_taskserv', taskserv: 'kvstore' } });
      cleanups.push(() => forceRemove(cancelled.id));
      const second = await startEnv(client, taskQueue, cancelled);
      await waitFor(second, phase('ready'), 'ready');
      await second.cancel();
      await expect(second.result()).rejects.toThrow();
      await recordHistory(client, cancelled.workflowId, 'testenv-cancelled');

      const reaperId = uniqueId('reaper');
      await client.workflow.execute(reapTestEnvironmentsWorkflow, { taskQueue, workflowId: reaperId, args: [] });
      await recordHistory(client, reaperId, 'testenv-reaper');
    });
  }, 180_000);
});
