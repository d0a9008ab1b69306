/**
 * Service supervision through the client API: a supervisor workflow per service
 * (service/<platform>/<name>) that goes on without its caller. Monitor starts one (or attaches
 * to the running one) and streams its checks; pause, resume, stop and restart steer it.
 */
import { WorkflowNotFoundError, type Client, type WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { ServiceDefinition } from '../config/registry-schema.js';
import type { AlertTarget } from '../model/alerts.js';
import { supervisorId } from '../model/ids.js';
import {
  LIVE_VIEW_RENEW_SECONDS,
  LIVE_VIEW_SECONDS,
  liveViewSignal,
  pauseSignal,
  restartNowUpdate,
  resumeSignal,
  stopSupervisingSignal,
  supervisorStateQuery,
  type HealthCheckRecord,
  type RestartOutcome,
  type SupervisorInput,
  type SupervisorState,
  type WatchProgress,
} from '../model/supervisor.js';
import { taskQueueOf, webUiLink, type ApiContext } from './context.js';
import { NotFoundError } from './errors.js';
import type { serviceSupervisor } from '../workflows/supervisor.js';
import { poll } from './run.js';
import { mergeChecks, serviceMetrics, type ServiceMetrics } from '../model/service-metrics.js';
import { inPool } from '../model/pool.js';

type Description = Awaited<ReturnType<WorkflowHandle['describe']>>;

/**
 * Checks of the watch activity that is running now: the supervisor records them when the
 * watch returns, and until then they travel in its heartbeat details.
 */
function liveChecks(description: Description): HealthCheckRecord[] {
  const watch = description.raw.pendingActivities?.find((a) => a.activityType?.name === 'watchService');
  const payload = watch?.heartbeatDetails?.payloads?.[0];
  if (!payload) return [];
  return defaultPayloadConverter.fromPayload<WatchProgress>(payload).checks;
}

async function watchingChecks(handle: WorkflowHandle): Promise<HealthCheckRecord[]> {
  return liveChecks(await handle.describe());
}

/** A running supervisor's state and every check it knows of (recorded and the running watch's), oldest first. */
export interface SupervisorView {
  state: SupervisorState;
  checks: HealthCheckRecord[];
}

/** The supervisor's view, or undefined when the service is not (or no longer) supervised. */
export async function supervisorView(client: Client, platform: string, service: string): Promise<SupervisorView | undefined> {
  const handle = client.workflow.getHandle(supervisorId(platform, service));
  try {
    const description = await handle.describe();
    if (description.status.name !== 'RUNNING') return undefined;
    const state = await handle.query(supervisorStateQuery);
    return { state, checks: mergeChecks(state.checks, liveChecks(description)) };
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
}

/** Supervisor views of the given services; a service whose supervisor cannot be read maps to undefined. */
export async function supervisorViews(client: Client, platform: string, services: readonly string[]): Promise<Map<string, SupervisorView | undefined>> {
  const settled = await Promise.allSettled(services.map((s) => supervisorView(client, platform, s)));
  // Not one answer: Temporal itself is not answering, which is not "nothing supervised".
  const failed = settled.find((r) => r.status === 'rejected');
  if (failed && settled.every((r) => r.status === 'rejected')) throw failed.reason;
  return new Map(services.map((s, i) => [s, settled[i]!.status === 'fulfilled' ? (settled[i] as PromiseFulfilledResult<SupervisorView | undefined>).value : undefined]));
}

/** The supervisor's state, or undefined when the service is not (or no longer) supervised. */
export async function supervisorState(client: Client, platform: string, service: string): Promise<SupervisorState | undefined> {
  return (await supervisorView(client, platform, service))?.state;
}

/**
 * Asks the given services' supervisors for a live view for the next LIVE_VIEW_SECONDS: their
 * watches heartbeat with their checks at most every `everySeconds` (once a minute otherwise),
 * so supervisorViews shows checks that recent. A service without a supervisor is skipped.
 */
export async function askLiveViews(client: Client, platform: string, services: readonly string[], everySeconds = 1): Promise<void> {
  await inPool([...services], 16, async (s) => {
    await client.workflow
      .getHandle(supervisorId(platform, s))
      .signal(liveViewSignal, { seconds: LIVE_VIEW_SECONDS, everySeconds })
      .catch((err: unknown) => {
        if (!(err instanceof WorkflowNotFoundError)) throw err;
      });
  });
}

/**
 * For a front end that shows checks live: call the returned function at each refresh; it asks
 * for the live views (askLiveViews) when the last ask is LIVE_VIEW_RENEW_SECONDS old, so they
 * never run out while it shows them. A failed ask is left to the refresh's own reads to report.
 */
export function liveViewsKeeper(client: Client, platform: string, services: readonly string[], everySeconds = 1): () => Promise<void> {
  let askedAt = -Infinity;
  return async () => {
    if (performance.now() - askedAt < LIVE_VIEW_RENEW_SECONDS * 1000) return;
    askedAt = performance.now();
    await askLiveViews(client, platform, services, everySeconds).catch(() => undefined);
  };
}

/** Supervisor states of the given services; a service whose state cannot be read maps to undefined. */
export async function supervisionOf(client: Client, platform: string, services: readonly string[]): Promise<Map<string, SupervisorState | undefined>> {
  const states = await Promise.all(services.map((s) => supervisorState(client, platform, s).catch(() => undefined)));
  return new Map(services.map((s, i) => [s, states[i]]));
}

/** Each service's figures from its supervisor (uptime, restarts, time to healthy, check success and latency). */
export async function platformMetrics(client: Client, platform: string, services: readonly string[]): Promise<ServiceMetrics[]> {
  const views = await supervisorViews(client, platform, services);
  const now = Date.now();
  return services.map((s) => serviceMetrics(s, views.get(s)?.state, views.get(s)?.checks ?? [], now));
}

/** A running supervisor's handle; a NotFoundError when there is none. */
export async function runningSupervisor(client: Client, platform: string, service: string): Promise<WorkflowHandle> {
  const handle = client.workflow.getHandle(supervisorId(platform, service));
  try {
    if ((await handle.describe()).status.name === 'RUNNING') return handle;
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) throw err;
  }
  throw new NotFoundError(
    `${service} is not supervised (no running workflow ${supervisorId(platform, service)})`,
    `start supervising it with "provisioning services monitor ${service}", or start the platform with restart_on_failure = true`,
  );
}

/** Restarts the service through its supervisor; resolves when it is healthy again or failed. */
export async function restartService(ctx: ApiContext, platform: string, service: string): Promise<RestartOutcome> {
  return (await runningSupervisor(ctx.client, platform, service)).executeUpdate(restartNowUpdate);
}

/** No checks and no restarts until resumed. */
export async function pauseSupervision(ctx: ApiContext, platform: string, service: string): Promise<void> {
  await (await runningSupervisor(ctx.client, platform, service)).signal(pauseSignal);
}

export async function resumeSupervision(ctx: ApiContext, platform: string, service: string): Promise<void> {
  await (await runningSupervisor(ctx.client, platform, service)).signal(resumeSignal);
}

/** Ends supervision (the service keeps running); resolves when the supervisor has closed. */
export async function stopSupervision(ctx: ApiContext, platform: string, service: string): Promise<void> {
  const handle = await runningSupervisor(ctx.client, platform, service);
  await handle.signal(stopSupervisingSignal);
  await handle.result();
}

export type MonitorEvent = { kind: 'check'; check: HealthCheckRecord } | { kind: 'status'; state: SupervisorState };

export interface MonitorInput {
  platform: string;
  service: ServiceDefinition;
  home: string;
  intervalSeconds?: number;
  /** Webhooks the supervisor alerts (the registry's [alerts]); only a new supervisor takes them. */
  alerts?: AlertTarget[];
}

export interface Monitor {
  workflowId: string;
  webUi?: string;
  /**
   * Each new check, and each change of the supervisor's status, until the supervisor fails
   * or stops, or `signal` aborts (supervision goes on). Ends with the last state.
   */
  events(options?: { signal?: AbortSignal; count?: number }): AsyncGenerator<MonitorEvent, SupervisorState | undefined>;
}

/** Starts supervising the service, or attaches to its running supervisor. */
export async function monitorService(ctx: ApiContext, input: MonitorInput): Promise<Monitor> {
  const { client } = ctx;
  const workflowId = supervisorId(input.platform, input.service.name);
  const args: SupervisorInput = { service: input.service, home: input.home, platform: input.platform, ...(input.intervalSeconds !== undefined ? { intervalSeconds: input.intervalSeconds } : {}), ...(input.alerts?.length ? { alerts: input.alerts } : {}) };
  const handle = await client.workflow.start<typeof serviceSupervisor>('serviceSupervisor', {
    taskQueue: taskQueueOf(ctx),
    workflowId,
    workflowIdConflictPolicy: 'USE_EXISTING',
    workflowIdReusePolicy: 'ALLOW_DUPLICATE',
    args: [args],
  });
  const link = webUiLink(ctx, workflowId);
  const intervalMs = Math.min(1000, ((input.intervalSeconds ?? input.service.health_check.interval) * 1000) / 2);
  return {
    workflowId,
    ...(link ? { webUi: link } : {}),
    async *events({ signal, count } = {}) {
      let lastAt = Date.now() - 1;
      let seen = 0;
      let lastStatus: string | undefined;
      let state: SupervisorState | undefined;
      let ended = false;
      // The supervisor's watch heartbeats once a minute unless someone watches live.
      const keepLive = liveViewsKeeper(client, input.platform, [input.service.name]);
      const read = async () => {
        await keepLive();
        const now = await handle.query(supervisorStateQuery);
        const live = await watchingChecks(handle).catch(() => []);
        return { now, checks: [...now.checks, ...live].sort((a, b) => a.at - b.at) };
      };
      for await (const { now, checks } of poll(read, () => ended, { intervalMs, ...(signal ? { signal } : {}) })) {
        state = now;
        for (const check of checks.filter((c) => c.at > lastAt)) {
          yield { kind: 'check', check };
          lastAt = check.at;
          seen++;
        }
        if (now.status !== lastStatus && lastStatus !== undefined) yield { kind: 'status', state: now };
        lastStatus = now.status;
        ended = now.status === 'failed' || now.status === 'stopped' || (count !== undefined && seen >= count);
      }
      return state;
    },
  };
}
