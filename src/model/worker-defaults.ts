/** Worker settings the front ends name in their flags; pure, so they load nothing else. */
export const DEFAULT_TASK_QUEUE = 'provisioning';

export const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'] as const;

export type WorkerLogLevel = (typeof LOG_LEVELS)[number];

/**
 * Host queues. Every worker polls the shared task queue (workflows and activities that may
 * run anywhere) and its host's queue `<task queue>@<host>` (activities only). Work that needs
 * one machine — a platform's processes, a test environment's containers, a server's Docker
 * engine — picks a host at its start and sends those activities to that host's queue.
 */
export const HOST_NAME = /^[a-z0-9]([a-z0-9.-]{0,61}[a-z0-9])?$/;

/** What is wrong with a host name, if anything (pure: callers turn it into their own error). */
export function hostProblem(host: string): string | undefined {
  return HOST_NAME.test(host) ? undefined : `"${host}" is not a host name`;
}

export const HOST_NAME_FIX = 'use lower-case letters, digits, "." and "-" (at most 63), e.g. build-01';

export function hostQueue(taskQueue: string, host: string): string {
  return `${taskQueue}@${host}`;
}

/**
 * A host's queue of supervisors' watch activities, `<host queue>/watch`. A watch holds its
 * slot for minutes (it checks a service every interval and returns only on a change), so
 * watches have their own queue and slots: they never take the slots that starts, stops and
 * containers need, and a host supervises more services than it runs activities at once.
 */
export function watchQueue(hostTaskQueue: string): string {
  return `${hostTaskQueue}/watch`;
}

/** A machine's host name as a host-queue name: lower case, anything else becomes '-'. */
export function normalizeHost(name: string): string {
  const host = name.toLowerCase().replace(/[^a-z0-9.-]/g, '-').replace(/^[.-]+|[.-]+$/g, '').slice(0, 63);
  return host || 'localhost';
}

/** How long a host-bound activity waits for its host's worker before it fails naming the host. */
export const DEFAULT_HOST_WAIT_SECONDS = 60;

/**
 * Defaults of `provisioning worker`. maxActivities is 200 per queue: a platform start's
 * activity holds its slot from spawn until healthy, mostly waiting, so at 50 a 500-service
 * start ran in waves of 50 (bench:platform-scale: 6.0 s at 50, 5.0 s at 200 and 250, against
 * 4.2-5.0 s for a plain script spawning them all at once).
 */
export const WORKER_DEFAULTS = { maxActivities: 200, maxWorkflowTasks: 20, maxWatches: 1000, shutdownGraceSeconds: 30 } as const;

export interface HostClaim {
  host: string;
}

/** What a platform, server or test-environment run is told about its host (all optional). */
export interface HostRequest {
  /** Run the host-bound activities on this host's workers; default: the host of the worker that takes the run. */
  host?: string;
  /** How long a host-bound activity waits for a worker of its host (default 60 s). */
  hostWaitSeconds?: number;
}

/** The host a run chose, as recorded in its workflow. */
export interface HostChoice {
  host: string;
  taskQueue: string;
  waitSeconds: number;
}
