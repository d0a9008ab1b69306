import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { isDeadLocalWorker, localPid } from '../../src/worker/takeover.js';

describe('which worker identities are dead workers of this machine', () => {
  const host = os.hostname();
  const alive = (pid: number) => pid === 4242;

  it('reads the PID of a default identity of this machine only', () => {
    expect(localPid(`123@${host}`)).toBe(123);
    expect(localPid('123@another-machine')).toBeUndefined();
    expect(localPid('build-01-a')).toBeUndefined();
    expect(localPid(`x123@${host}`)).toBeUndefined();
  });

  it('calls a local identity dead when its process is gone, and nothing else', () => {
    expect(isDeadLocalWorker(`777@${host}`, 'me', alive)).toBe(true);
    expect(isDeadLocalWorker(`4242@${host}`, 'me', alive)).toBe(false);
    expect(isDeadLocalWorker('777@another-machine', 'me', alive)).toBe(false);
    expect(isDeadLocalWorker('custom-identity', 'me', alive)).toBe(false);
    expect(isDeadLocalWorker(`777@${host}`, `777@${host}`, alive)).toBe(false);
    expect(isDeadLocalWorker(`${process.pid}@${host}`, 'me', () => false)).toBe(false);
    expect(isDeadLocalWorker('', 'me', alive)).toBe(false);
  });
});
