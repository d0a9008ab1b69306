/**
 * The platform activities: start one service, wait until it is healthy, stop one service,
 * read statuses. Each is idempotent, so a retry after a worker crash never starts a second
 * copy: the driver finds the running process or container by its deterministic identity.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ApplicationFailure, Context, log } from '@temporalio/activity';
import type { ServiceDefinition } from '../config/registry-schema.js';
import { driverFor, ServiceConfigError, type DriverContext } from './drivers/index.js';
import { STOP_ATTEMPT_EXTRA_SECONDS, type ServiceInput, type ServiceStatus, type StartServiceHealthyResult, type StartServiceResult, type StopOutcome, type StopServiceInput, type StopServiceResult, type StopServicesInput, type WaitHealthyResult } from '../model/platform.js';

export type { ServiceInput } from '../model/platform.js';
import { adaptiveDelay, waitFor } from '../health/timing.js';
import { within } from '../util/within.js';
import { describeProbe, serviceProbe } from './health.js';

const LOG_LINES_ON_FAILURE = 10;
const HEARTBEAT_SLICE_MS = 1_000;
const MIN_PROBE_DELAY_MS = 25;
const PROBE_DELAY_FRACTION = 0.1;

/**
 * Heartbeats every second while `work` runs, so a dead worker is noticed within the
 * heartbeat timeout however long the work itself may take (a stop's grace period). `beat`
 * sets the details the next heartbeats carry. With `abortOnCancel` the activity gives up as
 * soon as it is cancelled (work inside a container that cleanup removes anyway); without, the
 * work finishes first, so a create is never left half-done.
 */
export async function withHeartbeat<T>(work: (beat: (details?: unknown) => void) => Promise<T>, { abortOnCancel = false, details: current }: { abortOnCancel?: boolean; details?: () => unknown } = {}): Promise<T> {
  const context = Context.current();
  let details: unknown;
  const beat = (next?: unknown) => {
    details = next;
    context.heartbeat(details);
  };
  // The first heartbeat is the ticker's, a second in (well within every heartbeat timeout):
  // most starts and stops end before it, and one RPC less per activity is what the server
  // spends least on when hundreds run at once. `details`, when given, is read at each tick.
  const ticker = setInterval(() => context.heartbeat(current ? current() : details), HEARTBEAT_SLICE_MS);
  try {
    return await (abortOnCancel ? Promise.race([work(beat), context.cancelled]) : work(beat));
  } finally {
    clearInterval(ticker);
  }
}

function nonRetryable(message: string, type: string, details?: unknown): ApplicationFailure {
  return ApplicationFailure.create({ message, type, nonRetryable: true, ...(details !== undefined ? { details: [details] } : {}) });
}

export async function startService({ service, home }: ServiceInput): Promise<StartServiceResult> {
  const began = Date.now();
  try {
    const outcome = await withHeartbeat(() => driverFor(service).start(service, { home }));
    log.info(outcome.alreadyRunning ? `${service.name} was running already` : `${service.name} spawned`, { service: service.name, mode: service.deployment.mode, ...(outcome.pid !== undefined ? { pid: outcome.pid } : {}), ...(outcome.containerId !== undefined ? { containerId: outcome.containerId } : {}) });
    return {
      name: service.name,
      alreadyRunning: outcome.alreadyRunning,
      ...(outcome.pid !== undefined ? { pid: outcome.pid } : {}),
      ...(outcome.containerId !== undefined ? { containerId: outcome.containerId } : {}),
      startedAt: outcome.startedAt,
      startMs: Date.now() - began,
    };
  } catch (err) {
    if (err instanceof ServiceConfigError) throw nonRetryable(`${service.name}: ${err.message}`, 'ServiceConfigError');
    throw err;
  }
}

interface WaitProgress {
  since: number;
  probes: number;
  last?: string;
}

/**
 * Probes fast at first and backs off to the configured interval, bounded by start_timeout:
 * the pause after each probe is a tenth of the time waited so far (at least 25 ms, at most
 * the interval), so the lag between healthy and seen stays near a tenth of the start time. A process or container that dies meanwhile fails at once, with its last log
 * lines. Heartbeats carry the wait's start, so a retry on another worker keeps the deadline.
 */
export async function waitHealthy({ service, home }: ServiceInput): Promise<WaitHealthyResult> {
  const context = Context.current();
  return healthWait(service, home, context, context.info.heartbeatDetails as WaitProgress | undefined, (wait) => wait);
}

/**
 * Starts a service and waits until it is healthy, in one activity: half the activities of
 * startService then waitHealthy, so half the server's work and one round trip less per service
 * on the critical path. A retry after a worker died resumes from the heartbeat: the start's
 * result (so a service the first attempt spawned is still reported started, not already
 * running) and the wait's start and probes (so the deadline is kept).
 */
export async function startServiceHealthy(input: ServiceInput): Promise<StartServiceHealthyResult> {
  const context = Context.current();
  const resumed = context.info.heartbeatDetails as { started?: StartServiceResult; wait?: WaitProgress } | undefined;
  const started = resumed?.started ?? (await startService(input));
  // At once, not at the next tick: a worker that dies from here on must not make the retry
  // take the process this attempt spawned for one that was running already.
  context.heartbeat({ started });
  const healthy = await healthWait(input.service, input.home, context, resumed?.wait, (wait) => ({ started, wait }));
  return { started, healthy };
}

