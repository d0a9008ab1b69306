/** Graph nodes of a registry, with start_order as the tie-breaker. Pure; workflows use it. */
import type { GraphNode } from '../graph/graph.js';
import { startupOrder } from '../graph/order.js';
import type { Registry } from './registry-schema.js';

export function registryNodes(registry: Pick<Registry, 'services'>): GraphNode[] {
  return Object.values(registry.services).map((s) => ({
    name: s.name,
    dependencies: s.dependencies,
    startOrder: s.startup.start_order,
  }));
}

/** The services a start acts on: the requested ones (or all auto_start ones) and their dependencies, in startup order. */
export function startTargets(registry: Pick<Registry, 'services'>, requested?: readonly string[]): string[] {
  const roots = requested && requested.length > 0 ? requested : Object.values(registry.services).filter((s) => s.startup.auto_start).map((s) => s.name);
  return roots.length === 0 ? [] : startupOrder(registryNodes(registry), roots);
}
