/**
 * serviceSupervisor on the real dev server with real processes: restart after SIGKILL,
 * giving up after max_restarts, no healing of a deliberate stop, continue-as-new carrying
 * state, and surviving the loss of its worker.
 */
import type { Client, WorkflowHandle } from '@temporalio/client';
import { afterEach, describe, expect, it } from 'vitest';
import { platformStart, platformStop, serviceSupervisor } from '../../src/workflows/index.js';
import { defaultPayloadConverter } from '@temporalio/common';
import { liveViewSignal, type SupervisorState, type WatchInput, type WatchProgress } from '../../src/model/supervisor.js';

import { isRunning } from '../../src/util/procfs.js';
import { runningServices, testPlatform, type ProcessSpec, type TestPlatform } from '../support/services.js';
import { testClient, uniqueId, withWorker } from '../support/temporal.js';
import { workerProcess } from '../support/worker-process.js';
import { supervisorId } from '../../src/model/ids.js';
import { checkerState } from '../../src/activities/checker.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!().catch(() => undefined);
});


async function supervised(specs: ProcessSpec[]): Promise<TestPlatform> {
  const platform = await testPlatform(specs);
  for (const s of Object.values(platform.registry.services)) {
    s.startup.restart_on_failure = true;
    s.startup.max_restarts = 2;
    s.health_check.interval = 0.3;
    s.health_check.retries = 1;
  }
  cleanups.push(() => platform.cleanup());
  return platform;
}

