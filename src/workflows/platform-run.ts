/**
 * What the platform workflows share (platform.ts: start and restart; platform-stop.ts: the
 * stop phase; platform-update.ts): the per-service progress tracker, the activity options and
 * the binding to the run's host.
 */
import { ApplicationFailure, metricMeter, proxyActivities, setHandler, workflowInfo, type ActivityOptions } from '@temporalio/workflow';
import type * as activities from '../activities/index.js';
import type { Registry } from '../config/registry-schema.js';
import { registryNodes } from '../config/registry-nodes.js';
import { criticalChain, UnknownNodeError, type CriticalChain } from '../graph/index.js';
import { chainMarkdown, platformNow } from '../model/runbook.js';
import { metrics } from '../model/metrics.js';
import { OK_STATES, progressQuery, startTimings, type PlatformInput, type PlatformOperation, type PlatformProgress, type PlatformResult, type ServiceProgress } from '../model/platform.js';
import { keepCurrentDetails } from './details.js';
import { onHost } from './hosts.js';

export const recorded = metrics(metricMeter);

export const DEFAULT_GRACE_SECONDS = 10;

const ACTIVITY_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '10 seconds',
  retry: { initialInterval: '500 ms', maximumAttempts: 3, nonRetryableErrorTypes: ['ServiceConfigError'] },
};

/** Activities that may run on any worker (they talk to Temporal, not to the host). */
export const anywhere = proxyActivities<typeof activities>(ACTIVITY_OPTIONS);

/** A run's host-bound activities: the services' processes and containers live on its host. */
export const onHostOf = (input: PlatformInput) => onHost(ACTIVITY_OPTIONS, input);

/** Per-service progress, readable at any time through the `progress` query. */
export class Tracker {
  readonly services = new Map<string, ServiceProgress>();
  phase: PlatformProgress['phase'] = 'planning';

  /** Counts changes, so the Web UI's details are rendered only after one. */
  private version = 0;
  /** The critical chain of a finished start, for the Web UI's details. */
  private chain: CriticalChain | undefined;

  constructor(
    readonly operation: PlatformOperation,
    private readonly registry: Registry,
  ) {
    setHandler(progressQuery, () => this.snapshot());
    keepCurrentDetails(
      () => (this.chain ? `${platformNow(this.snapshot())}\n\n${chainMarkdown(this.chain)}` : platformNow(this.snapshot())),
      () => `${this.version}:${this.phase}:${this.chain ? 1 : 0}`,
    );
  }

  set(name: string, update: Partial<ServiceProgress>): void {
    this.version++;
    const current = this.services.get(name) ?? { name, state: 'pending' };
    this.services.set(name, { ...current, ...update });
  }

  snapshot(): PlatformProgress {
    return { operation: this.operation, phase: this.phase, services: [...this.services.values()] };
  }

  result(extra: Partial<PlatformResult> = {}): PlatformResult {
    this.phase = 'done';
    const services = [...this.services.values()];
    if (this.operation !== 'stop') this.chain = criticalChain(registryNodes(this.registry), startTimings(services), workflowInfo().startTime.getTime());
    return { operation: this.operation, ok: services.every((s) => OK_STATES.has(s.state)) && !extra.preflight && !extra.refused, services, ...extra };
  }
}

export function serviceNamesOrFail(registry: Registry, names: readonly string[]): void {
  const unknown = names.filter((n) => !registry.services[n]);
  if (unknown.length > 0) throw ApplicationFailure.nonRetryable(new UnknownNodeError(unknown).message, 'UnknownService');
}