/** The health wait of waitHealthy and startServiceHealthy; `details` is what each heartbeat carries. */
async function healthWait(service: ServiceDefinition, home: string, context: Context, resumed: WaitProgress | undefined, details: (wait: WaitProgress) => unknown): Promise<WaitHealthyResult> {
  const since = resumed?.since ?? Date.now();
  const timeoutMs = service.startup.start_timeout * 1000;
  const ctx: DriverContext = { home };
  const driver = driverFor(service);
  let probes = resumed?.probes ?? 0;
  let last: string | undefined;

  // A heartbeat every second for the whole wait, also while a probe (up to health_check.timeout)
  // or a rollout (kubernetes waitReady) is in progress: the heartbeat timeout is short, so that
  // a dead worker is noticed soon (workflows/platform.ts).
  const progress = (): WaitProgress => ({ since, probes, ...(last ? { last } : {}) });
  const ticker = setInterval(() => context.heartbeat(details(progress())), HEARTBEAT_SLICE_MS);
  try {
    if (driver.waitReady) await driver.waitReady(service, ctx, Math.max(1, (since + timeoutMs - Date.now()) / 1000));
    const outcome = await waitFor(
      serviceProbe(service, home),
      {
        delay: adaptiveDelay(service.health_check.interval * 1000, MIN_PROBE_DELAY_MS, PROBE_DELAY_FRACTION),
        timeoutMs,
        sliceMs: HEARTBEAT_SLICE_MS,
        sleep: (ms) => context.sleep(ms),
      },
      { since, attempts: probes, onAttempt: (r, n) => ((last = r.message), (probes = n)) },
    );
    if (outcome.kind === 'fatal') {
      const logs = await driver.logs(service, ctx, LOG_LINES_ON_FAILURE).catch(() => []);
      throw nonRetryable(
        `${service.name} is not running (${outcome.result.facts?.detail ?? 'gone'}) ${Math.round(outcome.waitedMs / 100) / 10} s after start${logs.length ? `; last log lines:\n${logs.join('\n')}` : ''}`,
        'ServiceExited',
        { logs },
      );
    }
    if (outcome.kind === 'timeout') {
      throw nonRetryable(
        `${service.name} did not become healthy within ${service.startup.start_timeout} s: ${describeProbe(service)}; last result after ${outcome.attempts} probes: ${outcome.result.message}`,
        'HealthTimeout',
      );
    }
    const now = Date.now();
    return { name: service.name, healthyAt: now, waitedMs: now - since, probes: outcome.attempts, message: outcome.result.message };
  } finally {
    clearInterval(ticker);
  }
}

export async function stopService({ service, home, graceSeconds }: StopServiceInput): Promise<StopServiceResult> {
  const began = Date.now();
  const outcome = await withHeartbeat(() => driverFor(service).stop(service, { home }, { graceSeconds }));
  return { name: service.name, ...outcome, stopMs: Date.now() - began };
}

/** A failed stop is tried this often within stopServices (a bad configuration once). */
const STOP_ATTEMPTS = 3;
const STOP_RETRY_MS = 500;

/**
 * Stops several services of this host at once (a platform stop's services that became
 * stoppable together): one activity instead of one per service. Each service's stop is
 * tried up to three times with back-off, as the retry policy of one stopService would, each
 * attempt within its grace period + 60 s; an outcome per service, never a throw for one
 * service's failure. The outcomes so far ride on the heartbeats (one a second), so a retry
 * on another worker (this one died) reports those as they were first found; a stop that
 * finished after the last heartbeat is done again, and then reads "was not running".
 */
export async function stopServices({ services, home, graceSeconds }: StopServicesInput): Promise<StopOutcome[]> {
  const resumed = (Context.current().info.heartbeatDetails as StopOutcome[] | undefined) ?? [];
  const done = new Map(resumed.map((o) => [o.name, o]));
  const stopOne = async (service: ServiceDefinition) => {
    const began = Date.now();
    for (let attempt = 1; ; attempt++) {
      try {
        // Bounded per attempt: one hung stop (a daemon that does not answer) fails alone
        // instead of running the batch's activity into its timeout.
        const outcome = await within(driverFor(service).stop(service, { home }, { graceSeconds }), (graceSeconds + STOP_ATTEMPT_EXTRA_SECONDS) * 1000, () => {
          throw new Error(`stop ${service.name}: no answer within ${graceSeconds + STOP_ATTEMPT_EXTRA_SECONDS} s`);
        });
        return { name: service.name, ok: true as const, ...outcome, stopMs: Date.now() - began };
      } catch (err) {
        if (attempt >= STOP_ATTEMPTS || err instanceof ServiceConfigError) return { name: service.name, ok: false as const, error: (err as Error).message, stopMs: Date.now() - began };
        await sleep(STOP_RETRY_MS * 2 ** (attempt - 1));
      }
    }
  };
  await withHeartbeat(
    () =>
      Promise.all(
        services.map(async (service) => {
          if (!done.has(service.name)) done.set(service.name, await stopOne(service));
        }),
      ),
    { details: () => [...done.values()] },
  );
  return services.map((s) => done.get(s.name)!);
}

export async function serviceStatuses({ services, home }: { services: ServiceDefinition[]; home: string }): Promise<ServiceStatus[]> {
  return Promise.all(
    services.map(async (service) => {
      try {
        return { name: service.name, mode: service.deployment.mode, ...(await driverFor(service).status(service, { home })) };
      } catch (err) {
        return { name: service.name, mode: service.deployment.mode, running: false, detail: `status unknown: ${(err as Error).message}` };
      }
    }),
  );
}
