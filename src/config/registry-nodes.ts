/** Graph nodes of a registry, with start_order as the tie-breaker. Pure; workflows use it. */
import type { GraphNode } from '../graph/graph.js';
import type { Registry } from './registry-schema.js';

export function registryNodes(registry: Pick<Registry, 'services'>): GraphNode[] {
  return Object.values(registry.services).map((s) => ({
    name: s.name,
    dependencies: s.dependencies,
    startOrder: s.startup.start_order,
  }));
}
