/** Activities of service supervision: one health check, and ending a supervisor before a deliberate stop. */
import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { stopSupervisingSignal, type HealthCheckRecord, type WatchInput, type WatchOutcome, type WatchProgress } from '../model/supervisor.js';
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

/** A watch running in this worker: what a watch that continues it takes over, and its end. */
interface RunningWatch {
  progress(): Pick<WatchProgress, 'since' | 'count' | 'consecutiveFailures' | 'checks'>;
  /** Returns at once with what it has: a newer watch of the same supervisor runs now. */
  supersede(): void;
}

/**
 * The watches running in this worker, by supervisor workflow id. A supervisor runs one watch at
 * a time, so an older one still here was cancelled (or timed out) and has not heard of it yet:
 * an unwatched watch heartbeats once a minute, and a cancel reaches it only in a heartbeat's
 * reply. The newer one ends it.
 */
const running = new Map<string, RunningWatch>();

/**
 * Checks the service every interval inside one long-running activity and returns only when
 * the supervisor's status would change (healthy, or unhealthy after `retries` failures) or
 * the budget is spent: a healthy service costs no workflow task per check. The first check
 * is made at once; the rest in the worker's round for the interval (watch-rounds.ts: one
 * timer and one batch of checks for every watch of that interval, on the wall-clock grid).
 *
 * Heartbeats carry the recent checks, so a retry on another worker resumes where this one
 * stopped and the front ends show the checks not yet returned. A live watch (someone is
 * watching: `services monitor`) heartbeats with its checks, at most every `liveEveryMs`; otherwise it heartbeats at half its
 * heartbeat timeout (a minute for the supervisor's unwatched watches): heartbeats are most of
 * what supervision costs the worker and the server. A watch that `continues` the one before it
 * (the supervisor switched between live and unwatched) takes over its checks, failure count
 * and budget when that one ran in this worker, heartbeats them at once, and makes no check of
 * its own before the round's next.
 */
export async function watchService(input: WatchInput): Promise<WatchOutcome> {
  const context = Context.current();
  // Outside a workflow (a standalone activity) it has no supervisor to share with.
  const key = context.info.workflowExecution?.workflowId ?? `activity ${context.info.activityId}`;
  const before = running.get(key);
  const carried = input.continues ? before?.progress() : undefined;
  before?.supersede();
  const resumed = carried ?? (context.info.heartbeatDetails as WatchProgress | undefined);
  const since = resumed?.since ?? Date.now();
  const checks = [...(resumed?.checks ?? [])];
  let count = resumed?.count ?? 0;
  let consecutive = resumed?.consecutiveFailures ?? input.consecutiveFailures;
  let status = input.status;
  const progress = () => ({ since, count, at: Date.now(), status, consecutiveFailures: consecutive, checks: checks.slice(-HEARTBEAT_CHECKS) }) satisfies WatchProgress;
  // The SDK serializes every heartbeat it is given (and the watch worker sends each within a
  // second): unwatched, beat at half the timeout; live, with the checks, at most liveEveryMs.
  const beatEveryMs = Math.max(MIN_BEAT_MS, (context.info.heartbeatTimeoutMs ?? 10_000) / 2);
  const liveEveryMs = input.liveEveryMs === undefined ? undefined : Math.max(MIN_BEAT_MS, Math.min(input.liveEveryMs, beatEveryMs));
  let lastBeat = -Infinity;
  const beat = (fresh: boolean) => {
    if (performance.now() - lastBeat < (fresh && liveEveryMs !== undefined ? liveEveryMs : beatEveryMs)) return;
    lastBeat = performance.now();
    context.heartbeat(progress());
  };
  /** Takes one check; the outcome when the watch is done with it. */
  const recorded = (record: HealthCheckRecord): WatchOutcome | undefined => {
    count++;
    checks.push(record);
    if (checks.length > RECENT_CHECKS) checks.splice(0, checks.length - RECENT_CHECKS);
    consecutive = record.healthy ? 0 : consecutive + 1;
    status = record.healthy ? 'healthy' : consecutive >= input.retries ? 'unhealthy' : input.status;
    beat(true);
    return status !== input.status || Date.now() - since >= input.budgetMs ? { status, consecutiveFailures: consecutive, checks, count, since } : undefined;
  };
  let leave = () => {};
  try {
    return await new Promise<WatchOutcome>((resolve, reject) => {
      let settled = false;
      const self: RunningWatch = {
        progress: () => ({ since, count, consecutiveFailures: consecutive, checks }),
        supersede: () => settle(() => resolve({ status, consecutiveFailures: consecutive, checks, count, since })),
      };
      const settle = (fn: () => void) => {
        if (settled) return;
        settled = true;
        leave();
        if (running.get(key) === self) running.delete(key);
        fn();
      };
      const fail = (err: unknown) => settle(() => reject(err instanceof Error ? err : new Error(String(err))));
      const take = (record: HealthCheckRecord) => {
        if (settled) return;
        const outcome = recorded(record);
        if (outcome) settle(() => resolve(outcome));
      };
      const join = () => {
        if (settled) return;
        leave = joinRound<HealthCheckRecord>(input.intervalMs, { check: () => checkService(input), record: take, fail, tick: () => beat(false) });
      };
      running.set(key, self);
      context.cancelled.catch((err: Error) => settle(() => reject(err)));
      // Continuing: what it took over is shown at once (the live view it may be for waits for it).
      if (carried) {
        beat(true);
        join();
      } else
        checkService(input).then((record) => {
          take(record);
          join();
        }, fail);
    });
  } finally {
    leave();
  }
}

/** How many watches run in this process (for tests: none are left behind). */
export function runningWatches(): number {
  return running.size;
}
