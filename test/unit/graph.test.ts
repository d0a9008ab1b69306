import { describe, expect, it } from 'vitest';
import {
  GraphError,
  UnknownNodeError,
  assertValidGraph,
  checkGraph,
  compareNodes,
  criticalPath,
  dependencyClosure,
  dependencyLevels,
  findCycle,
  reverseDependencies,
  startupOrder,
  stopOrder,
  type GraphNode,
} from '../../src/graph/index.js';
import { mulberry32 } from '../../bench/lib/random.js';

/** Shorthand: `node('b', 'a')` is b depending on a. */
function node(name: string, ...dependencies: string[]): GraphNode {
  return { name, dependencies };
}

function withOrder(name: string, startOrder: number, ...dependencies: string[]): GraphNode {
  return { name, dependencies, startOrder };
}

const chain = [node('c', 'b'), node('a'), node('b', 'a')];
const diamond = [node('A'), node('B', 'A'), node('C', 'A'), node('D', 'B', 'C')];
const complex = [
  node('A'),
  node('B', 'A'),
  node('C', 'B'),
  node('D', 'B'),
  node('E', 'C'),
  node('F', 'D'),
  node('G', 'E', 'F'),
];

/** The thrown error, so tests can assert on its type and fields rather than only its message. */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to throw');
}

/** Asserts that `path` is a closed cycle in which each element depends on the next. */
function expectCyclePath(nodes: readonly GraphNode[], path: string[] | null): void {
  expect(path).not.toBeNull();
  const cycle = path!;
  expect(cycle.length).toBeGreaterThanOrEqual(3);
  expect(cycle[0]).toBe(cycle[cycle.length - 1]);
  // Interior elements repeat only if the path loops twice, which a minimal report never does.
  expect(new Set(cycle.slice(0, -1)).size).toBe(cycle.length - 1);
  const byName = new Map(nodes.map((n) => [n.name, n]));
  for (let i = 0; i + 1 < cycle.length; i++) {
    expect(byName.get(cycle[i]!)?.dependencies).toContain(cycle[i + 1]);
  }
}


/**
 * A random DAG: node i may depend only on nodes created before it, which guarantees no cycle.
 * Names are shuffled against creation order and startOrder is drawn from a small range, so that
 * neither names nor startOrder alone happen to produce a valid order and ties are common.
 */
function randomDag(random: () => number): GraphNode[] {
  const count = 1 + Math.floor(random() * 30);
  const labels = Array.from({ length: count }, (_, i) => `s${String(i).padStart(2, '0')}`);
  for (let i = labels.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [labels[i], labels[j]] = [labels[j]!, labels[i]!];
  }
  const nodes: GraphNode[] = labels.map((name, i) => {
    const deps = new Set<string>();
    const wanted = i === 0 ? 0 : Math.floor(random() * Math.min(i, 4) + random());
    for (let k = 0; k < wanted; k++) deps.add(labels[Math.floor(random() * i)]!);
    const startOrder = random() < 0.3 ? undefined : Math.floor(random() * 3);
    return startOrder === undefined ? { name, dependencies: [...deps] } : { name, dependencies: [...deps], startOrder };
  });
  // Input order must not matter, so feed the nodes in a shuffled order too.
  for (let i = nodes.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [nodes[i], nodes[j]] = [nodes[j]!, nodes[i]!];
  }
  return nodes;
}

describe('startupOrder on the seeds\' examples', () => {
  it('starts a simple chain from its root: a, b, c', () => {
    expect(startupOrder(chain)).toEqual(['a', 'b', 'c']);
  });

  it('starts a diamond root first and the join last, in levels [A], [B, C], [D]', () => {
    expect(startupOrder(diamond)).toEqual(['A', 'B', 'C', 'D']);
    expect(dependencyLevels(diamond)).toEqual([['A'], ['B', 'C'], ['D']]);
  });

  it('orders the complex graph A..G and groups it into five levels', () => {
    expect(startupOrder(complex)).toEqual(['A', 'B', 'C', 'D', 'E', 'F', 'G']);
    expect(dependencyLevels(complex)).toEqual([['A'], ['B'], ['C', 'D'], ['E', 'F'], ['G']]);
  });

  it('accepts an empty graph', () => {
    expect(startupOrder([])).toEqual([]);
    expect(dependencyLevels([])).toEqual([]);
    expect(checkGraph([])).toEqual([]);
  });
});

