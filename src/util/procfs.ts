/**
 * Process facts from /proc (Linux): liveness that ignores zombies, process groups, and
 * the environment marker that identifies the process a service runs as.
 */
import { readFileSync } from 'node:fs';
import { readdir, readFile, readlink } from 'node:fs/promises';

export interface ProcStat {
  pid: number;
  state: string;
  pgrp: number;
  /** Clock ticks since boot; with the PID it identifies one process for its lifetime. */
  startTime: number;
}

export function procStat(pid: number): ProcStat | undefined {
  try {
    // A few hundred bytes the kernel writes on read: a synchronous read costs a fraction of
    // the four thread-pool round trips of an asynchronous one (a supervisor reads it per check).
    const raw = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may itself contain spaces or parentheses.
    const rest = raw.slice(raw.lastIndexOf(')') + 2).split(' ');
    return { pid, state: rest[0]!, pgrp: Number(rest[2]), startTime: Number(rest[19]) };
  } catch {
    return undefined;
  }
}

/** Alive and not a zombie. */
export function isRunning(pid: number): boolean {
  const stat = procStat(pid);
  if (stat) return stat.state !== 'Z' && stat.state !== 'X';
  if (process.platform === 'linux') return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function allPids(): Promise<number[]> {
  try {
    return (await readdir('/proc')).filter((d) => /^\d+$/.test(d)).map(Number);
  } catch {
    return [];
  }
}

/**
 * Whether a process group has a live (non-zombie) member. Cheap in the common cases, which a
 * stop asks every 20 ms: the kernel answers "no such group" (kill 0 → ESRCH) and a live leader
 * answers yes, each without a scan; only in between (the leader gone or a zombie, others
 * perhaps left) is /proc scanned. With hundreds of stops at once, a scan per ask was most of
 * the worker's time.
 */
export async function groupAlive(pgrp: number): Promise<boolean> {
  try {
    process.kill(-pgrp, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  const leader = procStat(pgrp);
  if (leader && leader.pgrp === pgrp && leader.state !== 'Z' && leader.state !== 'X') return true;
  return (await groupMembers(pgrp)).length > 0;
}

/** Live (non-zombie) members of a process group. */
export async function groupMembers(pgrp: number): Promise<number[]> {
  const stats = (await allPids()).map(procStat);
  return stats.filter((s): s is ProcStat => s !== undefined && s.pgrp === pgrp && s.state !== 'Z' && s.state !== 'X').map((s) => s.pid);
}

export async function hasEnvMarker(pid: number, marker: string): Promise<boolean> {
  try {
    const environ = await readFile(`/proc/${pid}/environ`);
    return environ.includes(`${marker}\0`) || environ.subarray(environ.length - marker.length).toString() === marker;
  } catch {
    return false;
  }
}

/** Live processes whose environment carries `marker` (NAME=value). */
export async function processesWithMarker(marker: string): Promise<ProcStat[]> {
  const found: ProcStat[] = [];
  await Promise.all(
    (await allPids()).map(async (pid) => {
      if (!(await hasEnvMarker(pid, marker))) return;
      const stat = procStat(pid);
      if (stat && stat.state !== 'Z' && stat.state !== 'X') found.push(stat);
    }),
  );
  return found.sort((a, b) => a.pid - b.pid);
}

/** Running processes whose program name (comm, or argv[0]'s basename) is `name`. */
export async function processesNamed(name: string): Promise<number[]> {
  const found: number[] = [];
  await Promise.all(
    (await allPids()).map(async (pid) => {
      try {
        const comm = (await readFile(`/proc/${pid}/comm`, 'utf8')).trim();
        const argv0 = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0')[0] ?? '';
        const base = argv0.split('/').pop();
        if ((comm === name.slice(0, 15) || base === name) && isRunning(pid)) found.push(pid);
      } catch {
        // gone meanwhile
      }
    }),
  );
  return found.sort((a, b) => a - b);
}

/** The process listening on a local TCP port, when /proc can tell: "redis-server (PID 812)". */
export async function tcpPortOwner(port: number): Promise<string | undefined> {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    try {
      for (const line of (await readFile(table, 'utf8')).split('\n').slice(1)) {
        const cols = line.trim().split(/\s+/);
        if (cols[1]?.endsWith(`:${hex}`) && cols[3] === '0A') inodes.add(cols[9]!);
      }
    } catch {
      // no such table
    }
  }
  if (inodes.size === 0) return undefined;
  for (const pid of await allPids()) {
    let fds: string[];
    try {
      fds = await readdir(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const link = await readlink(`/proc/${pid}/fd/${fd}`);
        const inode = /^socket:\[(\d+)\]$/.exec(link)?.[1];
        if (inode && inodes.has(inode)) {
          const comm = (await readFile(`/proc/${pid}/comm`, 'utf8')).trim();
          return `${comm} (PID ${pid})`;
        }
      } catch {
        // closed meanwhile
      }
    }
  }
  return undefined;
}
