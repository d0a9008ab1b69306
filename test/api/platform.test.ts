/**
 * The client API from a program, against the real dev server and real processes: platform
 * operations with their progress and results, and each typed error (bad input, busy, failed,
 * not found), without the CLI.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { BusyError, errorKind, FailedError, NotFoundError, UsageError } from '../../src/api/errors.js';
import { startPlatform, stopPlatform } from '../../src/api/platform.js';
import { monitorService, pauseSupervision, restartService, stopSupervision, supervisorState } from '../../src/api/services.js';
import type { PlatformProgress } from '../../src/model/platform.js';
import { runningServices, testPlatform, type TestPlatform } from '../support/services.js';
import { testClient, uniqueId, withWorker } from '../support/temporal.js';

const platforms: TestPlatform[] = [];
afterEach(async () => {
  while (platforms.length > 0) await platforms.pop()!.cleanup();
});

async function platformOf(...specs: Parameters<typeof testPlatform>[0]): Promise<TestPlatform> {
  const p = await testPlatform(specs);
  platforms.push(p);
  return p;
}

describe('client API: platform', () => {
  it('starts services in dependency order with progress snapshots, then stops them', async () => {
    const p = await platformOf({ name: 'db', delay: 1 }, { name: 'api', deps: ['db'], delay: 0.2 });
    const { client, close } = await testClient();
    try {
      await withWorker(async (taskQueue) => {
        const ctx = { client, taskQueue };
        const platform = uniqueId('api');
        const run = await startPlatform(ctx, { registry: p.registry, services: ['api'], home: p.home, platform });
        expect(run.workflowId).toBe(`platform/${platform}`);
        const seen: PlatformProgress[] = [];
        for await (const progress of run.progress({ intervalMs: 50 })) seen.push(progress);
        // While db was being started, api waited on it.
        expect(seen.some((s) => s.services.find((x) => x.name === 'api')?.waitingOn?.includes('db'))).toBe(true);
        const result = await run.result();
        expect(result.ok).toBe(true);
        expect(result.services.map((s) => [s.name, s.state])).toEqual([['db', 'started'], ['api', 'started']]);
        expect([...(await runningServices(p.home)).keys()].sort()).toEqual(['api', 'db']);

        const stop = await stopPlatform(ctx, { registry: p.registry, home: p.home, platform });
        const stopped = await stop.result();
        expect(stopped.services.map((s) => s.state)).toEqual(['stopped', 'stopped']);
        expect((await runningServices(p.home)).size).toBe(0);
      });
    } finally {
      await close();
    }
  });

  it('names a service that failed to start first, in a FailedError that carries the whole result', async () => {
    const p = await platformOf({ name: 'broken', script: 'echo cannot bind; exit 3', startTimeout: 5 }, { name: 'web', deps: ['broken'] });
    const { client, close } = await testClient();
    try {
      await withWorker(async (taskQueue) => {
        const run = await startPlatform({ client, taskQueue }, { registry: p.registry, services: ['web'], home: p.home, platform: uniqueId('api') });
        const err = await run.result().then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(FailedError);
        const failed = err as FailedError<{ services: Array<{ name: string; state: string }> }>;
        expect(errorKind(failed)).toBe('failed');
        expect(failed.failing).toBe('broken');
        expect(failed.message).toMatch(/^broken: failed/);
        expect(failed.result?.services.map((s) => [s.name, s.state])).toEqual([['broken', 'failed'], ['web', 'skipped']]);
      });
    } finally {
      await close();
    }
  });

  it('refuses a second operation on a busy platform with a BusyError naming the run that holds it', async () => {
    const p = await platformOf({ name: 'slow', delay: 3 });
    const { client, close } = await testClient();
    try {
      await withWorker(async (taskQueue) => {
        const ctx = { client, taskQueue, webUi: 'http://127.0.0.1:8233' };
        const platform = uniqueId('api');
        const first = await startPlatform(ctx, { registry: p.registry, services: ['slow'], home: p.home, platform });
        const err = await stopPlatform(ctx, { registry: p.registry, home: p.home, platform }).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(BusyError);
        const busy = err as BusyError;
        expect(errorKind(busy)).toBe('busy');
        expect(busy.holder).toMatchObject({ workflowId: `platform/${platform}`, runId: first.runId, type: 'platformStart' });
        expect(busy.holder.webUi).toBe(`http://127.0.0.1:8233/namespaces/default/workflows/platform%2F${platform}/${first.runId}`);
        expect(busy.message).toContain(`platform "${platform}" is busy: platformStart (workflow platform/${platform}, run ${first.runId})`);
        expect((await first.result()).ok).toBe(true);
        await (await stopPlatform(ctx, { registry: p.registry, home: p.home, platform })).result();
      });
    } finally {
      await close();
    }
  });

  it('refuses bad input before anything is submitted: an unknown service, an invalid platform name', async () => {
    const p = await platformOf({ name: 'db' });
    const { client, close } = await testClient();
    try {
      const platform = uniqueId('api');
      const ctx = { client, taskQueue: uniqueId('nobody') };
      const unknown = await startPlatform(ctx, { registry: p.registry, services: ['dbb'], home: p.home, platform }).catch((e: unknown) => e);
      expect(unknown).toBeInstanceOf(UsageError);
      expect(errorKind(unknown)).toBe('bad-input');
      expect((unknown as Error).message).toMatch(/unknown service "dbb".*\n  fix: .*db/);
      const badName = await startPlatform(ctx, { registry: p.registry, home: p.home, platform: 'Not_A_Label' }).catch((e: unknown) => e);
      expect(errorKind(badName)).toBe('bad-input');
      await expect(client.workflow.getHandle(`platform/${platform}`).describe()).rejects.toThrow(/not found/i);
    } finally {
      await close();
    }
  });
});

describe('client API: supervision', () => {
  it('monitors a service (checks as events, ending after `count`), restarts it, and stops supervising', async () => {
    const p = await platformOf({ name: 'svc', delay: 0.1 });
    const { client, close } = await testClient();
    try {
      await withWorker(async (taskQueue) => {
        const ctx = { client, taskQueue };
        const platform = uniqueId('api');
        await (await startPlatform(ctx, { registry: p.registry, services: ['svc'], home: p.home, platform })).result();
        const monitor = await monitorService(ctx, { platform, service: p.registry.services.svc!, home: p.home, intervalSeconds: 0.3 });
        expect(monitor.workflowId).toBe(`service/${platform}/svc`);
        const checks = [];
        const events = monitor.events({ count: 2 });
        let next = await events.next();
        for (; !next.done; next = await events.next()) if (next.value.kind === 'check') checks.push(next.value.check);
        expect(checks.length).toBeGreaterThanOrEqual(2);
        expect(checks.every((c) => c.healthy && c.running)).toBe(true);
        expect(next.value?.service).toBe('svc');

        const pidBefore = (await runningServices(p.home)).get('svc');
        const restarted = await restartService(ctx, platform, 'svc');
        expect(restarted.healthy).toBe(true);
        expect((await runningServices(p.home)).get('svc')).not.toEqual(pidBefore);

        await stopSupervision(ctx, platform, 'svc');
        expect(await supervisorState(client, platform, 'svc')).toBeUndefined();
        const notSupervised = await pauseSupervision(ctx, platform, 'svc').catch((e: unknown) => e);
        expect(notSupervised).toBeInstanceOf(NotFoundError);
        expect(errorKind(notSupervised)).toBe('not-found');
        expect((notSupervised as Error).message).toContain(`svc is not supervised (no running workflow service/${platform}/svc)`);
        await (await stopPlatform(ctx, { registry: p.registry, home: p.home, platform })).result();
      });
    } finally {
      await close();
    }
  });
});
