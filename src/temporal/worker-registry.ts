/**
 * The workers of this machine, as they registered themselves: one small file per worker
 * identity under <user cache>/provisioning/workers, with the process (PID and the kernel's
 * start time), the machine (machine id, boot id) and the PID namespace it runs in. A worker
 * that starts asks it which workers of its task queue died: one of an earlier boot of this
 * machine, or of this boot and PID namespace whose process is gone (or is another process
 * with the same PID now). Host names are not trusted: two machines, or a container with the
 * host's network, may share one, and a cache folder may be shared over the network; a record
 * is only ever judged against the same machine, kernel and PID namespace.
 */
import { readFileSync, readlinkSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { userCacheDir } from './cli-binary.js';
import { procStat } from '../util/procfs.js';

export interface WorkerRecord {
  identity: string;
  pid: number;
  /** The kernel's start time of the process (clock ticks since boot): with the PID, one process. */
  startTime: number;
  /** /etc/machine-id, when the machine has one: tells a reboot of this machine from another machine. */
  machineId?: string;
  bootId: string;
  pidNamespace: string;
  namespace: string;
  taskQueue: string;
}

/** Records of dead workers of other queues are removed once this old (their runs' timeouts noticed the death long ago). */
const STALE_RECORD_MS = 24 * 3600 * 1000;

type Place = Pick<WorkerRecord, 'machineId' | 'bootId' | 'pidNamespace'>;

/** This machine, this kernel's boot and this process's PID namespace; undefined off Linux (no take-over there). */
function machine(): Place | undefined {
  let machineId: string | undefined;
  try {
    machineId = readFileSync('/etc/machine-id', 'utf8').trim() || undefined;
  } catch {
    machineId = undefined;
  }
  try {
    return { ...(machineId ? { machineId } : {}), bootId: readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim(), pidNamespace: readlinkSync('/proc/self/ns/pid') };
  } catch {
    return undefined;
  }
}

/**
 * Is the record's worker dead, as far as this process can know? A worker of an earlier boot
 * of this machine is; one of this boot and PID namespace is when its process is gone (or the
 * PID is another process's now); of anything else (another machine, another PID namespace)
 * nothing is known: undefined.
 */
export function deadWorker(record: WorkerRecord, here: Place, stat: typeof procStat = procStat): boolean | undefined {
  if (here.machineId && record.machineId === here.machineId && record.bootId !== here.bootId) return true;
  if (record.bootId !== here.bootId || record.pidNamespace !== here.pidNamespace) return undefined;
  const now = stat(record.pid);
  return !now || now.startTime !== record.startTime || now.state === 'Z' || now.state === 'X';
}

const registryDir = (env: NodeJS.ProcessEnv) => path.join(userCacheDir(env), 'workers');

/** A worker's identity unless it is given one: `<pid>@<host name>`. */
export function defaultWorkerIdentity(pid: number = process.pid): string {
  return `${pid}@${os.hostname()}`;
}

/** Where a worker of `identity` records itself (`<pid>@<host name>` by default). */
export function workerRecordPath(identity: string, env: NodeJS.ProcessEnv = process.env): string {
  return path.join(registryDir(env), `${encodeURIComponent(identity)}.json`);
}

async function readRecord(file: string): Promise<WorkerRecord | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as WorkerRecord;
  } catch {
    return undefined;
  }
}

export interface Registration {
  /** The workers of this task queue and namespace on this machine whose process is gone. */
  dead: WorkerRecord[];
  /** Forgets the dead ones (once their work was taken over). */
  forgetDead(): Promise<void>;
  /** Removes this worker's record, unless another process has written it since. */
  unregister(): Promise<void>;
}

/**
 * Registers this worker and says which workers of its queue died on this machine, including
 * an earlier process that had the same identity (a restart that got the same PID). Undefined
 * where the machine cannot tell (no /proc).
 */
export async function registerWorker({ identity, namespace, taskQueue }: { identity: string; namespace: string; taskQueue: string }, env: NodeJS.ProcessEnv = process.env): Promise<Registration | undefined> {
  const here = machine();
  const own = procStat(process.pid);
  if (!here || !own) return undefined;
  const dir = registryDir(env);
  await mkdir(dir, { recursive: true });
  const self: WorkerRecord = { identity, pid: process.pid, startTime: own.startTime, ...here, namespace, taskQueue };
  const isSelf = (r: WorkerRecord) => r.pid === self.pid && r.startTime === self.startTime && r.bootId === self.bootId && r.pidNamespace === self.pidNamespace;
  const dead: Array<{ record: WorkerRecord; file: string }> = [];
  for (const name of await readdir(dir)) {
    const file = path.join(dir, name);
    const record = await readRecord(file);
    if (!record || isSelf(record) || !deadWorker(record, here)) continue;
    if (record.namespace === namespace && record.taskQueue === taskQueue) dead.push({ record, file });
    // Another queue's: kept for that queue's next worker, within reason.
    else if (Date.now() - (await stat(file)).mtimeMs > STALE_RECORD_MS) await rm(file, { force: true });
  }
  const ownFile = workerRecordPath(identity, env);
  await writeFile(ownFile, `${JSON.stringify(self)}\n`);
  return {
    dead: dead.map((d) => d.record),
    async forgetDead() {
      // A dead worker's file under this identity is ours now: it was overwritten above.
      await Promise.all(dead.filter((d) => d.file !== ownFile).map((d) => rm(d.file, { force: true })));
    },
    async unregister() {
      const current = await readRecord(ownFile);
      if (current && isSelf(current)) await rm(ownFile, { force: true });
    },
  };
}

/**
 * Removes the record of a worker process that was killed (by a test, a bench, a harness) once
 * nothing will take over from it; a record that another process wrote since is kept.
 */
export async function forgetWorker(identity: string, pid: number | undefined, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const file = workerRecordPath(identity, env);
  const record = await readRecord(file);
  if (record && record.pid === pid) await rm(file, { force: true });
}
