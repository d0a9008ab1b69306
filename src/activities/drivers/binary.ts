/**
 * Binary services: a detached process in its own process group, output appended to
 * <home>/services/logs/<name>.log, PID and state under <home>/services/.
 *
 * Identity: the state file records the PID and the process's kernel start time, which
 * together name one process for its lifetime, so a PID file that now points at another
 * program is stale. The process also carries an environment marker naming the home and
 * service, which finds it after a crash between spawn and writing the PID file. (Programs
 * that rewrite their process title, like redis and nginx, may overwrite the marker; the
 * start time still identifies them.)
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ServiceDefinition } from '../../config/registry-schema.js';
import { groupAlive, hasEnvMarker, isRunning, processesWithMarker, procStat } from '../../util/procfs.js';
import { spawnDetached } from '../../util/detached-spawn.js';
import { isExecutableFile } from '../../util/which.js';
import { clearServiceState, readPidFile, readServiceState, servicePaths, tailFile, writeServiceState, type ServiceState } from '../runtime.js';
import { ServiceConfigError, type DriverContext, type ServiceDriver } from './types.js';

export const SERVICE_MARKER = 'PROVISIONING_SERVICE_ID';

export function serviceMarker(ctx: DriverContext, name: string): string {
  return `${SERVICE_MARKER}=${ctx.home}#${name}`;
}

/** The PID of the service's process group leader, if it runs. */
export async function findServiceProcess(service: ServiceDefinition, ctx: DriverContext): Promise<number | undefined> {
  return (await locateService(service, ctx))?.pid;
}

/**
 * The service's running process and its state file, each file read once: a supervisor does
 * this at every check, so the PID file, the state file and /proc/<pid>/stat are read together.
 */
async function locateService(service: ServiceDefinition, ctx: DriverContext): Promise<{ pid: number; state: ServiceState | undefined } | undefined> {
  const marker = serviceMarker(ctx, service.name);
  const paths = servicePaths(ctx.home, service.name);
  const pid = readPidFile(paths);
  const state = readServiceState(paths);
  if (pid !== undefined) {
    const stat = procStat(pid);
    const alive = stat ? stat.state !== 'Z' && stat.state !== 'X' : isRunning(pid);
    if (alive) {
      const sameProcess = state?.pid === pid && state.procStartTime !== undefined && state.procStartTime === stat?.startTime;
      if (sameProcess || (await hasEnvMarker(pid, marker))) return { pid, state };
    }
  }
  // A start that recorded its intent but no PID (a crash between the two) may have left a
  // process: the marker finds it (its children carry it too, so take the group leader).
  // Without any record there is nothing of ours to find, and scanning /proc is skipped.
  if (!state) return undefined;
  const carriers = await processesWithMarker(marker);
  const found = (carriers.find((p) => p.pid === p.pgrp) ?? carriers[0])?.pid;
  return found === undefined ? undefined : { pid: found, state };
}

async function groupGone(pgid: number): Promise<boolean> {
  return !(await groupAlive(pgid));
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

export const binaryDriver: ServiceDriver = {
  async status(service, ctx) {
    const found = await locateService(service, ctx);
    if (found === undefined) return { running: false, detail: 'stopped' };
    const { pid, state } = found;
    return { running: true, pid, ...(state?.pid === pid ? { startedAt: state.startedAt } : {}), detail: `running (PID ${pid})` };
  },

  async start(service, ctx) {
    const spec = service.deployment.binary!;
    const paths = servicePaths(ctx.home, service.name);
    const found = await locateService(service, ctx);
    if (found !== undefined) {
      const { pid: existing, state } = found;
      if (state?.pid !== existing) {
        const procStartTime = procStat(existing)?.startTime;
        await writeServiceState(paths, { name: service.name, mode: 'binary', pid: existing, startedAt: Date.now(), ...(procStartTime !== undefined ? { procStartTime } : {}) });
      }
      return { alreadyRunning: true, pid: existing, startedAt: state?.pid === existing ? state.startedAt : Date.now() };
    }
    if (!isExecutableFile(spec.binary_path)) {
      throw new ServiceConfigError(`binary not found or not executable: ${spec.binary_path}`);
    }
    await clearServiceState(paths);
    const startedAt = Date.now();
    await writeServiceState(paths, { name: service.name, mode: 'binary', startedAt });
    // Synchronous, as the state files are (runtime.ts writeServiceState).
    mkdirSync(path.dirname(paths.logFile), { recursive: true });
    if (spec.working_dir) mkdirSync(spec.working_dir, { recursive: true });
    appendFileSync(paths.logFile, `--- ${new Date(startedAt).toISOString()} starting ${[spec.binary_path, ...spec.args].join(' ')}\n`);
    const pid = await spawnDetached({
      file: spec.binary_path,
      args: spec.args,
      logFile: paths.logFile,
      ...(spec.working_dir ? { cwd: spec.working_dir } : {}),
      env: { ...process.env, ...spec.env, [SERVICE_MARKER]: `${ctx.home}#${service.name}` },
    });
    const procStartTime = procStat(pid)?.startTime;
    await writeServiceState(paths, { name: service.name, mode: 'binary', pid, startedAt, argv: [spec.binary_path, ...spec.args], ...(procStartTime !== undefined ? { procStartTime } : {}) });
    return { alreadyRunning: false, pid, startedAt };
  },

  async stop(service, ctx, { graceSeconds }) {
    const paths = servicePaths(ctx.home, service.name);
    const pid = await findServiceProcess(service, ctx);
    if (pid === undefined) {
      await clearServiceState(paths);
      return { wasRunning: false, how: 'not running' };
    }
    const pgid = procStat(pid)?.pgrp ?? pid;
    signalGroup(pgid, 'SIGTERM');
    const deadline = Date.now() + graceSeconds * 1000;
    let how = 'SIGTERM';
    while (!(await groupGone(pgid))) {
      if (Date.now() >= deadline) {
        signalGroup(pgid, 'SIGKILL');
        how = `SIGKILL after ${graceSeconds} s`;
        while (!(await groupGone(pgid))) await sleep(20);
        break;
      }
      await sleep(20);
    }
    await clearServiceState(paths);
    return { wasRunning: true, how };
  },

  async logs(service, ctx, lines) {
    return tailFile(servicePaths(ctx.home, service.name).logFile, lines);
  },
};
