/**
 * platformStart, platformStop and platformRestart: the runbook for bringing a registry of
 * services up in dependency order and down in reverse, as durable workflows.
 *
 * Start: pre-flight; then the eager walk of graph/walk.ts, dependencies first — each service
 * starts the moment all of its dependencies are healthy; a failed service skips exactly its
 * dependents. Stop: refuse when running dependents are left out (unless forced); then the
 * same walk, dependents first — each service stops once everything that depends on it has.
 * Update (a rolling restart) is in platform-update.ts, from the same steps.
 */
import {
  ApplicationFailure,
  isCancellation,
  log,
  metricMeter,
  ParentClosePolicy,
  patched,
  proxyActivities,
  setHandler,
  startChild,
  workflowInfo,
  type ActivityOptions,
} from '@temporalio/workflow';
import type * as activities from '../activities/index.js';
import { failureMessage } from '../model/failure.js';
import type { Registry, ServiceDefinition } from '../config/registry-schema.js';
import { registryNodes, startTargets } from '../config/registry-nodes.js';
import { criticalChain, dependentsIndex, indexNodes, reverseDependencies, stopOrder, UnknownNodeError, walk, type CriticalChain } from '../graph/index.js';
import { chainMarkdown, platformNow } from '../model/runbook.js';
import { keepCurrentDetails } from './details.js';
import {
  OK_STATES,
  type PlatformInput,
  type PlatformOperation,
  progressQuery,
  type PlatformProgress,
  type PlatformResult,
  type ServiceProgress,
  type StartServiceHealthyResult,
  STOP_ATTEMPT_EXTRA_SECONDS,
  type StopOutcome,
  type StopRefusal,
  startTimings,
} from '../model/platform.js';
import { serviceSupervisor } from './supervisor.js';
import { supervisorId } from '../model/ids.js';
import type { HostChoice } from '../model/worker-defaults.js';
import type { AlertTarget } from '../model/alerts.js';
import { onHost, type OnHost } from './hosts.js';
import { batcher } from './batch.js';
import { metrics } from '../model/metrics.js';

export const recorded = metrics(metricMeter);


export const DEFAULT_GRACE_SECONDS = 10;
/**
 * A start's and a health wait's heartbeat timeout: the host's worker heartbeats them every
 * second (worker/worker.ts), so a worker that died is noticed, and the activity retried on
 * another, within 3 s. (Options of a command, not the commands: histories replay unchanged.)
 */
const HOST_HEARTBEAT_TIMEOUT = '3 s';
/**
 * A service is started and waited healthy by one activity (startServiceHealthy) instead of two:
 * a 500-service start measured half the server's CPU and one round trip less per hop. The
 * progress goes from 'starting' straight to 'started'.
 */
export const START_HEALTHY = 'start-healthy';
/**
 * A stop ends the supervision of every service it stops in one activity (endSupervisors),
 * before the walk, instead of one endSupervisor activity per service: half the activities of
 * a stop. Nothing is healed meanwhile either way: each service is about to be stopped.
 */
export const END_SUPERVISION_FIRST = 'end-supervision-first';
/**
 * The services that become stoppable in one activation are stopped by one stopServices
 * activity per STOP_BATCH of them, instead of one stopService each: a 500-service stop was
 * 501 activities. The price: a service's dependencies wait for its whole batch (which stops
 * in parallel), so one slow stopper holds back the dependencies of its batch-mates too.
 */
export const BATCHED_STOP = 'batched-stop';
export const STOP_BATCH = 25;

const ACTIVITY_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '10 seconds',
  retry: { initialInterval: '500 ms', maximumAttempts: 3, nonRetryableErrorTypes: ['ServiceConfigError'] },
};

/** Activities that may run on any worker (they talk to Temporal, not to the host). */
const anywhere = proxyActivities<typeof activities>(ACTIVITY_OPTIONS);

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

/** Supervision outlives the start: an abandoned child per service, one at a time (its id is the lock). */
export async function superviseService(service: ServiceDefinition, home: string, platform: string, host: HostChoice | undefined, timeToHealthyMs: number | undefined, alerts: AlertTarget[] | undefined): Promise<void> {
  try {
    await startChild(serviceSupervisor, {
      workflowId: supervisorId(platform, service.name),
      args: [{ service, home, platform, ...(timeToHealthyMs !== undefined ? { timeToHealthyMs } : {}), ...(host ? { hostChoice: host } : {}), ...(alerts?.length ? { alerts } : {}) }],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      staticSummary: `supervise ${service.name} (platform ${platform}): check every ${service.health_check.interval} s, restart on failure`,
    });
  } catch (err) {
    if ((err as Error).name !== 'WorkflowExecutionAlreadyStartedError') throw err;
  }
}

