/**
 * watchService in the worker's rounds, against real processes: it returns when the status
 * changes or the budget is spent, ends on a cancel, and leaves no round behind. Run in
 * MockActivityEnvironment: what is tested is the activity's own check, heartbeat and cancel
 * logic; the supervisor workflows around it are tested on the dev server (supervisor.test.ts).
 */
import { CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { binaryDriver } from '../../src/activities/drivers/binary.js';
import { watchService } from '../../src/activities/supervision.js';
import { activeRounds } from '../../src/activities/watch-rounds.js';
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
    expect(heartbeats[0]).toMatchObject({ status: 'healthy', count: 1 });
    expect(activeRounds()).toBe(0);
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
    expect(activeRounds()).toBe(0);
  });

  it('ends with the cancel when it is cancelled, and leaves no round running', async () => {
    const { input } = await running();
    const env = new MockActivityEnvironment({ heartbeatTimeoutMs: 2_000 });
    const watching: Promise<WatchOutcome> = env.run(watchService, input);
    await new Promise((r) => setTimeout(r, 250));
    expect(activeRounds()).toBe(1);
    env.cancel();
    await expect(watching).rejects.toBeInstanceOf(CancelledFailure);
    expect(activeRounds()).toBe(0);
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
    expect(activeRounds()).toBe(0);
  });
});
