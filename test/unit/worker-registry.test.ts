/** The machine's worker registry: which workers of a queue died here, judged only against the same machine, boot and PID namespace. */
import { spawnSync } from 'node:child_process';
import { readFileSync, readlinkSync } from 'node:fs';
import { mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { procStat } from '../../src/util/procfs.js';
import { deadWorker, registerWorker, type WorkerRecord } from '../../src/temporal/worker-registry.js';

const here = { machineId: 'm1', bootId: 'boot-2', pidNamespace: 'pid:[1]' };
const record = (over: Partial<WorkerRecord>): WorkerRecord => ({ identity: 'w', pid: 100, startTime: 5000, ...here, namespace: 'default', taskQueue: 'q', ...over });
const stat = (live: Record<number, number>) => (pid: number) => (live[pid] === undefined ? undefined : { pid, state: 'S', pgrp: pid, startTime: live[pid] });

describe('which recorded workers are dead', () => {
  it('a worker of this boot and PID namespace is dead when its process is gone or the PID is another process now', () => {
    expect(deadWorker(record({}), here, stat({}))).toBe(true);
    expect(deadWorker(record({}), here, stat({ 100: 9999 }))).toBe(true);
    expect(deadWorker(record({}), here, stat({ 100: 5000 }))).toBe(false);
  });

  it('a worker of an earlier boot of this machine is dead; of another machine or PID namespace nothing is known', () => {
    expect(deadWorker(record({ bootId: 'boot-1' }), here, stat({ 100: 5000 }))).toBe(true);
    expect(deadWorker(record({ machineId: 'm2', bootId: 'boot-9' }), here, stat({}))).toBeUndefined();
    expect(deadWorker(record({ pidNamespace: 'pid:[2]' }), here, stat({}))).toBeUndefined();
    // Without a machine id an earlier boot cannot be told from another machine.
    expect(deadWorker(record({ machineId: undefined, bootId: 'boot-1' }), { ...here, machineId: undefined }, stat({}))).toBeUndefined();
  });
});

describe.runIf(process.platform === 'linux')('registering a worker', () => {
  const dirs: string[] = [];
  afterEach(async () => {
    for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
  });

  it('finds the dead workers of its queue, keeps what it cannot judge, and removes only its own record at the end', async () => {
    const cache = await mkdtemp(path.join(os.tmpdir(), 'provisioning-registry-'));
    dirs.push(cache);
    const env = { XDG_CACHE_HOME: cache };
    const workers = path.join(cache, 'provisioning', 'workers');
    const place = { bootId: readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim(), pidNamespace: readlinkSync('/proc/self/ns/pid') };
    // A process that has exited: its PID is free (or another process's).
    const gone = spawnSync('true').pid;
    const live = procStat(process.ppid)!;
    const write = async (name: string, r: WorkerRecord, ageMs = 0) => {
      const file = path.join(workers, `${name}.json`);
      await writeFile(file, JSON.stringify(r));
      if (ageMs) await utimes(file, new Date(Date.now() - ageMs), new Date(Date.now() - ageMs));
    };
    await registerWorker({ identity: 'first', namespace: 'default', taskQueue: 'q' }, env).then((r) => r!.unregister());
    const base = { ...place, namespace: 'default', taskQueue: 'q', startTime: 1 };
    await write('dead', { ...base, identity: 'dead', pid: gone });
    await write('alive', { ...base, identity: 'alive', pid: process.ppid, startTime: live.startTime });
    await write('elsewhere', { ...base, identity: 'elsewhere', pid: gone, pidNamespace: 'pid:[0]' });
    await write('other-queue-fresh', { ...base, identity: 'other-queue-fresh', pid: gone, taskQueue: 'other' });
    await write('other-queue-old', { ...base, identity: 'other-queue-old', pid: gone, taskQueue: 'other' }, 2 * 24 * 3600 * 1000);

    const registration = (await registerWorker({ identity: 'me', namespace: 'default', taskQueue: 'q' }, env))!;
    expect(registration.dead.map((r) => r.identity)).toEqual(['dead']);
    expect((await readdir(workers)).sort()).toEqual(['alive.json', 'dead.json', 'elsewhere.json', 'me.json', 'other-queue-fresh.json']);
    await registration.forgetDead();
    await registration.unregister();
    expect((await readdir(workers)).sort()).toEqual(['alive.json', 'elsewhere.json', 'other-queue-fresh.json']);
  });
});
