/**
 * Starting and following workflows, written once for every operation: submit under a
 * business-key id (a conflict names the run that holds it; a namespace without our search
 * attributes says how to register them), then follow by polling a query until it closes.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { WorkflowExecutionAlreadyStartedError, WorkflowFailedError, type WorkflowHandle, type WorkflowHandleWithFirstExecutionRunId, type WorkflowStartOptions } from '@temporalio/client';
import { TypedSearchAttributes, type Workflow } from '@temporalio/common';
import { OPERATION, TARGETS } from '../model/search-attributes.js';
import type * as workflows from '../workflows/index.js';
import { isUnknownSearchAttribute, registerCommand } from '../temporal/search-attributes.js';
import { taskQueueOf, webUiLink, type ApiContext } from './context.js';
import { BusyError, FailedError, rootMessage } from './errors.js';
import { within } from '../util/within.js';

/** A started (or found) workflow: where it is, its progress as it goes, its result. */
export interface Run<P, R> {
  workflowId: string;
  runId: string;
  webUi?: string;
  /** Snapshots of the workflow's progress, about every `intervalMs`, until it closes (or `signal` aborts). */
  progress(options?: { intervalMs?: number; signal?: AbortSignal }): AsyncGenerator<P>;
  /** The result; a FailedError when the workflow failed or its result says it did not succeed. */
  result(): Promise<R>;
}

/** The registered workflow types: a name that is not one, or arguments of the wrong shape, do not compile. */
type Exports = typeof workflows;
export type WorkflowName = { [K in keyof Exports]: Exports[K] extends Workflow ? K : never }[keyof Exports];
export type WorkflowFn<W extends WorkflowName> = Extract<Exports[W], Workflow>;
export type WorkflowArgs<W extends WorkflowName> = Parameters<WorkflowFn<W>>;

export interface Submission<W extends WorkflowName = WorkflowName> {
  workflowType: W;
  workflowId: string;
  args: WorkflowArgs<W>;
  /** ProvisioningOperation, and ProvisioningTargets when given. */
  operation: string;
  targets?: string[];
  /** Who holds the id when it is taken, for the BusyError: 'platform "default"'. */
  subject: string;
  /** REJECT_DUPLICATE for ids that are never reused (test environments). */
  reuse?: 'ALLOW_DUPLICATE' | 'REJECT_DUPLICATE';
  executionTimeout?: string;
  /** Called instead of the BusyError when the id is taken (e.g. a closed run under REJECT_DUPLICATE). */
  onTaken?: () => Promise<Error>;
  /** The Web UI's one-line summary and the plan (Markdown) of the run (model/runbook.ts). */
  summary?: string;
  details?: string;
}

export async function submit<W extends WorkflowName>(ctx: ApiContext, s: Submission<W>): Promise<WorkflowHandleWithFirstExecutionRunId<WorkflowFn<W>>> {
  const { client } = ctx;
  try {
    // The generic conditional type of `args` is beyond the compiler here; Submission<W> checked it.
    const options = {
      taskQueue: taskQueueOf(ctx),
      workflowId: s.workflowId,
      workflowIdConflictPolicy: 'FAIL',
      workflowIdReusePolicy: s.reuse ?? 'ALLOW_DUPLICATE',
      ...(s.executionTimeout ? { workflowExecutionTimeout: s.executionTimeout } : {}),
      ...(s.summary ? { staticSummary: s.summary } : {}),
      ...(s.details ? { staticDetails: s.details } : {}),
      typedSearchAttributes: new TypedSearchAttributes([
        { key: OPERATION, value: s.operation },
        ...(s.targets ? [{ key: TARGETS, value: s.targets }] : []),
      ]),
      args: s.args,
    } as unknown as WorkflowStartOptions<WorkflowFn<W>>;
    return await client.workflow.start<WorkflowFn<W>>(s.workflowType, options);
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      if (s.onTaken) throw await s.onTaken();
      const busy = await client.workflow.getHandle(s.workflowId).describe();
      const link = webUiLink(ctx, s.workflowId, busy.runId);
      throw new BusyError(s.subject, { workflowId: s.workflowId, runId: busy.runId, type: busy.type, startTime: busy.startTime.toISOString(), ...(link ? { webUi: link } : {}) });
    }
    if (isUnknownSearchAttribute(err)) {
      const namespace = client.options.namespace;
      throw new Error(`the Temporal namespace ${namespace} does not know this project's search attributes. Start a worker with "provisioning worker" (it registers them), or run: ${registerCommand(namespace)}`);
    }
    throw err;
  }
}

