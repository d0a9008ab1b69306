/**
 * serverCreate: ensure the services the "server" operation requires, then one child
 * workflow per server (serverProvision) with bounded parallelism: create it through its
 * provider, wait until ready, install its taskservs in dependency order, run each check.
 * Check mode returns the plan and changes nothing. With on_failure = rollback a failed
 * server is deleted. Also serverDelete, taskservCreate and clusterCreate.
 */
import { ApplicationFailure, executeChild, isCancellation, log, metricMeter, patched, setHandler, sleep, workflowInfo , type ActivityOptions } from '@temporalio/workflow';
import type { PlatformResult } from '../model/platform.js';
import type { HostChoice, HostRequest } from '../model/worker-defaults.js';
import { onHost, type OnHost } from './hosts.js';
import { failureMessage } from '../model/failure.js';
import type { ServerSpec, Settings } from '../config/settings-schema.js';
import { platformStart } from './platform.js';
import { selectServers, serverCreateProgressQuery, serverProgressQuery, taskservOrder, type RequiredService, type ServerCreateInput, type ServerCreateProgress, type ServerCreateResult, type ServerProgress, type TaskservProgress } from '../model/servers.js';
import { platformWorkflowId, serverWorkflowId } from '../model/ids.js';
import { serverCreateNow, serverNow } from '../model/runbook.js';
import { keepCurrentDetails } from './details.js';
import { metrics } from '../model/metrics.js';
import { inPool } from '../model/pool.js';

const recorded = metrics(metricMeter);


const ACTIVITY_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '10 seconds',
  retry: { initialInterval: '1 s', maximumAttempts: 5, nonRetryableErrorTypes: ['ServerConfigError', 'TaskservFailed', 'TaskservConfigError', 'ServerNotReady'] },
};

type Acts = OnHost['acts'];

/** Servers are made through the chosen host's workers (a docker provider's engine is there). */
const onHostOf = (input: HostRequest & { hostChoice?: HostChoice }) => onHost(ACTIVITY_OPTIONS, input);

const inherit = (host: HostChoice | undefined) => (host ? { hostChoice: host } : {});


/** Patch id: a required-services start that finds its platform busy waits for it instead of failing. */
export const WAIT_FOR_BUSY_PLATFORM = 'wait-for-busy-platform';
const BUSY_PLATFORM_WAIT_S = 3;
const BUSY_PLATFORM_ATTEMPTS = 200;

const settingsContext = (s: Settings) => ({ infra: s.infra, source: s.source, network: s.network, providers: s.providers, catalog: s.catalog });

export interface ServerProvisionInput extends HostRequest {
  settings: Settings;
  hostname: string;
  /** Only these taskservs (and their dependencies); all of the server's when absent. */
  taskservs?: string[];
  /** Fail when the server does not exist instead of creating it (taskserv create). */
  mustExist?: boolean;
  /** The parent's host: a server create's servers are all made on its host. */
  hostChoice?: HostChoice;
}

