/**
 * One real Temporal dev server per test run (headless, in memory, free ports), one
 * workflow bundle shared by every test worker, and the Docker engine check: under CI=true
 * a missing engine fails the run; elsewhere Docker tests are skipped with one loud line.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { startDevServer } from '../../src/temporal/dev-server.js';
import { freePort } from '../../src/util/net.js';
import { bundleWorkflows } from '../../src/worker/bundle.js';
import { removeIdlePoolNetworks } from '../../src/activities/testenv/netpool.js';
import { detectDocker } from './docker-gate.js';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    temporalNamespace: string;
    workflowBundlePath: string;
    dockerAvailable: boolean;
    dockerSkipReason: string;
  }
}

export default async function setup(project: TestProject) {
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'provisioning-test-'));
  const started = await Promise.allSettled([startOnFreePort(path.join(scratch, 'temporal.log')), bundleWorkflows(), detectDocker()]);
  const failed = started.find((r) => r.status === 'rejected');
  if (failed) {
    // No teardown runs when setup throws: clean up here what setup made.
    if (started[0].status === 'fulfilled') await started[0].value.stop();
    await rm(scratch, { recursive: true, force: true });
    throw (failed).reason;
  }
  const [server, bundle, docker] = started.map((r) => (r as PromiseFulfilledResult<unknown>).value) as [
    Awaited<ReturnType<typeof startOnFreePort>>,
    Awaited<ReturnType<typeof bundleWorkflows>>,
    Awaited<ReturnType<typeof detectDocker>>,
  ];
  const workflowBundlePath = path.join(scratch, 'workflow-bundle.js');
  await writeFile(workflowBundlePath, bundle.code);

  project.provide('temporalAddress', server.address);
  project.provide('temporalNamespace', server.namespace);
  project.provide('workflowBundlePath', workflowBundlePath);
  project.provide('dockerAvailable', docker.available);
  project.provide('dockerSkipReason', docker.reason);

  return async () => {
    await server.stop();
    await rm(scratch, { recursive: true, force: true });
    // The environments of the run gave their pooled networks back; what a reaper would remove later goes now.
    if (docker.available) await removeIdlePoolNetworks();
  };
}

/** A port found free can be taken before the server binds it; try again on another. */
async function startOnFreePort(logFile: string, attempts = 3): Promise<Awaited<ReturnType<typeof startDevServer>>> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startDevServer({ port: await freePort(), headless: true, logFile });
    } catch (err) {
      if (attempt >= attempts) throw err;
      console.warn(`Temporal dev server did not start (attempt ${attempt}), retrying: ${(err as Error).message.split('\n')[0]}`);
    }
  }
}