async function until(handle: WorkflowHandle, done: (s: SupervisorState) => boolean, timeoutMs = 30_000): Promise<SupervisorState> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = await handle.query<SupervisorState>('supervisorState').catch(() => undefined);
    if (state && done(state)) return state;
    if (Date.now() > deadline) throw new Error(`condition not met; last state: ${JSON.stringify(state)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function startPlatform(client: Client, taskQueue: string, platform: TestPlatform, name: string) {
  const result = await client.workflow.execute(platformStart, {
    taskQueue,
    workflowId: uniqueId('start'),
    args: [{ registry: platform.registry, home: platform.home, services: Object.keys(platform.registry.services), platform: name }],
  });
  expect(result.ok).toBe(true);
  return result;
}

interface WatchScheduled {
  heartbeatTimeoutSeconds: number;
  liveEveryMs?: number;
  continues?: boolean;
}

/** The watch activities the supervisor scheduled, in order: heartbeat timeout and mode. */
async function watchesOf(handle: WorkflowHandle): Promise<WatchScheduled[]> {
  const scheduled = ((await handle.fetchHistory()).events ?? []).map((e) => e.activityTaskScheduledEventAttributes).filter((a) => a?.activityType?.name === 'watchService');
  return scheduled.map((a) => {
    const input = defaultPayloadConverter.fromPayload<WatchInput>(a!.input!.payloads![0]!);
    return { heartbeatTimeoutSeconds: Number(String(a!.heartbeatTimeout?.seconds ?? 0)), liveEveryMs: input.liveEveryMs, continues: input.continues };
  });
}

async function untilWatches(handle: WorkflowHandle, done: (w: WatchScheduled[]) => boolean): Promise<WatchScheduled[]> {
  for (let i = 0; i < 200; i++) {
    const watches = await watchesOf(handle);
    if (done(watches)) return watches;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`watches not as expected: ${JSON.stringify(await watchesOf(handle))}`);
}

/** The running watch's last heartbeat, as the server has it. */
async function watchProgress(handle: WorkflowHandle): Promise<WatchProgress | undefined> {
  const watch = (await handle.describe()).raw.pendingActivities?.find((a) => a.activityType?.name === 'watchService');
  const payload = watch?.heartbeatDetails?.payloads?.[0];
  return payload ? defaultPayloadConverter.fromPayload<WatchProgress>(payload) : undefined;
}

async function untilProgress(handle: WorkflowHandle, done: (p: WatchProgress) => boolean): Promise<WatchProgress> {
  for (let i = 0; i < 200; i++) {
    const progress = await watchProgress(handle);
    if (progress && done(progress)) return progress;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`heartbeat not as expected: ${JSON.stringify(await watchProgress(handle))}`);
}

/**
 * The platform's api started, then supervised by a supervisor of its own that continues as new
 * every few seconds (a history limit of 40 events, a watch returning every second); healthy.
 */
async function quicklyContinuing(client: Client, taskQueue: string, platform: TestPlatform) {
  const name = uniqueId('sup');
  const api = platform.registry.services.api!;
  const started = await startPlatform(client, taskQueue, { ...platform, registry: { ...platform.registry, services: { api: { ...api, startup: { ...api.startup, restart_on_failure: false } } } } }, name);
  const handle = await client.workflow.start(serviceSupervisor, {
    taskQueue,
    workflowId: supervisorId(name, 'api'),
    args: [{ service: api, home: platform.home, platform: name, historyLimit: 40, watchBudgetSeconds: 1 }],
  });
  cleanups.push(() => handle.signal('stopSupervising'));
  await until(handle, (s) => s.status === 'healthy');
  return { started, handle };
}

describe('serviceSupervisor', () => {
  it('restarts a supervised service killed with SIGKILL, with a new PID', async () => {
    const platform = await supervised([{ name: 'api' }]);
    const { client, close } = await testClient();
    cleanups.push(close);
    await withWorker(async (taskQueue) => {
      const name = uniqueId('sup');
      const started = await startPlatform(client, taskQueue, platform, name);
      const handle = client.workflow.getHandle(supervisorId(name, 'api'));
      cleanups.push(() => handle.signal('stopSupervising'));
      const firstPid = started.services[0]!.pid!;
      await until(handle, (s) => s.status === 'healthy' && s.pid === firstPid);
      process.kill(-firstPid, 'SIGKILL');
      const after = await until(handle, (s) => s.restarts === 1 && s.status === 'healthy');
      expect(after.pid).not.toBe(firstPid);
      expect(isRunning(after.pid!)).toBe(true);
      expect((await runningServices(platform.home)).get('api')).toEqual([after.pid]);
      expect(after.checks.some((c) => !c.healthy && c.message.startsWith('not running'))).toBe(true);
      await handle.signal('stopSupervising');
      expect(((await handle.result()) as SupervisorState).status).toBe('stopped');
      expect((await checkerState()).running).toBe(true);
    });
    // The checker thread, where the watches made their checks, ended with the worker.
    expect(await checkerState()).toEqual({ running: false, watches: 0, rounds: 0 });
  });

  it('gives up with status failed and the reason after max_restarts', async () => {
    // Healthy for a moment after every start, then the port goes away.
    const platform = await supervised([{ name: 'flaky', script: 'exec timeout 1 httpd -f -p 127.0.0.1:{port} -h .' }]);
    const { client, close } = await testClient();
    cleanups.push(close);
    await withWorker(async (taskQueue) => {
      const handle = await client.workflow.start(serviceSupervisor, {
        taskQueue,
        workflowId: uniqueId('sup-flaky'),
        args: [{ service: platform.registry.services.flaky!, home: platform.home, platform: 'p' }],
      });
      const final = await handle.result();
      expect(final.status).toBe('failed');
      expect(final.restarts).toBe(2);
      expect(final.reason).toMatch(/^gave up after 2 restarts within 10 minutes; last check: not running/);
      expect(await handle.query<SupervisorState>('supervisorState')).toMatchObject({ status: 'failed', restarts: 2 });
    });
  });

  it('is ended by platform stop before the service stops, so the stop is not healed', async () => {
    const platform = await supervised([{ name: 'db' }]);
    const { client, close } = await testClient();
    cleanups.push(close);
    await withWorker(async (taskQueue) => {
      const name = uniqueId('sup');
      await startPlatform(client, taskQueue, platform, name);
      const handle = client.workflow.getHandle(supervisorId(name, 'db'));
      await until(handle, (s) => s.status === 'healthy');
      const stopped = await client.workflow.execute(platformStop, {
        taskQueue,
        workflowId: uniqueId('stop'),
        args: [{ registry: platform.registry, home: platform.home, platform: name }],
      });
      expect(stopped.services.map((s) => s.state)).toEqual(['stopped']);
      const final = (await handle.result()) as SupervisorState;
      expect(final).toMatchObject({ status: 'stopped', restarts: 0 });
      await new Promise((r) => setTimeout(r, 1000));
      expect((await runningServices(platform.home)).size).toBe(0);
    });
  });

  it('continues as new before the history grows, keeping the restart count and recent checks', async () => {
    const platform = await supervised([{ name: 'api' }]);
    const { client, close } = await testClient();
    cleanups.push(close);
    await withWorker(async (taskQueue) => {
      const { started, handle } = await quicklyContinuing(client, taskQueue, platform);
      process.kill(-started.services[0]!.pid!, 'SIGKILL');
      const restarted = await until(handle, (s) => s.restarts === 1 && s.status === 'healthy');
      const carried = await until(handle, (s) => s.generation >= 1, 90_000);
      expect(carried.restarts).toBe(1);
      expect(carried.checks.length).toBeGreaterThan(restarted.checks.length - 1);
      expect(carried.checks.some((c) => c.at <= restarted.checks.at(-1)!.at)).toBe(true);
      const description = await handle.describe();
      expect(description.runId).not.toBe(handle.firstExecutionRunId);
    });
  }, 120_000);

  it('carries its live views across continue-as-new: the next run\'s first watch is live', async () => {
    const platform = await supervised([{ name: 'api' }]);
    const { client, close } = await testClient();
    cleanups.push(close);
    await withWorker(async (taskQueue) => {
      const { handle } = await quicklyContinuing(client, taskQueue, platform);
      // The view goes to one run; the run that it continues as carries it.
      let signalled: string | undefined;
      while (!signalled) {
        const { runId } = await handle.describe();
        signalled = await client.workflow
          .getHandle(handle.workflowId, runId)
          .signal(liveViewSignal, { seconds: 600, everySeconds: 1 })
          .then(() => runId, () => undefined);
      }
      await until(handle, (s) => s.generation >= 1, 90_000);
      let next = await handle.describe();
      for (let i = 0; i < 100 && next.runId === signalled; i++) next = await new Promise((r) => setTimeout(r, 100)).then(() => handle.describe());
      expect(next.runId).not.toBe(signalled);
      const watches = await untilWatches(client.workflow.getHandle(handle.workflowId, next.runId), (w) => w.length >= 1);
      expect(watches[0]).toEqual({ heartbeatTimeoutSeconds: 10, liveEveryMs: 1000, continues: false });
    });
  }, 120_000);

  it('supervises more services than the worker runs activities at once: watches hold slots of the host\'s watch queue, not the host queue\'s', async () => {
    // Five supervised services on a worker with 2 activity slots per queue. If the watches
    // (each holds its slot for minutes) ran on the host queue, three supervisors would wait for
    // a slot until their schedule-to-start timeout, and a restart would find no free slot.
    const names = ['a', 'b', 'c', 'd', 'e'];
    const platform = await supervised(names.map((name) => ({ name })));
    const { client, close } = await testClient();
    cleanups.push(close);
    await withWorker(
      async (taskQueue) => {
        const name = uniqueId('sup');
        const started = await startPlatform(client, taskQueue, platform, name);
        const handles = names.map((n) => client.workflow.getHandle(supervisorId(name, n)));
        for (const h of handles) cleanups.push(() => h.signal('stopSupervising'));
        const states = await Promise.all(handles.map((h) => until(h, (s) => s.status === 'healthy' && s.checks.length > 0)));
        expect(states.map((s) => s.status)).toEqual(names.map(() => 'healthy'));
        // With every watch running, the host queue still has its slots: a killed service is restarted.
        const victim = started.services.find((s) => s.name === 'c')!;
        process.kill(-victim.pid!, 'SIGKILL');
        const after = await until(handles[2]!, (s) => s.restarts === 1 && s.status === 'healthy');
        expect(after.pid).not.toBe(victim.pid);
        const queues = new Set<string>();
        for (const event of (await handles[0]!.fetchHistory()).events ?? []) {
          const scheduled = event.activityTaskScheduledEventAttributes;
          if (scheduled?.activityType?.name === 'watchService') queues.add(scheduled.taskQueue!.name!);
        }
        expect([...queues]).toEqual([`${taskQueue}@sup-slots/watch`]);
        await Promise.all(handles.map((h) => h.signal('stopSupervising')));
        expect((await Promise.all(handles.map((h) => h.result() as Promise<SupervisorState>))).map((s) => s.status)).toEqual(names.map(() => 'stopped'));
      },
      { maxActivities: 2, host: 'sup-slots' },
    );
  }, 120_000);

  it('heartbeats its watch once a minute unwatched; a live view makes it heartbeat every check, carrying the checks over, until the view runs out', async () => {
    const platform = await supervised([{ name: 'api' }]);
    const { client, close } = await testClient();
    cleanups.push(close);
    await withWorker(async (taskQueue) => {
      const name = uniqueId('sup');
      await startPlatform(client, taskQueue, platform, name);
      const handle = client.workflow.getHandle(supervisorId(name, 'api'));
      cleanups.push(() => handle.signal('stopSupervising'));
      await until(handle, (s) => s.status === 'healthy');
      // Unwatched: ~10 checks at 0.3 s in 3 s, and the heartbeat still shows the first.
      await new Promise((r) => setTimeout(r, 3_000));
      // (the first watch returned at its first check: starting → healthy)
      const unwatched = await watchesOf(handle);
      expect(unwatched.length).toBeGreaterThan(0);
      expect(new Set(unwatched.map((w) => JSON.stringify(w)))).toEqual(new Set([JSON.stringify({ heartbeatTimeoutSeconds: 120, continues: false })]));
      const n = unwatched.length;
      const quiet = await watchProgress(handle);
      expect(quiet?.count).toBe(1);

      const switchedAt = Date.now();
      await handle.signal(liveViewSignal, { seconds: 4, everySeconds: 1 });
      const live = await untilProgress(handle, (p) => p.at! > switchedAt);
      // The live watch took over the unwatched one's checks: more than it could have made itself.
      expect(live.count).toBeGreaterThan((Date.now() - switchedAt) / 300 + 3);
      const later = await untilProgress(handle, (p) => p.count > live.count);
      expect(later.at! - live.at!).toBeLessThan(10_000);
      expect((await watchesOf(handle)).slice(n)).toEqual([{ heartbeatTimeoutSeconds: 10, liveEveryMs: 1000, continues: true }]);

      // The view runs out after its 4 s: back to an unwatched watch that continues the checks.
      await untilWatches(handle, (w) => w.length === n + 2);
      expect((await watchesOf(handle))[n + 1]).toEqual({ heartbeatTimeoutSeconds: 120, continues: true });
      await handle.signal('stopSupervising');
      const final = (await handle.result()) as SupervisorState;
      expect(final.status).toBe('stopped');
    });
  }, 60_000);

  // The second worker is the compiled CLI (dist/, built by npm run setup): its checker thread
  // starts from the bundle's checker-thread.js, and the restart below needs its checks.
  it('survives its worker being killed: a new worker (the compiled one, from dist/) carries on supervising', async () => {
    const platform = await supervised([{ name: 'api' }]);
    const taskQueue = uniqueId('sup-crash');
    const { client, close } = await testClient();
    cleanups.push(close);
    const worker = (env: Record<string, string> = {}) => workerProcess(taskQueue, (kill) => cleanups.push(kill), [], env);
    const first = await worker();
    const name = uniqueId('sup');
    const started = await startPlatform(client, taskQueue, platform, name);
    const handle = client.workflow.getHandle(supervisorId(name, 'api'));
    cleanups.push(() => handle.signal('stopSupervising'));
    await until(handle, (s) => s.status === 'healthy');
    first.process.kill('SIGKILL');
    await first.process;
    await worker({ PROVISIONING_FROM_SOURCE: '' });
    process.kill(-started.services[0]!.pid!, 'SIGKILL');
    const after = await until(handle, (s) => s.restarts === 1 && s.status === 'healthy', 60_000);
    expect(after.pid).not.toBe(started.services[0]!.pid);
  });
});
