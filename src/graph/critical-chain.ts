/**
 * The critical chain of a finished start, as systemd-analyze critical-chain shows it: from
 * the service that became healthy last, back through the dependency each one waited for
 * last. Each link: when it became healthy (offset from the start), how long it took from
 * spawn to healthy, and how long it waited between that dependency turning healthy and its
 * own spawn (the orchestration gap). The lower bound is the critical path of the measured
 * spawn-to-healthy durations: what a start with no gaps at all would have taken.
 */
import { criticalPath } from './critical-path.js';
import { indexNodes, type GraphNode } from './graph.js';

export interface ChainTiming {
  /** Epoch ms of the spawn, and of the first healthy answer. */
  startedAt: number;
  healthyAt: number;
}

export interface ChainLink {
  name: string;
  /** From the start of the run to healthy. */
  offsetMs: number;
  /** From spawn to healthy. */
  durationMs: number;
  /** From the previous link healthy (or the start of the run) to this one's spawn. */
  waitMs: number;
  /** The dependency it waited for last; none for the first link. */
  after?: string;
}

export interface CriticalChain {
  /** First link first: the root the chain starts from, up to the service healthy last. */
  links: ChainLink[];
  /** From the start of the run to the last service healthy. */
  totalMs: number;
  /** The critical path of the spawn-to-healthy durations. */
  lowerBoundMs: number;
}

export function criticalChain(nodes: Iterable<GraphNode>, timings: Readonly<Record<string, ChainTiming>>, runStartedAt: number): CriticalChain {
  const index = indexNodes(nodes);
  const timed = Object.keys(timings).filter((n) => index.has(n));
  let end: string | undefined;
  for (const name of timed) if (end === undefined || timings[name]!.healthyAt > timings[end]!.healthyAt) end = name;
  if (end === undefined) return { links: [], totalMs: 0, lowerBoundMs: 0 };

  const reversed: string[] = [];
  for (let at: string | undefined = end; at !== undefined; ) {
    reversed.push(at);
    let last: string | undefined;
    for (const dep of index.get(at)!.dependencies) {
      if (dep !== at && timings[dep] && (last === undefined || timings[dep].healthyAt > timings[last]!.healthyAt)) last = dep;
    }
    at = last;
  }
  const names = reversed.reverse();
  const links = names.map((name, i): ChainLink => {
    const t = timings[name]!;
    const before = i === 0 ? undefined : names[i - 1]!;
    return {
      name,
      offsetMs: t.healthyAt - runStartedAt,
      durationMs: t.healthyAt - t.startedAt,
      waitMs: t.startedAt - (before ? timings[before]!.healthyAt : runStartedAt),
      ...(before ? { after: before } : {}),
    };
  });
  const durations = Object.fromEntries(timed.map((n) => [n, timings[n]!.healthyAt - timings[n]!.startedAt]));
  return { links, totalMs: timings[end]!.healthyAt - runStartedAt, lowerBoundMs: criticalPath(index, durations, timed).total };
}
