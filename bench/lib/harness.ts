/**
 * The Temporal side every workflow benchmark shares: a dev server (headless, in memory, free
 * port), one workflow bundle and one in-process worker on a unique task queue, and a client;
 * everything closed again, in reverse order, by `close`.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { startDevServer, type DevServer } from '../../src/temporal/dev-server.js';
import { freePort } from '../../src/util/net.js';
import { bundleWorkflows } from '../../src/worker/bundle.js';
import { createWorker } from '../../src/worker/worker.js';

/** A port found free can be taken before the server binds it; try another. */
export async function startServer(logFile: string): Promise<DevServer> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startDevServer({ port: await freePort(), headless: true, logFile });
    } catch (err) {
      if (attempt >= 3) throw err;
    }
  }
}

export interface BenchTemporal {
  server: DevServer;
  client: Client;
  taskQueue: string;
  setupSeconds: number;
  close: () => Promise<void>;
}

/** Dev server, bundle, worker (the project's createWorker: production options and activities) and client. */
export async function startBenchTemporal(name: string): Promise<BenchTemporal> {
  const began = performance.now();
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const scratch = await mkdtemp(path.join(os.tmpdir(), `provisioning-bench-${name}-`));
  const closers: Array<() => Promise<void>> = [() => rm(scratch, { recursive: true, force: true })];
  const close = async () => {
    for (const fn of closers.reverse()) await fn().catch((err: unknown) => console.error(`clean-up: ${(err as Error).message}`));
    closers.length = 0;
  };
  try {
    const [server, bundle] = await Promise.all([startServer(path.join(scratch, 'temporal.log')), bundleWorkflows()]);
    closers.push(() => server.stop());
    const native = await NativeConnection.connect({ address: server.address });
    closers.push(() => native.close());
    const taskQueue = `bench-${name}-${randomUUID().slice(0, 8)}`;
    const worker = await createWorker({ connection: native, namespace: server.namespace, taskQueue, workflowBundle: { code: bundle.code } });
    // Observed at once: a worker that dies would otherwise be an unhandled rejection; the
    // workflow's execution timeout then ends the run that waits on it.
    const running = worker.run().catch((err: unknown) => console.error(`worker failed: ${(err as Error).message}`));
    closers.push(async () => {
      worker.shutdown();
      await running;
    });
    const connection = await Connection.connect({ address: server.address });
    closers.push(() => connection.close());
    const client = new Client({ connection, namespace: server.namespace });
    return { server, client, taskQueue, setupSeconds: (performance.now() - began) / 1000, close };
  } catch (err) {
    await close();
    throw err;
  }
}