describe('tie-breaking among ready services', () => {
  it('starts the lower startOrder first, whatever the names', () => {
    const nodes = [withOrder('a', 30), withOrder('b', 10), withOrder('c', 20)];
    expect(startupOrder(nodes)).toEqual(['b', 'c', 'a']);
  });

  it('falls back to the name when startOrder is equal, treating a missing startOrder as 0', () => {
    const nodes = [withOrder('zeta', 5), withOrder('alpha', 5), node('mid'), withOrder('neg', -1)];
    expect(startupOrder(nodes)).toEqual(['neg', 'mid', 'alpha', 'zeta']);
  });

  it('still starts a dependency before its dependent when the dependency has the higher startOrder', () => {
    const nodes = [withOrder('db', 100), withOrder('app', 1, 'db'), withOrder('cache', 50)];
    // cache and db are both ready at first; app, despite startOrder 1, waits for db.
    expect(startupOrder(nodes)).toEqual(['cache', 'db', 'app']);
  });

  it('sorts each level by startOrder, then name', () => {
    const nodes = [node('root'), withOrder('x', 2, 'root'), withOrder('y', 1, 'root'), withOrder('w', 2, 'root')];
    expect(dependencyLevels(nodes)).toEqual([['root'], ['y', 'w', 'x']]);
  });

  it('does not depend on the order in which nodes are given', () => {
    expect(startupOrder([...complex].reverse())).toEqual(startupOrder(complex));
  });
});

describe('orders over random DAGs (200 seeded graphs)', () => {
  const graphs = Array.from({ length: 200 }, (_, seed) => randomDag(mulberry32(seed + 1)));

  it('start every node exactly once and after all its dependencies', () => {
    for (const nodes of graphs) {
      const order = startupOrder(nodes);
      expect([...order].sort()).toEqual(nodes.map((n) => n.name).sort());
      const position = new Map(order.map((name, i) => [name, i]));
      for (const n of nodes) {
        for (const dep of n.dependencies) expect(position.get(dep)!).toBeLessThan(position.get(n.name)!);
      }
    }
  });

  it('start, at every step, the smallest service that is ready then', () => {
    for (const nodes of graphs) {
      const started = new Set<string>();
      for (const name of startupOrder(nodes)) {
        const ready = nodes.filter((n) => !started.has(n.name) && n.dependencies.every((d) => started.has(d)));
        const smallest = ready.reduce((best, n) => (compareNodes(n, best) < 0 ? n : best));
        expect(name).toBe(smallest.name);
        started.add(name);
      }
    }
  });

  it('stop every node exactly once and before all its dependencies', () => {
    for (const nodes of graphs) {
      const order = stopOrder(nodes);
      expect([...order].sort()).toEqual(nodes.map((n) => n.name).sort());
      const position = new Map(order.map((name, i) => [name, i]));
      for (const n of nodes) {
        for (const dep of n.dependencies) expect(position.get(n.name)!).toBeLessThan(position.get(dep)!);
      }
    }
  });

  it('put each node one level above its deepest dependency, and roots at level 0', () => {
    for (const nodes of graphs) {
      const levels = dependencyLevels(nodes);
      const level = new Map(levels.flatMap((names, i) => names.map((name) => [name, i] as const)));
      expect(level.size).toBe(nodes.length);
      for (const n of nodes) {
        const expected = n.dependencies.length === 0 ? 0 : 1 + Math.max(...n.dependencies.map((d) => level.get(d)!));
        expect(level.get(n.name)).toBe(expected);
      }
      for (const names of levels) expect(names.length).toBeGreaterThan(0);
    }
  });

  it('find no problem and no cycle', () => {
    for (const nodes of graphs) {
      expect(checkGraph(nodes)).toEqual([]);
      expect(findCycle(nodes)).toBeNull();
      expect(() => assertValidGraph(nodes)).not.toThrow();
    }
  });

  it('compute finish times as duration plus the latest dependency finish, and a critical path that attains the maximum', () => {
    graphs.forEach((nodes, seed) => {
      const random = mulberry32(1000 + seed);
      const durations = Object.fromEntries(nodes.map((n) => [n.name, Math.floor(random() * 10)]));
      const { path, total, finish } = criticalPath(nodes, durations);
      const byName = new Map(nodes.map((n) => [n.name, n]));
      for (const n of nodes) {
        const start = Math.max(0, ...n.dependencies.map((d) => finish[d]!));
        expect(finish[n.name]).toBe(start + durations[n.name]!);
      }
      expect(total).toBe(Math.max(...Object.values(finish)));
      expect(path.reduce((sum, name) => sum + durations[name]!, 0)).toBe(total);
      expect(byName.get(path[0]!)!.dependencies.every((d) => finish[d] === 0)).toBe(true);
      for (let i = 0; i + 1 < path.length; i++) expect(byName.get(path[i + 1]!)!.dependencies).toContain(path[i]);
    });
  });
});

