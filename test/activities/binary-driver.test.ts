/** The binary driver on real processes: identity, stale PID files, stop escalation, logs. */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { binaryDriver } from '../../src/activities/drivers/binary.js';
import { servicePaths } from '../../src/activities/runtime.js';
import { runningServices, testPlatform, type TestPlatform } from '../support/services.js';

const platforms: TestPlatform[] = [];
afterEach(async () => {
  while (platforms.length > 0) await platforms.pop()!.cleanup();
});

async function one(script: string): Promise<TestPlatform> {
  const platform = await testPlatform([{ name: 'svc', script }]);
  platforms.push(platform);
  return platform;
}

describe('binary driver', () => {
  it('still knows its process after the program replaced its own environment (as redis and nginx do with their title)', async () => {
    const platform = await one('exec env -i /bin/busybox sleep 60');
    const service = platform.registry.services.svc!;
    const ctx = { home: platform.home };
    const started = await binaryDriver.start(service, ctx);
    await new Promise((r) => setTimeout(r, 200));
    expect(await readFile(`/proc/${started.pid}/environ`, 'utf8')).not.toContain('PROVISIONING_SERVICE_ID');
    expect(await binaryDriver.status(service, ctx)).toMatchObject({ running: true, pid: started.pid });
    expect(await binaryDriver.start(service, ctx)).toMatchObject({ alreadyRunning: true, pid: started.pid });
    expect(await binaryDriver.stop(service, ctx, { graceSeconds: 2 })).toMatchObject({ wasRunning: true });
    expect((await binaryDriver.status(service, ctx)).running).toBe(false);
  });

  it('treats a PID file that points at another program as stale and starts the service', async () => {
    const platform = await one('exec sleep 60');
    const service = platform.registry.services.svc!;
    const ctx = { home: platform.home };
    const paths = servicePaths(platform.home, 'svc');
    await binaryDriver.start(service, ctx);
    await binaryDriver.stop(service, ctx, { graceSeconds: 1 });
    // The PID now belongs to this test process, which is not the service.
    const { mkdir } = await import('node:fs/promises');
    await mkdir((await import('node:path')).dirname(paths.pidFile), { recursive: true });
    await writeFile(paths.pidFile, `${process.pid}\n`);
    expect((await binaryDriver.status(service, ctx)).running).toBe(false);
    const started = await binaryDriver.start(service, ctx);
    expect(started.alreadyRunning).toBe(false);
    expect(started.pid).not.toBe(process.pid);
    expect(Number(await readFile(paths.pidFile, 'utf8'))).toBe(started.pid);
  });

  it('finds its process by the environment marker when the PID was never recorded (a crash right after spawn)', async () => {
    const platform = await one('exec sleep 60');
    const service = platform.registry.services.svc!;
    const ctx = { home: platform.home };
    const started = await binaryDriver.start(service, ctx);
    const paths = servicePaths(platform.home, 'svc');
    // What a crash between spawn and recording the PID leaves: the start intent only.
    await rm(paths.pidFile);
    await writeFile(paths.stateFile, JSON.stringify({ name: 'svc', mode: 'binary', startedAt: Date.now() }));
    expect(await binaryDriver.start(service, ctx)).toMatchObject({ alreadyRunning: true, pid: started.pid });
    expect([...(await runningServices(platform.home)).values()]).toEqual([[started.pid]]);
  });

  it('keeps stdout and stderr in the service log, after a header naming the command', async () => {
    const platform = await one('echo to-stdout; echo to-stderr >&2; exec sleep 60');
    const service = platform.registry.services.svc!;
    const ctx = { home: platform.home };
    await binaryDriver.start(service, ctx);
    await new Promise((r) => setTimeout(r, 300));
    const lines = await binaryDriver.logs(service, ctx, 10);
    expect(lines[0]).toMatch(/^--- \S+ starting \/bin\/busybox sh -c /);
    expect(lines.slice(1)).toEqual(['to-stdout', 'to-stderr']);
  });
});
