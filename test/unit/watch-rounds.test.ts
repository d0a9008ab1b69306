/** The worker's rounds of supervision checks (activities/watch-rounds.ts), on fake timers and clock. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { activeRounds, joinRound, type RoundMember } from '../../src/activities/watch-rounds.js';

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(1_000_000_050); // 50 ms past a multiple of 100 ms and of 1 s
});
afterEach(() => {
  vi.useRealTimers();
});

/** A member that records when its checks began and what they gave; `takes` ms per check. */
function member(takes = 0, result: () => number = () => Date.now()) {
  const began: number[] = [];
  const records: number[] = [];
  const failures: unknown[] = [];
  let ticks = 0;
  const m: RoundMember<number> = {
    check: async () => {
      began.push(Date.now());
      if (takes > 0) await new Promise((r) => setTimeout(r, takes));
      return result();
    },
    record: (r) => records.push(r),
    fail: (err) => failures.push(err),
    tick: () => ticks++,
  };
  return { m, began, records, failures, ticks: () => ticks };
}

describe('joinRound', () => {
  it('checks every member of an interval together, on the interval\'s wall-clock grid', async () => {
    const a = member();
    const b = member();
    const leaveA = joinRound(100, a.m);
    await vi.advanceTimersByTimeAsync(30);
    const leaveB = joinRound(100, b.m);
    await vi.advanceTimersByTimeAsync(300);
    expect(a.began).toEqual([1_000_000_100, 1_000_000_200, 1_000_000_300]);
    expect(b.began).toEqual(a.began);
    expect(a.records).toEqual(a.began);
    expect(activeRounds()).toBe(1);
    leaveA();
    leaveB();
  });

  it('keeps separate rounds per interval and ends a round with its last member', async () => {
    const fast = member();
    const slow = member();
    const leaveFast = joinRound(100, fast.m);
    const leaveSlow = joinRound(1_000, slow.m);
    expect(activeRounds()).toBe(2);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(fast.began).toHaveLength(10);
    expect(slow.began).toEqual([1_000_001_000]);
    leaveFast();
    leaveFast(); // a second leave changes nothing
    expect(activeRounds()).toBe(1);
    leaveSlow();
    expect(activeRounds()).toBe(0);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(fast.began).toHaveLength(10);
    expect(slow.began).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('lets a member whose check outlasts the interval sit out the rounds it would overlap', async () => {
    const slow = member(250);
    const leave = joinRound(100, slow.m);
    await vi.advanceTimersByTimeAsync(1_000);
    // checks at 100, then 400 (the one from 100 ran until 350), 700, 1000: never two at once
    expect(slow.began).toEqual([1_000_000_100, 1_000_000_400, 1_000_000_700, 1_000_001_000]);
    expect(slow.records).toHaveLength(3);
    leave();
  });

  it('passes a check\'s error to its member alone', async () => {
    const ok = member();
    const broken = member(0, () => {
      throw new Error('probe exploded');
    });
    const leaveOk = joinRound(100, ok.m);
    const leaveBroken = joinRound(100, broken.m);
    await vi.advanceTimersByTimeAsync(100);
    expect(broken.failures).toEqual([new Error('probe exploded')]);
    expect(ok.records).toHaveLength(1);
    expect(ok.failures).toEqual([]);
    leaveOk();
    leaveBroken();
  });

  it('ticks a member every second while a long interval waits, so its heartbeats go out', async () => {
    const long = member();
    const leave = joinRound(60_000, long.m);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(long.began).toEqual([]);
    expect(long.ticks()).toBe(10);
    leave();
  });

  it('does not check again at once when its timer fires a little before the grid point by the wall clock', async () => {
    const a = member();
    const leave = joinRound(100, a.m);
    // The wall clock runs 2 ms behind the timers: the first round fires at ...098 by Date.now().
    vi.setSystemTime(Date.now() - 2);
    await vi.advanceTimersByTimeAsync(350);
    const gaps = a.began.slice(1).map((t, i) => t - a.began[i]!);
    expect(a.began.length).toBeGreaterThanOrEqual(3);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(90);
    leave();
  });

  it('does not tick a member whose check has not come back, so a hung check stops its heartbeats', async () => {
    const hung = member(10 * 60_000);
    const fine = member();
    const leaveHung = joinRound(2_000, hung.m);
    const leaveFine = joinRound(2_000, fine.m);
    await vi.advanceTimersByTimeAsync(2_000); // both checked once at the grid point; hung's never returns
    const [hungTicks, fineTicks] = [hung.ticks(), fine.ticks()];
    await vi.advanceTimersByTimeAsync(10_000);
    expect(hung.began).toHaveLength(1);
    expect(hung.ticks()).toBe(hungTicks);
    expect(fine.ticks()).toBeGreaterThan(fineTicks);
    expect(fine.began.length).toBeGreaterThan(1);
    leaveHung();
    leaveFine();
  });

  it('fails a member whose record callback throws, and goes on with the others', async () => {
    const ok = member();
    const failures: unknown[] = [];
    const leaveBad = joinRound<number>(100, {
      check: () => Promise.resolve(1),
      record: () => {
        throw new Error('record broke');
      },
      fail: (err) => failures.push(err),
      tick: () => undefined,
    });
    const leaveOk = joinRound(100, ok.m);
    await vi.advanceTimersByTimeAsync(200);
    expect(failures[0]).toEqual(new Error('record broke'));
    expect(ok.records).toHaveLength(2);
    leaveBad();
    leaveOk();
  });

  it('refuses an interval that is not positive', () => {
    expect(() => joinRound(0, member().m)).toThrow('a round\'s interval must be positive, not 0');
  });
});