/** One server: create (or find), wait until ready, install and check its taskservs in order. */
export async function serverProvision(input: ServerProvisionInput): Promise<ServerProgress> {
  const { settings, hostname } = input;
  const server = settings.servers.find((s) => s.hostname === hostname);
  if (!server) throw ApplicationFailure.nonRetryable(`server ${hostname} is not in the settings of infra ${settings.infra}`, 'UnknownServer');
  const order = taskservOrder(settings, input.taskservs ?? server.taskservs);
  const progress: ServerProgress = { hostname, state: 'pending', order, taskservs: order.map((name) => ({ name, state: 'pending' })) };
  setHandler(serverProgressQuery, () => progress);
  keepCurrentDetails(() => serverNow(progress));
  const base = { settings: settingsContext(settings), server };
  const taskserv = (name: string) => progress.taskservs.find((t) => t.name === name)!;
  const { acts } = await onHostOf(input);
  let created = false;
  try {
    if (input.mustExist && !(await acts.serverExists(base))) {
      throw ApplicationFailure.nonRetryable(`server ${hostname} does not exist in infra ${settings.infra}; create it first with "provisioning server create ${hostname}"`, 'UnknownServer');
    }
    progress.state = 'creating';
    const made = await acts.createServer.executeWithOptions({ summary: `create server ${hostname}`, startToCloseTimeout: '10 minutes', heartbeatTimeout: '10 s', retry: { maximumAttempts: 5, nonRetryableErrorTypes: ['ServerConfigError'] } }, [base]);
    created = made.created;
    progress.created = made.created;
    progress.state = 'waiting-ready';
    const ready = await acts.waitServerReady.executeWithOptions({ summary: `wait ${hostname} ready`, startToCloseTimeout: '5 minutes', heartbeatTimeout: '10 s' }, [{ ...base, timeoutSeconds: 120 }]);
    progress.state = 'installing';
    const installed = new Set(ready.installed);
    for (const name of order) {
      const manifest = settings.taskservs[name]!;
      const t = taskserv(name);
      if (installed.has(name)) {
        t.state = 'checking';
        const check = await acts.runTaskserv.executeWithOptions({ summary: `check ${name} on ${hostname}`, startToCloseTimeout: '10 minutes', heartbeatTimeout: '10 s' }, [{ ...base, taskserv: manifest, kind: 'check' }]);
        Object.assign(t, { state: 'checked', startedAt: check.startedAt, checkMs: check.durationMs } satisfies Partial<TaskservProgress>);
        continue;
      }
      t.state = 'installing';
      const run = await acts.runTaskserv.executeWithOptions({ summary: `install and check ${name} on ${hostname}`, startToCloseTimeout: '30 minutes', heartbeatTimeout: '10 s' }, [{ ...base, taskserv: manifest, kind: 'install-and-check' }]);
      Object.assign(t, { state: 'checked', startedAt: run.startedAt, installMs: run.durationMs, output: run.output } satisfies Partial<TaskservProgress>);
      recorded.taskservInstall({ taskserv: name, result: 'installed' });
    }
    progress.state = 'ready';
    if (created) recorded.serverCreated({ provider: server.provider });
    log.info(`server ${hostname} ready`, { server: hostname, provider: server.provider, created, taskservs: order });
  } catch (err) {
    if (isCancellation(err)) {
      progress.state = 'cancelled';
      throw err;
    }
    progress.error = failureMessage(err);
    progress.state = 'failed';
    log.error(`server ${hostname} failed`, { server: hostname, error: progress.error });
    const failing = progress.taskservs.find((t) => t.state === 'installing' || t.state === 'checking');
    if (failing?.state === 'installing') recorded.taskservInstall({ taskserv: failing.name, result: 'failed' });
    if (failing) failing.state = 'failed';
    if (settings.on_failure === 'rollback' && created) {
      await acts.deleteServer.executeWithOptions({ summary: `roll back: delete ${hostname}`, startToCloseTimeout: '5 minutes', heartbeatTimeout: '10 s' }, [base]);
      progress.state = 'rolled-back';
    }
  }
  return progress;
}

async function requiredServices(input: ServerCreateInput, acts: Acts): Promise<RequiredService[]> {
  if (!input.registry || !input.home) return [];
  const required = Object.values(input.registry.services).filter((s) => s.required_for.includes('server'));
  if (required.length === 0) return [];
  const statuses = await acts.serviceStatuses({ services: required, home: input.home });
  return required.map((s, i) => ({ name: s.name, running: statuses[i]!.running, autoStart: s.startup.auto_start }));
}

