/**
 * The stop phase of platformStop and platformRestart: refuse when running dependents are left
 * out (unless forced); end the supervision of what is stopped; then the walk of graph/walk.ts,
 * dependents first — each service stops once everything that depends on it has, the services
 * that become stoppable together in one activity per STOP_BATCH.
 */
import { isCancellation, log, patched } from '@temporalio/workflow';
import type { Registry, ServiceDefinition } from '../config/registry-schema.js';
import { registryNodes } from '../config/registry-nodes.js';
import { dependentsIndex, indexNodes, reverseDependencies, stopOrder, walk } from '../graph/index.js';
import { failureMessage } from '../model/failure.js';
import { supervisorId } from '../model/ids.js';
import { STOP_ATTEMPT_EXTRA_SECONDS, type PlatformInput, type PlatformResult, type StopOutcome, type StopRefusal } from '../model/platform.js';
import { batcher } from './batch.js';
import type { OnHost } from './hosts.js';
import { anywhere, DEFAULT_GRACE_SECONDS, type Tracker } from './platform-run.js';

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
    { summary, startToCloseTimeout: `${graceSeconds + STOP_ATTEMPT_EXTRA_SECONDS} s`, heartbeatTimeout: '10 s', retry: { maximumAttempts: 3 } },
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

export async function stopPhase(input: PlatformInput, requested: string[] | undefined, tracker: Tracker, run: OnHost): Promise<PlatformResult | undefined> {
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
