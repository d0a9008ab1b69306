/**
 * Spawns detached processes through a small helper process instead of the worker itself.
 *
 * A spawn forks the calling process, and the kernel copies the parent's page tables to do it:
 * from a worker (V8 heap, the SDK's native core, the workflow sandbox) a perf profile of a
 * 500-service start put a third of the worker's CPU in the kernel (copy_page_range,
 * unmap_page_range), and Node's spawn blocks the event loop until the child has exec'd — about
 * 15 ms a spawn on a loaded machine, 7.3 s of that start. The helper is a bare Node process:
 * its forks are cheap and the worker's loop goes on polling, heartbeating and probing meanwhile.
 *
 * A helper is started at need and lives as long as the worker: it is the parent
 * of the processes it spawned, so its event loop reaps them when they exit (no zombies). It
 * talks over an IPC channel; when the worker exits or is killed the channel closes and the
 * helper exits at once (the services, detached in their own sessions, keep running, as they
 * did when the worker spawned them). Its code is inline, plain JavaScript with only Node
 * built-ins, so it runs the same from the sources, the tests and the built CLI.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';

export interface DetachedSpawn {
  file: string;
  args: readonly string[];
  /** stdout and stderr are appended to this file; stdin is /dev/null. */
  logFile: string;
  cwd?: string;
  env: Record<string, string | undefined>;
}

/** The helper: open the log for appending, spawn detached, answer with the PID (or spawn's error). */
const HELPER = `
const { spawn } = require('node:child_process');
const { openSync, closeSync } = require('node:fs');
process.on('disconnect', () => process.exit(0));
process.on('message', ({ id, file, args, logFile, cwd, env }) => {
  let answered = false;
  const answer = (reply) => { if (!answered && process.connected) { answered = true; process.send({ id, ...reply }); } };
  const failed = (err) => answer({ error: { message: err.message, code: err.code } });
  let log;
  try {
    log = openSync(logFile, 'a');
    const child = spawn(file, args, { detached: true, stdio: ['ignore', log, log], env, ...(cwd ? { cwd } : {}) });
    child.once('spawn', () => { child.unref(); answer({ pid: child.pid }); });
    child.once('error', failed);
  } catch (err) {
    failed(err);
  } finally {
    if (log !== undefined) closeSync(log);
  }
});
`;

interface Reply {
  id: number;
  pid?: number;
  error?: { message: string; code?: string };
}

interface Helper {
  child: ChildProcess;
  waiting: Map<number, { resolve: (pid: number) => void; reject: (err: Error) => void }>;
}

/**
 * Helpers at most: each spawns one process at a time and waits ~2 ms for its exec, so a few
 * let hundreds of spawns overlap (a single helper queued the 250 spawns of one level for ~1 s).
 * A helper is started only when every running one is busy.
 */
const POOL_SIZE = Math.min(4, Math.max(2, os.availableParallelism()));
const helpers: Helper[] = [];
let nextId = 1;

function startHelper(): Helper {
  const child = spawn(process.execPath, ['-e', HELPER], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], env: {} });
  const helper: Helper = { child, waiting: new Map() };
  child.on('message', (reply: Reply) => {
    const pending = helper.waiting.get(reply.id);
    if (!pending) return;
    helper.waiting.delete(reply.id);
    if (helper.waiting.size === 0) idle(child);
    if (reply.pid !== undefined) pending.resolve(reply.pid);
    else pending.reject(Object.assign(new Error(reply.error?.message ?? 'spawn failed'), reply.error?.code ? { code: reply.error.code } : {}));
  });
  // A helper that dies fails what it had; later spawns go to the others, or to a new one.
  const gone = (why: string) => {
    const at = helpers.indexOf(helper);
    if (at >= 0) helpers.splice(at, 1);
    for (const [id, pending] of helper.waiting) {
      helper.waiting.delete(id);
      pending.reject(new Error(`the spawn helper ${why}`));
    }
  };
  child.on('error', (err) => gone(`failed: ${err.message}`));
  child.on('exit', (code, signal) => gone(`exited (${signal ?? `code ${code}`})`));
  idle(child);
  helpers.push(helper);
  return helper;
}

/** An idle helper never keeps the worker's process alive: it is referenced only while a spawn is pending. */
function idle(child: ChildProcess): void {
  child.unref();
  child.channel?.unref();
}

function busy(child: ChildProcess): void {
  child.ref();
  child.channel?.ref();
}

/** The least busy helper; a new one while the pool is not full and every helper has work. */
function pick(): Helper {
  const least = helpers.reduce<Helper | undefined>((best, h) => (!best || h.waiting.size < best.waiting.size ? h : best), undefined);
  if (least && (least.waiting.size === 0 || helpers.length >= POOL_SIZE)) return least;
  return startHelper();
}

/** Spawns `file` detached, in its own session and process group, and resolves with its PID once it runs (rejects as spawn's 'error' would: ENOENT, EACCES, ...). */
export function spawnDetached(request: DetachedSpawn): Promise<number> {
  const helper = pick();
  const id = nextId++;
  if (helper.waiting.size === 0) busy(helper.child);
  return new Promise<number>((resolve, reject) => {
    helper.waiting.set(id, { resolve, reject });
    helper.child.send({ id, ...request, args: [...request.args] }, (err) => {
      if (!err || !helper.waiting.delete(id)) return;
      if (helper.waiting.size === 0) idle(helper.child);
      reject(err);
    });
  });
}

/** The helpers' PIDs (tests check that they end with the worker). */
export function spawnHelperPids(): number[] {
  return helpers.map((h) => h.child.pid).filter((pid): pid is number => pid !== undefined);
}
