/** Inputs, state and results of the per-service supervisor workflow. Pure; the CLI reads them too. */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { ServiceDefinition } from '../config/registry-schema.js';
import type { ServiceInput } from './platform.js';
import type { HostChoice } from './worker-defaults.js';
import type { AlertTarget } from './alerts.js';

export interface HealthCheckRecord {
  /** Epoch ms when the check ran. */
  at: number;
  running: boolean;
  healthy: boolean;
  message: string;
  durationMs: number;
  pid?: number;
  /** When the process or container was started, if known. */
  startedAt?: number;
}

export type SupervisorStatus = 'starting' | 'healthy' | 'unhealthy' | 'restarting' | 'paused' | 'failed' | 'stopped';

export interface SupervisorState {
  service: string;
  status: SupervisorStatus;
  paused: boolean;
  /** Restarts since supervision began, and the times (epoch ms) of those inside the window. */
  restarts: number;
  recentRestarts: number[];
  consecutiveFailures: number;
  /** The most recent checks, oldest first, at most MAX_CHECKS. */
  checks: HealthCheckRecord[];
  supervisedSince?: number;
  runningSince?: number;
  pid?: number;
  /** Why the service is unhealthy or failed. */
  reason?: string;
  /** Start to healthy of the latest start (given by the platform start) or restart, ms. */
  timeToHealthyMs?: number;
  /** Events alerted (their ids count from this); deliveries raised (an event to each of its webhooks), delivered and given up on, with the last failure. */
  alerts?: { events: number; raised: number; delivered: number; failed: number; lastError?: string };
  /** How many times the workflow continued as new. */
  generation: number;
}

export interface SupervisorInput {
  service: ServiceDefinition;
  home: string;
  platform: string;
  /** Seconds between checks (default: health_check.interval). */
  intervalSeconds?: number;
  /** Restart when unhealthy (default: startup.restart_on_failure). */
  restart?: boolean;
  /** Continue as new once the history has this many events (default 2,000). */
  historyLimit?: number;
  /** A watch reports back at least this often (default 300 s). */
  watchBudgetSeconds?: number;
  /** State carried across continue-as-new. */
  state?: SupervisorState;
  /** Live views open when the run before continued as new (carried, so the front ends showing them see no gap). */
  liveViews?: LiveView[];
  /** The host whose workers watch and restart the service (its platform's); the shared queue without one. */
  hostChoice?: HostChoice;
  /** Start to healthy of the start that began supervision, ms (platform start gives it). */
  timeToHealthyMs?: number;
  /** Webhooks told when the service turns unhealthy, is restarted (or the restart fails), or supervision gives up. */
  alerts?: AlertTarget[];
}

export interface RestartOutcome {
  healthy: boolean;
  message: string;
  pid?: number;
}

export const MAX_CHECKS = 50;
/** max_restarts counts restarts within this window. */
export const RESTART_WINDOW_MS = 10 * 60_000;
export const MAX_RESTART_BACKOFF_MS = 60_000;

/** Wait before restart number `n` within the window (0-based): none, then 1 s, 2 s, 4 s, ... up to a minute. */
export function restartBackoffMs(n: number): number {
  return n === 0 ? 0 : Math.min(1000 * 2 ** (n - 1), MAX_RESTART_BACKOFF_MS);
}

export function initialState(service: string): SupervisorState {
  return { service, status: 'starting', paused: false, restarts: 0, recentRestarts: [], consecutiveFailures: 0, checks: [], generation: 0 };
}

// The messages of the workflow, defined once: the workflow sets their handlers, the front ends call them.
export const supervisorStateQuery = defineQuery<SupervisorState>('supervisorState');
export const pauseSignal = defineSignal('pause');
export const resumeSignal = defineSignal('resume');
export const stopSupervisingSignal = defineSignal('stopSupervising');
/**
 * Someone is watching the checks live (`services monitor`, `platform monitor`, the API's
 * monitor) for the next `seconds`: meanwhile the watch heartbeats with its checks at most every
 * `everySeconds` (default 1), instead of once a minute. Watchers renew it while they watch
 * (LIVE_VIEW_SECONDS, every LIVE_VIEW_RENEW_SECONDS); the most frequent view asked for wins.
 */
export const liveViewSignal = defineSignal<[LiveViewRequest]>('liveView');
export interface LiveViewRequest {
  seconds: number;
  everySeconds?: number;
}
/** A live view asked for: heartbeats at most every `everyMs`, until `until` (epoch ms, workflow time). */
export interface LiveView {
  everyMs: number;
  until: number;
}
export const LIVE_VIEW_SECONDS = 60;
export const LIVE_VIEW_RENEW_SECONDS = 20;
/** A live view is asked for at most this long at a time. */
export const LIVE_VIEW_MAX_SECONDS = 600;
export const restartNowUpdate = defineUpdate<RestartOutcome>('restartNow');

// The watch activity's input, outcome and heartbeat details: the supervisor and the front ends read them.
export type WatchedStatus = 'starting' | 'healthy' | 'unhealthy';

export interface WatchInput extends ServiceInput {
  intervalMs: number;
  /** Consecutive failures that make the service unhealthy. */
  retries: number;
  /** Return after this long even when nothing changed, so the workflow records the checks. */
  budgetMs: number;
  /** The status the supervisor shows now; the watch returns when it would change. */
  status: WatchedStatus;
  consecutiveFailures: number;
  /** Someone watches the checks live: heartbeat with the checks at most this often (otherwise at half the heartbeat timeout). */
  liveEveryMs?: number;
  /**
   * This watch only replaces the one before it to change its heartbeat (a live view began or
   * ended): on the same worker it takes over that watch's checks, failure count and budget.
   */
  continues?: boolean;
}

export interface WatchOutcome {
  status: WatchedStatus;
  consecutiveFailures: number;
  /** Checks since the watch began, at most RECENT_CHECKS. */
  checks: HealthCheckRecord[];
  /** How many checks it made, and since when (epoch ms), across retries and the watches it continued (the Web UI shows them; benches count with them). */
  count?: number;
  since?: number;
}

/** Heartbeat details of a running watch: what `services monitor` shows between returns. */
export interface WatchProgress {
  since: number;
  /** Checks this watch has made, across retries. */
  count: number;
  /** When this heartbeat was given (epoch ms): the SDK may send it to the server seconds later. */
  at?: number;
  status: WatchedStatus;
  consecutiveFailures: number;
  checks: HealthCheckRecord[];
}
