/**
 * The ownership rule for every container and network the project makes: one found by name
 * is adopted (reused, started, removed) only when its labels say it is ours; one that is not
 * is never touched, and the error names who it belongs to. Creates that race (a retry after
 * a crash, two creates at once) meet on the name: a 409 finds the one that won.
 */
import type Docker from 'dockerode';
import { CLUSTER_LABEL, INFRA_LABEL, MANAGED_LABEL, NETPOOL_LABEL, RUN_LABEL, SERVER_LABEL, TESTENV_LABEL, WORKFLOW_LABEL } from '../model/labels.js';
import { isConflict } from './client.js';

export type Labels = Record<string, string> | null | undefined;

/**
 * Undefined when `labels` carry every `expected` label with its value (the resource is ours);
 * otherwise who the labels say it belongs to, for the error.
 */
export function foreignOwner(labels: Labels, expected: Record<string, string>): string | undefined {
  const l = labels ?? {};
  if (Object.entries(expected).every(([k, v]) => l[k] === v)) return undefined;
  if (l[WORKFLOW_LABEL]) return `workflow ${l[WORKFLOW_LABEL]} (run ${l[RUN_LABEL] ?? '?'})`;
  if (l[MANAGED_LABEL] === 'true' && l[INFRA_LABEL]) return `infra ${l[INFRA_LABEL]}${l[SERVER_LABEL] ? ` (server ${l[SERVER_LABEL]})` : ''}`;
  if (l[CLUSTER_LABEL]) return `another Temporal cluster (${l[CLUSTER_LABEL]})`;
  return 'something else (its labels do not say it is ours)';
}

/**
 * Finds a resource by name and adopts it, or creates it; when the create meets a resource
 * of the same name (409), that one is found and adopted instead. `adopt` applies the
 * ownership rule (it throws for a foreign resource).
 */
export async function findOrCreate<F, T>({ find, create, adopt }: { find: () => Promise<F | undefined>; create: () => Promise<T>; adopt: (found: F) => T | Promise<T> }): Promise<T> {
  const existing = await find();
  if (existing !== undefined) return adopt(existing);
  try {
    return await create();
  } catch (err) {
    if (!isConflict(err)) throw err;
    const found = await find();
    if (found === undefined) throw err;
    return adopt(found);
  }
}

/**
 * What a test environment holds on the engine: its nodes' containers, its claims on pooled
 * networks (containers that are never started) and its own networks. `run` narrows it to
 * what one workflow run made.
 */
export async function environmentResources(docker: Docker, id: string, run?: string): Promise<{ containers: Docker.ContainerInfo[]; claims: Docker.ContainerInfo[]; networks: Docker.NetworkInspectInfo[] }> {
  const filters = { label: [`${TESTENV_LABEL}=${id}`, ...(run ? [`${RUN_LABEL}=${run}`] : [])] };
  const [all, networks] = await Promise.all([docker.listContainers({ all: true, filters }), docker.listNetworks({ filters })]);
  return { containers: all.filter((c) => c.Labels[NETPOOL_LABEL] !== 'claim'), claims: all.filter((c) => c.Labels[NETPOOL_LABEL] === 'claim'), networks };
}
