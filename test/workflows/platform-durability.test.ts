/**
 * What Temporal buys: a start survives its worker being killed half-way, a cancelled start
 * leaves a state the next start completes, and one platform runs one operation at a time.
 */
import os from 'node:os';
import path from 'node:path';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { afterEach, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import type { PlatformProgress, PlatformResult, StartServiceResult } from '../../src/model/platform.js';
import { platformStart } from '../../src/workflows/index.js';
import { registerWorker } from '../../src/temporal/worker-registry.js';
import { takeOverDeadWorkers } from '../../src/worker/takeover.js';
import { cli } from '../support/cli.js';
import { runningServices, testPlatform, type TestPlatform } from '../support/services.js';
import { testClient, uniqueId, withWorker } from '../support/temporal.js';
import { workerProcess } from '../support/worker-process.js';

const platforms: TestPlatform[] = [];
const kills: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const kill of kills.splice(0)) await kill();
  while (platforms.length > 0) await platforms.pop()!.cleanup();
});

async function chain(delay: number): Promise<TestPlatform> {
  const platform = await testPlatform([{ name: 'a', delay }, { name: 'b', deps: ['a'], delay }, { name: 'c', deps: ['b'], delay }]);
  platforms.push(platform);
  return platform;
}



const stateOf = (p: PlatformProgress, name: string) => p.services.find((s) => s.name === name)?.state;

