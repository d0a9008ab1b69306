/**
 * platformStart and platformStop on the real dev server with real processes: dependency
 * order, parallelism, failure isolation, pre-flight, stop safety.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { PlatformResult, ServiceProgress } from '../../src/model/platform.js';
import { platformRestart, platformStart, platformStop, platformUpdate, type serviceSupervisor } from '../../src/workflows/index.js';
import { supervisorId } from '../../src/model/ids.js';
import { runningServices, testPlatform, type ProcessSpec, type TestPlatform } from '../support/services.js';
import { expectReplays, testClient, uniqueId, withWorker } from '../support/temporal.js';

const platforms: TestPlatform[] = [];
afterEach(async () => {
  while (platforms.length > 0) await platforms.pop()!.cleanup();
});

async function setup(specs: ProcessSpec[]): Promise<TestPlatform> {
  const platform = await testPlatform(specs);
  platforms.push(platform);
  return platform;
}

async function run(workflow: typeof platformStart | typeof platformStop | typeof platformRestart | typeof platformUpdate, platform: TestPlatform, extra: { services?: string[]; force?: boolean } = {}): Promise<PlatformResult> {
  const { client, close } = await testClient();
  try {
    const workflowId = uniqueId('platform');
    const result = await withWorker((taskQueue) =>
      client.workflow.execute(workflow, {
        taskQueue,
        workflowId,
        args: [{ registry: platform.registry, home: platform.home, services: extra.services ?? Object.keys(platform.registry.services), force: extra.force, graceSeconds: 2 }],
      }),
    );
    await expectReplays(client, workflowId);
    return result;
  } finally {
    await close();
  }
}

function byName(result: PlatformResult): Record<string, ServiceProgress> {
  return Object.fromEntries(result.services.map((s) => [s.name, s]));
}

/** No service started before every one of its dependencies answered healthy. */
function expectDependencyOrder(platform: TestPlatform, result: PlatformResult): void {
  const s = byName(result);
  for (const [name, def] of Object.entries(platform.registry.services)) {
    for (const dep of def.dependencies) {
      expect(s[name]!.startedAt, `${name} started before ${dep} was healthy`).toBeGreaterThanOrEqual(s[dep]!.healthyAt!);
    }
  }
}

/** Two services ran their start-to-healthy windows at the same time. */
function overlapped(a: ServiceProgress, b: ServiceProgress): boolean {
  return a.startedAt! < b.healthyAt! && b.startedAt! < a.healthyAt!;
}