describe('ordering a subset of services', () => {
  it('closes over the requested services and their transitive dependencies only', () => {
    expect(dependencyClosure(complex, ['E'])).toEqual(new Set(['A', 'B', 'C', 'E']));
    expect(startupOrder(complex, ['E'])).toEqual(['A', 'B', 'C', 'E']);
    expect(startupOrder(complex, ['F', 'C'])).toEqual(['A', 'B', 'C', 'D', 'F']);
    expect(dependencyLevels(complex, ['E', 'F'])).toEqual([['A'], ['B'], ['C', 'D'], ['E', 'F']]);
  });

  it('orders a root alone', () => {
    expect(startupOrder(diamond, ['A'])).toEqual(['A']);
  });

  it('throws UnknownNodeError naming each unknown requested service', () => {
    const error = thrown(() => startupOrder(complex, ['E', 'nope']));
    expect(error).toBeInstanceOf(UnknownNodeError);
    expect((error as UnknownNodeError).names).toEqual(['nope']);
    expect((error as Error).message).toContain('nope');
    expect(() => dependencyClosure(complex, ['x', 'y'])).toThrow(/unknown services: x, y/);
    expect(() => stopOrder(complex, ['ghost'])).toThrow(UnknownNodeError);
    expect(() => reverseDependencies(complex, 'ghost')).toThrow(UnknownNodeError);
  });

  it('ignores dependencies that are not defined (checkGraph reports them)', () => {
    const nodes = [node('a', 'missing'), node('b', 'a')];
    expect(startupOrder(nodes)).toEqual(['a', 'b']);
    expect(dependencyClosure(nodes, ['b'])).toEqual(new Set(['a', 'b']));
  });
});

