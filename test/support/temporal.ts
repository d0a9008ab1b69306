/** Test helpers for the real dev server started by global-setup: clients and workers on unique task queues. */
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { inject } from 'vitest';
import { createWorker } from '../../src/worker/worker.js';
import { untilWorkerPolls } from '../../src/api/workers.js';

export function uniqueId(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

export async function testClient(): Promise<{ client: Client; close: () => Promise<void> }> {
  const connection = await Connection.connect({ address: inject('temporalAddress') });
  return { client: new Client({ connection, namespace: inject('temporalNamespace') }), close: () => connection.close() };
}

/**
 * Runs `fn` while a worker with the project's workflows and activities polls a fresh task
 * queue; `fn` starts once the server lists the worker's poller (what /health and test
 * environments check).
 */
export async function withWorker<T>(fn: (taskQueue: string) => Promise<T>, options: { activities?: object; host?: string; identity?: string; maxActivities?: number } = {}): Promise<T> {
  const taskQueue = uniqueId('test');
  const connection = await NativeConnection.connect({ address: inject('temporalAddress') });
  try {
    const worker = await createWorker({
      connection,
      namespace: inject('temporalNamespace'),
      taskQueue,
      workflowBundle: { codePath: inject('workflowBundlePath') },
      ...options,
    });
    return await worker.runUntil(async () => {
      const { client, close } = await testClient();
      try {
        if (!(await untilWorkerPolls({ client }, { taskQueue, identity: worker.identity }))) throw new Error(`the test worker on ${taskQueue} never appeared as a poller`);
      } finally {
        await close();
      }
      return fn(taskQueue);
    });
  } finally {
    await connection.close();
  }
}

/**
 * Replays a closed workflow's recorded history (and its children's) against the workflow
 * bundle: a change that breaks determinism fails here instead of in production.
 */
export async function expectReplays(client: Client, workflowId: string): Promise<void> {
  const ids = [workflowId];
  for (let i = 0; i < ids.length; i++) {
    const history = await client.workflow.getHandle(ids[i]!).fetchHistory();
    for (const event of history.events ?? []) {
      const child = event.childWorkflowExecutionStartedEventAttributes?.workflowExecution?.workflowId;
      if (child && !ids.includes(child)) ids.push(child);
    }
    await Worker.runReplayHistory({ workflowBundle: { codePath: inject('workflowBundlePath') } }, history, ids[i]);
  }
}
