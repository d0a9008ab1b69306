/**
 * Servers through the client API: create (or check mode's plan), cluster create, delete, and
 * taskserv create, each a workflow under its infra's business key.
 */
import type { WorkflowFailedError } from '@temporalio/client';
import { UsageError } from '../config/errors.js';
import type { Registry } from '../config/registry-schema.js';
import type { Settings } from '../config/settings-schema.js';
import { suggestionFix } from '../config/suggest.js';
import { dockerClient, overlappingNetwork } from '../docker/client.js';
import { infraWorkflowId, taskservCreateWorkflowId } from '../model/ids.js';
import { INFRA_LABEL } from '../model/labels.js';
import { serverCreatePlan, serverCreateSummary } from '../model/runbook.js';
import { serverCreateProgressQuery, serverProgressQuery, type ServerCreateInput, type ServerCreateProgress, type ServerCreateResult, type ServerProgress } from '../model/servers.js';
import type { ApiContext } from './context.js';
import { FailedError } from './errors.js';
import { followRun, resultOf, submit, workflowFailed, type Run } from './run.js';
import { assertHost, assertPlatformName, assertServers } from './validate.js';

export interface ServerCreateRequest {
  settings: Settings;
  /** Hostnames; every server of the settings when empty. */
  servers?: string[];
  /** Plan only: what exists, the taskserv order, the required services. */
  check?: boolean;
  /** With a registry, the services the "server" operation requires are ensured first (started on `platform`). */
  registry?: Registry;
  home?: string;
  platform?: string;
  /** The host whose workers (and Docker engine) make the servers (default: the host of the worker that takes the run). */
  host?: string;
}

/** The parent's view with each server's own progress where its child workflow answers. */
export interface ServerCreateView extends Omit<ServerCreateProgress, 'servers'> {
  servers: Array<ServerCreateProgress['servers'][number] & { detail?: ServerProgress }>;
}

export type ServerCreateRun = Run<ServerCreateView, ServerCreateResult>;

/** A subnet another Docker network already uses makes Docker refuse the infra network: say so before anything starts. */
async function assertSubnetFree(settings: Settings): Promise<void> {
  const subnet = settings.network?.subnet;
  if (!subnet || !settings.servers.some((s) => s.provider === 'docker')) return;
  const taken = await overlappingNetwork(dockerClient(), subnet, (n) => n.Labels?.[INFRA_LABEL] === settings.infra).catch(() => undefined);
  if (taken) {
    throw new UsageError(
      `${settings.source}: network.subnet ${subnet} overlaps Docker network "${taken.name}" (${taken.subnet})`,
      'choose a subnet no other network uses, or leave network.subnet out to let Docker pick one',
    );
  }
}

function serverFailure(workflowId: string, result: ServerCreateResult): FailedError<ServerCreateResult> | undefined {
  if (result.ok) return undefined;
  const failed = result.servers.find((s) => s.state !== 'ready');
  const name = failed?.hostname ?? result.infra;
  return new FailedError(`${name}: ${failed?.state ?? 'failed'}${failed?.error ? `: ${failed.error}` : ''}`, workflowId, failed?.hostname, result);
}

/** The checks a create makes before it submits anything (front ends call it before they connect). */
export async function checkServerCreate(request: ServerCreateRequest): Promise<void> {
  assertServers(request.settings, request.servers ?? []);
  if (request.platform) assertPlatformName(request.platform);
  if (!request.check) await assertSubnetFree(request.settings);
}

export function checkTaskservCreate({ settings, server, taskserv }: { settings: Settings; server: string; taskserv: string }): void {
  assertServers(settings, [server]);
  if (!settings.taskservs[taskserv]) throw new UsageError(`taskserv "${taskserv}" is not in the catalog ${settings.catalog}`, suggestionFix(taskserv, Object.keys(settings.taskservs), 'taskserv'));
}