/** Starts the required services that are down through the platform workflow, or fails naming them. */
async function ensureRequired(input: ServerCreateInput, required: RequiredService[], host: HostChoice | undefined): Promise<void> {
  const down = required.filter((r) => !r.running);
  if (down.length === 0) return;
  const manual = down.filter((r) => !r.autoStart);
  if (manual.length > 0) {
    throw ApplicationFailure.nonRetryable(
      `the "server" operation requires ${manual.map((r) => r.name).join(', ')}, which ${manual.length === 1 ? 'is' : 'are'} not running and not auto_start; start ${manual.length === 1 ? 'it' : 'them'} with "provisioning platform start ${manual.map((r) => r.name).join(' ')}"`,
      'RequiredServicesDown',
    );
  }
  const platform = input.platform ?? 'default';
  let result: PlatformResult;
  for (let attempt = 1; ; attempt++) {
    try {
      // The platform's workflow id is its lock: this start waits its turn behind any other
      // operation on the platform (a `provisioning platform start` of the same services, say).
      result = await executeChild(platformStart, {
        workflowId: platformWorkflowId(platform),
        staticSummary: `start the services the "server" operation requires: ${down.map((r) => r.name).join(', ')}`,
        args: [{ registry: input.registry!, home: input.home!, services: down.map((r) => r.name), platform, ...inherit(host) }],
      });
      break;
    } catch (err) {
      // Before this patch a busy platform failed the create; runs from then replay that way.
      if ((err as Error).name !== 'WorkflowExecutionAlreadyStartedError' || !patched(WAIT_FOR_BUSY_PLATFORM)) throw err;
      if (attempt >= BUSY_PLATFORM_ATTEMPTS) {
        throw ApplicationFailure.nonRetryable(`platform "${platform}" stayed busy for ${(BUSY_PLATFORM_ATTEMPTS * BUSY_PLATFORM_WAIT_S) / 60} minutes (workflow ${platformWorkflowId(platform)}); the services the "server" operation requires could not be started`, 'RequiredServicesDown');
      }
      await sleep(`${BUSY_PLATFORM_WAIT_S} seconds`, { summary: `platform "${platform}" is busy: try again in ${BUSY_PLATFORM_WAIT_S} s` });
    }
  }
  if (!result.ok) {
    throw ApplicationFailure.nonRetryable(`required services did not start: ${result.services.filter((s) => s.state === 'failed').map((s) => `${s.name}: ${s.error}`).join('; ')}`, 'RequiredServicesDown');
  }
}

async function provisionAll({ acts, host }: OnHost, settings: Settings, servers: ServerSpec[], view: ServerCreateProgress, results: Map<string, ServerProgress>, taskservs?: string[]) {
  if (servers.length === 0) return;
  await acts.prepareInfra.executeWithOptions({ summary: `prepare the ${settings.infra} network`, startToCloseTimeout: '2 minutes', heartbeatTimeout: '10 s', retry: { maximumAttempts: 5, nonRetryableErrorTypes: ['ServerConfigError'] } }, [{ settings: settingsContext(settings), servers }]);
  await inPool(servers, settings.parallelism, async (server) => {
    const entry = view.servers.find((s) => s.hostname === server.hostname)!;
    entry.state = 'creating';
    const order = taskservOrder(settings, taskservs ?? server.taskservs);
    const result = await executeChild(serverProvision, {
      workflowId: entry.workflowId,
      args: [{ settings, hostname: server.hostname, ...(taskservs ? { taskservs } : {}), ...inherit(host) }],
      staticSummary: `server ${server.hostname} (${server.provider}): ${order.join(' → ') || 'no taskservs'}`,
    });
    entry.state = result.state;
    results.set(server.hostname, result);
  });
}

/** The per-server view the `serverCreateProgress` query returns, every server queued. */
function progressView(settings: Settings, servers: ServerSpec[], phase: ServerCreateProgress['phase']): ServerCreateProgress {
  const view: ServerCreateProgress = {
    infra: settings.infra,
    phase,
    servers: servers.map((s) => ({ hostname: s.hostname, state: 'queued', workflowId: serverWorkflowId(settings.infra, s.hostname) })),
  };
  setHandler(serverCreateProgressQuery, () => view);
  keepCurrentDetails(() => serverCreateNow(view));
  return view;
}

