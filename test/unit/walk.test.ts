import { describe, expect, it } from 'vitest';
import { startupOrder, stopOrder, walk, type GraphNode } from '../../src/graph/index.js';

// db <- cache <- api ; db <- worker ; api, worker <- gateway
const nodes: GraphNode[] = [
  { name: 'db', dependencies: [] },
  { name: 'cache', dependencies: ['db'] },
  { name: 'api', dependencies: ['cache'] },
  { name: 'worker', dependencies: ['db'] },
  { name: 'gateway', dependencies: ['api', 'worker'] },
];

/** A visit that takes `ms` per node and records when it began and ended. */
function timed(ms: Record<string, number>) {
  const log: string[] = [];
  const running = new Set<string>();
  let maxParallel = 0;
  const visit = async (name: string) => {
    log.push(`begin ${name}`);
    running.add(name);
    maxParallel = Math.max(maxParallel, running.size);
    await new Promise((r) => setTimeout(r, ms[name] ?? 1));
    running.delete(name);
    log.push(`end ${name}`);
    return name;
  };
  return { log, visit, parallel: () => maxParallel };
}

describe('the eager graph walk', () => {
  it('dependencies first: a node starts when its own dependencies are done, not when a whole level is', async () => {
    const t = timed({ db: 5, cache: 5, api: 5, worker: 60, gateway: 1 });
    await walk(nodes, startupOrder(nodes, ['gateway']), 'dependencies-first', { visit: t.visit });
    const at = (e: string) => t.log.indexOf(e);
    for (const n of nodes) for (const d of n.dependencies) expect(at(`end ${d}`)).toBeLessThan(at(`begin ${n.name}`));
    // api (behind the slow worker's level) did not wait for worker.
    expect(at('end api')).toBeLessThan(at('end worker'));
    expect(t.parallel()).toBeGreaterThanOrEqual(2);
  });

  it('dependents first: a node stops only after everything that depends on it has', async () => {
    const t = timed({ gateway: 5, api: 5, worker: 30, cache: 5, db: 1 });
    const results = await walk(nodes, stopOrder(nodes), 'dependents-first', { visit: t.visit });
    const at = (e: string) => t.log.indexOf(e);
    for (const n of nodes) for (const d of n.dependencies) expect(at(`end ${n.name}`)).toBeLessThan(at(`begin ${d}`));
    expect(at('end cache')).toBeLessThan(at('end worker'));
    expect([...results.keys()]).toEqual(stopOrder(nodes));
  });

  it('passes each node its predecessors\' results, and reports each predecessor as it finishes', async () => {
    const heard: string[] = [];
    const pending: Record<string, string[]> = {};
    const results = await walk<number>(nodes, startupOrder(nodes), 'dependencies-first', {
      pending: (name, waitingOn) => (pending[name] = waitingOn),
      predecessorDone: (name, p, r) => heard.push(`${name}<-${p}=${r}`),
      visit: (name, preds) => Promise.resolve(name === 'db' ? 1 : 1 + Math.max(...preds)),
    });
    expect(pending.gateway).toEqual(['api', 'worker']);
    expect(results.get('gateway')).toBe(4);
    expect(heard).toContain('gateway<-worker=2');
    expect(heard).toContain('api<-cache=2');
  });

  it('counts only edges inside the walked set, and refuses an order that is not topological', async () => {
    const visited: string[] = [];
    await walk(nodes, ['api', 'worker'], 'dependencies-first', { visit: (n) => Promise.resolve(void visited.push(n)) });
    expect(visited.sort()).toEqual(['api', 'worker']);
    await expect(walk(nodes, ['cache', 'db'], 'dependencies-first', { visit: () => Promise.resolve(undefined) })).rejects.toThrow('walk order is not dependencies-first: cache comes before db');
    await expect(walk(nodes, ['db', 'cache'], 'dependents-first', { visit: () => Promise.resolve(undefined) })).rejects.toThrow('walk order is not dependents-first: db comes before cache');
  });
});
