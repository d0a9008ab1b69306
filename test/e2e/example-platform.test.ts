/**
 * The example platform of real Debian daemons (docker-registry, redis, nginx, dnsmasq) and
 * one container, started and stopped through the workflows: everything becomes healthy,
 * nginx really proxies to the registry, and nothing is left running afterwards.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { dockerClient } from '../../src/docker/client.js';
import { loadRegistry } from '../../src/config/registry.js';
import { localHealth } from '../../src/api/local.js';
import { isRunning } from '../../src/util/procfs.js';
import { platformStart, platformStop } from '../../src/workflows/index.js';
import { dockerAvailable } from '../support/docker.js';
import { cleanupHome, runningServices } from '../support/services.js';
import { testClient, uniqueId, withWorker } from '../support/temporal.js';

const root = path.resolve(import.meta.dirname, '../..');
const installed = (await execa('bash', [path.join(root, 'examples/platform/install-deps.sh'), '--check'], { reject: false })).exitCode === 0;
if (!installed) {
  if (process.env.CI === 'true') throw new Error('CI=true but the example platform\'s packages are missing: run bash examples/platform/install-deps.sh');
  console.warn('\n!!! SKIPPING THE EXAMPLE PLATFORM TEST: its Debian packages are missing; run bash examples/platform/install-deps.sh !!!\n');
}

describe.runIf(installed && dockerAvailable)('the example platform (examples/platform)', () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  });

  it('starts every service healthy in dependency order, serves for real, and stops leaving nothing running', async () => {
    const home = await mkdtemp(path.join(os.tmpdir(), 'provisioning-example-home-'));
    const state = await mkdtemp(path.join(os.tmpdir(), 'provisioning-example-state-'));
    cleanups.push(() => cleanupHome(home), () => rm(state, { recursive: true, force: true }));
    cleanups.push(() => dockerClient().getContainer('provisioning-example-web').remove({ force: true }));
    const registry = await loadRegistry(path.join(root, 'examples/platform/services.toml'), { PROVISIONING_EXAMPLE_DIR: state });
    const services = Object.keys(registry.services);
    expect(services.sort()).toEqual(['api-gateway', 'dns', 'oci-registry', 'redis', 'web']);

    const { client, close } = await testClient();
    cleanups.push(close);
    let pids: number[] = [];
    await withWorker(async (taskQueue) => {
      const run = (workflow: typeof platformStart, id: string) =>
        client.workflow.execute(workflow, { taskQueue, workflowId: uniqueId(id), args: [{ registry, home, services, graceSeconds: 5 }] });

      const started = await run(platformStart, 'example-start');
      expect(started.services.filter((s) => s.state !== 'started')).toEqual([]);
      expect(started.services.map((s) => s.name).sort()).toEqual(services);
      const by = Object.fromEntries(started.services.map((s) => [s.name, s]));
      expect(by['api-gateway']!.startedAt).toBeGreaterThanOrEqual(by['oci-registry']!.healthyAt!);

      const health = await Promise.all(Object.values(registry.services).map((s) => localHealth(s, home)));
      expect(health.filter((h) => !h.healthy)).toEqual([]);
      const proxied = await fetch('http://127.0.0.1:18000/v2/');
      expect(proxied.status).toBe(200);
      expect(await proxied.text()).toBe('{}');
      // redis and nginx rewrite their process title over their environment, so look them up by the PIDs the start recorded.
      pids = ['api-gateway', 'dns', 'oci-registry', 'redis'].map((n) => by[n]!.pid!);
      expect(pids.map(isRunning)).toEqual([true, true, true, true]);

      const stopped = await platformStopped(run);
      expect(stopped).toEqual(services.map(() => 'stopped'));
    });
    expect((await runningServices(home)).size).toBe(0);
    expect(pids.map(isRunning)).toEqual([false, false, false, false]);
    expect((await dockerClient().getContainer('provisioning-example-web').inspect()).State.Running).toBe(false);
  });
});

async function platformStopped(run: (workflow: typeof platformStop, id: string) => Promise<{ services: Array<{ state: string }> }>): Promise<string[]> {
  const result = await run(platformStop, 'example-stop');
  return result.services.map((s) => s.state);
}
