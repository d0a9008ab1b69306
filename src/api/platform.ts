/**
 * Platform operations as workflows under the platform's business key (platform/<name>), so two
 * operations on one platform never run at once: start, stop, restart, update (a rolling restart).
 */
import type { WorkflowFailedError } from '@temporalio/client';
import { registryNodes, startTargets } from '../config/registry-nodes.js';
import { startupOrder, stopOrder } from '../graph/index.js';
import type { Registry } from '../config/registry-schema.js';
import { platformPlan, platformSummary } from '../model/runbook.js';
import { platformWorkflowId } from '../model/ids.js';
import { OK_STATES, progressQuery, type PlatformInput, type PlatformOperation, type PlatformProgress, type PlatformResult } from '../model/platform.js';
import type { ApiContext } from './context.js';
import { FailedError } from './errors.js';
import { followRun, submit, workflowFailed, type Run } from './run.js';
import { assertHost, assertPlatformName, assertServices } from './validate.js';

export { nothingToStart } from './platform-plan.js';

export const PLATFORM_WORKFLOW = { start: 'platformStart', stop: 'platformStop', restart: 'platformRestart', update: 'platformUpdate' } as const;

export interface PlatformOperationInput {
  registry: Registry;
  /** Services to act on; default: start = the auto_start ones, stop and restart = all running. */
  services?: string[];
  force?: boolean;
  graceSeconds?: number;
  /** Project home on the workers' machine. */
  home: string;
  /** Default "default". */
  platform?: string;
  /** The host whose workers run the services (default: the host of the worker that takes the run). */
  host?: string;
}

export type PlatformRun = Run<PlatformProgress, PlatformResult>;

/** The first service a result says failed (or blocked pre-flight, or refused the stop), as a FailedError. */
export function platformFailure(workflowId: string, result: PlatformResult): FailedError<PlatformResult> | undefined {
  if (result.ok) return undefined;
  if (result.preflight?.length) {
    const first = result.preflight[0]!;
    return new FailedError(`${first.service}: pre-flight failed: ${first.message}${result.preflight.length > 1 ? ` (and ${result.preflight.length - 1} more)` : ''}; nothing was started`, workflowId, first.service, result);
  }
  if (result.refused?.length) {
    const first = result.refused[0]!;
    return new FailedError(`${first.service}: stop refused, running dependents ${first.dependents.join(', ')} are not being stopped; nothing was stopped`, workflowId, first.service, result);
  }
  const failed = result.services.find((s) => s.state === 'failed') ?? result.services.find((s) => !OK_STATES.has(s.state));
  const name = failed?.name ?? 'platform';
  return new FailedError(`${name}: ${failed?.state ?? 'failed'}${failed?.error ? `: ${failed.error}` : ''}`, workflowId, failed?.name, result);
}

/** Starts the operation's workflow; the Run follows it. Bad input throws before anything is submitted. */
export async function operatePlatform(ctx: ApiContext, operation: PlatformOperation, input: PlatformOperationInput): Promise<PlatformRun> {
  const platform = input.platform ?? 'default';
  assertPlatformName(platform);
  const services = input.services ?? [];
  assertServices(input.registry, services);
  const workflowId = platformWorkflowId(platform);
  const args: PlatformInput = {
    registry: input.registry,
    services,
    force: Boolean(input.force),
    home: input.home,
    platform,
    ...(input.graceSeconds !== undefined ? { graceSeconds: input.graceSeconds } : {}),
    ...(input.host !== undefined ? { host: assertHost(input.host) } : {}),
  };
  const handle = await submit(ctx, {
    workflowType: PLATFORM_WORKFLOW[operation],
    workflowId,
    args: [args],
    operation: `platform-${operation}`,
    targets: services.length > 0 ? services : ['*'],
    subject: `platform "${platform}"`,
    ...runbook(input.registry, operation, services, platform),
  });
  const runId = handle.firstExecutionRunId;
  return followRun<PlatformProgress, PlatformResult>(
    ctx,
    handle,
    runId,
    () => handle.query(progressQuery),
    (result) => platformFailure(workflowId, result),
    (err: WorkflowFailedError) => workflowFailed(PLATFORM_WORKFLOW[operation], workflowId, err),
  );
}

/** The Web UI's summary and plan: what a start acts on is the requested services and their dependencies. */
function runbook(registry: Registry, operation: PlatformOperation, services: string[], platform: string): { summary: string; details: string } {
  const targets = operation === 'stop' || operation === 'update' || (operation === 'restart' && services.length === 0) ? services : startTargets(registry, services);
  const order =
    targets.length === 0 ? targets
    : operation === 'stop' ? stopOrder(registryNodes(registry), targets)
    : operation === 'update' ? startupOrder(registryNodes(registry)).filter((n) => targets.includes(n))
    : targets;
  return { summary: platformSummary(operation, targets, platform), details: platformPlan(registry, operation, order) };
}

export const startPlatform = (ctx: ApiContext, input: PlatformOperationInput) => operatePlatform(ctx, 'start', input);
export const stopPlatform = (ctx: ApiContext, input: PlatformOperationInput) => operatePlatform(ctx, 'stop', input);
export const restartPlatform = (ctx: ApiContext, input: PlatformOperationInput) => operatePlatform(ctx, 'restart', input);
export const updatePlatform = (ctx: ApiContext, input: PlatformOperationInput) => operatePlatform(ctx, 'update', input);