/** Runs recorded before START_HEALTHY: a start, then a health wait, two activities (the progress shows 'waiting-healthy' between them). */
async function startThenWait(service: ServiceDefinition, home: string, tracker: Tracker, acts: OnHost['acts']): Promise<StartServiceHealthyResult> {
  const name = service.name;
  const extraSeconds = service.startup.start_timeout;
  const started = await acts.startService.executeWithOptions(
    { summary: `start ${name}`, startToCloseTimeout: `${extraSeconds + 60} s`, heartbeatTimeout: HOST_HEARTBEAT_TIMEOUT, retry: { maximumAttempts: 3, nonRetryableErrorTypes: ['ServiceConfigError'] } },
    [{ service, home }],
  );
  tracker.set(name, {
    state: 'waiting-healthy',
    startedAt: started.startedAt,
    startMs: started.startMs,
    ...(started.pid !== undefined ? { pid: started.pid } : {}),
    ...(started.containerId !== undefined ? { containerId: started.containerId } : {}),
  });
  const healthy = await acts.waitHealthy.executeWithOptions(
    { summary: `wait ${name} healthy`, startToCloseTimeout: `${extraSeconds + 30} s`, heartbeatTimeout: HOST_HEARTBEAT_TIMEOUT, retry: { maximumAttempts: 3 } },
    [{ service, home }],
  );
  return { started, healthy };
}

export async function startOne(service: ServiceDefinition, home: string, tracker: Tracker, platform: string, { acts, host }: OnHost, alerts?: AlertTarget[]): Promise<void> {
  const name = service.name;
  tracker.set(name, { state: 'starting', waitingOn: [] });
  const extraSeconds = service.startup.start_timeout;
  const { started, healthy } = patched(START_HEALTHY)
    ? await acts.startServiceHealthy.executeWithOptions(
        {
          summary: `start ${name}, wait healthy`,
          startToCloseTimeout: `${2 * extraSeconds + 90} s`,
          heartbeatTimeout: HOST_HEARTBEAT_TIMEOUT,
          retry: { maximumAttempts: 3, nonRetryableErrorTypes: ['ServiceConfigError'] },
        },
        [{ service, home }],
      )
    : await startThenWait(service, home, tracker, acts);
  tracker.set(name, {
    state: started.alreadyRunning ? 'already-running' : 'started',
    startedAt: started.startedAt,
    startMs: started.startMs,
    ...(started.pid !== undefined ? { pid: started.pid } : {}),
    ...(started.containerId !== undefined ? { containerId: started.containerId } : {}),
    healthyAt: healthy.healthyAt,
    healthyMs: healthy.healthyAt - started.startedAt,
  });
  log.info(`${name} healthy after ${healthy.healthyAt - started.startedAt} ms`, { service: name, mode: service.deployment.mode, ...(started.pid !== undefined ? { pid: started.pid } : {}) });
  if (!started.alreadyRunning) {
    const labels = { service: name, mode: service.deployment.mode };
    recorded.serviceStarted(labels);
    recorded.timeToHealthy(labels, (healthy.healthyAt - started.startedAt) / 1000);
  }
  if (service.startup.restart_on_failure) await superviseService(service, home, platform, host, started.alreadyRunning ? undefined : healthy.healthyAt - started.startedAt, alerts);
}