async function createRun(ctx: ApiContext, type: 'serverCreate' | 'clusterCreate', request: ServerCreateRequest): Promise<ServerCreateRun> {
  const { settings } = request;
  const servers = request.servers ?? [];
  await checkServerCreate(request);
  const operation = type === 'clusterCreate' ? 'cluster-create' : 'server-create';
  const workflowId = infraWorkflowId(operation, settings.infra);
  const args: ServerCreateInput = {
    settings,
    servers,
    checkMode: Boolean(request.check),
    ...(request.host !== undefined ? { host: assertHost(request.host) } : {}),
    ...(request.registry ? { registry: request.registry, home: request.home ?? '', platform: request.platform ?? 'default' } : {}),
  };
  const handle = await submit(ctx, {
    workflowType: type,
    workflowId,
    args: [args],
    operation: request.check ? 'server-check' : operation,
    targets: servers.length > 0 ? servers : settings.servers.map((s) => s.hostname),
    subject: `infra "${settings.infra}"`,
    summary: serverCreateSummary(settings, servers, Boolean(request.check)),
    details: serverCreatePlan(settings, servers),
  });
  const read = async (): Promise<ServerCreateView> => {
    const view = await handle.query(serverCreateProgressQuery);
    const details = await Promise.all(view.servers.map((s) => ctx.client.workflow.getHandle(s.workflowId).query(serverProgressQuery).catch(() => undefined)));
    return { ...view, servers: view.servers.map((s, i) => ({ ...s, ...(details[i] ? { detail: details[i] } : {}) })) };
  };
  return followRun<ServerCreateView, ServerCreateResult>(ctx, handle, handle.firstExecutionRunId, read, (r) => serverFailure(workflowId, r), (err: WorkflowFailedError) => workflowFailed(type, workflowId, err));
}

/** Creates servers through their providers and installs their taskservs in dependency order; `check` only plans. */
export const createServers = (ctx: ApiContext, request: ServerCreateRequest) => createRun(ctx, 'serverCreate', request);

/** Creates every control-plane server first, then the workers. */
export const createCluster = (ctx: ApiContext, request: ServerCreateRequest) => createRun(ctx, 'clusterCreate', request);

export async function deleteServers(ctx: ApiContext, request: { settings: Settings; servers?: string[] }): Promise<Array<{ hostname: string; deleted: boolean }>> {
  const servers = request.servers ?? [];
  assertServers(request.settings, servers);
  const workflowId = infraWorkflowId('server-delete', request.settings.infra);
  const handle = await submit(ctx, { workflowType: 'serverDelete', workflowId, args: [{ settings: request.settings, servers }], operation: 'server-delete', subject: `infra "${request.settings.infra}"` });
  return resultOf(handle, 'serverDelete');
}

/** Starts installing a taskserv (and its missing dependencies) on an existing server; result() waits for it. */
export async function startTaskserv(ctx: ApiContext, request: { settings: Settings; server: string; taskserv: string }): Promise<{ workflowId: string; runId: string; result(): Promise<ServerProgress> }> {
  const { settings, server, taskserv } = request;
  checkTaskservCreate(request);
  const workflowId = taskservCreateWorkflowId(settings.infra, server, taskserv);
  const handle = await submit(ctx, { workflowType: 'taskservCreate', workflowId, args: [{ settings, hostname: server, taskserv }], operation: 'taskserv-create', targets: [server, taskserv], subject: `taskserv ${taskserv} on ${server}` });
  return {
    workflowId,
    runId: handle.firstExecutionRunId,
    async result() {
      const result = await resultOf<ServerProgress>(handle, 'taskservCreate');
      if (result.state !== 'ready') throw new FailedError(`${server}: ${result.state}${result.error ? `: ${result.error}` : ''}`, workflowId, server, result);
      return result;
    },
  };
}

/** Installs a taskserv, and whichever of its dependencies are missing, on an existing server. */
export async function createTaskserv(ctx: ApiContext, request: { settings: Settings; server: string; taskserv: string }): Promise<ServerProgress> {
  return (await startTaskserv(ctx, request)).result();
}
