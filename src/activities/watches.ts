/**
 * The supervision watches' checks and state, kept in the checker thread (checker-thread.ts,
 * started by checker.ts): each watch joins the round of its interval (watch-rounds.ts), counts
 * its checks and failures, and tells the watch activity in the main thread only what Temporal
 * must hear — a heartbeat when one is due, and its outcome. The checks, their records and the
 * recent-check lists live and die in the thread's own small heap, so the main thread (the
 * Temporal worker's, with its much larger heap) allocates next to nothing per check: with the
 * checks there, the worker spent most of supervision's CPU collecting garbage over that heap.
 */
import type { HealthCheckRecord, WatchInput, WatchOutcome, WatchProgress } from '../model/supervisor.js';
import { serviceProbe } from './health.js';
import type { ServiceInput } from '../model/platform.js';
import { activeRounds, joinRound } from './watch-rounds.js';

/** The checker thread's name in `top -H`, `ps -L` and /proc (at most 15 characters): bench:monitor finds it by it. */
export const CHECKER_THREAD_NAME = 'prov-checks';

/** A watch to run: what the watch activity knows of itself. */
export interface WatchStart {
  /** The activity's handle in the messages (unique in the process). */
  id: number;
  /** Its supervisor's workflow id: one watch per supervisor runs at a time. */
  key: string;
  input: WatchInput;
  /** An earlier attempt's last heartbeat. */
  heartbeatDetails?: WatchProgress;
  heartbeatTimeoutMs?: number;
}

/** An error as it crosses to the main thread: its name is the Temporal failure's type. */
export interface ErrorShape {
  name: string;
  message: string;
  stack?: string;
}

export type ToChecker = ({ type: 'watch' } & WatchStart) | { type: 'end'; id: number } | { type: 'state'; id: number };
export type FromChecker =
  | { type: 'beat'; id: number; progress: WatchProgress }
  | { type: 'done'; id: number; outcome: WatchOutcome }
  | { type: 'failed'; id: number; error: ErrorShape }
  | { type: 'state'; id: number; watches: number; rounds: number };

/**
 * The check of a service: is it running, and does its health check pass? "Running" is enough
 * for type none. Its probe is made once per watch, not once per check.
 */
export function serviceCheck({ service, home }: ServiceInput): () => Promise<HealthCheckRecord> {
  const probe = serviceProbe(service, home, { none: 'status' });
  return async () => {
    const at = Date.now();
    const result = await probe.check();
    const { running = false, pid, startedAt } = result.facts ?? {};
    const record: HealthCheckRecord = { at, running, healthy: result.healthy, message: result.message, durationMs: result.durationMs };
    if (pid !== undefined) record.pid = pid;
    if (startedAt !== undefined) record.startedAt = startedAt;
    return record;
  };
}

const RECENT_CHECKS = 50;
/** Heartbeats carry only the newest checks: each heartbeat is serialized. */
const HEARTBEAT_CHECKS = 10;
const MIN_BEAT_MS = 500;

/** A watch running here. */
interface Watch {
  progress(): Pick<WatchProgress, 'since' | 'count' | 'consecutiveFailures' | 'checks'>;
  /** Returns at once with what it has: a newer watch of the same supervisor runs now. */
  supersede(): void;
  /** Ends without a word (its activity was cancelled or has ended). */
  end(): void;
}

/**
 * The watches running here, by supervisor workflow id. A supervisor runs one watch at a time,
 * so an older one still here was cancelled (or timed out) and has not heard of it yet: an
 * unwatched watch heartbeats once a minute, and a cancel reaches it only in a heartbeat's
 * reply. The newer one ends it.
 */
const running = new Map<string, Watch>();
const byId = new Map<number, Watch>();