export async function serverCreate(input: ServerCreateInput): Promise<ServerCreateResult> {
  const { settings } = input;
  const servers = selectServers(settings, input.servers);
  const view = progressView(settings, servers, 'required-services');
  const run = await onHostOf(input);
  const { acts } = run;
  const required = await requiredServices(input, acts);
  if (input.checkMode) {
    view.phase = 'planning';
    const plan = await Promise.all(
      servers.map(async (server) => ({
        hostname: server.hostname,
        provider: server.provider,
        exists: await acts.serverExists({ settings: settingsContext(settings), server }),
        taskservOrder: taskservOrder(settings, server.taskservs),
      })),
    );
    view.phase = 'done';
    return { infra: settings.infra, checkMode: true, ok: true, plan: { servers: plan, requiredServices: required }, servers: [] };
  }
  await ensureRequired(input, required, run.host);
  view.phase = 'creating';
  const results = new Map<string, ServerProgress>();
  await provisionAll(run, settings, servers, view, results);
  view.phase = 'done';
  const list = servers.map((s) => results.get(s.hostname)!);
  return { infra: settings.infra, checkMode: false, ok: list.every((s) => s.state === 'ready'), servers: list };
}

/** Creates a cluster's servers by role: every control-plane node first, then the workers. */
export async function clusterCreate(input: ServerCreateInput): Promise<ServerCreateResult> {
  const { settings } = input;
  const servers = selectServers(settings, input.servers);
  const view = progressView(settings, servers, 'creating');
  const run = await onHostOf(input);
  await ensureRequired(input, await requiredServices(input, run.acts), run.host);
  const results = new Map<string, ServerProgress>();
  const controlPlanes = servers.filter((s) => s.role === 'control-plane');
  await provisionAll(run, settings, controlPlanes, view, results);
  if (controlPlanes.every((s) => results.get(s.hostname)!.state === 'ready')) {
    await provisionAll(run, settings, servers.filter((s) => s.role !== 'control-plane'), view, results);
  }
  view.phase = 'done';
  const list = servers.map((s) => results.get(s.hostname) ?? { hostname: s.hostname, state: 'failed' as const, order: [], taskservs: [], error: 'not created: a control-plane node failed' });
  return { infra: settings.infra, checkMode: false, ok: list.every((s) => s.state === 'ready'), servers: list };
}

/** Installs one taskserv, and whichever of its dependencies are missing, on an existing server. */
export async function taskservCreate(input: { settings: Settings; hostname: string; taskserv: string } & HostRequest): Promise<ServerProgress> {
  return executeChild(serverProvision, {
    workflowId: `${serverWorkflowId(input.settings.infra, input.hostname)}/taskserv/${input.taskserv}/${workflowInfo().runId}`,
    staticSummary: `install ${input.taskserv} on ${input.hostname}`,
    args: [{ settings: input.settings, hostname: input.hostname, taskservs: [input.taskserv], mustExist: true, ...(input.host ? { host: input.host } : {}), ...(input.hostWaitSeconds ? { hostWaitSeconds: input.hostWaitSeconds } : {}) }],
  });
}

export async function serverDelete(input: { settings: Settings; servers?: string[] } & HostRequest): Promise<Array<{ hostname: string; deleted: boolean }>> {
  const servers = selectServers(input.settings, input.servers);
  const { acts } = await onHostOf(input);
  const results: Array<{ hostname: string; deleted: boolean }> = [];
  await inPool(servers, input.settings.parallelism, async (server) => {
    const result = await acts.deleteServer.executeWithOptions({ summary: `delete server ${server.hostname}`, startToCloseTimeout: '5 minutes', heartbeatTimeout: '10 s' }, [{ settings: settingsContext(input.settings), server }]);
    results.push({ hostname: server.hostname, ...result });
  });
  return servers.map((s) => results.find((r) => r.hostname === s.hostname)!);
}