async function startPhase(input: PlatformInput, targets: string[], tracker: Tracker, run: OnHost): Promise<PlatformResult | undefined> {
  const { registry, home } = input;
  const { acts } = run;
  tracker.phase = 'preflight';
  const services = targets.map((n) => registry.services[n]!);
  const pre = await acts.preflight.executeWithOptions(
    { summary: `pre-flight ${targets.length} services`, startToCloseTimeout: '2 minutes', heartbeatTimeout: '10 s', retry: { maximumAttempts: 3 } },
    [{ services, registry: registry.services, home }],
  );
  if (!pre.ok && !input.force) {
    for (const name of targets) tracker.set(name, { state: 'skipped', error: 'pre-flight failed; nothing was started' });
    return tracker.result({ preflight: pre.problems });
  }

  tracker.phase = 'starting';
  // Each visit resolves to undefined when the service is up, or to the failed service that
  // stopped it (itself, or the first failed dependency).
  await walk<string | undefined>(registryNodes(registry), targets, 'dependencies-first', {
    pending: (name, waitingOn) => tracker.set(name, { state: 'pending', waitingOn }),
    predecessorDone: (name, dep) => tracker.set(name, { waitingOn: (tracker.services.get(name)?.waitingOn ?? []).filter((d) => d !== dep) }),
    visit: async (name, blockers) => {
      const blocker = blockers.find((b) => b !== undefined);
      if (blocker) {
        tracker.set(name, { state: 'skipped', skippedBecause: blocker, error: `dependency ${blocker} failed`, waitingOn: [] });
        return blocker;
      }
      try {
        await startOne(registry.services[name]!, home, tracker, input.platform ?? 'default', run, registry.alerts?.webhooks);
        return undefined;
      } catch (err) {
        if (isCancellation(err)) {
          tracker.set(name, { state: 'cancelled' });
          throw err;
        }
        tracker.set(name, { state: 'failed', error: failureMessage(err) });
        recorded.serviceFailed({ service: name, mode: registry.services[name]!.deployment.mode });
        log.error(`${name} failed to start`, { service: name, error: failureMessage(err) });
        return name;
      }
    },
  });
  return undefined;
}

/** A deliberate stop, never to be healed: its supervisor is ended first, then the service stopped. */
export async function stopOne(service: ServiceDefinition, home: string, platform: string, graceSeconds: number, { acts }: OnHost, summary = `stop ${service.name}`) {
  await anywhere.endSupervisor.executeWithOptions(
    { summary: `end supervision of ${service.name}`, startToCloseTimeout: '5 minutes', heartbeatTimeout: '10 s', retry: { maximumAttempts: 3 } },
    [{ workflowId: supervisorId(platform, service.name) }],
  );
  return stopProcess(service, home, graceSeconds, acts, summary);
}

/** Stops the service's process or container (its supervision already ended). */
function stopProcess(service: ServiceDefinition, home: string, graceSeconds: number, acts: OnHost['acts'], summary = `stop ${service.name}`) {
  return acts.stopService.executeWithOptions(
    { summary, startToCloseTimeout: `${graceSeconds + 60} s`, heartbeatTimeout: '10 s', retry: { maximumAttempts: 3 } },
    [{ service, home, graceSeconds }],
  );
}

/** Names for a summary: the first few, then how many more. */
function listed(names: string[], shown = 3): string {
  return names.length <= shown ? names.join(', ') : `${names.slice(0, shown).join(', ')} and ${names.length - shown} more`;
}

/** Running services that depend on a target and are not themselves being stopped. */
function stopRefusals(registry: Registry, targets: string[], running: Set<string>): StopRefusal[] {
  const index = indexNodes(registryNodes(registry));
  const dependents = dependentsIndex(index);
  const stopping = new Set(targets);
  return targets
    .map((service) => ({
      service,
      dependents: reverseDependencies(index, service, { transitive: true, dependents }).filter((d) => running.has(d) && !stopping.has(d)),
    }))
    .filter((r) => r.dependents.length > 0);
}