describe('platformStart', () => {
  it('starts a chain one after another and stops it in reverse', async () => {
    const platform = await setup([{ name: 'a' }, { name: 'b', deps: ['a'] }, { name: 'c', deps: ['b'] }]);
    const result = await run(platformStart, platform);
    expect(result.ok).toBe(true);
    expect(result.services.map((s) => s.state)).toEqual(['started', 'started', 'started']);
    expectDependencyOrder(platform, result);
    const running = await runningServices(platform.home);
    expect([...running.keys()].sort()).toEqual(['a', 'b', 'c']);
    expect([...running.values()].every((pids) => pids.length === 1)).toBe(true);
    expect(byName(result).a!.pid).toBe(running.get('a')![0]);

    const stopped = await run(platformStop, platform);
    expect(stopped.ok).toBe(true);
    expect(stopped.services.map((s) => [s.name, s.state])).toEqual([
      ['c', 'stopped'],
      ['b', 'stopped'],
      ['a', 'stopped'],
    ]);
    expect((await runningServices(platform.home)).size).toBe(0);
  });

  it('starts the two middle services of a diamond in parallel', async () => {
    const platform = await setup([{ name: 'a' }, { name: 'b', deps: ['a'], delay: 0.6 }, { name: 'c', deps: ['a'], delay: 0.6 }, { name: 'd', deps: ['b', 'c'] }]);
    const result = await run(platformStart, platform);
    expect(result.ok).toBe(true);
    expectDependencyOrder(platform, result);
    const s = byName(result);
    expect(overlapped(s.b!, s.c!)).toBe(true);
  });

  it('walks the seeds\' complex graph eagerly: a branch does not wait for the other branch', async () => {
    // A; B on A; C, D on B; E on C; F on D; G on E and F. D is slow: E must not wait for it.
    const platform = await setup([
      { name: 'a' },
      { name: 'b', deps: ['a'] },
      { name: 'c', deps: ['b'] },
      { name: 'd', deps: ['b'], delay: 1.5 },
      { name: 'e', deps: ['c'] },
      { name: 'f', deps: ['d'] },
      { name: 'g', deps: ['e', 'f'] },
    ]);
    const result = await run(platformStart, platform);
    expect(result.ok).toBe(true);
    expectDependencyOrder(platform, result);
    const s = byName(result);
    expect(overlapped(s.c!, s.d!)).toBe(true);
    // Level by level, e would start only after d (same level as c) is healthy; eagerly it starts before.
    expect(s.e!.startedAt!).toBeLessThan(s.d!.healthyAt!);
  });

  it('skips exactly the dependents of a failing service and reports its last log lines', async () => {
    const platform = await setup([
      { name: 'base' },
      { name: 'broken', deps: ['base'], script: 'echo "config file missing: /etc/broken.conf" >&2; exit 3' },
      { name: 'needs-broken', deps: ['broken'] },
      { name: 'needs-needs-broken', deps: ['needs-broken'] },
      { name: 'independent', deps: ['base'] },
    ]);
    const result = await run(platformStart, platform);
    expect(result.ok).toBe(false);
    const s = byName(result);
    expect(s.base!.state).toBe('started');
    expect(s.independent!.state).toBe('started');
    expect(s.broken!.state).toBe('failed');
    expect(s.broken!.error).toContain('broken is not running');
    expect(s.broken!.error).toContain('config file missing: /etc/broken.conf');
    expect(s['needs-broken']).toMatchObject({ state: 'skipped', skippedBecause: 'broken' });
    expect(s['needs-needs-broken']).toMatchObject({ state: 'skipped', skippedBecause: 'broken' });
    expect([...(await runningServices(platform.home)).keys()].sort()).toEqual(['base', 'independent']);
  });

  it('names the probe, its last result and the wait when a service never becomes healthy', async () => {
    const platform = await setup([{ name: 'mute', script: 'exec sleep 60', startTimeout: 1 }]);
    const result = await run(platformStart, platform);
    expect(byName(result).mute).toMatchObject({ state: 'failed' });
    expect(byName(result).mute!.error).toMatch(/mute did not become healthy within 1 s: TCP 127\.0\.0\.1:\d+; last result after \d+ probes: TCP 127\.0\.0\.1:\d+: ECONNREFUSED/);
  });

  it('leaves a running healthy service alone and reports it already running', async () => {
    const platform = await setup([{ name: 'a' }, { name: 'b', deps: ['a'] }]);
    await run(platformStart, platform, { services: ['a'] });
    const pid = (await runningServices(platform.home)).get('a')![0];
    const result = await run(platformStart, platform);
    expect(byName(result).a).toMatchObject({ state: 'already-running', pid });
    expect(byName(result).b!.state).toBe('started');
    expect((await runningServices(platform.home)).get('a')).toEqual([pid]);
  });

  it('starts nothing when pre-flight fails: a missing binary and a port already in use', async () => {
    const platform = await setup([{ name: 'a' }, { name: 'b', deps: ['a'] }, { name: 'c' }]);
    platform.registry.services.c!.deployment.binary!.binary_path = '/nonexistent/bin/c';
    const net = await import('node:net');
    const blocker = net.createServer().listen(platform.ports.b, '127.0.0.1');
    await new Promise((r) => blocker.once('listening', r));
    try {
      const result = await run(platformStart, platform);
      expect(result.ok).toBe(false);
      expect(result.preflight).toEqual(
        expect.arrayContaining([
          { service: 'c', check: 'prerequisite', message: 'binary not found: /nonexistent/bin/c' },
          { service: 'b', check: 'port', message: expect.stringMatching(new RegExp(`^port ${platform.ports.b}/tcp is already in use by .+ \\(PID ${process.pid}\\)$`)) as string },
        ]),
      );
      expect(result.services.every((s) => s.state === 'skipped')).toBe(true);
      expect((await runningServices(platform.home)).size).toBe(0);
    } finally {
      blocker.close();
    }
  });

  it('refuses a start when a conflicting program runs, naming it', async () => {
    const platform = await setup([{ name: 'dns', extra: 'conflicts = ["sleep"]' }]);
    const { execa } = await import('execa');
    const sleeper = execa('sleep', ['30']);
    try {
      const result = await run(platformStart, platform);
      expect(result.preflight).toEqual([{ service: 'dns', check: 'conflict', message: expect.stringContaining(`conflicting program sleep is running (PID `) as string }]);
      expect(result.preflight![0]!.message).toContain(String(sleeper.pid));
    } finally {
      sleeper.kill();
      await sleeper.catch(() => undefined);
    }
  });
});

describe('platformStop', () => {
  it('refuses to stop a service whose running dependents are left out, unless forced', async () => {
    const platform = await setup([{ name: 'db' }, { name: 'api', deps: ['db'] }, { name: 'web', deps: ['api'] }]);
    await run(platformStart, platform);
    const refused = await run(platformStop, platform, { services: ['db'] });
    expect(refused.ok).toBe(false);
    expect(refused.refused).toEqual([{ service: 'db', dependents: ['api', 'web'] }]);
    expect([...(await runningServices(platform.home)).keys()].sort()).toEqual(['api', 'db', 'web']);

    const forced = await run(platformStop, platform, { services: ['db'], force: true });
    expect(forced.ok).toBe(true);
    expect(byName(forced).db!.state).toBe('stopped');
    expect([...(await runningServices(platform.home)).keys()].sort()).toEqual(['api', 'web']);
  });

  it('kills a service that ignores SIGTERM after the grace period', async () => {
    const platform = await setup([{ name: 'stubborn', script: 'trap "" TERM; httpd -f -p 127.0.0.1:{port} -h . & wait' }]);
    await run(platformStart, platform);
    const stopped = await run(platformStop, platform);
    expect(byName(stopped).stubborn!.state).toBe('stopped');
    expect((await runningServices(platform.home)).size).toBe(0);
  });
});

