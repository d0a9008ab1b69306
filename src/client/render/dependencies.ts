/** Renders a dependency graph as a tree, Graphviz dot, Mermaid or JSON. Pure. */
import type { GraphNode } from '../../graph/graph.js';
import { dependencyClosure, dependencyLevels, indexNodes, reverseDependencies, startupOrder } from '../../graph/index.js';

export const DEPENDENCY_FORMATS = ['tree', 'dot', 'mermaid', 'json'] as const;
export type DependencyFormat = (typeof DEPENDENCY_FORMATS)[number];

export interface DependencyView {
  /** The service asked about, if any. */
  service?: string;
  reverse: boolean;
  /** Names in the view, dependencies first. */
  order: string[];
  levels: string[][];
  /** Edges inside the view: `from` depends on `to`. */
  edges: Array<{ from: string; to: string }>;
}

/**
 * What to show: the whole graph; one service and what it needs; or with `reverse`, one
 * service and everything that needs it.
 */
export function dependencyView(nodes: GraphNode[], service?: string, reverse = false): DependencyView {
  const index = indexNodes(nodes);
  let members: Set<string>;
  if (!service) members = new Set(index.keys());
  else if (reverse) members = new Set([service, ...reverseDependencies(index, service, { transitive: true })]);
  else members = dependencyClosure(index, [service]);
  const order = startupOrder(index).filter((n) => members.has(n));
  const subset = order.map((n) => {
    const node = index.get(n)!;
    return { ...node, dependencies: node.dependencies.filter((d) => members.has(d)) };
  });
  const edges = subset.flatMap((n) => n.dependencies.map((to) => ({ from: n.name, to })));
  return { ...(service ? { service } : {}), reverse, order, levels: dependencyLevels(subset), edges };
}

/**
 * Drops edges implied by longer paths (a -> c when a -> b -> c), so a tree shows each
 * service under its nearest dependency only.
 */
function reducedEdges(view: DependencyView): DependencyView['edges'] {
  const deps = new Map<string, string[]>();
  for (const { from, to } of view.edges) deps.set(from, [...(deps.get(from) ?? []), to]);
  const reachable = new Map<string, Set<string>>();
  for (const name of view.order) {
    const set = new Set<string>();
    for (const d of deps.get(name) ?? []) {
      set.add(d);
      for (const r of reachable.get(d) ?? []) set.add(r);
    }
    reachable.set(name, set);
  }
  return view.edges.filter(({ from, to }) => !(deps.get(from) ?? []).some((other) => other !== to && reachable.get(other)!.has(to)));
}

function children(view: DependencyView): Map<string, string[]> {
  const map = new Map<string, string[]>();
  const add = (parent: string, child: string) => {
    const list = map.get(parent);
    if (list) list.push(child);
    else map.set(parent, [child]);
  };
  // Forward trees grow from a service to what it needs; reverse and whole-graph trees from a
  // dependency to what starts after it, which reads as the startup sequence.
  const forward = view.service !== undefined && !view.reverse;
  for (const { from, to } of reducedEdges(view)) {
    if (forward) add(from, to);
    else add(to, from);
  }
  const position = new Map(view.order.map((n, i) => [n, i]));
  for (const list of map.values()) list.sort((a, b) => position.get(a)! - position.get(b)!);
  return map;
}

export function renderTree(view: DependencyView, label: (name: string) => string = (n) => n): string {
  const kids = children(view);
  const hasParent = new Set([...kids.values()].flat());
  const roots = view.service ? [view.service] : view.order.filter((n) => !hasParent.has(n));
  const lines: string[] = [];
  const walk = (name: string, prefix: string, last: boolean, depth: number, trail: Set<string>) => {
    lines.push(depth === 0 ? label(name) : `${prefix}${last ? '└─ ' : '├─ '}${label(name)}`);
    if (trail.has(name)) return;
    const next = kids.get(name) ?? [];
    const childPrefix = depth === 0 ? '' : prefix + (last ? '   ' : '│  ');
    next.forEach((child, i) => walk(child, childPrefix, i === next.length - 1, depth + 1, new Set([...trail, name])));
  };
  for (const root of roots) walk(root, '', true, 0, new Set());
  return lines.join('\n');
}

const quote = (name: string) => JSON.stringify(name);

/** Graphviz: an arrow from each service to what it depends on. */
export function renderDot(view: DependencyView): string {
  const lines = ['digraph dependencies {', '  rankdir=LR;', '  node [shape=box];'];
  for (const name of view.order) lines.push(`  ${quote(name)};`);
  for (const { from, to } of view.edges) lines.push(`  ${quote(from)} -> ${quote(to)} [label="depends on"];`);
  lines.push('}');
  return lines.join('\n');
}

/** Mermaid flowchart: an arrow from each service to what it depends on. */
export function renderMermaid(view: DependencyView): string {
  const id = (name: string) => name.replace(/[^A-Za-z0-9_]/g, '_');
  const lines = ['graph LR'];
  for (const name of view.order) lines.push(`  ${id(name)}["${name}"]`);
  for (const { from, to } of view.edges) lines.push(`  ${id(from)} -->|depends on| ${id(to)}`);
  return lines.join('\n');
}
