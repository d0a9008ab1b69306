/**
 * The critical path: the chain of dependencies whose durations add up to the longest
 * time, which is the lower bound on how fast a dependency-ordered start can finish.
 */
import { indexNodes, type GraphNode, type NodeIndex } from './graph.js';
import { startupOrder } from './order.js';

export interface CriticalPath {
  /** Names along the longest chain, dependencies first. */
  path: string[];
  /** Sum of the durations along that chain. */
  total: number;
  /** Earliest finish time of every service when each starts as soon as its dependencies finish. */
  finish: Record<string, number>;
}

export function criticalPath(
  nodes: Iterable<GraphNode> | NodeIndex,
  durations: Readonly<Record<string, number>>,
  services?: readonly string[],
): CriticalPath {
  const index = nodes instanceof Map ? (nodes as NodeIndex) : indexNodes(nodes as Iterable<GraphNode>);
  const order = startupOrder(index, services);
  const members = new Set(order);
  const finish: Record<string, number> = {};
  const via = new Map<string, string>();
  for (const name of order) {
    let start = 0;
    for (const dep of index.get(name)!.dependencies) {
      if (!members.has(dep) || dep === name) continue;
      if (finish[dep]! > start || (finish[dep] === start && !via.has(name))) {
        start = finish[dep]!;
        via.set(name, dep);
      }
    }
    finish[name] = start + (durations[name] ?? 0);
  }
  let end: string | undefined;
  for (const name of order) if (end === undefined || finish[name]! > finish[end]!) end = name;
  const path: string[] = [];
  for (let at = end; at !== undefined; at = via.get(at)) path.push(at);
  path.reverse();
  return { path, total: end === undefined ? 0 : finish[end]!, finish };
}