/**
 * Starts a watch: the first check at once, the rest in the round for its interval, until the
 * status would change (healthy, or unhealthy after `retries` failures) or the budget is spent.
 * Unwatched, it heartbeats at half its heartbeat timeout; live (`liveEveryMs`), with its
 * checks at most that often. A watch that `continues` the one before it of the same
 * supervisor takes over its checks, failure count and budget, heartbeats them at once, and
 * makes no check of its own before the round's next; any newer watch ends the older one.
 */
export function startWatch(start: WatchStart, post: (message: FromChecker) => void): void {
  const { id, key, input } = start;
  const check = serviceCheck(input);
  const before = running.get(key);
  const carried = input.continues ? before?.progress() : undefined;
  before?.supersede();
  const resumed = carried ?? start.heartbeatDetails;
  const since = resumed?.since ?? Date.now();
  const checks = [...(resumed?.checks ?? [])];
  let count = resumed?.count ?? 0;
  let consecutive = resumed?.consecutiveFailures ?? input.consecutiveFailures;
  let status = input.status;
  const progress = () => ({ since, count, at: Date.now(), status, consecutiveFailures: consecutive, checks: checks.slice(-HEARTBEAT_CHECKS) }) satisfies WatchProgress;
  const beatEveryMs = Math.max(MIN_BEAT_MS, (start.heartbeatTimeoutMs ?? 10_000) / 2);
  const liveEveryMs = input.liveEveryMs === undefined ? undefined : Math.max(MIN_BEAT_MS, Math.min(input.liveEveryMs, beatEveryMs));
  let lastBeat = -Infinity;
  const beat = (fresh: boolean) => {
    if (performance.now() - lastBeat < (fresh && liveEveryMs !== undefined ? liveEveryMs : beatEveryMs)) return;
    lastBeat = performance.now();
    post({ type: 'beat', id, progress: progress() });
  };
  const outcome = (): WatchOutcome => ({ status, consecutiveFailures: consecutive, checks, count, since });
  let settled = false;
  let leave = () => {};
  const settle = (then: () => void) => {
    if (settled) return;
    settled = true;
    leave();
    if (running.get(key) === self) running.delete(key);
    byId.delete(id);
    then();
  };
  const done = () => settle(() => post({ type: 'done', id, outcome: outcome() }));
  const fail = (err: unknown) => settle(() => post({ type: 'failed', id, error: errorShape(err) }));
  const self: Watch = { progress: () => ({ since, count, consecutiveFailures: consecutive, checks }), supersede: done, end: () => settle(() => {}) };
  const take = (record: HealthCheckRecord) => {
    if (settled) return;
    count++;
    checks.push(record);
    if (checks.length > RECENT_CHECKS) checks.splice(0, checks.length - RECENT_CHECKS);
    consecutive = record.healthy ? 0 : consecutive + 1;
    status = record.healthy ? 'healthy' : consecutive >= input.retries ? 'unhealthy' : input.status;
    beat(true);
    if (status !== input.status || Date.now() - since >= input.budgetMs) done();
  };
  const join = () => {
    if (settled) return;
    leave = joinRound<HealthCheckRecord>(input.intervalMs, { check, record: take, fail, tick: () => beat(false) });
  };
  running.set(key, self);
  byId.set(id, self);
  // Continuing: what it took over is shown at once (the live view it may be for waits for it).
  if (carried) {
    beat(true);
    join();
  } else
    check().then((record) => {
      take(record);
      join();
    }, fail);
}

/** Ends a watch whose activity was cancelled or has ended; nothing is posted. */
export function endWatch(id: number): void {
  byId.get(id)?.end();
}

/** The watches and rounds running here (for tests: none are left behind). */
export function watchState(): { watches: number; rounds: number } {
  return { watches: running.size, rounds: activeRounds() };
}

function errorShape(err: unknown): ErrorShape {
  const error = err instanceof Error ? err : new Error(String(err));
  return { name: error.name, message: error.message, ...(error.stack !== undefined ? { stack: error.stack } : {}) };
}
