/**
 * CPU and memory of processes, from /proc (Linux), for the monitoring benchmark.
 *
 * A measured target is a process and its live descendants (the Temporal CLI is reached
 * through a pyenv shim that execs, but a wrapper that forks would still be counted):
 * CPU is utime+stime+cutime+cstime summed over the tree (cutime/cstime keep the time of
 * reaped children), in clock ticks, read at the start and end of the window → % of one core;
 * RSS is VmRSS summed over the tree, sampled every few seconds → mean and max.
 * CPU can also be split by thread (/proc/<pid>/task/<tid>/stat).
 */
import { readdir, readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';

interface Stat {
  pid: number;
  comm: string;
  ppid: number;
  /** utime + stime of the process itself. */
  own: number;
  /** cutime + cstime: reaped children. */
  children: number;
}

function parseStat(pid: number, raw: string): Stat {
  const open = raw.indexOf('(');
  const close = raw.lastIndexOf(')');
  const rest = raw.slice(close + 2).split(' ');
  return { pid, comm: raw.slice(open + 1, close), ppid: Number(rest[1]), own: Number(rest[11]) + Number(rest[12]), children: Number(rest[13]) + Number(rest[14]) };
}

/** Every process's stat, read 64 at a time (a few hundred processes: 100 services, the rest). */
async function allStats(): Promise<Stat[]> {
  const pids = (await readdir('/proc')).filter((d) => /^\d+$/.test(d)).map(Number);
  const out: Stat[] = [];
  for (let i = 0; i < pids.length; i += 64) {
    const stats = await Promise.all(pids.slice(i, i + 64).map((pid) => readFile(`/proc/${pid}/stat`, 'utf8').then((raw) => parseStat(pid, raw), () => undefined)));
    out.push(...stats.filter((s): s is Stat => s !== undefined));
  }
  return out;
}

/** The root and its live descendants. */
function tree(stats: Stat[], root: number): Stat[] {
  const byParent = new Map<number, Stat[]>();
  for (const s of stats) byParent.set(s.ppid, [...(byParent.get(s.ppid) ?? []), s]);
  const rootStat = stats.find((s) => s.pid === root);
  if (!rootStat) return [];
  const out = [rootStat];
  for (let i = 0; i < out.length; i++) out.push(...(byParent.get(out[i]!.pid) ?? []));
  return out;
}

/** VmRSS of one process (0 when gone). */
export async function rssKb(pid: number): Promise<number> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const m = /^VmRSS:\s+(\d+) kB/m.exec(status);
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

export interface TreeSample {
  ticks: number;
  rssKb: number;
  processes: number;
}

/** One sample of each target (its roots and their live descendants), from a single read of /proc. */
export async function sampleTargets(targets: number[][]): Promise<TreeSample[]> {
  const stats = await allStats();
  const out: TreeSample[] = [];
  for (const roots of targets) {
    const members = [...new Map(roots.flatMap((root) => tree(stats, root)).map((m) => [m.pid, m])).values()];
    if (members.length === 0) throw new Error(`processes ${roots.join(', ')} are gone`);
    let rss = 0;
    for (let i = 0; i < members.length; i += 64) rss += (await Promise.all(members.slice(i, i + 64).map((m) => rssKb(m.pid)))).reduce((a, b) => a + b, 0);
    out.push({ ticks: members.reduce((sum, m) => sum + m.own + m.children, 0), rssKb: rss, processes: members.length });
  }
  return out;
}

export interface ThreadTicks {
  tid: number;
  comm: string;
  ticks: number;
}

/** CPU ticks of each thread of one process. */
export async function threadTicks(pid: number): Promise<Map<number, ThreadTicks>> {
  const out = new Map<number, ThreadTicks>();
  const tids = await readdir(`/proc/${pid}/task`).catch(() => [] as string[]);
  for (const tid of tids.map(Number)) {
    try {
      const s = parseStat(tid, await readFile(`/proc/${pid}/task/${tid}/stat`, 'utf8'));
      out.set(tid, { tid, comm: s.comm, ticks: s.own });
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
}

/** Busy clock ticks of the whole machine, all cores (/proc/stat: everything but idle and iowait). */
async function machineBusyTicks(): Promise<number> {
  const cpu = (await readFile('/proc/stat', 'utf8')).split('\n')[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
  return cpu.reduce((a, b) => a + b, 0) - cpu[3]! - cpu[4]!;
}

let clockTicks: number | undefined;

/** Kernel clock ticks per second (getconf CLK_TCK; 100 on Linux almost everywhere). */
export async function clkTck(): Promise<number> {
  if (clockTicks === undefined) {
    const result = await execa('getconf', ['CLK_TCK'], { reject: false });
    const n = Number(result.stdout.trim());
    clockTicks = Number.isInteger(n) && n > 0 ? n : 100;
  }
  return clockTicks;
}

export interface Usage {
  /** CPU time in the window as % of one core. */
  cpuPct: number;
  cpuSeconds: number;
  rssMeanMb: number;
  rssMaxMb: number;
  rssSamples: number;
  processes: number;
  /** For targets in `threadsOf`: % of one core of each thread that ran in the window, busiest first. */
  threads?: ThreadUsage[];
}

export interface ThreadUsage {
  tid: number;
  comm: string;
  /** The process's main thread (tid = pid). */
  main: boolean;
  pct: number;
}

export interface Window {
  /** Epoch ms of the window's start and end (for history timestamps). */
  startedAt: number;
  endedAt: number;
  seconds: number;
  usage: Record<string, Usage>;
  /** CPU used on the whole machine in the window, % of one core (measured processes and everything else). */
  machinePct: number;
  /** CPU of this process (the benchmark driver: sampling, its client), % of one core. */
  driverPct: number;
}

/**
 * Measures the targets (name → root PID, or several roots summed) for `seconds`: CPU at the start and end, RSS every
 * `everySeconds` including both ends; `threadsOf` names the targets whose CPU is also split
 * by thread.
 */
export async function measureWindow(targets: Record<string, number | number[]>, seconds: number, everySeconds: number, threadsOf: string[] = []): Promise<Window> {
  const hz = await clkTck();
  const names = Object.keys(targets);
  const roots = (name: string) => [targets[name]!].flat();
  const sampleAll = () => sampleTargets(names.map(roots));
  const threadsAll = () => Promise.all(threadsOf.map((n) => threadTicks(roots(n)[0]!)));
  const driver0 = process.cpuUsage();

  const rss: number[][] = names.map(() => []);
  const t0 = performance.now();
  const startedAt = Date.now();
  const [first, threads0, busy0] = await Promise.all([sampleAll(), threadsAll(), machineBusyTicks()]);
  first.forEach((s, i) => rss[i]!.push(s.rssKb));
  for (let k = 1; k * everySeconds < seconds; k++) {
    await sleep(Math.max(0, t0 + k * everySeconds * 1000 - performance.now()));
    (await sampleAll()).forEach((s, i) => rss[i]!.push(s.rssKb));
  }
  await sleep(Math.max(0, t0 + seconds * 1000 - performance.now()));
  const [end, threads1, busy1] = await Promise.all([sampleAll(), threadsAll(), machineBusyTicks()]);
  const wall = (performance.now() - t0) / 1000;
  const endedAt = Date.now();
  const driver = process.cpuUsage(driver0);
  end.forEach((s, i) => rss[i]!.push(s.rssKb));

  const usage: Record<string, Usage> = {};
  names.forEach((name, i) => {
    const cpuSeconds = (end[i]!.ticks - first[i]!.ticks) / hz;
    const r = rss[i]!;
    usage[name] = {
      cpuPct: (100 * cpuSeconds) / wall,
      cpuSeconds,
      rssMeanMb: r.reduce((a, b) => a + b, 0) / r.length / 1024,
      rssMaxMb: Math.max(...r) / 1024,
      rssSamples: r.length,
      processes: end[i]!.processes,
    };
    const ti = threadsOf.indexOf(name);
    if (ti >= 0) {
      const before = threads0[ti]!;
      usage[name].threads = [...threads1[ti]!.values()]
        .map((t) => ({ tid: t.tid, comm: t.comm, main: t.tid === roots(name)[0], pct: (100 * (t.ticks - (before.get(t.tid)?.ticks ?? 0))) / hz / wall }))
        .filter((t) => t.pct > 0)
        .sort((a, b) => b.pct - a.pct);
    }
  });
  return {
    startedAt,
    endedAt,
    seconds: wall,
    usage,
    machinePct: (100 * (busy1 - busy0)) / hz / wall,
    driverPct: (driver.user + driver.system) / 1e4 / wall,
  };
}
