/** `provisioning worker` as a separate process, so tests can kill it with SIGKILL. */
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { inject } from 'vitest';
import { watchOutput } from '../../src/util/process.js';
import { defaultWorkerIdentity, forgetWorker } from '../../src/temporal/worker-registry.js';

const bin = path.resolve(import.meta.dirname, '../../bin/provisioning.js');

/**
 * Starts a worker on the test server's task queue and resolves once it polls. The process is
 * returned inside an object: a subprocess is a thenable, and an async function returning it
 * would wait for the process to exit. `onCleanup` receives a function that kills it.
 */
export async function workerProcess(taskQueue: string, onCleanup: (kill: () => Promise<unknown>) => void, args: string[] = [], env: Record<string, string> = {}): Promise<{ process: ResultPromise }> {
  const child = execa('node', [bin, 'worker', '--address', inject('temporalAddress'), '--task-queue', taskQueue, ...args], {
    env: { PROVISIONING_FROM_SOURCE: '1', ...env },
    reject: false,
    all: true,
  });
  onCleanup(async () => {
    child.kill('SIGKILL');
    await child;
    // A killed worker leaves its record in the machine's worker registry: the test's task queue is gone with it.
    await forgetWorker(defaultWorkerIdentity(child.pid), child.pid);
  });
  await watchOutput(child).until('Worker polling', 'provisioning worker', 60_000);
  return { process: child };
}
