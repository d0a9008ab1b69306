/**
 * Where a service's runtime files live under the project home (<home>/services/...), as
 * in the seeds: pids/<name>.pid, state/<name>.json, logs/<name>.log.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';

export interface ServicePaths {
  pidFile: string;
  stateFile: string;
  logFile: string;
}

export function servicePaths(home: string, name: string): ServicePaths {
  const root = path.join(home, 'services');
  return {
    pidFile: path.join(root, 'pids', `${name}.pid`),
    stateFile: path.join(root, 'state', `${name}.json`),
    logFile: path.join(root, 'logs', `${name}.log`),
  };
}

export interface ServiceState {
  name: string;
  mode: string;
  pid?: number;
  containerId?: string;
  /** Epoch milliseconds. */
  startedAt: number;
  /** The process's start time in clock ticks (/proc/<pid>/stat); with the PID it names one process. */
  procStartTime?: number;
  argv?: string[];
}

/**
 * The state files are a few bytes on a local disk, written synchronously: each asynchronous
 * call is several hops through libuv's pool of 4 threads, and with hundreds of services
 * starting at once every start queued behind all the others' hops (a 500-service start spent
 * ~1 s per startService that way). Async in signature, so callers need not care.
 */
export async function writeServiceState(paths: ServicePaths, state: ServiceState): Promise<void> {
  mkdirSync(path.dirname(paths.stateFile), { recursive: true });
  mkdirSync(path.dirname(paths.pidFile), { recursive: true });
  if (state.pid !== undefined) writeFileSync(paths.pidFile, `${state.pid}\n`);
  writeFileSync(paths.stateFile, `${JSON.stringify(state, null, 2)}\n`);
  return Promise.resolve();
}

export function readServiceState(paths: ServicePaths): ServiceState | undefined {
  try {
    // Small files read at every check of a supervised service: synchronously (see util/procfs.ts procStat).
    return JSON.parse(readFileSync(paths.stateFile, 'utf8')) as ServiceState;
  } catch {
    return undefined;
  }
}

export function readPidFile(paths: ServicePaths): number | undefined {
  try {
    const pid = Number(readFileSync(paths.pidFile, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

export async function clearServiceState(paths: ServicePaths): Promise<void> {
  rmSync(paths.pidFile, { force: true });
  rmSync(paths.stateFile, { force: true });
  return Promise.resolve();
}

/** The last `lines` lines of a log file, or [] when it does not exist. */
export async function tailFile(file: string, lines: number): Promise<string[]> {
  try {
    const text = await readFile(file, 'utf8');
    const all = text.replace(/\n$/, '').split('\n');
    return all.slice(Math.max(0, all.length - lines)).filter((l, i, a) => !(a.length === 1 && l === ''));
  } catch {
    return [];
  }
}
