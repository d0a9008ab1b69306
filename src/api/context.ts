/**
 * What every call of the client API takes: a Temporal client, the task queue of the workers,
 * and where the Web UI is (for links in results). Making the client is the caller's business
 * (`connectClient` in temporal/connection.ts, or the SDK's own Connection and Client).
 */
import type { Client } from '@temporalio/client';
import { DEFAULT_TASK_QUEUE } from '../model/worker-defaults.js';

export interface ApiContext {
  client: Client;
  /** Task queue the workers poll (default "provisioning"). */
  taskQueue?: string;
  /** Base URL of the Temporal Web UI, e.g. http://localhost:8233; no links without it. */
  webUi?: string;
}

export function taskQueueOf(ctx: ApiContext): string {
  return ctx.taskQueue ?? DEFAULT_TASK_QUEUE;
}

/** The Web UI page of a workflow (run), when the context knows the UI. */
export function webUiLink(ctx: Pick<ApiContext, 'client' | 'webUi'>, workflowId: string, runId?: string): string | undefined {
  return ctx.webUi ? workflowPage(ctx.webUi, ctx.client.options.namespace, workflowId, runId) : undefined;
}

/** The Web UI's page of a workflow (run) under `base`. */
export function workflowPage(base: string, namespace: string, workflowId: string, runId?: string): string {
  return `${base.replace(/\/$/, '')}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}${runId ? `/${runId}` : ''}`;
}
