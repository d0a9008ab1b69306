/**
 * The one timing model of health checks: how long to wait between attempts, when to give up,
 * and how to sleep (in slices, with a tick between them: an activity heartbeats there, so a
 * long interval never outlasts its heartbeat timeout and a cancel arrives promptly).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Probe, ProbeResult } from './probes.js';

export interface Timing {
  /** Wait before the next attempt, given the time since the first. */
  delay(elapsedMs: number): number;
  /** Give up this long after the first attempt (waitFor only). */
  timeoutMs?: number;
  /** Sleeps are cut into slices of at most this long (default 1 s), with `tick` after each. */
  sliceMs?: number;
  tick?: () => void;
  sleep?: (ms: number) => Promise<unknown>;
}

/** The same wait every time: a supervisor's interval. */
export const fixedDelay =
  (ms: number) =>
  (): number =>
    ms;

/**
 * One attempt per interval on a grid of the wall clock (multiples of `ms` since the epoch):
 * the period is the interval whatever a check takes, and the checks of many services with
 * the same interval fall due together — a worker wakes once per interval for all of them,
 * as a loop over the services would, instead of once per service.
 */
export const alignedDelay =
  (ms: number, now: () => number = Date.now) =>
  (): number =>
    ms - (now() % ms);

/**
 * Quick attempts first, then slower: a tenth of the time waited so far, at least `minMs`,
 * at most `maxMs` (a start is noticed within ~10% of its start-up time, not a full interval).
 */
export const adaptiveDelay =
  (maxMs: number, minMs = 25, fraction = 0.1) =>
  (elapsedMs: number): number =>
    Math.min(maxMs, Math.max(minMs, elapsedMs * fraction));

async function pause(ms: number, timing: Timing): Promise<void> {
  const slice = timing.sliceMs ?? 1_000;
  for (let left = ms; left > 0; left -= slice) {
    await (timing.sleep ?? sleep)(Math.min(left, slice));
    timing.tick?.();
  }
}

export type WaitOutcome = { kind: 'healthy' | 'fatal' | 'timeout'; result: ProbeResult; attempts: number; waitedMs: number };

/**
 * Attempts until healthy, a fatal result, or the timeout. `since` and `attempts` carry on a
 * wait that an earlier attempt of the activity began.
 */
export async function waitFor(probe: Probe, timing: Timing, { since = Date.now(), attempts = 0, onAttempt }: { since?: number; attempts?: number; onAttempt?: (r: ProbeResult, attempts: number) => void } = {}): Promise<WaitOutcome> {
  const deadline = timing.timeoutMs === undefined ? Infinity : since + timing.timeoutMs;
  for (;;) {
    timing.tick?.();
    const result = await probe.check();
    attempts++;
    onAttempt?.(result, attempts);
    const waitedMs = Date.now() - since;
    if (result.healthy) return { kind: 'healthy', result, attempts, waitedMs };
    if (result.fatal) return { kind: 'fatal', result, attempts, waitedMs };
    const left = deadline - Date.now();
    if (left <= 0) return { kind: 'timeout', result, attempts, waitedMs };
    await pause(Math.min(timing.delay(waitedMs), left), timing);
  }
}
