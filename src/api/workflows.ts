/** The project's workflows through Temporal visibility: list by operation and status, status, cancel. */
import { WorkflowNotFoundError } from '@temporalio/client';
import { UsageError } from '../config/errors.js';
import { OPERATION, TARGETS } from '../model/search-attributes.js';
import { webUiLink, type ApiContext } from './context.js';
import { NotFoundError } from './errors.js';

import { WORKFLOW_STATUSES, type WorkflowStatusFilter } from '../model/workflow-status.js';

export { WORKFLOW_STATUSES, type WorkflowStatusFilter };

const STATUS_QUERY: Record<WorkflowStatusFilter, string> = {
  running: 'Running',
  completed: 'Completed',
  failed: 'Failed',
  canceled: 'Canceled',
  terminated: 'Terminated',
  'timed-out': 'TimedOut',
  'continued-as-new': 'ContinuedAsNew',
};

/** The visibility query for the filters; values are validated, so nothing a caller sends reaches the query unchecked. */
export function listQuery(operation?: string, status?: WorkflowStatusFilter): string {
  const parts: string[] = [];
  if (operation) {
    if (!/^[a-z][a-z0-9-]*$/.test(operation)) throw new UsageError(`operation "${operation}" is not a valid name`, 'use lowercase letters, digits and "-", e.g. platform-start or server-create');
    parts.push(`${OPERATION.name} = "${operation}"`);
  } else {
    parts.push(`${OPERATION.name} IS NOT NULL`);
  }
  if (status) {
    if (!WORKFLOW_STATUSES.includes(status)) throw new UsageError(`status "${String(status)}" is not a workflow status`, `use one of ${WORKFLOW_STATUSES.join(', ')}`);
    parts.push(`ExecutionStatus = "${STATUS_QUERY[status]}"`);
  }
  return parts.join(' AND ');
}

export interface WorkflowRow {
  workflowId: string;
  runId: string;
  type: string;
  status: string;
  operation?: string;
  targets?: string[];
  startTime: string;
}

export async function listWorkflows(ctx: ApiContext, { operation, status, limit = 20 }: { operation?: string; status?: WorkflowStatusFilter; limit?: number } = {}): Promise<{ query: string; workflows: WorkflowRow[] }> {
  const query = listQuery(operation, status);
  const workflows: WorkflowRow[] = [];
  for await (const w of ctx.client.workflow.list({ query })) {
    const op = w.typedSearchAttributes.get(OPERATION);
    const targets = w.typedSearchAttributes.get(TARGETS);
    workflows.push({ workflowId: w.workflowId, runId: w.runId, type: w.type, status: w.status.name, ...(op ? { operation: op } : {}), ...(targets ? { targets } : {}), startTime: w.startTime.toISOString() });
    if (workflows.length >= limit) break;
  }
  return { query, workflows };
}

export interface WorkflowStatus {
  workflowId: string;
  runId: string;
  type: string;
  status: string;
  startTime: string;
  closeTime?: string;
  operation: string | null;
  historyLength: number;
  webUi?: string;
  /** The result, once it has completed. */
  result?: unknown;
}

async function described(ctx: ApiContext, id: string) {
  const handle = ctx.client.workflow.getHandle(id);
  try {
    return { handle, description: await handle.describe() };
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new NotFoundError(`no workflow with id "${id}"`, 'list them with "provisioning workflow list"');
    throw err;
  }
}

export async function workflowStatus(ctx: ApiContext, id: string): Promise<WorkflowStatus> {
  const { handle, description: d } = await described(ctx, id);
  const result: unknown = d.status.name === 'COMPLETED' ? await handle.result().catch(() => undefined) : undefined;
  const link = webUiLink(ctx, id, d.runId);
  return {
    workflowId: id,
    runId: d.runId,
    type: d.type,
    status: d.status.name,
    startTime: d.startTime.toISOString(),
    ...(d.closeTime ? { closeTime: d.closeTime.toISOString() } : {}),
    operation: d.typedSearchAttributes.get(OPERATION) ?? null,
    historyLength: d.historyLength,
    ...(link ? { webUi: link } : {}),
    ...(result !== undefined ? { result } : {}),
  };
}

/** Requests cancellation of a running workflow; it cleans up what it must and stops. */
export async function cancelWorkflow(ctx: ApiContext, id: string): Promise<{ workflowId: string; runId: string }> {
  const { handle, description: d } = await described(ctx, id);
  if (d.status.name !== 'RUNNING') throw new UsageError(`workflow ${id} is not running (${d.status.name})`, 'only a running workflow can be cancelled');
  await handle.cancel();
  return { workflowId: id, runId: d.runId };
}