describe('cycles', () => {
  const triangle = [node('a', 'c'), node('b', 'a'), node('c', 'b')];

  it('findCycle returns a closed path in which each service depends on the next', () => {
    const cycle = findCycle(triangle);
    expectCyclePath(triangle, cycle);
    expect(new Set(cycle)).toEqual(new Set(['a', 'b', 'c']));
    expect(cycle).toEqual(['a', 'c', 'b', 'a']);
  });

  it('findCycle reports only the cycle, not the path that leads into it', () => {
    const nodes = [node('entry', 'x'), node('x', 'y'), node('y', 'z'), node('z', 'x')];
    const cycle = findCycle(nodes);
    expectCyclePath(nodes, cycle);
    expect(cycle).not.toContain('entry');
  });

  it('findCycle returns null for a DAG and ignores self and missing dependencies', () => {
    expect(findCycle(complex)).toBeNull();
    expect(findCycle([node('a', 'a', 'ghost')])).toBeNull();
  });

  it('startupOrder throws a GraphError whose message spells out the cycle path', () => {
    const error = thrown(() => startupOrder(triangle));
    expect(error).toBeInstanceOf(GraphError);
    expect((error as Error).message).toMatch(/dependency cycle: \w+ -> \w+ -> \w+ -> \w+/);
    expect((error as Error).message).toContain('a -> ');
    const [problem] = (error as GraphError).problems;
    expect(problem?.kind).toBe('cycle');
    expectCyclePath(triangle, problem?.kind === 'cycle' ? problem.cycle : null);
  });

  it('startupOrder names only the cycle when services downstream of it are stuck as well', () => {
    const nodes = [node('p', 'q'), node('q', 'p'), node('after', 'p'), node('free')];
    const error = thrown(() => startupOrder(nodes)) as GraphError;
    const [problem] = error.problems;
    expect(problem?.kind === 'cycle' ? new Set(problem.cycle) : null).toEqual(new Set(['p', 'q']));
  });

  it('still orders a subset from which the cycle is not reachable', () => {
    const nodes = [...complex, node('x', 'y'), node('y', 'x'), node('z', 'x')];
    expect(startupOrder(nodes, ['G'])).toEqual(['A', 'B', 'C', 'D', 'E', 'F', 'G']);
    expect(criticalPath(nodes, { G: 1 }, ['G']).total).toBe(1);
    expect(() => startupOrder(nodes, ['z'])).toThrow(GraphError);
  });

  it('checkGraph reports a missing dependency naming both the service and the dependency', () => {
    const problems = checkGraph([node('api', 'db'), node('web', 'api')]);
    expect(problems).toEqual([
      {
        kind: 'missing-dependency',
        service: 'api',
        dependency: 'db',
        index: 0,
        message: 'api depends on db, which is not defined',
      },
    ]);
  });

  it('checkGraph reports a self-dependency and a duplicate dependency with their positions', () => {
    const problems = checkGraph([node('a'), node('b', 'a', 'b', 'a')]);
    expect(problems).toEqual([
      { kind: 'self-dependency', service: 'b', index: 1, message: 'b depends on itself' },
      { kind: 'duplicate-dependency', service: 'b', dependency: 'a', index: 2, message: 'b lists a twice' },
    ]);
  });

  it('checkGraph reports exactly one cycle problem even when the graph has two cycles', () => {
    const nodes = [...triangle, node('x', 'y'), node('y', 'x')];
    const cycles = checkGraph(nodes).filter((p) => p.kind === 'cycle');
    expect(cycles).toHaveLength(1);
    const [problem] = cycles;
    expectCyclePath(nodes, problem?.kind === 'cycle' ? problem.cycle : null);
    expect(problem?.service).toBe(problem?.kind === 'cycle' ? problem.cycle[0] : undefined);
    expect(problem?.message).toMatch(/^dependency cycle: /);
  });

  it('assertValidGraph throws a GraphError carrying every problem', () => {
    const error = thrown(() => assertValidGraph([node('a', 'a', 'nope'), node('b', 'c'), node('c', 'b')]));
    expect(error).toBeInstanceOf(GraphError);
    expect((error as GraphError).problems.map((p) => p.kind)).toEqual(['self-dependency', 'missing-dependency', 'cycle']);
    expect((error as Error).message).toContain('a depends on itself; a depends on nope, which is not defined; dependency cycle: ');
  });
});

describe('reverse dependencies and stop order', () => {
  it('lists direct dependents only, by default', () => {
    expect(reverseDependencies(complex, 'B')).toEqual(['C', 'D']);
    expect(reverseDependencies(complex, 'G')).toEqual([]);
  });

  it('lists every transitive dependent, in startup order, with transitive', () => {
    expect(reverseDependencies(complex, 'B', { transitive: true })).toEqual(['C', 'D', 'E', 'F', 'G']);
    expect(reverseDependencies(complex, 'C', { transitive: true })).toEqual(['E', 'G']);
    expect(reverseDependencies(diamond, 'A', { transitive: true })).toEqual(['B', 'C', 'D']);
  });

  it('stops the whole graph in exactly the reverse of its startup order', () => {
    expect(stopOrder(complex)).toEqual(['G', 'F', 'E', 'D', 'C', 'B', 'A']);
    expect(stopOrder(diamond)).toEqual([...startupOrder(diamond)].reverse());
  });

  it('stops only the requested subset, dependents first', () => {
    expect(stopOrder(complex, ['B', 'G', 'E'])).toEqual(['G', 'E', 'B']);
    expect(stopOrder(diamond, ['A', 'D'])).toEqual(['D', 'A']);
  });
});