/** Waits until `name`'s process runs: its start is then half-way (spawned, not yet healthy). */
async function spawned(platform: TestPlatform, name: string): Promise<number> {
  for (;;) {
    const pids = (await runningServices(platform.home)).get(name);
    if (pids?.length) return pids[0]!;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Waits until the server holds the heartbeat in which `name`'s start reported its spawn (what a retry resumes from). */
async function spawnRecorded(handle: WorkflowHandle, name: string): Promise<number> {
  for (;;) {
    const { raw } = await handle.describe();
    for (const activity of raw.pendingActivities ?? []) {
      const payloads = activity.heartbeatDetails?.payloads ?? [];
      const details = payloads.length ? defaultPayloadConverter.fromPayload<{ started?: StartServiceResult } | undefined>(payloads[0]!) : undefined;
      if (details?.started?.name === name && details.started.pid !== undefined) return details.started.pid;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('platform durability', () => {
  it('completes a start whose worker was killed with SIGKILL half-way, without starting anything twice', async () => {
    const platform = await chain(1.5);
    const taskQueue = uniqueId('crash');
    const { client, close } = await testClient();
    try {
      const first = await workerProcess(taskQueue, (kill) => kills.push(kill));
      const handle = await client.workflow.start(platformStart, {
        taskQueue,
        workflowId: uniqueId('platform-crash'),
        args: [{ registry: platform.registry, home: platform.home, services: ['c'] }],
      });
      // Killed while b waits to be healthy, after its start reported the spawn.
      const pidOfB = await spawnRecorded(handle, 'b');
      expect(await spawned(platform, 'b')).toBe(pidOfB);
      expect(stateOf(await handle.query<PlatformProgress>('progress'), 'b')).toBe('starting');
      first.process.kill('SIGKILL');
      await first.process;

      await workerProcess(taskQueue, (kill) => kills.push(kill));
      const result: PlatformResult = await handle.result();
      expect(result.ok).toBe(true);
      expect(result.services.map((s) => [s.name, s.state])).toEqual([
        ['a', 'started'],
        ['b', 'started'],
        ['c', 'started'],
      ]);
      const running = await runningServices(platform.home);
      expect(Object.fromEntries([...running].map(([name, pids]) => [name, pids.length]))).toEqual({ a: 1, b: 1, c: 1 });
      expect(running.get('b')).toEqual([pidOfB]);
    } finally {
      await close();
    }
  });

  it('a worker starting on the same machine fails the running activity of a SIGKILLed worker at once, and the retry resumes from its last heartbeat', async () => {
    const platform = await chain(1.5);
    const taskQueue = uniqueId('takeover');
    const { client, close } = await testClient();
    try {
      const first = await workerProcess(taskQueue, (kill) => kills.push(kill));
      const handle = await client.workflow.start(platformStart, { taskQueue, workflowId: uniqueId('platform-takeover'), args: [{ registry: platform.registry, home: platform.home, services: ['c'] }] });
      const pidOfB = await spawnRecorded(handle, 'b');
      const dead = `${first.process.pid}@${os.hostname()}`;
      first.process.kill('SIGKILL');
      await first.process;

      // What the next worker does at its start-up, well inside the 3 s heartbeat timeout that would otherwise notice the death:
      // the machine's worker registry knows the killed process, and its running activity is failed.
      const registration = (await registerWorker({ identity: 'test-successor', namespace: 'default', taskQueue }))!;
      try {
        expect(registration.dead.map((r) => r.identity)).toEqual([dead]);
        const report = await takeOverDeadWorkers(client.connection, 'default', taskQueue, 'test-successor', registration.dead);
        expect(report.activities.map((a) => [a.workflowId, a.activityType, a.deadWorker])).toEqual([[handle.workflowId, 'startServiceHealthy', dead]]);
        expect(report.resetSticky).toBe(1);
        // Nothing else is dead: a second look takes over nothing, and a forgotten worker is not dead again.
        expect((await takeOverDeadWorkers(client.connection, 'default', taskQueue, 'test-successor', registration.dead)).activities).toEqual([]);
        await registration.forgetDead();
        expect((await registerWorker({ identity: 'test-successor', namespace: 'default', taskQueue }))!.dead).toEqual([]);
      } finally {
        await registration.unregister();
      }

      await workerProcess(taskQueue, (kill) => kills.push(kill));
      const result: PlatformResult = await handle.result();
      expect(result.ok).toBe(true);
      expect((await runningServices(platform.home)).get('b')).toEqual([pidOfB]);
      // The retry of b's start was caused by the take-over, not by a timeout, and no workflow task waited for the dead worker's cache.
      const { events } = await handle.fetchHistory();
      const retried = (events ?? []).filter((e) => Number(e.activityTaskStartedEventAttributes?.attempt ?? 1) > 1);
      expect(retried).toHaveLength(1);
      expect(retried[0]!.activityTaskStartedEventAttributes!.lastFailure?.message).toBe(`worker ${dead} is gone (its process no longer runs); test-successor took over`);
      expect((events ?? []).filter((e) => e.workflowTaskTimedOutEventAttributes)).toEqual([]);
    } finally {
      await close();
    }
  });

  it('leaves a cancelled start in a state that a second start completes', async () => {
    const platform = await chain(1);
    const { client, close } = await testClient();
    try {
      await withWorker(async (taskQueue) => {
        const options = { taskQueue, args: [{ registry: platform.registry, home: platform.home, services: ['c'] }] as [Parameters<typeof platformStart>[0]] };
        const handle = await client.workflow.start(platformStart, { ...options, workflowId: uniqueId('platform-cancel') });
        await spawned(platform, 'b');
        await handle.cancel();
        const error = await handle.result().catch((e: unknown) => e);
        expect(error).toBeInstanceOf(WorkflowFailedError);
        expect((error as WorkflowFailedError).cause?.name).toBe('CancelledFailure');
        expect([...(await runningServices(platform.home)).keys()].sort()).toEqual(['a', 'b']);

        const second = await client.workflow.execute(platformStart, { ...options, workflowId: uniqueId('platform-again') });
        expect(second.ok).toBe(true);
        expect(second.services.map((s) => [s.name, s.state])).toEqual([
          ['a', 'already-running'],
          ['b', 'already-running'],
          ['c', 'started'],
        ]);
        const running = await runningServices(platform.home);
        expect([...running.values()].map((pids) => pids.length)).toEqual([1, 1, 1]);
      });
    } finally {
      await close();
    }
  });

  it('refuses a second start of a busy platform and names the run that holds it', async () => {
    const platform = await chain(2);
    const registryFile = path.join(platform.home, 'services.toml');
    const { writeFile } = await import('node:fs/promises');
    const { stringify } = await import('smol-toml');
    await writeFile(registryFile, stringify({ services: Object.fromEntries(Object.entries(platform.registry.services).map(([k, v]) => [k, { ...v, name: k }])) }));
    await withWorker(async (taskQueue) => {
      const env = { PROVISIONING_HOME: platform.home, PATH: process.env.PATH };
      const name = uniqueId('busy');
      const common = ['--registry', registryFile, '--address', inject('temporalAddress'), '--task-queue', taskQueue, '--platform', name];
      const first = await cli(['platform', 'start', 'c', ...common, '--no-wait', '--json'], { env });
      expect(first.code).toBe(0);
      const { runId } = JSON.parse(first.stdout) as { runId: string };
      const second = await cli(['platform', 'start', 'c', ...common], { env });
      expect(second.code).toBe(1);
      expect(second.stderr).toContain(`platform "${name}" is busy: platformStart (workflow platform/${name}, run ${runId})`);
      const { client, close } = await testClient();
      try {
        await client.workflow.getHandle(`platform/${name}`).result();
      } finally {
        await close();
      }
    });
  });

  it('a worker stopped with SIGTERM lets its running activity finish within the grace time, exits 0, and the next worker completes the start', async () => {
    const platform = await chain(2);
    const taskQueue = uniqueId('sigterm');
    const { client, close } = await testClient();
    try {
      const first = await workerProcess(taskQueue, (kill) => kills.push(kill), ['--shutdown-grace', '20']);
      const handle = await client.workflow.start(platformStart, { taskQueue, workflowId: uniqueId('platform-sigterm'), args: [{ registry: platform.registry, home: platform.home, services: ['c'] }] });
      await spawned(platform, 'a');
      first.process.kill('SIGTERM');
      const exited = await first.process;
      expect(exited.exitCode).toBe(0);
      expect(exited.all).toContain('stopped.');
      // The health wait it was running finished instead of being abandoned: a is healthy in history.
      const { events } = await handle.fetchHistory();
      const types = new Map((events ?? []).filter((e) => e.activityTaskScheduledEventAttributes).map((e) => [Number(e.eventId), e.activityTaskScheduledEventAttributes!.activityType!.name!]));
      const completed = (events ?? []).filter((e) => e.activityTaskCompletedEventAttributes).map((e) => types.get(Number(e.activityTaskCompletedEventAttributes!.scheduledEventId)));
      expect(completed).toEqual(['preflight', 'startServiceHealthy']);
      await workerProcess(taskQueue, (kill) => kills.push(kill));
      const result: PlatformResult = await handle.result();
      expect(result.ok).toBe(true);
      const running = await runningServices(platform.home);
      expect(Object.fromEntries([...running].map(([name, pids]) => [name, pids.length]))).toEqual({ a: 1, b: 1, c: 1 });
    } finally {
      await close();
    }
  });
});
