/** Activities of service supervision: one health check, and ending a supervisor before a deliberate stop. */
import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { stopSupervisingSignal, type HealthCheckRecord, type WatchedStatus, type WatchInput, type WatchOutcome, type WatchProgress } from '../model/supervisor.js';
import { serviceProbe } from './health.js';
import type { ServiceInput } from './platform.js';
import { withHeartbeat } from './platform.js';
import { joinRound } from './watch-rounds.js';
import { inPool } from '../model/pool.js';

/** Is the service running, and does its health check pass? "Running" is enough for type none. */
export async function checkService({ service, home }: ServiceInput): Promise<HealthCheckRecord> {
  const at = Date.now();
  const result = await serviceProbe(service, home, { none: 'status' }).check();
  const { running = false, pid, startedAt } = result.facts ?? {};
  return { at, running, healthy: result.healthy, message: result.message, durationMs: result.durationMs, ...(pid !== undefined ? { pid } : {}), ...(startedAt !== undefined ? { startedAt } : {}) };
}

/**
 * Tells a service's supervisor to stop supervising and waits until it has finished, so a
 * deliberate stop that follows is never "healed" by a restart.
 */
export async function endSupervisor({ workflowId }: { workflowId: string }): Promise<'ended' | 'not-supervised'> {
  return withHeartbeat(() => endOne(Context.current().client, workflowId));
}

/** Supervisors told at once by endSupervisors (each is a signal, then a wait for its end). */
const END_CONCURRENCY = 32;

/**
 * endSupervisor for many services in one activity — a platform stop's first step, instead of
 * one activity per service (a 500-service stop was half endSupervisor activities). Counts
 * what it ended and what was not supervised.
 */
export async function endSupervisors({ workflowIds }: { workflowIds: string[] }): Promise<{ ended: number; notSupervised: number }> {
  const { client } = Context.current();
  const counts = { ended: 0, notSupervised: 0 };
  await withHeartbeat(() =>
    inPool(workflowIds, END_CONCURRENCY, async (workflowId) => {
      if ((await endOne(client, workflowId)) === 'ended') counts.ended++;
      else counts.notSupervised++;
    }),
  );
  return counts;
}

async function endOne(client: Client, workflowId: string): Promise<'ended' | 'not-supervised'> {
  const handle = client.workflow.getHandle(workflowId);
  try {
    await handle.signal(stopSupervisingSignal);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return 'not-supervised';
    throw err;
  }
  await handle.result().catch(() => undefined);
  return 'ended';
}

const RECENT_CHECKS = 50;
/** Heartbeats carry only the newest checks: each heartbeat is serialized. */
const HEARTBEAT_CHECKS = 10;
const MIN_BEAT_MS = 500;

/**
 * Checks the service every interval inside one long-running activity and returns only when
 * the supervisor's status would change (healthy, or unhealthy after `retries` failures) or
 * the budget is spent: a healthy service costs no workflow task per check. The first check
 * is made at once; the rest in the worker's round for the interval (watch-rounds.ts: one
 * timer and one batch of checks for every watch of that interval, on the wall-clock grid).
 * Heartbeats carry the recent checks, so a retry on another worker resumes where this one
 * stopped.
 */
export async function watchService(input: WatchInput): Promise<WatchOutcome> {
  const context = Context.current();
  const resumed = context.info.heartbeatDetails as WatchProgress | undefined;
  const since = resumed?.since ?? Date.now();
  const checks = resumed?.checks ?? [];
  let count = resumed?.count ?? 0;
  let consecutive = resumed?.consecutiveFailures ?? input.consecutiveFailures;
  const progress = (status: WatchedStatus) => ({ since, count, at: Date.now(), status, consecutiveFailures: consecutive, checks: checks.slice(-HEARTBEAT_CHECKS) }) satisfies WatchProgress;
  let status = input.status;
  // The SDK sends the server at most one heartbeat per 0.8 × the heartbeat timeout, but it
  // serializes every one it is given: beat at half the timeout, not at every check and tick.
  const beatEveryMs = Math.max(MIN_BEAT_MS, (context.info.heartbeatTimeoutMs ?? 10_000) / 2);
  let lastBeat = -Infinity;
  const beat = () => {
    if (performance.now() - lastBeat < beatEveryMs) return;
    lastBeat = performance.now();
    context.heartbeat(progress(status));
  };
  /** Takes one check; the outcome when the watch is done with it. */
  const recorded = (record: HealthCheckRecord): WatchOutcome | undefined => {
    count++;
    checks.push(record);
    if (checks.length > RECENT_CHECKS) checks.splice(0, checks.length - RECENT_CHECKS);
    consecutive = record.healthy ? 0 : consecutive + 1;
    status = record.healthy ? 'healthy' : consecutive >= input.retries ? 'unhealthy' : input.status;
    beat();
    return status !== input.status || Date.now() - since >= input.budgetMs ? { status, consecutiveFailures: consecutive, checks } : undefined;
  };
  const first = recorded(await checkService(input));
  if (first) return first;
  let leave = () => {};
  try {
    return await new Promise<WatchOutcome>((resolve, reject) => {
      let settled = false;
      const settle = (fn: () => void) => {
        if (settled) return;
        settled = true;
        leave();
        fn();
      };
      context.cancelled.catch((err: Error) => settle(() => reject(err)));
      leave = joinRound<HealthCheckRecord>(input.intervalMs, {
        check: () => checkService(input),
        record: (record) => {
          if (settled) return;
          const outcome = recorded(record);
          if (outcome) settle(() => resolve(outcome));
        },
        fail: (err) => settle(() => reject(err instanceof Error ? err : new Error(String(err)))),
        tick: beat,
      });
    });
  } finally {
    leave();
  }
}
