/**
 * watchService, its checks in the worker's checker thread (a real worker thread, its rounds
 * there), against real processes: it returns when the status changes or the budget is spent,
 * ends on a cancel, and leaves no watch or round behind in the thread. Run in
 * MockActivityEnvironment: what is tested is the activity's own check, heartbeat and cancel
 * logic (and a newer watch of the same supervisor taking over from an older one); the supervisor workflows around it are tested on the dev server (supervisor.test.ts).
 */
import { CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { binaryDriver } from '../../src/activities/drivers/binary.js';
import { checkerState, endCheckerThread } from '../../src/activities/checker.js';
import { watchService } from '../../src/activities/supervision.js';
import type { WatchInput, WatchOutcome, WatchProgress } from '../../src/model/supervisor.js';
import { testPlatform, type TestPlatform } from '../support/services.js';

const platforms: TestPlatform[] = [];
afterEach(async () => {
  while (platforms.length > 0) await platforms.pop()!.cleanup();
});

async function running(): Promise<{ platform: TestPlatform; input: WatchInput }> {
  const platform = await testPlatform([{ name: 'api', delay: 0 }]);
  platforms.push(platform);
  const service = platform.registry.services.api!;
  await binaryDriver.start(service, { home: platform.home });
  // httpd listens a moment after the spawn
  for (let i = 0; i < 50 && !(await fetch(`http://127.0.0.1:${platform.ports.api}/`).then(() => true, () => false)); i++) await new Promise((r) => setTimeout(r, 50));
  return { platform, input: { service, home: platform.home, intervalMs: 100, retries: 2, budgetMs: 60_000, status: 'healthy', consecutiveFailures: 0 } };
}

describe('watchService', () => {
  it('returns after its budget with the checks it made, all healthy, and leaves no round running', async () => {
    const { input } = await running();
    const heartbeats: WatchProgress[] = [];
    const env = new MockActivityEnvironment({ heartbeatTimeoutMs: 2_000 });
    env.on('heartbeat', (d: WatchProgress) => heartbeats.push(d));
    const outcome: WatchOutcome = await env.run(watchService, { ...input, budgetMs: 450 });
    expect(outcome.status).toBe('healthy');
    expect(outcome.checks.length).toBeGreaterThanOrEqual(4);
    expect(outcome.checks.every((c) => c.healthy && c.message.endsWith('accepts connections'))).toBe(true);
    // It says how many checks it made, and since when (the Web UI shows them; bench:monitor counts with them).
    expect(outcome.count).toBe(outcome.checks.length);
    expect(outcome.since).toBeLessThanOrEqual(outcome.checks[0]!.at);
    expect(heartbeats[0]).toMatchObject({ status: 'healthy', count: 1, since: outcome.since });
    expect((await checkerState()).rounds).toBe(0);
  });

  it('returns unhealthy after `retries` failed checks once the service is killed', async () => {
    const { platform, input } = await running();
    const env = new MockActivityEnvironment({ heartbeatTimeoutMs: 2_000 });
    const watching: Promise<WatchOutcome> = env.run(watchService, input);
    await new Promise((r) => setTimeout(r, 250));
    await binaryDriver.stop(platform.registry.services.api!, { home: platform.home }, { graceSeconds: 1 });
    const outcome: WatchOutcome = await watching;
    expect(outcome).toMatchObject({ status: 'unhealthy', consecutiveFailures: 2 });
    expect(outcome.checks.slice(-2).every((c) => !c.healthy && c.message.startsWith('not running'))).toBe(true);
    expect(outcome.checks.some((c) => c.healthy)).toBe(true);
    expect((await checkerState()).rounds).toBe(0);
  });

  it('ends with the cancel when it is cancelled, and leaves no round running', async () => {
    const { input } = await running();
    const env = new MockActivityEnvironment({ heartbeatTimeoutMs: 2_000 });
    const watching: Promise<WatchOutcome> = env.run(watchService, input);
    await new Promise((r) => setTimeout(r, 250));
    expect((await checkerState()).rounds).toBe(1);
    env.cancel();
    await expect(watching).rejects.toBeInstanceOf(CancelledFailure);
    expect((await checkerState()).rounds).toBe(0);
  });

  it('resumes from the heartbeat of an earlier attempt: counting on, and failures carried', async () => {
    const { platform, input } = await running();
    await binaryDriver.stop(platform.registry.services.api!, { home: platform.home }, { graceSeconds: 1 });
    const earlier: WatchProgress = { since: Date.now() - 5_000, count: 40, status: 'healthy', consecutiveFailures: 1, checks: [] };
    const env = new MockActivityEnvironment({ heartbeatTimeoutMs: 2_000, heartbeatDetails: earlier });
    // One failed check more makes two: unhealthy at the first check of this attempt.
    const outcome: WatchOutcome = await env.run(watchService, input);
    expect(outcome).toMatchObject({ status: 'unhealthy', consecutiveFailures: 2 });
    expect(outcome.checks).toHaveLength(1);
    expect((await checkerState()).rounds).toBe(0);
  });

  it('heartbeats at half its heartbeat timeout unwatched, and with its checks (at most every liveEveryMs) when live', async () => {
    const { input } = await running();
    const beats = async (live: boolean) => {
      const heartbeats: Array<WatchProgress & { seen: number }> = [];
      const env = new MockActivityEnvironment({ heartbeatTimeoutMs: 10_000 });
      env.on('heartbeat', (d: WatchProgress) => heartbeats.push({ ...d, seen: performance.now() }));
      const outcome: WatchOutcome = await env.run(watchService, { ...input, budgetMs: 1_300, ...(live ? { liveEveryMs: 500 } : {}) });
      return { heartbeats, outcome };
    };
    // 100 ms interval, 1.3 s: ~13 checks. Unwatched, a beat per 5 s: only the first check's.
    const unwatched = await beats(false);
    expect(unwatched.outcome.checks.length).toBeGreaterThanOrEqual(8);
    expect(unwatched.heartbeats.map((h) => h.count)).toEqual([1]);
    const live = await beats(true);
    expect(live.outcome.checks.length).toBeGreaterThanOrEqual(8);
    expect(live.heartbeats.length).toBeGreaterThanOrEqual(3);
    expect(live.heartbeats[0]!.count).toBe(1);
    for (const [i, h] of live.heartbeats.entries()) {
      if (i === 0) continue;
      expect(h.count).toBeGreaterThan(live.heartbeats[i - 1]!.count);
      expect(h.seen - live.heartbeats[i - 1]!.seen).toBeGreaterThanOrEqual(490);
    }
    expect((await checkerState()).watches).toBe(0);
  });

  it('a watch that continues the one before it, on the same worker, ends that one and takes over its checks and failure count', async () => {
    const { platform, input } = await running();
    await binaryDriver.stop(platform.registry.services.api!, { home: platform.home }, { graceSeconds: 1 });
    // Failing checks that do not add up to unhealthy yet.
    const failing: WatchInput = { ...input, retries: 1_000 };
    const workflowExecution = { workflowId: 'service/p/api', runId: 'run-1' };
    const first: Promise<WatchOutcome> = new MockActivityEnvironment({ heartbeatTimeoutMs: 60_000, workflowExecution }).run(watchService, failing);
    await new Promise((r) => setTimeout(r, 350));
    const heartbeats: WatchProgress[] = [];
    const env = new MockActivityEnvironment({ heartbeatTimeoutMs: 10_000, workflowExecution });
    env.on('heartbeat', (d: WatchProgress) => heartbeats.push(d));
    // The supervisor's state still says 0 failures (the first never returned).
    const second: Promise<WatchOutcome> = env.run(watchService, { ...failing, consecutiveFailures: 0, liveEveryMs: 1_000, continues: true });
    // The first returns at once with what it had, its status unchanged.
    const ended = await first;
    expect(ended.status).toBe('healthy');
    expect(ended.checks.length).toBeGreaterThanOrEqual(3);
    expect(ended.consecutiveFailures).toBe(ended.checks.length);
    // It heartbeats what it took over at once, then its own checks count on.
    while (heartbeats.length < 2) await new Promise((r) => setTimeout(r, 20));
    expect(heartbeats[0]).toMatchObject({ count: ended.checks.length, consecutiveFailures: ended.consecutiveFailures });
    expect(heartbeats[0]!.checks).toEqual(ended.checks.slice(-heartbeats[0]!.checks.length));
    // Every check failed, the first watch's too: the failures count on from its.
    expect(heartbeats[1]!.count).toBeGreaterThan(ended.checks.length);
    expect(heartbeats[1]!.consecutiveFailures).toBe(heartbeats[1]!.count);
    expect((await checkerState()).watches).toBe(1);
    env.cancel();
    await expect(second).rejects.toBeInstanceOf(CancelledFailure);
    expect((await checkerState()).watches).toBe(0);
    expect((await checkerState()).rounds).toBe(0);
  });

  it('a newer watch of the same supervisor that does not continue ends the older one and starts afresh, with a check at once', async () => {
    const { input } = await running();
    const workflowExecution = { workflowId: 'service/p/api', runId: 'run-1' };
    const first: Promise<WatchOutcome> = new MockActivityEnvironment({ heartbeatTimeoutMs: 60_000, workflowExecution }).run(watchService, input);
    await new Promise((r) => setTimeout(r, 350));
    const heartbeats: WatchProgress[] = [];
    const env = new MockActivityEnvironment({ heartbeatTimeoutMs: 60_000, workflowExecution: { ...workflowExecution, runId: 'run-2' } });
    env.on('heartbeat', (d: WatchProgress) => heartbeats.push(d));
    const second: Promise<WatchOutcome> = env.run(watchService, { ...input, consecutiveFailures: 0 });
    expect((await first).checks.length).toBeGreaterThanOrEqual(3);
    while (heartbeats.length === 0) await new Promise((r) => setTimeout(r, 20));
    expect(heartbeats[0]).toMatchObject({ count: 1, consecutiveFailures: 0 });
    env.cancel();
    await expect(second).rejects.toBeInstanceOf(CancelledFailure);
    expect((await checkerState()).watches).toBe(0);
  });

  it('fails when the checker thread dies, and the next watch runs in a new thread', async () => {
    const { input } = await running();
    const heartbeats: WatchProgress[] = [];
    const env = new MockActivityEnvironment({ heartbeatTimeoutMs: 2_000 });
    env.on('heartbeat', (d: WatchProgress) => heartbeats.push(d));
    const watching: Promise<WatchOutcome> = env.run(watchService, input);
    while (heartbeats.length === 0) await new Promise((r) => setTimeout(r, 20));
    await endCheckerThread();
    await expect(watching).rejects.toThrow(/the checker thread exited/);
    expect(await checkerState()).toEqual({ running: false, watches: 0, rounds: 0 });
    const outcome: WatchOutcome = await new MockActivityEnvironment({ heartbeatTimeoutMs: 2_000 }).run(watchService, { ...input, budgetMs: 250 });
    expect(outcome.status).toBe('healthy');
    expect(outcome.count).toBeGreaterThanOrEqual(2);
    expect(await checkerState()).toEqual({ running: true, watches: 0, rounds: 0 });
  });
});
