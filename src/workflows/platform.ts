/**
 * platformStart, platformStop and platformRestart: the runbook for bringing a registry of
 * services up in dependency order and down in reverse, as durable workflows.
 *
 * Start: pre-flight; then the eager walk of graph/walk.ts, dependencies first — each service
 * starts the moment all of its dependencies are healthy; a failed service skips exactly its
 * dependents. The stop phase is in platform-stop.ts, what the runs share in platform-run.ts;
 * update (a rolling restart) is in platform-update.ts, from the same steps.
 */
import { isCancellation, log, ParentClosePolicy, patched, startChild } from '@temporalio/workflow';
import type { ServiceDefinition } from '../config/registry-schema.js';
import { registryNodes, startTargets } from '../config/registry-nodes.js';
import { walk } from '../graph/index.js';
import { failureMessage } from '../model/failure.js';
import { supervisorId } from '../model/ids.js';
import type { AlertTarget } from '../model/alerts.js';
import type { PlatformInput, PlatformResult, StartServiceHealthyResult } from '../model/platform.js';
import type { HostChoice } from '../model/worker-defaults.js';
import type { OnHost } from './hosts.js';
import { onHostOf, recorded, serviceNamesOrFail, Tracker } from './platform-run.js';
import { stopPhase } from './platform-stop.js';
import { serviceSupervisor } from './supervisor.js';

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

