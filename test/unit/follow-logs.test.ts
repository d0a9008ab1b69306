import { describe, expect, it } from 'vitest';
import { newLines } from '../../src/api/local.js';

describe('following a log', () => {
  it('prints only the lines after what was already shown', () => {
    expect(newLines(['a', 'b', 'c'], ['a', 'b', 'c', 'd', 'e'])).toEqual(['d', 'e']);
    expect(newLines(['b', 'c'], ['a', 'b', 'c'])).toEqual([]);
    expect(newLines([], ['x'])).toEqual(['x']);
  });

  it('finds the shown tail even when identical lines repeat earlier', () => {
    expect(newLines(['ok', 'ok'], ['ok', 'ok', 'ok', 'ok', 'new'])).toEqual(['new']);
  });

  it('prints everything again when the shown tail is gone (the log was rotated)', () => {
    expect(newLines(['old1', 'old2'], ['fresh1', 'fresh2'])).toEqual(['fresh1', 'fresh2']);
  });
});
