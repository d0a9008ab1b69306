/**
 * The seeds' way: one service at a time in start order, each started and then waited healthy
 * (the same TCP probe and 25 ms → 500 ms back-off as waitHealthy) before the next one starts.
 * A plain loop in this process, no Temporal.
 */
import { startupOrder } from '../../src/graph/index.js';
import { graphNodes, type Shape } from './dag.js';
import { allocatePorts, spawnService, waitForPort, withHome } from './procs.js';

const START_TIMEOUT_MS = 20_000;

export function runSequential(shape: Shape): Promise<number> {
  return withHome(`sequential-${shape.name}`, async (home) => {
    const ports = await allocatePorts(shape);
    const byName = new Map(shape.services.map((s) => [s.name, s]));
    const order = startupOrder(graphNodes(shape));
    const t0 = performance.now();
    for (const name of order) {
      await spawnService(home, byName.get(name)!, ports[name]!);
      await waitForPort(ports[name]!, START_TIMEOUT_MS);
    }
    return (performance.now() - t0) / 1000;
  });
}
