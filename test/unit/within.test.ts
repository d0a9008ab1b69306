import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { within } from '../../src/util/within.js';

const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

describe('within', () => {
  it("gives the work's result when it comes in time, and leaves no timer behind", async () => {
    const before = timers();
    await expect(within(sleep(10, 'done'), 5_000, () => 'late')).resolves.toBe('done');
    expect(timers()).toBe(before);
  });

  it("gives late()'s value when the work is slower", async () => {
    await expect(within(sleep(2_000, 'done'), 20, () => 'late')).resolves.toBe('late');
  });

  it("rejects with late()'s error when it throws", async () => {
    await expect(
      within(sleep(2_000), 20, () => {
        throw new Error('stop api: no answer within 0.02 s');
      }),
    ).rejects.toThrow('stop api: no answer within 0.02 s');
  });

  it("rejects with the work's own error, and leaves no timer behind", async () => {
    const before = timers();
    await expect(within(Promise.reject(new Error('refused')), 5_000, () => 'late')).rejects.toThrow('refused');
    expect(timers()).toBe(before);
  });
});
