/**
 * The project's workflows as tasks (the seeds' orchestrator word): id, operation, targets,
 * status, times, progress, and the result or the failure. Lists filter by operation, status
 * and target, newest first, a page at a time with a cursor.
 */
import { WorkflowFailedError, WorkflowNotFoundError, type WorkflowHandle } from '@temporalio/client';
import { UsageError } from '../config/errors.js';
import { progressQuery } from '../model/platform.js';
import { OPERATION, TARGETS } from '../model/search-attributes.js';
import { serverCreateProgressQuery } from '../model/servers.js';
import { supervisorStateQuery } from '../model/supervisor.js';
import { testenvStateQuery } from '../model/testenv.js';
import { webUiLink, type ApiContext } from './context.js';
import { NotFoundError, rootMessage } from './errors.js';
import { queryAnswer } from './run.js';
import { listQuery, type WorkflowStatusFilter } from './workflows.js';

export interface Task {
  id: string;
  runId: string;
  type: string;
  operation: string | null;
  targets: string[];
  status: string;
  startTime: string;
  closeTime?: string;
  /** Events in the workflow's history so far: grows with every step, the same for every reader. */
  historyLength: number;
  webUi?: string;
  progress?: unknown;
  result?: unknown;
  failure?: { message: string };
}

export interface TaskFilter {
  operation?: string;
  status?: WorkflowStatusFilter;
  target?: string;
  limit?: number;
  /** From the previous page's `next`. */
  cursor?: string;
}

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9._-]{0,199}$/;

/** The cursor is the start time of the last task of the page before; the next page starts before it. */
function decodeCursor(cursor: string): string {
  const iso = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(iso)) throw new UsageError(`cursor "${cursor}" is not one this server gave out`, 'pass the `next` value of the previous page, or leave cursor out for the first page');
  return iso;
}

export function taskQuery(filter: TaskFilter): string {
  let query = listQuery(filter.operation, filter.status);
  if (filter.target !== undefined) {
    if (!NAME.test(filter.target)) throw new UsageError(`target "${filter.target}" is not a valid name`, 'use a service, server, taskserv or node name (letters, digits, ".", "_", "-")');
    query += ` AND ${TARGETS.name} = "${filter.target}"`;
  }
  if (filter.cursor !== undefined) query += ` AND StartTime < "${decodeCursor(filter.cursor)}"`;
  return query;
}

export async function listTasks(ctx: ApiContext, filter: TaskFilter = {}): Promise<{ tasks: Task[]; next?: string }> {
  const query = taskQuery(filter);
  const limit = filter.limit ?? 50;
  const tasks: Task[] = [];
  for await (const w of ctx.client.workflow.list({ query, pageSize: Math.min(limit, 1000) })) {
    const link = webUiLink(ctx, w.workflowId, w.runId);
    tasks.push({
      id: w.workflowId,
      runId: w.runId,
      type: w.type,
      operation: w.typedSearchAttributes.get(OPERATION) ?? null,
      targets: w.typedSearchAttributes.get(TARGETS) ?? [],
      status: w.status.name,
      startTime: w.startTime.toISOString(),
      ...(w.closeTime ? { closeTime: w.closeTime.toISOString() } : {}),
      historyLength: w.historyLength,
      ...(link ? { webUi: link } : {}),
    });
    if (tasks.length >= limit) break;
  }
  const last = tasks.at(-1);
  return { tasks, ...(tasks.length === limit && last ? { next: Buffer.from(last.startTime).toString('base64url') } : {}) };
}

/** The progress a running workflow of this type answers, if it has a progress query (and answers in time). */
export async function progressOf(handle: WorkflowHandle, type: string): Promise<unknown> {
  const query = { platformStart: progressQuery, platformStop: progressQuery, platformRestart: progressQuery, platformUpdate: progressQuery, serverCreate: serverCreateProgressQuery, clusterCreate: serverCreateProgressQuery, testEnvironment: testenvStateQuery, serviceSupervisor: supervisorStateQuery }[type];
  return query ? queryAnswer(handle.query(query as typeof progressQuery)) : undefined;
}

export async function getTask(ctx: ApiContext, id: string): Promise<Task> {
  const handle = ctx.client.workflow.getHandle(id);
  let d;
  try {
    d = await handle.describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new NotFoundError(`no task "${id}"`, 'list them with GET /tasks (or "provisioning workflow list")');
    throw err;
  }
  const status = d.status.name;
  let outcome: Pick<Task, 'progress' | 'result' | 'failure'> = {};
  if (status === 'RUNNING') {
    const progress = await progressOf(handle, d.type);
    outcome = progress !== undefined ? { progress } : {};
  } else if (status === 'COMPLETED') {
    outcome = { result: await handle.result() };
  } else if (status !== 'CONTINUED_AS_NEW') {
    try {
      await handle.result();
    } catch (err) {
      outcome = { failure: { message: err instanceof WorkflowFailedError ? rootMessage(err) : (err as Error).message } };
    }
  }
  const link = webUiLink(ctx, id, d.runId);
  return {
    id,
    runId: d.runId,
    type: d.type,
    operation: d.typedSearchAttributes.get(OPERATION) ?? null,
    targets: d.typedSearchAttributes.get(TARGETS) ?? [],
    status,
    startTime: d.startTime.toISOString(),
    ...(d.closeTime ? { closeTime: d.closeTime.toISOString() } : {}),
    historyLength: d.historyLength,
    ...(link ? { webUi: link } : {}),
    ...outcome,
  };
}

export interface TaskEvent {
  /** The task's history length at this event: stable for every reader, so Last-Event-ID resumes. */
  id: number;
  kind: 'progress' | 'done';
  task: Task;
}

/**
 * The task at each change of its progress until it closes (a last `done` event with its
 * result or failure). `after` (a Last-Event-ID) skips what the reader has already seen.
 */
export async function* taskEvents(ctx: ApiContext, id: string, { after = 0, intervalMs = 250, signal }: { after?: number; intervalMs?: number; signal?: AbortSignal } = {}): AsyncGenerator<TaskEvent> {
  let last = '';
  while (!signal?.aborted) {
    const task = await getTask(ctx, id);
    const done = task.status !== 'RUNNING';
    const key = JSON.stringify([task.historyLength, task.status, task.progress]);
    if ((key !== last && task.historyLength > after) || done) {
      last = key;
      yield { id: task.historyLength, kind: done ? 'done' : 'progress', task };
    }
    if (done) return;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
