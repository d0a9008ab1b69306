/**
 * The dependency graph of services (or taskservs): structure checks and cycle detection.
 * Pure and deterministic, so workflows import it as well as the CLI.
 */

export interface GraphNode {
  readonly name: string;
  readonly dependencies: readonly string[];
  /** Tie-breaker among nodes that are ready at the same time: lower first. */
  readonly startOrder?: number;
}

export type GraphProblem =
  | { kind: 'missing-dependency'; service: string; dependency: string; index: number; message: string }
  | { kind: 'self-dependency'; service: string; index: number; message: string }
  | { kind: 'duplicate-dependency'; service: string; dependency: string; index: number; message: string }
  | { kind: 'cycle'; service: string; cycle: string[]; message: string };

export class GraphError extends Error {
  constructor(readonly problems: GraphProblem[]) {
    super(problems.map((p) => p.message).join('; '));
    this.name = 'GraphError';
  }
}

export class UnknownNodeError extends Error {
  constructor(readonly names: string[]) {
    super(`unknown ${names.length === 1 ? 'service' : 'services'}: ${names.join(', ')}`);
    this.name = 'UnknownNodeError';
  }
}

/** Nodes by name, in a stable (sorted) iteration order. */
export type NodeIndex = ReadonlyMap<string, GraphNode>;

export function indexNodes(nodes: Iterable<GraphNode>): NodeIndex {
  const sorted = [...nodes].sort((a, b) => compareNames(a.name, b.name));
  return new Map(sorted.map((n) => [n.name, n]));
}

export function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Orders two nodes for tie-breaking: start_order first, then name. */
export function compareNodes(a: GraphNode, b: GraphNode): number {
  const byOrder = (a.startOrder ?? 0) - (b.startOrder ?? 0);
  return byOrder !== 0 ? byOrder : compareNames(a.name, b.name);
}

/** Every structural problem of the graph: unknown or self dependencies, duplicates, and one cycle. */
export function checkGraph(nodes: Iterable<GraphNode>): GraphProblem[] {
  const index = indexNodes(nodes);
  const problems: GraphProblem[] = [];
  for (const node of index.values()) {
    const seen = new Set<string>();
    node.dependencies.forEach((dep, i) => {
      if (dep === node.name) {
        problems.push({
          kind: 'self-dependency',
          service: node.name,
          index: i,
          message: `${node.name} depends on itself`,
        });
      } else if (!index.has(dep)) {
        problems.push({
          kind: 'missing-dependency',
          service: node.name,
          dependency: dep,
          index: i,
          message: `${node.name} depends on ${dep}, which is not defined`,
        });
      } else if (seen.has(dep)) {
        problems.push({
          kind: 'duplicate-dependency',
          service: node.name,
          dependency: dep,
          index: i,
          message: `${node.name} lists ${dep} twice`,
        });
      }
      seen.add(dep);
    });
  }
  const cycle = findCycle(index.values());
  if (cycle) {
    problems.push({
      kind: 'cycle',
      service: cycle[0]!,
      cycle,
      message: `dependency cycle: ${cycle.join(' -> ')}`,
    });
  }
  return problems;
}

/**
 * Finds one dependency cycle and returns it as a path that ends where it starts
 * (`['a', 'b', 'c', 'a']` means a depends on b, b on c, c on a), or null.
 * Self-dependencies are reported by checkGraph, not here. Iterative, so deep graphs
 * do not overflow the stack.
 */
export function findCycle(nodes: Iterable<GraphNode> | NodeIndex): string[] | null {
  const index = nodes instanceof Map ? (nodes as NodeIndex) : indexNodes(nodes as Iterable<GraphNode>);
  const state = new Map<string, 'visiting' | 'done'>();
  for (const root of index.keys()) {
    if (state.has(root)) continue;
    const path: string[] = [];
    const stack: Array<{ name: string; next: number }> = [{ name: root, next: 0 }];
    state.set(root, 'visiting');
    path.push(root);
    while (stack.length > 0) {
      const frame = stack[stack.length - 1]!;
      const deps = index.get(frame.name)?.dependencies ?? [];
      if (frame.next >= deps.length) {
        state.set(frame.name, 'done');
        stack.pop();
        path.pop();
        continue;
      }
      const dep = deps[frame.next++]!;
      if (dep === frame.name || !index.has(dep)) continue;
      const depState = state.get(dep);
      if (depState === 'visiting') {
        return [...path.slice(path.indexOf(dep)), dep];
      }
      if (depState === undefined) {
        state.set(dep, 'visiting');
        path.push(dep);
        stack.push({ name: dep, next: 0 });
      }
    }
  }
  return null;
}

/** Throws a GraphError when the graph has any structural problem. */
export function assertValidGraph(nodes: Iterable<GraphNode>): void {
  const problems = checkGraph(nodes);
  if (problems.length > 0) throw new GraphError(problems);
}
