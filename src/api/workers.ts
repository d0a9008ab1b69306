/**
 * Whether workers poll a task queue: what /health reports, what test-environment calls check
 * before they wait on a worker, and what `provisioning dev` waits for before it says ready.
 */
import { taskQueueOf, type ApiContext } from './context.js';

/** How many workers poll the workflow side of the task queue right now. */
export async function workerPollers(ctx: ApiContext, taskQueue = taskQueueOf(ctx)): Promise<number> {
  const described = await ctx.client.workflowService.describeTaskQueue({ namespace: ctx.client.options.namespace, taskQueue: { name: taskQueue }, taskQueueType: 1 });
  return described.pollers?.length ?? 0;
}

/**
 * Resolves true once a worker polls the task queue (the server lists a poller after its first
 * poll arrives), false when `timeoutMs` passes first.
 */
export async function untilWorkerPolls(ctx: ApiContext, { taskQueue = taskQueueOf(ctx), timeoutMs = 30_000, intervalMs = 100 }: { taskQueue?: string; timeoutMs?: number; intervalMs?: number } = {}): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if ((await workerPollers(ctx, taskQueue)) > 0) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
