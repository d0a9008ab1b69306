/**
 * The worker's checker thread: where the supervision watches make their checks (watches.ts).
 * Started with the first watch and ended a while after the last; a watch activity hands it
 * its input and hears back only heartbeats and its outcome. Its heap holds only the checks,
 * so collecting it is cheap, and the main thread's large heap (the SDK, the workflow bundle)
 * is left alone. A thread that dies fails the watches it ran (Temporal retries them, from
 * their last heartbeat, in a new thread).
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { WatchOutcome, WatchProgress } from '../model/supervisor.js';
import type { ErrorShape, FromChecker, ToChecker, WatchStart } from './watches.js';

/** What a watch activity hears from its watch. */
export interface WatchListener {
  beat(progress: WatchProgress): void;
  done(outcome: WatchOutcome): void;
  failed(error: Error): void;
}

/** An idle thread (no watch) is ended after this long. */
const IDLE_MS = 10_000;

interface Thread {
  worker: Worker;
  listeners: Map<number, WatchListener>;
  asked: Map<number, (state: { watches: number; rounds: number }) => void>;
  idle?: NodeJS.Timeout;
}

let thread: Thread | undefined;
let nextId = 1;

/**
 * The thread's entry beside this module: checker-thread.js in dist/ (and in the CLI bundle's
 * folder), checker-thread.ts from the sources, which a thread loads through tsx as the
 * process does (tests, PROVISIONING_FROM_SOURCE).
 */
function spawn(): Worker {
  const self = fileURLToPath(import.meta.url);
  const entry = pathToFileURL(path.join(path.dirname(self), `checker-thread${path.extname(self)}`));
  const options = { name: 'provisioning checks' };
  if (path.extname(self) !== '.ts') return new Worker(entry, options);
  const tsx = pathToFileURL(tsxApi()).href;
  return new Worker(`import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); })`, { ...options, eval: true });
}

/** tsx's ESM API module (its `import` export: require.resolve would give the CommonJS one, which cannot register from a thread). */
function tsxApi(): string {
  const require = createRequire(import.meta.url);
  const manifest = require.resolve('tsx/package.json');
  const exported = (require(manifest) as { exports: Record<string, { import: { default: string } }> }).exports['./esm/api'];
  if (!exported) throw new Error(`tsx (${manifest}) exports no ./esm/api: the checker thread cannot load the TypeScript sources`);
  return path.join(path.dirname(manifest), exported.import.default);
}

function current(): Thread {
  if (thread) return thread;
  const worker = spawn();
  const created: Thread = { worker, listeners: new Map(), asked: new Map() };
  worker.unref();
  worker.on('message', (message: FromChecker) => {
    if (message.type === 'state') {
      created.asked.get(message.id)?.({ watches: message.watches, rounds: message.rounds });
      created.asked.delete(message.id);
      return;
    }
    const listener = created.listeners.get(message.id);
    if (!listener) return;
    if (message.type === 'beat') return listener.beat(message.progress);
    forget(created, message.id);
    if (message.type === 'done') listener.done(message.outcome);
    else listener.failed(errorFrom(message.error));
  });
  const lost = (error: Error) => {
    if (thread === created) thread = undefined;
    clearTimeout(created.idle);
    const listeners = [...created.listeners.values()];
    created.listeners.clear();
    for (const listener of listeners) listener.failed(error);
    for (const answer of created.asked.values()) answer({ watches: 0, rounds: 0 });
    created.asked.clear();
  };
  worker.on('error', (err) => lost(new Error(`the checker thread failed: ${err.message}`)));
  worker.on('exit', (code) => lost(new Error(`the checker thread exited (code ${code})`)));
  thread = created;
  return created;
}

function send(t: Thread, message: ToChecker): void {
  t.worker.postMessage(message);
}

function forget(t: Thread, id: number): void {
  t.listeners.delete(id);
  if (t.listeners.size > 0) return;
  clearTimeout(t.idle);
  t.idle = setTimeout(() => {
    if (t.listeners.size > 0) return;
    if (thread === t) thread = undefined;
    void t.worker.terminate();
  }, IDLE_MS).unref();
}

/** Runs a watch in the checker thread; `end` stops it (its activity was cancelled), without a word back. */
export function watchInThread(start: Omit<WatchStart, 'id'>, listener: WatchListener): { end(): void } {
  const t = current();
  const id = nextId++;
  clearTimeout(t.idle);
  t.listeners.set(id, listener);
  send(t, { type: 'watch', id, ...start });
  return {
    end: () => {
      if (!t.listeners.has(id)) return;
      forget(t, id);
      send(t, { type: 'end', id });
    },
  };
}

/** Whether the checker thread runs, and its watches and rounds (for tests: none are left behind). */
export async function checkerState(): Promise<{ running: boolean; watches: number; rounds: number }> {
  const t = thread;
  if (!t) return { running: false, watches: 0, rounds: 0 };
  const id = nextId++;
  return new Promise((resolve) => {
    t.asked.set(id, (state) => resolve({ running: true, ...state }));
    send(t, { type: 'state', id });
  });
}

/**
 * Ends the checker thread now; the watches it ran fail (as when it dies), and the next watch
 * starts a new one. With `ifIdle`, only when it runs no watch (a worker that stopped ends it so,
 * leaving it to another worker of the same process that still has watches).
 */
export async function endCheckerThread({ ifIdle = false }: { ifIdle?: boolean } = {}): Promise<void> {
  const t = thread;
  if (!t || (ifIdle && t.listeners.size > 0)) return;
  if (thread === t) thread = undefined;
  clearTimeout(t.idle);
  await t.worker.terminate();
}

function errorFrom(shape: ErrorShape): Error {
  const error = new Error(shape.message);
  error.name = shape.name;
  if (shape.stack !== undefined) error.stack = shape.stack;
  return error;
}
