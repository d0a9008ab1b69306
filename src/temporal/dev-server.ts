/**
 * Starts `temporal server start-dev` with the project's search attributes, waits until it
 * answers, and stops it by PID. Used by the test suite and by `provisioning dev`.
 */
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Connection } from '@temporalio/client';
import { execa, type ResultPromise } from 'execa';
import { UsageError } from '../config/errors.js';
import type { Env } from '../config/registry.js';
import { searchAttributeFlags } from '../model/search-attributes.js';
import { isPortFree } from '../util/net.js';
import { resolveTemporalCli } from './cli-binary.js';

export interface DevServerOptions {
  ip?: string;
  port?: number;
  uiPort?: number;
  headless?: boolean;
  /** SQLite file that keeps history across restarts; in memory when absent. */
  dbFile?: string;
  namespace?: string;
  /** Where the server's own output goes. */
  logFile: string;
  /** Binary to run; resolved (TEMPORAL_CLI_PATH, PATH, cache), or installed into the cache, when absent. */
  cliPath?: string;
  /** Environment the binary is looked up in (default: this process's). */
  env?: Env;
  /** Gets a line per step of a Temporal CLI install, when one is needed. */
  progress?: (line: string) => void;
  readyTimeoutMs?: number;
  /** In its own process group, so a Ctrl-C to the terminal reaches only us and we stop it in order. */
  detached?: boolean;
}

export interface DevServer {
  address: string;
  namespace: string;
  /** Web UI address, unless headless. */
  uiUrl?: string;
  pid: number;
  logFile: string;
  stop(): Promise<void>;
}

const STOP_GRACE_MS = 10_000;

export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  const ip = options.ip ?? '127.0.0.1';
  const port = options.port ?? 7233;
  const uiPort = options.uiPort ?? port + 1000;
  const namespace = options.namespace ?? 'default';
  for (const [what, p] of [['server', port], ['Web UI', uiPort]] as const) {
    if (what === 'Web UI' && options.headless) continue;
    if (!(await isPortFree(p, ip))) {
      throw new UsageError(
        `${what} port ${ip}:${p} is already in use (another Temporal dev server?)`,
        `stop whatever listens there, or choose another port with --${what === 'server' ? 'port' : 'ui-port'}`,
      );
    }
  }
  const cli = options.cliPath ?? (await resolveTemporalCli(options.env, options.progress)).path;
  const args = ['server', 'start-dev', '--ip', ip, '--port', String(port), '--namespace', namespace, '--log-level', 'warn', ...searchAttributeFlags()];
  if (options.headless) args.push('--headless');
  else args.push('--ui-port', String(uiPort));
  if (options.dbFile) {
    await mkdir(path.dirname(options.dbFile), { recursive: true });
    args.push('--db-filename', options.dbFile);
  }
  await mkdir(path.dirname(options.logFile), { recursive: true });
  const log = { file: options.logFile, append: true };
  const child = execa(cli, args, { stdin: 'ignore', stdout: log, stderr: log, reject: false, cleanup: !options.detached, detached: Boolean(options.detached) });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${cli}: no PID (see ${options.logFile})`);
  let exited = false;
  void child.then(() => {
    exited = true;
  });

  const address = `${ip}:${port}`;
  try {
    await waitUntilAnswering(address, namespace, options.readyTimeoutMs ?? 60_000, () => exited);
  } catch (err) {
    await stopProcess(child, pid);
    const tail = await logTail(options.logFile);
    throw new Error(`Temporal dev server at ${address} did not come up: ${(err as Error).message}\n${tail}`);
  }
  return {
    address,
    namespace,
    ...(options.headless ? {} : { uiUrl: `http://${ip === '0.0.0.0' ? 'localhost' : ip}:${uiPort}` }),
    pid,
    logFile: options.logFile,
    stop: () => stopProcess(child, pid),
  };
}

async function waitUntilAnswering(address: string, namespace: string, timeoutMs: number, exited: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let delay = 50;
  let lastError = 'no answer';
  while (Date.now() < deadline) {
    if (exited()) throw new Error('the server process exited');
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1_000 });
      try {
        await connection.workflowService.describeNamespace({ namespace });
        return;
      } finally {
        await connection.close();
      }
    } catch (err) {
      lastError = (err as Error).message;
    }
    await sleep(delay);
    delay = Math.min(delay * 2, 500);
  }
  throw new Error(`no answer within ${Math.round(timeoutMs / 1000)} s (last error: ${lastError})`);
}

/** SIGTERM, then SIGKILL after a grace period; only the process we started, by its PID. */
async function stopProcess(child: ResultPromise, pid: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  process.kill(pid, 'SIGTERM');
  // The grace timer is cancelled once the server exits; a pending timer would keep Node alive.
  const grace = new AbortController();
  const done = await Promise.race([
    child.then(() => true),
    sleep(STOP_GRACE_MS, false, { signal: grace.signal }).catch(() => false),
  ]);
  grace.abort();
  if (!done) {
    process.kill(pid, 'SIGKILL');
    await child;
  }
}

async function logTail(file: string, lines = 15): Promise<string> {
  try {
    const text = await readFile(file, 'utf8');
    return text.trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}
