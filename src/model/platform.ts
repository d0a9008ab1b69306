/** Inputs, progress and results of the platform workflows, and their activities' inputs and results. Pure; the CLI reads them too. */
import { defineQuery } from '@temporalio/workflow';
import type { DeploymentMode, Registry, ServiceDefinition } from '../config/registry-schema.js';
import type { HostChoice, HostRequest } from './worker-defaults.js';

export interface PlatformInput extends HostRequest {
  registry: Registry;
  /** Services to act on (start adds their dependencies); default: start = auto_start services, stop = all. */
  services?: string[];
  /** start: go on when pre-flight fails; stop: stop even when running dependents are left out. */
  force?: boolean;
  /** Project home on the worker's machine (runtime files of binary services). */
  home: string;
  /** Seconds between SIGTERM (or docker stop) and SIGKILL. */
  graceSeconds?: number;
  /** Platform name: the scope of supervisor workflow ids (default "default"). */
  platform?: string;
  /** The host a parent run chose (a server create's required services run there). */
  hostChoice?: HostChoice;
}

export type ServiceState =
  | 'pending'
  | 'starting'
  | 'waiting-healthy'
  | 'started'
  | 'already-running'
  | 'failed'
  | 'skipped'
  | 'cancelled'
  | 'stopping'
  | 'stopped'
  | 'not-running';

export interface ServiceProgress {
  name: string;
  state: ServiceState;
  /** Dependencies (start) or dependents (stop) this service is still waiting for. */
  waitingOn?: string[];
  pid?: number;
  containerId?: string;
  /** Epoch ms when the process or container started, and when it first answered healthy. */
  startedAt?: number;
  healthyAt?: number;
  /** Duration of the start call, and from start to healthy. */
  startMs?: number;
  healthyMs?: number;
  stopMs?: number;
  /** For skipped services: the failed dependency that caused it. */
  skippedBecause?: string;
  error?: string;
}

export interface PreflightIssue {
  service: string;
  check: string;
  message: string;
}

export interface StopRefusal {
  service: string;
  /** Running services that depend on it and are not being stopped. */
  dependents: string[];
}

export type PlatformOperation = 'start' | 'stop' | 'restart' | 'update';

export interface PlatformProgress {
  operation: PlatformOperation;
  phase: 'planning' | 'preflight' | 'stopping' | 'starting' | 'done';
  services: ServiceProgress[];
}

export interface PlatformResult {
  operation: PlatformOperation;
  /** True when every requested service ended started, already running, stopped or not running. */
  ok: boolean;
  services: ServiceProgress[];
  /** Pre-flight problems; when present without `force`, nothing was started. */
  preflight?: PreflightIssue[];
  /** Stop refused because of running dependents; nothing was stopped. */
  refused?: StopRefusal[];
}

export const OK_STATES: ReadonlySet<ServiceState> = new Set(['started', 'already-running', 'stopped', 'not-running']);

// The messages of the workflow, defined once: the workflow sets their handlers, the front ends call them.
export const progressQuery = defineQuery<PlatformProgress>('progress');

export interface ServiceInput {
  service: ServiceDefinition;
  home: string;
}

export interface StartServiceResult {
  name: string;
  alreadyRunning: boolean;
  pid?: number;
  containerId?: string;
  /** Epoch ms when the process or container was started. */
  startedAt: number;
  /** How long the start call took. */
  startMs: number;
}

export interface WaitHealthyResult {
  name: string;
  /** Epoch ms of the first healthy probe. */
  healthyAt: number;
  /** From the start of the wait to the first healthy probe. */
  waitedMs: number;
  probes: number;
  message: string;
}

/** startServiceHealthy's result: the start's and the health wait's, as the two activities gave them. */
export interface StartServiceHealthyResult {
  started: StartServiceResult;
  healthy: WaitHealthyResult;
}

export interface StopServiceInput extends ServiceInput {
  graceSeconds: number;
}

export interface StopServiceResult {
  name: string;
  wasRunning: boolean;
  how: string;
  stopMs: number;
}

/** Each attempt of a stop in stopServices may take its grace period and this much more (what one stopService's startToClose allowed). */
export const STOP_ATTEMPT_EXTRA_SECONDS = 60;

/** stopServices' input: services of one host, stopped at once. */
export interface StopServicesInput {
  services: ServiceDefinition[];
  home: string;
  graceSeconds: number;
}

/** One service's outcome in stopServices: stopped (or found not running), or the error of its last attempt. */
export type StopOutcome = (StopServiceResult & { ok: true }) | { name: string; ok: false; error: string; stopMs: number };

export interface ServiceStatus extends RuntimeStatus {
  name: string;
  mode: string;
}

export interface RuntimeStatus {
  running: boolean;
  pid?: number;
  containerId?: string;
  /** Epoch milliseconds, when known. */
  startedAt?: number;
  /** One line for people: "running (PID 123)", "container exited (1)", "stopped". */
  detail: string;
}

export interface PreflightProblem {
  service: string;
  check: 'prerequisite' | 'conflict' | 'port';
  message: string;
}

export interface PreflightInput {
  /** The services to start. */
  services: ServiceDefinition[];
  /** Every service of the registry, to recognise conflicts that are services. */
  registry: Record<string, ServiceDefinition>;
  home: string;
}

export interface PreflightResult {
  ok: boolean;
  problems: PreflightProblem[];
  /** Services found running already; not checked, and not started again. */
  running: string[];
}

export interface PrerequisiteCheck {
  name: string;
  ok: boolean;
  message: string;
}

export interface ServicePrerequisites {
  service: string;
  mode: DeploymentMode;
  ok: boolean;
  checks: PrerequisiteCheck[];
}

/** Spawn and healthy times of the services a start started itself (not those already running), for its critical chain. */
export function startTimings(services: readonly ServiceProgress[]): Record<string, { startedAt: number; healthyAt: number }> {
  return Object.fromEntries(services.filter((s) => s.state === 'started' && s.startedAt !== undefined && s.healthyAt !== undefined).map((s) => [s.name, { startedAt: s.startedAt!, healthyAt: s.healthyAt! }]));
}
