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
 * The helper is started at the first spawn and lives as long as the worker: it is the parent
 * of the processes it spawned, so its event loop reaps them when they exit (no zombies). It
 * talks over an IPC channel; when the worker exits or is killed the channel closes and the
 * helper exits at once (the services, detached in their own sessions, keep running, as they
 * did when the worker spawned them). Its code is inline, plain JavaScript with only Node
 * built-ins, so it runs the same from the sources, the tests and the built CLI.
 */
import { spawn, type ChildProcess } from 'node:child_process';

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

let helper: ChildProcess | undefined;
const waiting = new Map<number, { resolve: (pid: number) => void; reject: (err: Error) => void }>();
let nextId = 1;

function failAll(err: Error): void {
  for (const [id, pending] of waiting) {
    waiting.delete(id);
    pending.reject(err);
  }
}

function startHelper(): ChildProcess {
  const child = spawn(process.execPath, ['-e', HELPER], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], env: {} });
  child.on('message', (reply: Reply) => {
    const pending = waiting.get(reply.id);
    if (!pending) return;
    waiting.delete(reply.id);
    if (waiting.size === 0) idle(child);
    if (reply.pid !== undefined) pending.resolve(reply.pid);
    else pending.reject(Object.assign(new Error(reply.error?.message ?? 'spawn failed'), reply.error?.code ? { code: reply.error.code } : {}));
  });
  // A helper that dies fails what it had; the next spawn starts another.
  const gone = (why: string) => {
    if (helper === child) helper = undefined;
    failAll(new Error(`the spawn helper ${why}`));
  };
  child.on('error', (err) => gone(`failed: ${err.message}`));
  child.on('exit', (code, signal) => gone(`exited (${signal ?? `code ${code}`})`));
  idle(child);
  return child;
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

/** Spawns `file` detached, in its own session and process group, and resolves with its PID once it runs (rejects as spawn's 'error' would: ENOENT, EACCES, ...). */
export function spawnDetached(request: DetachedSpawn): Promise<number> {
  helper ??= startHelper();
  const child = helper;
  const id = nextId++;
  if (waiting.size === 0) busy(child);
  return new Promise<number>((resolve, reject) => {
    waiting.set(id, { resolve, reject });
    child.send({ id, ...request, args: [...request.args] }, (err) => {
      if (!err || !waiting.has(id)) return;
      waiting.delete(id);
      reject(err);
    });
  });
}

/** The helper's PID, if one runs (tests check that it ends with the worker). */
export function spawnHelperPid(): number | undefined {
  return helper?.pid;
}
