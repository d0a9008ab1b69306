/**
 * Status, health and logs read directly on this machine (where the worker runs services),
 * without a workflow: they change nothing.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { driverFor } from '../activities/drivers/index.js';
import { serviceProbe } from '../activities/health.js';
import { checkPrerequisites } from '../activities/prerequisites.js';
import type { ServicePrerequisites } from '../model/platform.js';
import type { Registry, ServiceDefinition } from '../config/registry-schema.js';
import type { ServiceVersion } from '../activities/drivers/versions.js';

export interface LocalStatus {
  name: string;
  type: string;
  category: string;
  mode: string;
  status: 'running' | 'stopped' | 'unknown';
  detail: string;
  pid?: number;
  containerId?: string;
  uptimeSeconds?: number;
  autoStart: boolean;
  dependencies: string[];
}

export async function localStatus(service: ServiceDefinition, home: string): Promise<LocalStatus> {
  const base = {
    name: service.name,
    type: service.type,
    category: service.category,
    mode: service.deployment.mode,
    autoStart: service.startup.auto_start,
    dependencies: service.dependencies,
  };
  try {
    const s = await driverFor(service).status(service, { home });
    return {
      ...base,
      status: s.running ? 'running' : 'stopped',
      detail: s.detail,
      ...(s.pid !== undefined ? { pid: s.pid } : {}),
      ...(s.containerId !== undefined ? { containerId: s.containerId } : {}),
      ...(s.running && s.startedAt !== undefined ? { uptimeSeconds: Math.max(0, Math.round((Date.now() - s.startedAt) / 1000)) } : {}),
    };
  } catch (err) {
    return { ...base, status: 'unknown', detail: (err as Error).message };
  }
}

export async function platformStatus(registry: Registry, home: string): Promise<LocalStatus[]> {
  return Promise.all(Object.values(registry.services).map((s) => localStatus(s, home)));
}

export interface LocalHealth {
  name: string;
  status: 'healthy' | 'unhealthy' | 'not-running';
  healthy: boolean;
  message: string;
  checkType: string;
  durationMs?: number;
}

export async function localHealth(service: ServiceDefinition, home: string): Promise<LocalHealth> {
  const checkType = service.health_check.type;
  const result = await serviceProbe(service, home)
    .check()
    .catch((err: Error) => ({ healthy: false, fatal: true, message: err.message, durationMs: 0 }));
  if (result.fatal) return { name: service.name, status: 'not-running', healthy: false, message: 'Not running', checkType };
  return { name: service.name, status: result.healthy ? 'healthy' : 'unhealthy', healthy: result.healthy, message: result.message, checkType, durationMs: result.durationMs };
}

/** Prints the last lines, then with `follow` new lines as they come until the signal aborts. */
export async function streamLogs(service: ServiceDefinition, home: string, lines: number, follow: boolean, write: (line: string) => void, signal?: AbortSignal): Promise<void> {
  const driver = driverFor(service);
  let last = await driver.logs(service, { home }, lines);
  last.forEach(write);
  while (follow && !signal?.aborted) {
    await sleep(500, undefined, { signal }).catch(() => undefined);
    if (signal?.aborted) break;
    const next = await driver.logs(service, { home }, Math.max(lines, 200));
    newLines(last, next).forEach(write);
    last = next;
  }
}

/**
 * The lines of `next` after the point where `shown` (an earlier tail of the same log) ends.
 * When the shown tail is no longer in `next` (the log was rotated), all of `next` is new.
 */
export function newLines(shown: readonly string[], next: readonly string[]): string[] {
  if (shown.length === 0) return [...next];
  const tail = shown.slice(-Math.min(shown.length, 20));
  for (let end = next.length; end >= tail.length; end--) {
    let match = true;
    for (let j = 0; j < tail.length && match; j++) match = next[end - tail.length + j] === tail[j];
    if (match) return next.slice(end);
  }
  return [...next];
}

/** A local status with its supervisor's view: restarts and status, null when Temporal did not answer. */
export type SupervisedStatus = LocalStatus & { restarts: number | null; supervision: string | null };

export function withSupervision(statuses: LocalStatus[], states: Map<string, { restarts: number; status: string } | undefined> | undefined): SupervisedStatus[] {
  return statuses.map((s) => {
    const state = states?.get(s.name);
    return { ...s, restarts: states ? (state?.restarts ?? 0) : null, supervision: states ? (state?.status ?? 'not supervised') : null };
  });
}

/** Each service's mode prerequisites (binaries, images, clusters, manifests): what `services validate` reports. */
export function validateServices(registry: Registry): Promise<ServicePrerequisites[]> {
  return checkPrerequisites(Object.values(registry.services));
}

export interface ReadinessRow {
  name: string;
  type: string;
  category: string;
  state: 'running' | 'ready' | 'issues';
  issues: string[];
}

/** What runs, what is ready to start, what has issues. */
export async function readiness(registry: Registry, home: string): Promise<{ total: number; running: number; readyToStart: number; issues: number; services: ReadinessRow[] }> {
  const statuses = await platformStatus(registry, home);
  const checked = new Map((await validateServices(registry)).map((p) => [p.service, p]));
  const rows = statuses.map((s): ReadinessRow => {
    const pre = checked.get(s.name)!;
    const state = s.status === 'running' ? 'running' : pre.ok ? 'ready' : 'issues';
    return { name: s.name, type: s.type, category: s.category, state, issues: pre.ok || s.status === 'running' ? [] : pre.checks.filter((c) => !c.ok).map((c) => c.message) };
  });
  return { total: rows.length, running: rows.filter((r) => r.state === 'running').length, readyToStart: rows.filter((r) => r.state !== 'issues').length, issues: rows.filter((r) => r.state === 'issues').length, services: rows };
}

/** The services an operation (server, taskserv, cluster) requires, and whether they run. */
export async function requiredFor(registry: Registry, operation: string, home: string): Promise<{ required: LocalStatus[]; allRunning: boolean; knownOperations: string[] }> {
  const required = await Promise.all(Object.values(registry.services).filter((s) => s.required_for.includes(operation)).map((s) => localStatus(s, home)));
  const knownOperations = [...new Set(Object.values(registry.services).flatMap((s) => s.required_for))].sort();
  return { required, allRunning: required.every((s) => s.status === 'running'), knownOperations };
}

/** Each service's version as its mode knows it (activities/drivers/versions.ts). */
export async function localVersions(registry: Registry): Promise<ServiceVersion[]> {
  const { serviceVersion } = await import('../activities/drivers/versions.js');
  return Promise.all(Object.values(registry.services).map((s) => serviceVersion(s)));
}
