/** The CLI's side of supervision: attach to or start a supervisor, send it signals, read its state. */
import { setTimeout as sleep } from 'node:timers/promises';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { WatchProgress } from '../activities/supervision.js';
import { UsageError } from '../config/errors.js';
import type { ServiceDefinition } from '../config/registry-schema.js';
import type { serviceSupervisor } from '../workflows/supervisor.js';
import { restartNowUpdate, supervisorStateQuery, type HealthCheckRecord, type RestartOutcome, type SupervisorState } from '../model/supervisor.js';
import { supervisorId } from '../model/ids.js';

/**
 * Checks of the watch activity that is running now: the supervisor records them when the
 * watch returns, and until then they travel in its heartbeat details.
 */
async function watchingChecks(handle: ReturnType<Client['workflow']['getHandle']>): Promise<HealthCheckRecord[]> {
  const { raw } = await handle.describe();
  const watch = raw.pendingActivities?.find((a) => a.activityType?.name === 'watchService');
  const payload = watch?.heartbeatDetails?.payloads?.[0];
  if (!payload) return [];
  return defaultPayloadConverter.fromPayload<WatchProgress>(payload).checks;
}

/** The supervisor's state, or undefined when the service is not (or no longer) supervised. */
export async function supervisorState(client: Client, platform: string, service: string): Promise<SupervisorState | undefined> {
  const handle = client.workflow.getHandle(supervisorId(platform, service));
  try {
    const description = await handle.describe();
    if (description.status.name !== 'RUNNING') return undefined;
    return await handle.query(supervisorStateQuery);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
}

function notSupervised(service: string, platform: string): UsageError {
  return new UsageError(
    `${service} is not supervised (no running workflow ${supervisorId(platform, service)})`,
    `start supervising it with "provisioning services monitor ${service}", or start the platform with restart_on_failure = true`,
  );
}

/** A running supervisor's handle; a usage error when there is none. */
export async function runningSupervisor(client: Client, platform: string, service: string) {
  const handle = client.workflow.getHandle(supervisorId(platform, service));
  try {
    if ((await handle.describe()).status.name === 'RUNNING') return handle;
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) throw err;
  }
  throw notSupervised(service, platform);
}

export async function restartNow(client: Client, platform: string, service: string): Promise<RestartOutcome> {
  const handle = await runningSupervisor(client, platform, service);
  return handle.executeUpdate(restartNowUpdate);
}

export interface WatchOptions {
  client: Client;
  taskQueue: string;
  platform: string;
  service: ServiceDefinition;
  home: string;
  intervalSeconds?: number;
  /** Stop watching after this many checks. */
  count?: number;
  signal: AbortSignal;
  onCheck: (check: HealthCheckRecord) => void;
  onStatus: (state: SupervisorState) => void;
}

/** Starts supervising (or attaches to the running supervisor) and reports each new check until aborted. */
export async function watchService(options: WatchOptions): Promise<SupervisorState | undefined> {
  const { client, service } = options;
  const handle = await client.workflow.start<typeof serviceSupervisor>('serviceSupervisor', {
    taskQueue: options.taskQueue,
    workflowId: supervisorId(options.platform, service.name),
    workflowIdConflictPolicy: 'USE_EXISTING',
    workflowIdReusePolicy: 'ALLOW_DUPLICATE',
    args: [{ service, home: options.home, platform: options.platform, ...(options.intervalSeconds !== undefined ? { intervalSeconds: options.intervalSeconds } : {}) }],
  });
  const pollMs = Math.min(1000, ((options.intervalSeconds ?? service.health_check.interval) * 1000) / 2);
  let lastAt = Date.now() - 1;
  let seen = 0;
  let lastStatus: string | undefined;
  let state: SupervisorState | undefined;
  while (!options.signal.aborted) {
    try {
      state = await handle.query(supervisorStateQuery);
    } catch {
      state = undefined;
    }
    if (state) {
      const live = await watchingChecks(handle).catch(() => []);
      const checks = [...state.checks, ...live].sort((a, b) => a.at - b.at);
      for (const check of checks.filter((c) => c.at > lastAt)) {
        options.onCheck(check);
        lastAt = check.at;
        seen++;
      }
      if (state.status !== lastStatus && lastStatus !== undefined) options.onStatus(state);
      lastStatus = state.status;
      if (state.status === 'failed' || state.status === 'stopped') return state;
      if (options.count !== undefined && seen >= options.count) return state;
    }
    await sleep(pollMs, undefined, { signal: options.signal }).catch(() => undefined);
  }
  return state;
}

/**
 * Supervisor states of the given services, for status and health, over a connection the
 * caller made (quickly: status must not wait for a Temporal that is not there). Closes it.
 */
export async function supervisionOf(
  connected: { client: Client; close: () => Promise<void> },
  platform: string,
  services: string[],
): Promise<Map<string, SupervisorState | undefined>> {
  try {
    const states = await Promise.all(services.map((s) => supervisorState(connected.client, platform, s).catch(() => undefined)));
    return new Map(services.map((s, i) => [s, states[i]]));
  } finally {
    await connected.close();
  }
}