describe('platformRestart', () => {
  it('stops a service and its running dependents, then starts them again with new processes', async () => {
    const platform = await setup([{ name: 'db' }, { name: 'api', deps: ['db'] }, { name: 'other' }]);
    await run(platformStart, platform);
    const before = await runningServices(platform.home);
    const result = await run(platformRestart, platform, { services: ['db', 'api'] });
    expect(result.ok).toBe(true);
    expect(result.operation).toBe('restart');
    expect(result.services.map((s) => [s.name, s.state])).toEqual([
      ['api', 'started'],
      ['db', 'started'],
    ]);
    const after = await runningServices(platform.home);
    expect(after.get('db')).not.toEqual(before.get('db'));
    expect(after.get('api')).not.toEqual(before.get('api'));
    expect(after.get('other')).toEqual(before.get('other'));
  });
});

describe('platformUpdate', () => {
  it('restarts every running service one at a time in dependency order, each respawned only after the one before it is healthy again', async () => {
    const platform = await setup([{ name: 'web', deps: ['api'] }, { name: 'api', deps: ['db'] }, { name: 'db' }, { name: 'idle' }]);
    await run(platformStart, platform, { services: ['web'] });
    const before = await runningServices(platform.home);
    const result = await run(platformUpdate, platform);
    expect(result.ok).toBe(true);
    expect(result.operation).toBe('update');
    const s = byName(result);
    expect(s.idle!.state).toBe('not-running');
    const rolled = ['db', 'api', 'web'];
    for (const name of rolled) expect(s[name]!.state, name).toBe('started');
    // One at a time: each service was spawned again only after the one before it was healthy.
    const bySpawn = [...rolled].sort((a, b) => s[a]!.startedAt! - s[b]!.startedAt!);
    expect(bySpawn).toEqual(rolled);
    for (let i = 1; i < rolled.length; i++) {
      expect(s[rolled[i]!]!.startedAt!, `${rolled[i]} respawned before ${rolled[i - 1]} was healthy`).toBeGreaterThan(s[rolled[i - 1]!]!.healthyAt!);
    }
    const after = await runningServices(platform.home);
    for (const name of rolled) expect(after.get(name), name).not.toEqual(before.get(name));
    expect(after.has('idle')).toBe(false);
  });

  it('stops the roll at the first service that does not come back: the rest keep their processes, and the failed one is supervised again', async () => {
    // api starts once; started again, it exits at once. It is supervised (restart_on_failure),
    // with no restart allowed, so its new supervisor gives up at once and ends.
    const platform = await setup([
      { name: 'db' },
      { name: 'api', deps: ['db'], startTimeout: 3, startup: 'restart_on_failure = true\nmax_restarts = 0', script: 'if [ -e started-once ]; then exit 4; fi; touch started-once; sleep 0.2; exec httpd -f -p 127.0.0.1:{port} -h .' },
      { name: 'web', deps: ['api'] },
    ]);
    const name = uniqueId('p');
    const { client, close } = await testClient();
    try {
      // One worker for the start, the update and the supervisors they start.
      await withWorker(async (taskQueue) => {
        const exec = (workflow: typeof platformStart) => client.workflow.execute(workflow, { taskQueue, workflowId: uniqueId('platform'), args: [{ registry: platform.registry, home: platform.home, services: ['db', 'api', 'web'], graceSeconds: 2, platform: name }] });
        await exec(platformStart);
        const before = await runningServices(platform.home);
        const updateStarted = Date.now();
        const result = await exec(platformUpdate);
        expect(result.ok).toBe(false);
        const s = byName(result);
        expect(s.db!.state).toBe('started');
        expect(s.api!.state).toBe('failed');
        expect(s.web).toMatchObject({ state: 'skipped', skippedBecause: 'api' });
        const after = await runningServices(platform.home);
        expect(after.get('web')).toEqual(before.get('web'));
        expect(after.has('api')).toBe(false);
        const supervisor = client.workflow.getHandle<typeof serviceSupervisor>(supervisorId(name, 'api'));
        expect((await supervisor.describe()).startTime.getTime()).toBeGreaterThan(updateStarted);
        expect((await supervisor.result()).reason).toMatch(/^gave up after 0 restarts/);
      });
    } finally {
      await close();
    }
  });
});