describe('criticalPath', () => {
  it('follows the slowest branch of the diamond: A, B, D taking 7', () => {
    const result = criticalPath(diamond, { A: 1, B: 5, C: 2, D: 1 });
    expect(result.path).toEqual(['A', 'B', 'D']);
    expect(result.total).toBe(7);
    expect(result.finish).toEqual({ A: 1, B: 6, C: 3, D: 7 });
  });

  it('switches branch when the other one becomes slower', () => {
    const result = criticalPath(diamond, { A: 1, B: 1, C: 4, D: 1 });
    expect(result.path).toEqual(['A', 'C', 'D']);
    expect(result.total).toBe(6);
  });

  it('counts zero-duration services and services without a duration as taking no time', () => {
    const result = criticalPath(complex, { A: 2, C: 0, D: 3, E: 0, G: 1 });
    expect(result.finish).toEqual({ A: 2, B: 2, C: 2, D: 5, E: 2, F: 5, G: 6 });
    expect(result.path).toEqual(['A', 'B', 'D', 'F', 'G']);
    expect(result.total).toBe(6);
  });

  it('passes through a zero-duration service on the way to a slow one', () => {
    const result = criticalPath([node('gate'), node('work', 'gate')], { gate: 0, work: 3 });
    expect(result.path).toEqual(['gate', 'work']);
    expect(result.total).toBe(3);
  });

  it('is the service itself for a single service', () => {
    expect(criticalPath([node('solo')], { solo: 4 })).toEqual({ path: ['solo'], total: 4, finish: { solo: 4 } });
  });

  it('is empty for an empty graph', () => {
    expect(criticalPath([], {})).toEqual({ path: [], total: 0, finish: {} });
  });

  it('covers only the requested subset', () => {
    const result = criticalPath(complex, { A: 1, B: 1, C: 1, D: 10, E: 1, F: 1, G: 1 }, ['E']);
    expect(result.path).toEqual(['A', 'B', 'C', 'E']);
    expect(result.total).toBe(4);
    expect(Object.keys(result.finish).sort()).toEqual(['A', 'B', 'C', 'E']);
  });
});

describe('large graphs', () => {
  const size = 20_000;
  const name = (i: number) => `n${i}`;
  // Each node depends on the previous one, so any recursive walk would be 20,000 frames deep.
  const deepChain = Array.from({ length: size }, (_, i) => node(name(i), ...(i === 0 ? [] : [name(i - 1)])));

  it('orders a 20,000-node chain without overflowing the stack', () => {
    const order = startupOrder(deepChain);
    expect(order).toHaveLength(size);
    expect(order[0]).toBe('n0');
    expect(order[size - 1]).toBe(name(size - 1));
    expect(order.every((n, i) => n === name(i))).toBe(true);
    expect(findCycle(deepChain)).toBeNull();
    expect(checkGraph(deepChain)).toEqual([]);
    expect(dependencyLevels(deepChain)).toHaveLength(size);
    const ones = Object.fromEntries(deepChain.map((n) => [n.name, 1]));
    const longest = criticalPath(deepChain, ones, [name(size - 1)]);
    expect(longest.path).toHaveLength(size);
    expect(longest.total).toBe(size);
    expect(reverseDependencies(deepChain, 'n0', { transitive: true })).toHaveLength(size - 1);
  });

  it('detects a 20,000-node cycle', () => {
    const ring = deepChain.map((n, i) => (i === 0 ? node(n.name, name(size - 1)) : n));
    const cycle = findCycle(ring);
    expect(cycle).toHaveLength(size + 1);
    expectCyclePath(ring, cycle);
    const error = thrown(() => startupOrder(ring));
    expect(error).toBeInstanceOf(GraphError);
    expect(checkGraph(ring).map((p) => p.kind)).toEqual(['cycle']);
  });
});

describe('an unrelated cycle elsewhere in the graph', () => {
  const nodes = [node('a'), node('b', 'a'), node('x', 'y'), node('y', 'x')];

  it('does not stop ordering a stop or finding reverse dependencies', () => {
    expect(stopOrder(nodes, ['b'])).toEqual(['b']);
    expect(stopOrder(nodes, ['a', 'b'])).toEqual(['b', 'a']);
    expect(reverseDependencies(nodes, 'a')).toEqual(['b']);
  });
});