async function stopPhase(input: PlatformInput, requested: string[] | undefined, tracker: Tracker, run: OnHost): Promise<PlatformResult | undefined> {
  const { acts } = run;
  const { registry, home } = input;
  const all = Object.values(registry.services);
  const statuses = await acts.serviceStatuses.executeWithOptions(
    { summary: 'read service statuses', startToCloseTimeout: '1 minute', retry: { maximumAttempts: 3 } },
    [{ services: all, home }],
  );
  const running = new Set(statuses.filter((s) => s.running && s.mode !== 'remote').map((s) => s.name));
  const targets = requested && requested.length > 0 ? requested : stopOrder(registryNodes(registry)).filter((n) => running.has(n));
  if (!input.force) {
    const refused = stopRefusals(registry, targets, running);
    if (refused.length > 0) {
      for (const name of targets) tracker.set(name, { state: running.has(name) ? 'skipped' : 'not-running', error: 'stop refused; nothing was stopped' });
      return tracker.result({ refused });
    }
  }

  tracker.phase = 'stopping';
  const grace = input.graceSeconds ?? DEFAULT_GRACE_SECONDS;
  const platform = input.platform ?? 'default';
  const nodes = registryNodes(registry);
  const supervisedEnded = patched(END_SUPERVISION_FIRST);
  const stopping = targets.filter((n) => running.has(n));
  if (supervisedEnded && stopping.length > 0) {
    await anywhere.endSupervisors.executeWithOptions(
      { summary: `end supervision of ${stopping.length} service${stopping.length === 1 ? '' : 's'}`, startToCloseTimeout: '5 minutes', heartbeatTimeout: '10 s', retry: { maximumAttempts: 3 } },
      [{ workflowIds: stopping.map((n) => supervisorId(platform, n)) }],
    );
  }
  const inBatches = supervisedEnded && stopping.length > 0 && patched(BATCHED_STOP);
  const stopInBatch = inBatches
    ? batcher<ServiceDefinition, StopOutcome>(STOP_BATCH, (services) =>
        run.acts.stopServices.executeWithOptions(
          {
            summary: services.length === 1 ? `stop ${services[0]!.name}` : `stop ${services.length} services: ${listed(services.map((s) => s.name))}`,
            // Each service is tried up to three times inside the activity, each attempt within
            // grace + 60 s (its own retries are for a worker that died).
            startToCloseTimeout: `${3 * (grace + STOP_ATTEMPT_EXTRA_SECONDS) + 30} s`,
            heartbeatTimeout: '10 s',
            retry: { maximumAttempts: 3 },
          },
          [{ services, home, graceSeconds: grace }],
        ),
      )
    : undefined;
  await walk<void>(nodes, stopOrder(nodes, targets), 'dependents-first', {
    pending: (name, waitingOn) => tracker.set(name, { state: 'pending', waitingOn }),
    visit: async (name) => {
      if (!running.has(name)) {
        tracker.set(name, { state: 'not-running', waitingOn: [] });
        return;
      }
      tracker.set(name, { state: 'stopping', waitingOn: [] });
      try {
        const service = registry.services[name]!;
        const stopped: StopOutcome = stopInBatch
          ? await stopInBatch(service)
          : { ok: true, ...(supervisedEnded ? await stopProcess(service, home, grace, run.acts) : await stopOne(service, home, platform, grace, run)) };
        if (!stopped.ok) {
          tracker.set(name, { state: 'failed', error: stopped.error, stopMs: stopped.stopMs });
          log.error(`${name} could not be stopped`, { service: name, error: stopped.error });
          return;
        }
        tracker.set(name, { state: stopped.wasRunning ? 'stopped' : 'not-running', stopMs: stopped.stopMs });
        log.info(`${name} ${stopped.wasRunning ? 'stopped' : 'was not running'}`, { service: name });
      } catch (err) {
        if (isCancellation(err)) throw err;
        tracker.set(name, { state: 'failed', error: failureMessage(err) });
      }
    },
  });
  return undefined;
}

export async function platformStart(input: PlatformInput): Promise<PlatformResult> {
  const tracker = new Tracker('start', input.registry);
  serviceNamesOrFail(input.registry, input.services ?? []);
  const targets = startTargets(input.registry, input.services);
  return (await startPhase(input, targets, tracker, await onHostOf(input))) ?? tracker.result();
}

export async function platformStop(input: PlatformInput): Promise<PlatformResult> {
  const tracker = new Tracker('stop', input.registry);
  serviceNamesOrFail(input.registry, input.services ?? []);
  return (await stopPhase(input, input.services, tracker, await onHostOf(input))) ?? tracker.result();
}

/** Stop, then start the same set: the requested services, or every running one. */
export async function platformRestart(input: PlatformInput): Promise<PlatformResult> {
  const tracker = new Tracker('restart', input.registry);
  serviceNamesOrFail(input.registry, input.services ?? []);
  const run = await onHostOf(input);
  const stopped = await stopPhase(input, input.services, tracker, run);
  if (stopped) return stopped;
  const restartSet = [...tracker.services.values()].filter((s) => s.state === 'stopped').map((s) => s.name);
  const targets = startTargets(input.registry, input.services && input.services.length > 0 ? input.services : restartSet);
  return (await startPhase(input, targets, tracker, run)) ?? tracker.result();
}

