/**
 * The floor of the scale benchmark: a plain script that starts the same graph eagerly (each
 * service spawned the moment its dependencies' ports answer, probed with waitHealthy's
 * back-off) and stops it the same way in reverse (each process group sent SIGTERM once its
 * dependents are gone, then polled until it is). No Temporal, no bookkeeping, nothing durable:
 * what a hand-written start-up script costs, and so the bound to measure against.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { stopOrder, startupOrder, walk } from '../../src/graph/index.js';
import { graphNodes, type Shape } from './dag.js';
import { allocatePorts, spawnService, waitForPort, withHome } from './procs.js';

const START_TIMEOUT_MS = 20_000;

function groupGone(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

export interface EagerRun {
  startSeconds: number;
  stopSeconds: number;
}

export function runEagerScript(shape: Shape): Promise<EagerRun> {
  return withHome(`eager-${shape.name}`, async (home) => {
    const ports = await allocatePorts(shape);
    const byName = new Map(shape.services.map((s) => [s.name, s]));
    const nodes = graphNodes(shape);
    const pids = new Map<string, number>();
    const t0 = performance.now();
    await walk<void>(nodes, startupOrder(nodes), 'dependencies-first', {
      visit: async (name) => {
        pids.set(name, await spawnService(home, byName.get(name)!, ports[name]!));
        await waitForPort(ports[name]!, START_TIMEOUT_MS);
      },
    });
    const startSeconds = (performance.now() - t0) / 1000;
    const t1 = performance.now();
    await walk<void>(nodes, stopOrder(nodes), 'dependents-first', {
      visit: async (name) => {
        const pgid = pids.get(name)!;
        process.kill(-pgid, 'SIGTERM');
        while (!groupGone(pgid)) await sleep(20);
      },
    });
    return { startSeconds, stopSeconds: (performance.now() - t1) / 1000 };
  });
}
