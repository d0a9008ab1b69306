/**
 * Whether workers poll a task queue: what /health reports, what test-environment calls check
 * before they wait on a worker, and what `provisioning dev` waits for before it says ready.
 */
import type { Client } from '@temporalio/client';
import { taskQueueOf, type ApiContext } from './context.js';

/** Read partitions a server splits a task queue into by default (matching.numTaskqueueReadPartitions). */
const PARTITIONS = 4;

/**
 * The identities of the workers that poll the task queue right now (workflow side, or activity
 * side). A server lists a poller on the partition it polled, and describing a queue reads its
 * root partition only, so the other default partitions (`/_sys/<queue>/<n>`) are read too —
 * unless the root's list already satisfies `enough` (then one call answers, as for /health).
 */
export async function workerPollers(ctx: ApiContext, taskQueue = taskQueueOf(ctx), { side = 'workflow', enough = () => false }: { side?: 'workflow' | 'activity'; enough?: (identities: string[]) => boolean } = {}): Promise<string[]> {
  const describe = (name: string) => ctx.client.workflowService.describeTaskQueue({ namespace: ctx.client.options.namespace, taskQueue: { name }, taskQueueType: side === 'workflow' ? 1 : 2 });
  const identities = (d: Awaited<ReturnType<typeof describe>> | undefined) => (d?.pollers ?? []).map((p) => p.identity ?? '');
  const root = identities(await describe(taskQueue));
  if (enough(root)) return root;
  const others = await Promise.all(Array.from({ length: PARTITIONS - 1 }, (_, i) => describe(`/_sys/${taskQueue}/${i + 1}`).catch(() => undefined)));
  return [...new Set([...root, ...others.flatMap(identities)])];
}

/** Enough to know some worker polls. */
export const anyPoller = (identities: string[]): boolean => identities.length > 0;

/**
 * Resolves true once a worker (the one with `identity`, when given) polls the task queue — the
 * server lists a poller after its first poll arrives — false when `timeoutMs` passes first.
 */
export async function untilWorkerPolls(ctx: ApiContext, { taskQueue = taskQueueOf(ctx), identity, timeoutMs = 30_000, intervalMs = 100 }: { taskQueue?: string; identity?: string; timeoutMs?: number; intervalMs?: number } = {}): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = (ids: string[]) => (identity ? ids.includes(identity) : anyPoller(ids));
    if (found(await workerPollers(ctx, taskQueue, { enough: found }))) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** The version the Temporal server reports of itself. */
export async function temporalServerVersion(client: Client): Promise<string> {
  const info = await client.workflowService.getSystemInfo({});
  return info.serverVersion ?? 'unknown';
}
