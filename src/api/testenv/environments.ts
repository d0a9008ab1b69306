/**
 * Test environments through the client API: each is a workflow (testenv/<id>) that owns its
 * containers and network for its whole life. Create, start, run, follow, status, list and
 * cleanup; quick (create, test, remove) is in quick.ts.
 */
import { WorkflowFailedError, WorkflowNotFoundError, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { UsageError } from '../../config/errors.js';
import { ENV_ID, type EnvironmentPlan } from '../../config/testenv-schema.js';
import { testenvWorkflowId } from '../../model/ids.js';
import { testenvPlan, testenvSummary } from '../../model/runbook.js';
import { cleanupSignal, runUpdate, startSignal, testenvStateQuery, type EnvState, type RunRequest, type RunResult } from '../../model/testenv.js';
import { dockerClient } from '../../docker/client.js';
import { environmentResources } from '../../docker/resources.js';
import { webUiLink, type ApiContext } from '../context.js';
import { FailedError, NotFoundError, rootMessage, UnavailableError } from '../errors.js';
import { poll, queryAnswer, submit } from '../run.js';
import { anyPoller, workerPollers } from '../workers.js';
import { assertHost } from '../validate.js';
import { suggestionFix } from '../../config/suggest.js';
import { reapEnvironments } from './reaper.js';

const SETUP_PHASES: ReadonlySet<string> = new Set(['creating-network', 'creating-containers', 'starting', 'installing']);

/** True once set-up is over: ready, created (not auto-started), or gone. */
export const setUpDone = (s: EnvState) => !SETUP_PHASES.has(s.phase);

export interface Environment {
  id: string;
  workflowId: string;
  webUi?: string;
  handle: WorkflowHandle;
}

/** The environment's state, or undefined when no worker answers within the budget. */
export function queryState(handle: WorkflowHandle): Promise<EnvState | undefined> {
  return queryAnswer(handle.query(testenvStateQuery));
}

/** Refuses work that needs the environment's worker when none polls its task queue (it would wait for one). */
async function assertWorker(ctx: ApiContext, id: string, taskQueue: string): Promise<void> {
  if (anyPoller(await workerPollers(ctx, taskQueue, { enough: anyPoller }))) return;
  throw new UnavailableError(`no worker polls the task queue "${taskQueue}" of environment ${id}`, `start one: provisioning worker --task-queue ${taskQueue}`);
}

/**
 * The environment's state at each change until `until` holds, it is cleaned up or failed, or
 * its workflow closes. Polls the query (a pending result() long poll would keep the
 * connection, and the process, open).
 */
export async function* followEnvironment(env: Pick<Environment, 'handle'>, until: (s: EnvState) => boolean = () => false, { intervalMs = 250, signal }: { intervalMs?: number; signal?: AbortSignal } = {}): AsyncGenerator<EnvState> {
  let closed = false;
  const read = async () => {
    const state = await env.handle.query(testenvStateQuery).catch(() => undefined);
    if (state) return state;
    if ((await env.handle.describe()).status.name !== 'RUNNING') closed = true;
    return undefined;
  };
  for await (const state of poll(read, () => closed, { intervalMs, ...(signal ? { signal } : {}) })) {
    yield state;
    if (until(state) || state.phase === 'cleaned' || state.phase === 'failed') return;
  }
}

/** Starts the environment's workflow. A taken id is bad input: ids are never reused. */
export async function createEnvironment(ctx: ApiContext, plan: EnvironmentPlan, operation = 'testenv', { host }: { host?: string } = {}): Promise<Environment> {
  const handle = await submit(ctx, {
    workflowType: 'testEnvironment',
    workflowId: plan.workflowId,
    args: [{ plan, ...(host !== undefined ? { host: assertHost(host) } : {}) }],
    operation,
    targets: [plan.subject, ...plan.nodes.map((n) => n.name)],
    subject: `environment ${plan.id}`,
    summary: testenvSummary(plan),
    details: testenvPlan(plan),
    reuse: 'REJECT_DUPLICATE',
    // A workflow whose worker is lost still closes, after its TTL and a set-up budget; the reaper then removes what it left.
    executionTimeout: `${plan.ttlSeconds + 3600} seconds`,
    onTaken: () => Promise.resolve(new UsageError(`environment id "${plan.id}" is taken (workflow ${plan.workflowId} exists)`, 'choose another --id, or leave --id out to get a generated one')),
  });
  const link = webUiLink(ctx, plan.workflowId);
  return { id: plan.id, workflowId: plan.workflowId, handle, ...(link ? { webUi: link } : {}) };
}

export interface EnvironmentStatus {
  status: string;
  state?: EnvState;
}

/** An environment that exists (its workflow is known); with `open`, a closed one is refused. */
export async function findEnvironment(ctx: ApiContext, id: string, { open = false, worker = false }: { open?: boolean; worker?: boolean } = {}): Promise<Environment & { status: string }> {
  if (!ENV_ID.test(id)) throw new UsageError(`"${id}" is not a test environment id`, 'ids look like webserver-3fa2c1; list them with "provisioning test env list"');
  const workflowId = testenvWorkflowId(id);
  const handle = ctx.client.workflow.getHandle(workflowId);
  let status: string;
  try {
    const description = await handle.describe();
    if (description.type !== 'testEnvironment') throw new UsageError(`workflow ${workflowId} is not a test environment`, 'list environments with "provisioning test env list"');
    status = description.status.name;
    if (worker && status === 'RUNNING') await assertWorker(ctx, id, description.taskQueue);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new NotFoundError(`no test environment "${id}"`, 'list them with "provisioning test env list"');
    throw err;
  }
  if (open && status !== 'RUNNING') throw new UsageError(`test environment "${id}" was cleaned up (workflow ${status.toLowerCase()})`, `create a new one; its last state is shown by "provisioning test env status ${id}"`);
  const link = webUiLink(ctx, workflowId);
  return { id, workflowId, handle, status, ...(link ? { webUi: link } : {}) };
}

/** A closed environment's last state: its result, or the state its failure carries; and the failure. */
export async function closedState(env: Pick<Environment, 'handle'>): Promise<{ state?: EnvState; error?: unknown }> {
  try {
    return { state: (await env.handle.result()) as EnvState };
  } catch (err) {
    const carried = err instanceof WorkflowFailedError ? ((err.cause as { details?: unknown[] } | undefined)?.details?.[0] as EnvState | undefined) : undefined;
    return { error: err, ...(carried ? { state: carried } : {}) };
  }
}

/** State of a running environment, or the last state of a closed one. */
export async function environmentStatus(ctx: ApiContext, id: string): Promise<EnvironmentStatus & Environment> {
  const env = await findEnvironment(ctx, id);
  const state = env.status === 'RUNNING' ? await queryState(env.handle) : (await closedState(env)).state;
  return { ...env, ...(state ? { state } : {}) };
}

/** Starts an environment created without auto_start; follow it until it is ready. */
export async function startEnvironment(ctx: ApiContext, id: string): Promise<Environment> {
  const env = await findEnvironment(ctx, id, { open: true, worker: true });
  await env.handle.signal(startSignal);
  return env;
}

/** The first failing test as a FailedError carrying the whole run. */
export function testFailure(workflowId: string, result: RunResult): FailedError<RunResult> | undefined {
  const failed = result.tests.find((t) => !t.passed);
  if (result.passed || !failed) return undefined;
  return new FailedError(`${failed.node}: ${failed.name} failed (exit ${failed.exitCode})`, workflowId, failed.node, result);
}

function runError(err: unknown, id: string): Error {
  const message = rootMessage(err);
  if (/is (being cleaned up|cleaning-up|cleaned|failed)/.test(message)) return new UsageError(`test environment "${id}" was cleaned up (${message})`, 'create a new one');
  if (err instanceof WorkflowUpdateFailedError) return new Error(message);
  return err as Error;
}

/** Runs the taskservs' tests (or a command) on the environment's nodes; a failed test is a FailedError. */
export async function runTests(ctx: ApiContext, id: string, request: RunRequest = {}): Promise<RunResult> {
  const env = await findEnvironment(ctx, id, { open: true, worker: true });
  if (request.nodes) {
    const known = ((await queryState(env.handle))?.nodes ?? []).map((n) => n.name);
    for (const n of request.nodes) if (!known.includes(n)) throw new UsageError(`environment ${id} has no node "${n}"`, suggestionFix(n, known, 'node'));
  }
  let result: RunResult;
  try {
    result = await env.handle.executeUpdate(runUpdate, { args: [request] });
  } catch (err) {
    throw runError(err, id);
  }
  const failure = testFailure(env.workflowId, result);
  if (failure) throw failure;
  return result;
}

export type CleanupOutcome =
  | { id: string; status: string; alreadyCleanedUp: true }
  | { id: string; status: string; left: { containers: number; networks: number }; removed: { containers: number; networks: number } | null }
  | { id: string; signalled: true }
  | { id: string; removed: { containers: number; networks: number } | null };

/** Counted as removeEnvironment counts: the nodes' containers, and its networks own or borrowed. */
async function leftBehind(id: string): Promise<{ containers: number; networks: number }> {
  const found = await environmentResources(dockerClient(), id).catch(() => undefined);
  return found ? { containers: found.containers.length, networks: found.networks.length + found.claims.length } : { containers: 0, networks: 0 };
}

/**
 * Removes the environment: signals its workflow (and waits, unless `wait` is false). A closed
 * workflow (terminated, timed out) ran no cleanup: the reaper removes what it left.
 */
export async function cleanupEnvironment(ctx: ApiContext, id: string, { wait = true }: { wait?: boolean } = {}): Promise<CleanupOutcome> {
  const env = await findEnvironment(ctx, id, { worker: true });
  if (env.status !== 'RUNNING') {
    const left = await leftBehind(id);
    if (left.containers + left.networks === 0) return { id, status: env.status, alreadyCleanedUp: true };
    const mine = (await reapEnvironments(ctx, `cleanup-${id}`)).reaped.find((r) => r.id === id);
    return { id, status: env.status, left, removed: mine ? { containers: mine.containers, networks: mine.networks } : null };
  }
  await env.handle.signal(cleanupSignal);
  if (!wait) return { id, signalled: true };
  const { state } = await closedState(env);
  return { id, removed: state?.removed ?? null };
}

export interface EnvironmentRow {
  id: string;
  status: string;
  startTime: string;
  phase?: string;
  type?: string;
  subject?: string;
  nodes?: string[];
  expiresAt?: string;
}

/** Environments, newest first: running ones with their phase and nodes; closed ones too with `all`. */
export async function listEnvironments(ctx: ApiContext, { all = false, limit = 50 }: { all?: boolean; limit?: number } = {}): Promise<EnvironmentRow[]> {
  const query = `WorkflowType = "testEnvironment"${all ? '' : ' AND ExecutionStatus = "Running"'}`;
  const rows: EnvironmentRow[] = [];
  for await (const w of ctx.client.workflow.list({ query })) {
    const id = w.workflowId.replace(/^testenv\//, '');
    const state = w.status.name === 'RUNNING' ? await queryState(ctx.client.workflow.getHandle(w.workflowId)) : undefined;
    rows.push({ id, status: w.status.name, startTime: w.startTime.toISOString(), ...(state ? { phase: state.phase, type: state.type, subject: state.subject, nodes: state.nodes.map((n) => n.name), expiresAt: new Date(state.expiresAt).toISOString() } : {}) });
    if (rows.length >= limit) break;
  }
  return rows;
}

