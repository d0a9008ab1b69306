/**
 * The spawn helper on real processes: detached children in their own session with their output
 * in the log, exits reaped, spawn errors passed back, and the helper gone with its worker while
 * the services it spawned keep running. And groupAlive's three ways of answering.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { execFileSync, spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { spawnDetached, spawnHelperPids } from '../../src/util/detached-spawn.js';
import { groupAlive, procStat } from '../../src/util/procfs.js';

const dirs: string[] = [];
const pids: number[] = [];
afterEach(async () => {
  for (const pid of pids.splice(0)) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function scratch(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'provisioning-spawn-test-'));
  dirs.push(dir);
  return dir;
}

async function until(what: string, fn: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** /proc/<pid>/stat's session id (field 6). */
function sessionOf(pid: number): number | undefined {
  try {
    const raw = execFileSync('cat', [`/proc/${pid}/stat`], { encoding: 'utf8' });
    return Number(raw.slice(raw.lastIndexOf(')') + 2).split(' ')[3]);
  } catch {
    return undefined;
  }
}

describe('spawnDetached', () => {
  it('starts the program in a session and group of its own, with its environment, working directory and output in the log', async () => {
    const dir = await scratch();
    const logFile = path.join(dir, 'svc.log');
    const pid = await spawnDetached({ file: '/bin/sh', args: ['-c', 'echo "out $MARK $(pwd)"; echo err >&2; exec sleep 60'], logFile, cwd: dir, env: { PATH: '/usr/bin:/bin', MARK: 'm-1' } });
    pids.push(pid);
    expect(procStat(pid)?.pgrp).toBe(pid);
    expect(sessionOf(pid)).toBe(pid);
    expect(spawnHelperPids().length).toBeGreaterThan(0);
    expect(spawnHelperPids()).not.toContain(pid);
    expect(procStat(pid)?.pgrp).not.toBe(procStat(process.pid)?.pgrp);
    await until('both lines in the log', async () => (await readFile(logFile, 'utf8')).includes('err'));
    expect(await readFile(logFile, 'utf8')).toContain(`out m-1 ${dir}`);
  });

  it('reaps a program that exits, so no zombie is left', async () => {
    const dir = await scratch();
    const pid = await spawnDetached({ file: '/bin/true', args: [], logFile: path.join(dir, 'true.log'), env: {} });
    await until(`process ${pid} reaped`, () => procStat(pid) === undefined);
  });

  it('rejects with the error spawn gives (ENOENT, EACCES) and goes on spawning afterwards', async () => {
    const dir = await scratch();
    const logFile = path.join(dir, 'x.log');
    await expect(spawnDetached({ file: path.join(dir, 'no-such-program'), args: [], logFile, env: {} })).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(spawnDetached({ file: dir, args: [], logFile, env: {} })).rejects.toMatchObject({ code: 'EACCES' });
    const pid = await spawnDetached({ file: '/bin/sleep', args: ['60'], logFile, env: {} });
    pids.push(pid);
    expect(procStat(pid)?.state).not.toBe('Z');
  });

  it('ends with its worker when the worker is killed, and the programs it spawned keep running', async () => {
    const dir = await scratch();
    const module = path.resolve('src/util/detached-spawn.ts');
    const code = `const m = await import(${JSON.stringify(module)}); const pid = await m.spawnDetached({ file: '/bin/sleep', args: ['60'], logFile: ${JSON.stringify(path.join(dir, 's.log'))}, env: {} }); console.log(JSON.stringify({ pid, helpers: m.spawnHelperPids() })); setInterval(() => {}, 1000);`;
    const worker = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      worker.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('\n')) resolve(out.split('\n')[0]!);
      });
      worker.once('exit', (c) => reject(new Error(`the worker exited early (${c})`)));
    });
    const { pid, helpers } = JSON.parse(line) as { pid: number; helpers: number[] };
    pids.push(pid);
    expect(helpers.length).toBeGreaterThan(0);
    for (const helper of helpers) expect(procStat(helper)?.state).toBeDefined();
    worker.kill('SIGKILL');
    for (const helper of helpers) await until(`helper ${helper} gone`, () => procStat(helper) === undefined || procStat(helper)?.state === 'Z');
    expect(procStat(pid)?.state).not.toBe('Z');
    expect(procStat(pid)).toBeDefined();
  });
});

describe('groupAlive', () => {
  it('answers by the leader, by a scan when only other members are left, and by the kernel when none is', async () => {
    const dir = await scratch();
    // The leader exits after 0.3 s; its background sleep stays in the group.
    const leader = await spawnDetached({ file: '/bin/sh', args: ['-c', 'sleep 60 & sleep 0.3'], logFile: path.join(dir, 'g.log'), env: { PATH: '/usr/bin:/bin' } });
    pids.push(leader);
    expect(await groupAlive(leader)).toBe(true);
    await until('the leader reaped', () => procStat(leader) === undefined);
    expect(await groupAlive(leader)).toBe(true);
    process.kill(-leader, 'SIGKILL');
    await until('the group empty', async () => !(await groupAlive(leader)));
    expect(await groupAlive(leader)).toBe(false);
  });
});
