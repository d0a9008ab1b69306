/**
 * Runs a worker and announces it once the server lists it as a poller, so whoever acts on the
 * announcement (a user, a script, /health) finds it there. Used by `worker` and `dev`.
 */
import type { Client } from '@temporalio/client';
import { untilWorkerPolls } from '../api/workers.js';
import type { ProvisioningWorker } from '../worker/worker.js';

export async function runAnnounced(worker: ProvisioningWorker, client: Client, announce: (polling: boolean) => void): Promise<void> {
  const running = worker.run();
  try {
    const polling = await Promise.race([untilWorkerPolls({ client }, { taskQueue: worker.taskQueue, identity: worker.identity }), running.then(() => false)]);
    announce(polling);
    await running;
  } finally {
    worker.shutdown();
    await running.catch(() => undefined);
  }
}
