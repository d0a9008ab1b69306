/** `services monitor`, `services status` and `platform health` with supervision, as a user runs them. */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { stringify } from 'smol-toml';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { cli } from '../support/cli.js';
import { testPlatform, type TestPlatform } from '../support/services.js';
import { uniqueId, withWorker } from '../support/temporal.js';

const platforms: TestPlatform[] = [];
afterEach(async () => {
  while (platforms.length > 0) await platforms.pop()!.cleanup();
});

async function setup() {
  const platform = await testPlatform([{ name: 'api' }]);
  platforms.push(platform);
  const file = path.join(platform.home, 'services.toml');
  await writeFile(file, stringify({ services: Object.fromEntries(Object.entries(platform.registry.services).map(([k, v]) => [k, { ...v, name: k }])) }));
  return { platform, file, env: { PROVISIONING_HOME: platform.home, PATH: process.env.PATH } };
}

describe('services monitor', () => {
  it('prints a timestamped line per check, and status shows the supervision with pid and restarts', async () => {
    const { file, env } = await setup();
    await withWorker(async (taskQueue) => {
      const name = uniqueId('mon');
      const common = ['--registry', file, '--address', inject('temporalAddress'), '--task-queue', taskQueue, '--platform', name];
      expect((await cli(['services', 'start', 'api', ...common], { env })).code).toBe(0);
      const watched = await cli(['services', 'monitor', 'api', '--interval', '0.2', '--count', '3', ...common], { env });
      expect(watched.code).toBe(0);
      const lines = watched.stdout.split('\n');
      expect(lines[0]).toBe('Starting health monitoring for api (interval: 0.2s)');
      const checks = lines.filter((l) => /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d ✅ api: TCP 127\.0\.0\.1:\d+ accepts connections$/.test(l));
      expect(checks.length).toBeGreaterThanOrEqual(3);

      const status = await cli(['services', 'status', 'api', '--json', ...common], { env });
      const json = JSON.parse(status.stdout) as { pid: number; restarts: number; supervision: string; uptimeSeconds: number };
      expect(json).toMatchObject({ restarts: 0, supervision: 'healthy' });
      expect(json.pid).toBeGreaterThan(0);
      expect(json.uptimeSeconds).toBeGreaterThanOrEqual(0);

      const restarted = await cli(['services', 'monitor', 'api', '--restart', ...common], { env });
      expect(restarted.code).toBe(0);
      expect(restarted.stdout).toMatch(/^✅ api: restarted \(requested\)/);
      const after = JSON.parse((await cli(['services', 'status', 'api', '--json', ...common], { env })).stdout) as { pid: number; restarts: number };
      expect(after.restarts).toBe(1);
      expect(after.pid).not.toBe(json.pid);

      const stopped = await cli(['services', 'monitor', 'api', '--stop', ...common], { env });
      expect(stopped.stdout).toBe('api: no longer supervised (the service keeps running)');
      const unsupervised = JSON.parse((await cli(['services', 'status', 'api', '--json', ...common], { env })).stdout) as { status: string; supervision: string };
      expect(unsupervised).toMatchObject({ status: 'running', supervision: 'not supervised' });
      expect((await cli(['platform', 'stop', ...common], { env })).code).toBe(0);
    });
  });

  it('rejects an interval of zero or below, an unknown service, and a restart of an unsupervised service (exit 2)', async () => {
    const { file, env } = await setup();
    const common = ['--registry', file, '--address', inject('temporalAddress'), '--platform', uniqueId('mon')];
    const zero = await cli(['services', 'monitor', 'api', '--interval', '0', ...common], { env });
    expect(zero.code).toBe(2);
    expect(zero.stderr).toContain('"0" is not a number greater than 0');
    expect((await cli(['services', 'monitor', 'api', '--interval=-5', ...common], { env })).code).toBe(2);
    const unknown = await cli(['services', 'monitor', 'apl', ...common], { env });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('did you mean "api"?');
    const restart = await cli(['services', 'monitor', 'api', '--restart', ...common], { env });
    expect(restart.code).toBe(2);
    expect(restart.stderr).toMatch(/api is not supervised \(no running workflow service\/mon-\w+\/api\)/);
    expect((await cli(['services', 'monitor', 'api', '--stop', '--pause', ...common], { env })).code).toBe(2);
  });
});
