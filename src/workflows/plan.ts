/**
 * planStartup: computes the startup order and levels of a registry snapshot through the
 * graph module and exposes them through a query. The first step of every platform start.
 */
import { ApplicationFailure, defineQuery, setHandler } from '@temporalio/workflow';
import { registryNodes } from '../config/registry-nodes.js';
import type { Registry } from '../config/registry-schema.js';
import { dependencyLevels, GraphError, startupOrder, UnknownNodeError } from '../graph/index.js';

export interface StartupPlanInput {
  registry: Registry;
  /** Only these services and what they depend on; all services when absent. */
  services?: string[];
}

export interface StartupPlan {
  order: string[];
  levels: string[][];
}

export const planQuery = defineQuery<StartupPlan | undefined>('plan');

export async function planStartup(input: StartupPlanInput): Promise<StartupPlan> {
  let plan: StartupPlan | undefined;
  setHandler(planQuery, () => plan);
  const nodes = registryNodes(input.registry);
  try {
    plan = { order: startupOrder(nodes, input.services), levels: dependencyLevels(nodes, input.services) };
  } catch (err) {
    if (err instanceof GraphError || err instanceof UnknownNodeError) {
      throw ApplicationFailure.nonRetryable(err.message, err.name);
    }
    throw err;
  }
  return Promise.resolve(plan);
}
