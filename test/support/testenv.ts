/** Helpers for test-environment tests: plans from the example catalog, resources by label, waiting for a phase. */
import path from 'node:path';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { loadCatalog } from '../../src/config/settings.js';
import { environmentRequestSchema, planEnvironment, type EnvironmentPlan } from '../../src/config/testenv-schema.js';
import { dockerClient } from '../../src/docker/client.js';
import { environmentResources } from '../../src/docker/resources.js';
import { NETPOOL_NETWORK_LABEL } from '../../src/model/labels.js';
import type { EnvPhase, EnvState } from '../../src/model/testenv.js';
import { uniqueId } from './temporal.js';

export const exampleCatalog = path.resolve(import.meta.dirname, '../../examples/taskservs');

export async function planFor(request: unknown, id = uniqueId('t')): Promise<EnvironmentPlan> {
  const parsed = environmentRequestSchema.parse(request);
  const result = planEnvironment(id, parsed, { dir: exampleCatalog, taskservs: await loadCatalog(exampleCatalog) });
  if (!result.plan) throw new Error(JSON.stringify(result.problems));
  return result.plan;
}

/** The environment's node containers, and its networks: its own (labelled with its id) and the pooled ones it holds a claim on. */
export async function envResources(id: string): Promise<{ containers: string[]; networks: string[] }> {
  const { containers, claims, networks } = await environmentResources(dockerClient(), id);
  return { containers: containers.map((c) => c.Names[0]!.slice(1)), networks: [...networks.map((n) => n.Name), ...claims.map((c) => c.Labels[NETPOOL_NETWORK_LABEL]!)] };
}

/** Removes an environment's resources directly (a test's own safety net). */
export async function forceRemove(id: string): Promise<void> {
  const docker = dockerClient();
  const filters = { label: [`provisioning.testenv=${id}`] };
  for (const c of await docker.listContainers({ all: true, filters })) await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
  for (const n of await docker.listNetworks({ filters })) await docker.getNetwork(n.Id).remove().catch(() => undefined);
}

export function startEnv(client: Client, taskQueue: string, plan: EnvironmentPlan): Promise<WorkflowHandle> {
  return client.workflow.start('testEnvironment', { taskQueue, workflowId: plan.workflowId, args: [{ plan }] });
}

/** Polls the state query until `done` says so (or the workflow ends). */
export async function waitFor(handle: WorkflowHandle, done: (s: EnvState) => boolean, what = 'state'): Promise<EnvState> {
  for (let i = 0; i < 1200; i++) {
    const state = await handle.query<EnvState>('testenvState').catch(() => undefined);
    if (state && done(state)) return state;
    const { status } = await handle.describe();
    if (status.name !== 'RUNNING') throw new Error(`workflow ended (${status.name}) before ${what}: ${JSON.stringify(state)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

export const phase = (p: EnvPhase) => (s: EnvState) => s.phase === p;

/**
 * Waits (up to 30 s) until the environment's containers and network are gone: removal is an
 * activity, so call it while a worker still runs.
 */
export async function untilRemoved(id: string): Promise<{ containers: string[]; networks: string[] }> {
  let left = await envResources(id);
  for (let i = 0; i < 300 && left.containers.length + left.networks.length > 0; i++) {
    await new Promise((r) => setTimeout(r, 100));
    left = await envResources(id);
  }
  return left;
}
