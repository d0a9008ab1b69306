/** Removal by label, and the reaper that removes what belongs to closed workflows. */
import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError } from '@temporalio/client';
import { dockerClient as docker, isNotFound } from '../../docker/client.js';
import { testenvWorkflowId } from '../../model/ids.js';
import type { ReapedEnvironment, ReapResult } from '../../model/testenv.js';
import type Docker from 'dockerode';
import { environmentResources } from '../../docker/resources.js';
import { CLUSTER_LABEL, EXPIRES_LABEL, MANAGED_LABEL, NAMESPACE_LABEL, RUN_LABEL, TESTENV_LABEL, WORKFLOW_LABEL } from '../../model/labels.js';
import { removeIdlePoolNetworks } from './netpool.js';
import { EXPIRED_GRACE_MS, ownerRun, temporalCluster } from './ownership.js';

/**
 * Removes the environment's containers, then its network: its own is removed, a pooled one is
 * given back by removing the claim (after the nodes, so the next environment finds it empty).
 * `run` narrows it to what one workflow run made. Counts the nodes' containers and the networks
 * removed or given back.
 */
async function removeById(id: string, run?: string): Promise<{ containers: number; networks: number }> {
  const { containers, claims, networks } = await environmentResources(docker(), id, run);
  const remove = (c: Docker.ContainerInfo) =>
    docker()
      .getContainer(c.Id)
      .remove({ force: true, v: true })
      .catch((err: unknown) => {
        if (!isNotFound(err) && !/removal of container .* is already in progress/i.test((err as Error).message)) throw err;
      });
  await Promise.all(containers.map(remove));
  await Promise.all(claims.map(remove));
  for (const n of networks) {
    for (let attempt = 0; ; attempt++) {
      try {
        await docker().getNetwork(n.Id).remove();
        break;
      } catch (err) {
        if (isNotFound(err)) break;
        if (attempt >= 20) throw err;
        // A container still detaching from the network: try again shortly.
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  }
  return { containers: containers.length, networks: networks.length + claims.length };
}

/** Removes every container and network this workflow run made for the environment. Idempotent. */
export async function removeEnvironment({ id }: { id: string }): Promise<{ containers: number; networks: number }> {
  return removeById(id, ownerRun().runId);
}

interface Found {
  id: string;
  workflowId: string;
  run?: string;
  namespace?: string;
  cluster?: string;
  expiresAt?: number;
}

/**
 * Removes environments whose owning workflow run is closed (or unknown): a terminated
 * workflow, or one whose execution timed out after its worker was lost. Owners are asked only
 * when they are this worker's Temporal cluster and namespace; an environment of any owner is
 * also reaped once its TTL is long past (a dev server that is gone can no longer clean up).
 */
export async function reapTestEnvironments(): Promise<ReapResult> {
  const ctx = Context.current();
  const cluster = await temporalCluster();
  const namespace = ctx.info.workflowNamespace ?? 'default';
  const filters = { label: [`${MANAGED_LABEL}=true`, TESTENV_LABEL] };
  const [containers, networks] = await Promise.all([docker().listContainers({ all: true, filters }), docker().listNetworks({ filters })]);
  const found = new Map<string, Found>();
  for (const labels of [...containers.map((c) => c.Labels), ...networks.map((n) => n.Labels ?? {})]) {
    const id = labels[TESTENV_LABEL];
    if (!id) continue;
    const key = `${id}/${labels[RUN_LABEL] ?? ''}`;
    const expires = Number(labels[EXPIRES_LABEL]);
    found.set(key, {
      id,
      workflowId: labels[WORKFLOW_LABEL] ?? testenvWorkflowId(id),
      ...(labels[RUN_LABEL] ? { run: labels[RUN_LABEL] } : {}),
      ...(labels[NAMESPACE_LABEL] ? { namespace: labels[NAMESPACE_LABEL] } : {}),
      ...(labels[CLUSTER_LABEL] ? { cluster: labels[CLUSTER_LABEL] } : {}),
      ...(Number.isFinite(expires) && expires > 0 ? { expiresAt: expires } : {}),
    });
  }
  const reaped: ReapedEnvironment[] = [];
  for (const env of found.values()) {
    ctx.heartbeat(env.id);
    let status: string | undefined;
    if (env.expiresAt !== undefined && Date.now() > env.expiresAt + EXPIRED_GRACE_MS) status = 'expired';
    else if (env.namespace === namespace && env.cluster === cluster) {
      try {
        status = (await ctx.client.workflow.getHandle(env.workflowId, env.run).describe()).status.name;
      } catch (err) {
        if (!(err instanceof WorkflowNotFoundError)) throw err;
        status = 'not found';
      }
      if (status === 'RUNNING') status = undefined;
    }
    if (status === undefined) continue;
    reaped.push({ id: env.id, workflowId: env.workflowId, status, ...(await removeById(env.id, env.run)) });
  }
  // After the environments: their claims are gone, so the networks they gave back are idle now.
  return { checked: found.size, reaped, idlePoolNetworks: await removeIdlePoolNetworks() };
}
