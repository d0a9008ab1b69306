/** Who owns a test-environment resource: the labels that tie it to the workflow run, namespace and Temporal cluster that made it, and the rule that only that run reuses it. */
import { ApplicationFailure, Context } from '@temporalio/activity';
import { foreignOwner, type Labels } from '../../docker/resources.js';
import { CLUSTER_LABEL, EXPIRES_LABEL, MANAGED_LABEL, NAMESPACE_LABEL, RUN_LABEL, TESTENV_LABEL, WORKFLOW_LABEL } from '../../model/labels.js';

/** Every node's PID 1 follows this file and every step appends to it: `docker logs` is the node's log. */
export const NODE_LOG = '/var/log/provisioning/node.log';

export function failure(message: string, type = 'TestEnvConfigError'): ApplicationFailure {
  return ApplicationFailure.create({ message, type, nonRetryable: true });
}

/** An environment whose TTL passed this long ago is reaped whoever owns it (its own TTL cleanup did not happen). */
export const EXPIRED_GRACE_MS = 15 * 60 * 1000;

let clusterId: string | undefined;
/** The Temporal cluster this worker talks to; a failed lookup is not remembered (the activity retries). */
export async function temporalCluster(): Promise<string> {
  if (clusterId) return clusterId;
  const info = await Context.current().client.workflowService.getClusterInfo({});
  if (!info.clusterId) throw new Error('the Temporal server did not say its cluster id');
  return (clusterId = info.clusterId);
}

interface Owner {
  id: string;
  /** Epoch ms after which the environment may be reaped whatever its owner says. */
  expiresAt?: number;
}

/** The workflow run this activity works for. */
export function ownerRun(): { workflowId: string; runId: string; namespace: string } {
  const info = Context.current().info;
  const execution = info.workflowExecution;
  if (!execution) throw failure('test-environment activities run only on behalf of a workflow');
  return { workflowId: execution.workflowId, runId: execution.runId, namespace: info.workflowNamespace ?? 'default' };
}

/** Labels that tie a resource to the workflow run, namespace and Temporal cluster that own it. */
export async function ownerLabels({ id, expiresAt }: Owner): Promise<Record<string, string>> {
  const run = ownerRun();
  return {
    [MANAGED_LABEL]: 'true',
    [TESTENV_LABEL]: id,
    [WORKFLOW_LABEL]: run.workflowId,
    [RUN_LABEL]: run.runId,
    [NAMESPACE_LABEL]: run.namespace,
    [CLUSTER_LABEL]: await temporalCluster(),
    ...(expiresAt ? { [EXPIRES_LABEL]: String(expiresAt) } : {}),
  };
}

/** The ownership rule (docker/resources.ts) for environments: a resource found by name is reused only when this same workflow run made it (a retry). */
export function assertOurs(kind: string, name: string, labels: Labels): void {
  const owner = foreignOwner(labels, { [RUN_LABEL]: ownerRun().runId });
  if (owner) {
    throw failure(`${kind} ${name} already exists and belongs to ${owner}; choose another environment id, or remove it ("provisioning test env reap")`);
  }
}

/** When this attempt was cancelled or superseded while it created something, remove it again. */
export async function undoIfCancelled(remove: () => Promise<unknown>): Promise<void> {
  if (!Context.current().cancellationSignal.aborted) return;
  await remove().catch(() => undefined);
  throw Context.current().cancellationSignal.reason ?? new Error('cancelled');
}

// ---------------------------------------------------------------------------------------------
// Network
