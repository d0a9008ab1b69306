/** Activities of service supervision: the watch of a service's health, and ending a supervisor before a deliberate stop. */
import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { stopSupervisingSignal, type WatchInput, type WatchOutcome, type WatchProgress } from '../model/supervisor.js';
import { watchInThread } from './checker.js';
import { withHeartbeat } from './platform.js';
import { inPool } from '../model/pool.js';

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

/**
 * Checks the service every interval inside one long-running activity and returns only when
 * the supervisor's status would change (healthy, or unhealthy after `retries` failures) or
 * the budget is spent: a healthy service costs no workflow task per check. The checks run in
 * the worker's checker thread (checker.ts, watches.ts): the first at once, the rest in the
 * thread's round for the interval (watch-rounds.ts: one timer and one batch of checks for
 * every watch of that interval, on the wall-clock grid); this activity hears back only its
 * heartbeats and its outcome.
 *
 * Heartbeats carry the recent checks, so a retry on another worker resumes where this one
 * stopped and the front ends show the checks not yet returned. A live watch (someone is
 * watching: `services monitor`) heartbeats with its checks, at most every `liveEveryMs`;
 * otherwise it heartbeats at half its heartbeat timeout (a minute for the supervisor's
 * unwatched watches): heartbeats are most of what supervision costs the worker and the
 * server. A newer watch of the same supervisor ends an older one still running here (a cancel
 * reaches an unwatched watch only in a heartbeat's reply, up to a minute late); one that
 * `continues` it (the supervisor switched between live and unwatched) takes over its checks,
 * failure count and budget, heartbeats them at once, and makes no check of its own before the
 * round's next.
 */
export async function watchService(input: WatchInput): Promise<WatchOutcome> {
  const context = Context.current();
  // Outside a workflow (a standalone activity) it has no supervisor to share with.
  const key = context.info.workflowExecution?.workflowId ?? `activity ${context.info.activityId}`;
  const heartbeatDetails = context.info.heartbeatDetails as WatchProgress | undefined;
  return new Promise<WatchOutcome>((resolve, reject) => {
    const watch = watchInThread(
      { key, input, ...(heartbeatDetails ? { heartbeatDetails } : {}), ...(context.info.heartbeatTimeoutMs ? { heartbeatTimeoutMs: context.info.heartbeatTimeoutMs } : {}) },
      { beat: (progress) => context.heartbeat(progress), done: resolve, failed: reject },
    );
    context.cancelled.catch((err: unknown) => {
      watch.end();
      reject(err instanceof Error ? err : new Error(String(err)));
    });
  });
}
