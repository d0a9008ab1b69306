/**
 * The worker's supervision checks, gathered into rounds. Every watch of one interval is
 * checked from one timer and one batch of parallel checks per interval, on the interval's
 * wall-clock grid — as a plain loop over the services would — instead of each watch keeping
 * its own sleep, timer and cancellation race per check (what made a watched check cost 2.5×
 * a loop's). The watch activities stay what Temporal sees: each joins the round of its
 * interval, hears of its own checks and heartbeats from them.
 */
import { AsyncResource } from 'node:async_hooks';
import { alignedDelay } from '../health/timing.js';

export interface RoundMember<R> {
  /** One check; a throw ends this member's watch with that error. */
  check(): Promise<R>;
  /** Each check's result, in order. */
  record(result: R): void;
  /** The check threw. */
  fail(err: unknown): void;
  /** Called at least every second while the member waits (its heartbeat's chance). */
  tick(): void;
}

/** Members are ticked at least this often, whatever their interval. */
const TICK_MS = 1_000;
/** A timer may fire a little before the grid point by the wall clock: a next round closer than this goes to the grid point after. */
const EARLY_MS = 20;
/**
 * The rounds' timers run in this module's async context, not in that of the watch activity
 * that happened to start the round (its activity context, its trace span).
 */
const neutral = new AsyncResource('provisioning.watch-rounds');

class Round<R> {
  private readonly members = new Set<RoundMember<R>>();
  /** Members whose check of an earlier round is still running: they sit this round out. */
  private readonly busy = new Set<RoundMember<R>>();
  private timer: NodeJS.Timeout | undefined;
  private readonly untilGrid: () => number;

  constructor(
    private readonly intervalMs: number,
    private readonly onEmpty: () => void,
  ) {
    this.untilGrid = alignedDelay(intervalMs);
  }

  add(member: RoundMember<R>): void {
    this.members.add(member);
    if (!this.timer) this.schedule();
  }

  remove(member: RoundMember<R>): void {
    if (!this.members.delete(member)) return;
    this.busy.delete(member);
    if (this.members.size === 0) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.onEmpty();
    }
  }

  private schedule(): void {
    let toGrid = this.untilGrid();
    // Fired a little early, the round just run was this grid point's: not again in a moment.
    if (toGrid < Math.min(EARLY_MS, this.intervalMs / 4)) toGrid += this.intervalMs;
    const due = toGrid <= TICK_MS;
    this.timer = setTimeout(
      neutral.bind(() => (due ? this.run() : this.tick())),
      due ? toGrid : TICK_MS,
    );
  }

  /** A member whose check has not come back is not ticked: its heartbeats stop, and a check that hangs ends its watch at the heartbeat timeout. */
  private tick(): void {
    for (const m of this.members) if (!this.busy.has(m)) guarded(m, () => m.tick());
    this.schedule();
  }

  private run(): void {
    this.schedule();
    for (const m of this.members) {
      if (this.busy.has(m)) continue;
      this.busy.add(m);
      m.check().then(
        (result) => {
          this.busy.delete(m);
          if (this.members.has(m)) guarded(m, () => m.record(result));
        },
        (err: unknown) => {
          this.busy.delete(m);
          if (this.members.has(m)) guarded(m, () => m.fail(err));
        },
      );
    }
  }
}

/** Runs a member's callback; what it throws fails that member, never the round. */
function guarded(m: Pick<RoundMember<unknown>, 'fail'>, fn: () => void): void {
  try {
    fn();
  } catch (err) {
    try {
      m.fail(err);
    } catch {
      // nothing more to tell it
    }
  }
}

const rounds = new Map<number, Round<unknown>>();

/**
 * Adds `member` to the round of `intervalMs` (created with the first member, ended with the
 * last); returns its leave. Its first check comes at the round's next grid point.
 */
export function joinRound<R>(intervalMs: number, member: RoundMember<R>): () => void {
  if (!(intervalMs > 0)) throw new RangeError(`a round's interval must be positive, not ${intervalMs}`);
  let round = rounds.get(intervalMs) as Round<R> | undefined;
  if (!round) {
    const created = new Round<R>(intervalMs, () => rounds.delete(intervalMs));
    rounds.set(intervalMs, created);
    round = created;
  }
  round.add(member);
  const joined = round;
  return () => joined.remove(member);
}

/** How many rounds run in this process (for tests: none are left behind). */
export function activeRounds(): number {
  return rounds.size;
}