/**
 * Polls `read` every `intervalMs` and yields what it returns, until `closed()` says the
 * workflow has closed or `signal` aborts. A read that fails (no worker has picked the run up
 * yet) is skipped.
 */
export async function* poll<P>(
  read: () => Promise<P | undefined>,
  closed: () => boolean | Promise<boolean>,
  { intervalMs = 250, signal, wake }: { intervalMs?: number; signal?: AbortSignal; wake?: Promise<unknown> } = {},
): AsyncGenerator<P> {
  while (!signal?.aborted && !(await closed())) {
    const value = await read().catch(() => undefined);
    if (value !== undefined) yield value;
    await Promise.race([sleep(intervalMs, undefined, signal ? { signal } : {}).catch(() => undefined), ...(wake ? [wake.catch(() => undefined)] : [])]);
  }
}

/**
 * A Run over a handle whose result() long-polls: progress stops when the result arrives.
 * `judge` turns a finished result into a FailedError when it says the run did not succeed.
 */
export function followRun<P, R>(
  ctx: ApiContext,
  handle: WorkflowHandle,
  runId: string,
  read: () => Promise<P | undefined>,
  judge: (result: R) => FailedError<R> | undefined,
  describeFailure: (err: WorkflowFailedError) => FailedError<R>,
): Run<P, R> {
  // The result's long poll starts only when someone follows: a caller that only submits must
  // be able to close its connection without a poll still pending on it.
  let settled: Promise<R> | undefined;
  let finished = false;
  const settle = () => {
    if (!settled) {
      settled = handle.result() as Promise<R>;
      void settled.then(
        () => (finished = true),
        () => (finished = true),
      );
    }
    return settled;
  };
  const link = webUiLink(ctx, handle.workflowId, runId);
  return {
    workflowId: handle.workflowId,
    runId,
    ...(link ? { webUi: link } : {}),
    progress: (options = {}) => poll(read, () => finished, { ...options, wake: settle() }),
    async result() {
      let outcome: R;
      try {
        outcome = await settle();
      } catch (err) {
        if (err instanceof WorkflowFailedError) throw describeFailure(err);
        throw err;
      }
      const failure = judge(outcome);
      if (failure) throw failure;
      return outcome;
    },
  };
}

/** Waits for a workflow's result; its failure becomes a FailedError. */
export async function resultOf<R>(handle: WorkflowHandle, workflowType: string): Promise<R> {
  try {
    return (await handle.result()) as R;
  } catch (err) {
    if (err instanceof WorkflowFailedError) throw workflowFailed<R>(workflowType, handle.workflowId, err);
    throw err;
  }
}

/** A FailedError for a workflow failure that carries nothing more specific. */
export function workflowFailed<R>(workflowType: string, workflowId: string, err: WorkflowFailedError): FailedError<R> {
  return new FailedError<R>(`${workflowType} failed: ${err.cause?.message ?? err.message}`, workflowId);
}

export { rootMessage };

/** How long a progress or state query may take. */
const QUERY_BUDGET_MS = 5_000;

/** A query's answer, or undefined when it fails or does not come within QUERY_BUDGET_MS (a workflow whose worker is gone answers no query). */
export function queryAnswer<T>(query: Promise<T>): Promise<T | undefined> {
  return within(query.catch(() => undefined), QUERY_BUDGET_MS, () => undefined);
}
