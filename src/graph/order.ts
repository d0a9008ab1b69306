/**
 * Orders over a dependency graph: start order, stop order, levels, closures and
 * reverse dependencies. Pure and deterministic.
 */
import {
  GraphError,
  UnknownNodeError,
  compareNodes,
  findCycle,
  indexNodes,
  type GraphNode,
  type NodeIndex,
} from './graph.js';
import { MinHeap } from './heap.js';

function asIndex(nodes: Iterable<GraphNode> | NodeIndex): NodeIndex {
  return nodes instanceof Map ? (nodes as NodeIndex) : indexNodes(nodes as Iterable<GraphNode>);
}

function assertKnown(index: NodeIndex, names: readonly string[]): void {
  const unknown = names.filter((n) => !index.has(n));
  if (unknown.length > 0) throw new UnknownNodeError(unknown);
}

/**
 * The requested services plus everything they transitively depend on, as a set.
 * Unknown requested names throw UnknownNodeError; unknown dependencies are ignored here
 * (checkGraph reports them).
 */
export function dependencyClosure(nodes: Iterable<GraphNode> | NodeIndex, requested: readonly string[]): Set<string> {
  const index = asIndex(nodes);
  assertKnown(index, requested);
  const seen = new Set<string>();
  const stack = [...requested];
  while (stack.length > 0) {
    const name = stack.pop()!;
    if (seen.has(name)) continue;
    seen.add(name);
    for (const dep of index.get(name)?.dependencies ?? []) {
      if (index.has(dep) && !seen.has(dep)) stack.push(dep);
    }
  }
  return seen;
}

/**
 * Startup order: every service after all its dependencies; among services ready at the
 * same time, lower start_order first, then name. With `services`, only those and their
 * transitive dependencies. Throws GraphError with the cycle's path when there is one.
 */
export function startupOrder(nodes: Iterable<GraphNode> | NodeIndex, services?: readonly string[]): string[] {
  const index = asIndex(nodes);
  const members = services ? dependencyClosure(index, services) : new Set(index.keys());
  const remaining = new Map<string, number>();
  const dependents = new Map<string, string[]>();
  for (const name of members) {
    const deps = new Set((index.get(name)?.dependencies ?? []).filter((d) => members.has(d) && d !== name));
    remaining.set(name, deps.size);
    for (const dep of deps) {
      const list = dependents.get(dep);
      if (list) list.push(name);
      else dependents.set(dep, [name]);
    }
  }
  const ready = new MinHeap<GraphNode>((a, b) => compareNodes(a, b) < 0);
  for (const [name, count] of remaining) if (count === 0) ready.push(index.get(name)!);
  const order: string[] = [];
  while (ready.size > 0) {
    const node = ready.pop()!;
    order.push(node.name);
    for (const dependent of dependents.get(node.name) ?? []) {
      const left = remaining.get(dependent)! - 1;
      remaining.set(dependent, left);
      if (left === 0) ready.push(index.get(dependent)!);
    }
  }
  if (order.length < members.size) {
    const stuck = [...members].filter((n) => remaining.get(n)! > 0).map((n) => index.get(n)!);
    const cycle = findCycle(indexNodes(stuck)) ?? stuck.map((n) => n.name);
    throw new GraphError([
      { kind: 'cycle', service: cycle[0]!, cycle, message: `dependency cycle: ${cycle.join(' -> ')}` },
    ]);
  }
  return order;
}

/**
 * Levels: level 0 has no dependencies, level k depends on something at level k-1.
 * Each level is sorted by start_order, then name.
 */
export function dependencyLevels(nodes: Iterable<GraphNode> | NodeIndex, services?: readonly string[]): string[][] {
  const index = asIndex(nodes);
  const order = startupOrder(index, services);
  const members = new Set(order);
  const level = new Map<string, number>();
  const levels: string[][] = [];
  for (const name of order) {
    let mine = 0;
    for (const dep of index.get(name)!.dependencies) {
      if (members.has(dep) && dep !== name) mine = Math.max(mine, level.get(dep)! + 1);
    }
    level.set(name, mine);
    (levels[mine] ??= []).push(name);
  }
  return levels.map((names) => names.sort((a, b) => compareNodes(index.get(a)!, index.get(b)!)));
}

/** Stop order for a set of services: dependents before what they depend on. */
export function stopOrder(nodes: Iterable<GraphNode> | NodeIndex, services?: readonly string[]): string[] {
  const index = asIndex(nodes);
  if (services) assertKnown(index, services);
  const wanted = services ? new Set(services) : undefined;
  // Ordering only the set and what it needs keeps an unrelated cycle elsewhere out of the way.
  return startupOrder(index, services)
    .filter((n) => !wanted || wanted.has(n))
    .reverse();
}

/**
 * Services that depend on `name`: directly, or with `transitive` through any chain.
 * Sorted by startup order so the nearest dependents come first.
 */
/** Each node's direct dependents, for a caller that asks reverseDependencies of many nodes (built once, not per call). */
export function dependentsIndex(nodes: Iterable<GraphNode> | NodeIndex): Map<string, string[]> {
  const dependents = new Map<string, string[]>();
  for (const node of asIndex(nodes).values()) {
    for (const dep of node.dependencies) {
      const list = dependents.get(dep);
      if (list) list.push(node.name);
      else dependents.set(dep, [node.name]);
    }
  }
  return dependents;
}

export function reverseDependencies(
  nodes: Iterable<GraphNode> | NodeIndex,
  name: string,
  options: { transitive?: boolean; dependents?: Map<string, string[]> } = {},
): string[] {
  const index = asIndex(nodes);
  assertKnown(index, [name]);
  const dependents = options.dependents ?? dependentsIndex(index);
  const found = new Set<string>();
  const stack = [...(dependents.get(name) ?? [])];
  while (stack.length > 0) {
    const next = stack.pop()!;
    if (found.has(next) || next === name) continue;
    found.add(next);
    if (options.transitive) stack.push(...(dependents.get(next) ?? []));
  }
  return found.size === 0 ? [] : startupOrder(index, [...found]).filter((n) => found.has(n));
}
