/**
 * serviceSupervisor: one long-lived workflow per supervised service. A watch activity checks
 * health every interval and returns only when the status changes (or after a budget), so a
 * healthy service costs no workflow task per check. After `retries` consecutive failures the
 * service is unhealthy, and with restart_on_failure it is restarted through the platform's
 * driver activities, with exponential back-off and at most max_restarts within a window —
 * past that it gives up with status "failed" and the reason. It continues as new before its
 * history grows large.
 */
import {
  allHandlersFinished,
  CancellationScope,
  condition,
  isCancellation,
  continueAsNew,
  setHandler,
  sleep,
  workflowInfo,
  log,
  patched,
  metricMeter,
  type ActivityOptions,
} from '@temporalio/workflow';
import { hostBound } from './hosts.js';
import { failureMessage } from '../model/failure.js';
import {
  initialState,
  LIVE_VIEW_MAX_SECONDS,
  liveViewSignal,
  MAX_CHECKS,
  pauseSignal,
  restartBackoffMs,
  restartNowUpdate,
  resumeSignal,
  RESTART_WINDOW_MS,
  stopSupervisingSignal,
  supervisorStateQuery,
  type HealthCheckRecord,
  type LiveView,
  type RestartOutcome,
  type SupervisorInput,
  type SupervisorState,
} from '../model/supervisor.js';
import { supervisorNow } from '../model/runbook.js';
import { keepCurrentDetails } from './details.js';
import { workflowNow } from './clock.js';
import { metrics } from '../model/metrics.js';
import { watchQueue } from '../model/worker-defaults.js';
import { targetName, type Alert, type AlertEvent } from '../model/alerts.js';

const recorded = metrics(metricMeter);


/**
 * Watches go to the host's watch queue (model/worker-defaults.ts watchQueue), with slots of
 * their own; histories from before it keep their watches on the host queue.
 */
export const WATCH_QUEUE = 'watch-queue';
/** Alerts to the input's webhooks (histories from before it have none). */
export const ALERTS = 'alerts';
const WATCH_HEARTBEAT_TIMEOUT = '15 seconds';
/**
 * Since QUIET_WATCH: a watch nobody is watching live heartbeats once a minute, with a timeout
 * of two minutes (a watch whose worker died and was restarted on the host is taken over at
 * once, worker/takeover.ts); one asked for live (liveView) heartbeats with its checks, at most
 * as often as the view asked, with a 10 s timeout. Before it: every 12 s, with a 15 s timeout,
 * whoever was watching.
 */
export const QUIET_WATCH = 'quiet-watch';
const QUIET_WATCH_HEARTBEAT_TIMEOUT = '2 minutes';
/** A live watch heartbeats at least every 5 s (at half its timeout) even between checks. */
const LIVE_WATCH_HEARTBEAT_TIMEOUT = '10 seconds';

const DEFAULT_HISTORY_LIMIT = 2_000;
/** A watch reports back at least this often, so the recorded checks stay recent. */
const DEFAULT_WATCH_BUDGET_SECONDS = 300;

const ACTIVITY_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '10 seconds',
  retry: { maximumAttempts: 3, nonRetryableErrorTypes: ['ServiceConfigError'] },
};

export async function serviceSupervisor(input: SupervisorInput): Promise<SupervisorState> {
  const { service, home } = input;
  // Watches and restarts run where the platform runs the service (its host's workers).
  const acts = hostBound(ACTIVITY_OPTIONS, input.hostChoice);
  const state: SupervisorState = input.state ? { ...input.state, generation: input.state.generation + 1 } : initialState(service.name);
  if (!input.state && input.timeToHealthyMs !== undefined) state.timeToHealthyMs = input.timeToHealthyMs;
  const intervalMs = (input.intervalSeconds ?? service.health_check.interval) * 1000;
  const restartEnabled = input.restart ?? service.startup.restart_on_failure;
  const budgetSeconds = input.watchBudgetSeconds ?? DEFAULT_WATCH_BUDGET_SECONDS;
  let stopRequested = false;
  let restarting: Promise<RestartOutcome> | undefined;
  let watching: CancellationScope | undefined;
  /** Live views asked for and not yet run out (id → heartbeat period and end, ms), and the running watch's period (undefined: unwatched). */
  const liveViews = new Map<number, LiveView>();
  let nextView = 0;
  let watchingEveryMs: number | undefined;
  const liveEveryMs = () => (liveViews.size > 0 ? Math.min(...[...liveViews.values()].map((v) => v.everyMs)) : undefined);
  /** The running watch was cancelled only to switch between live and unwatched: the next continues it. */
  let switching = false;

  // Alerts go out beside supervision, never in its way: each is an activity with its own
  // retries, not awaited by the loop; the run waits for those in flight before it ends or
  // continues as new. Its id (<workflow id>/<first run id>#<n>: a new supervisor of the same
  // service counts afresh under another first run) is fixed by the history, so every retry
  // carries the same one.
  const targets = input.alerts ?? [];
  const alerting = targets.length > 0 && patched(ALERTS);
  const inFlight = new Set<Promise<void>>();
  const alert = (event: AlertEvent, message: string, at: number) => {
    if (!alerting) return;
    const counts = (state.alerts ??= { events: 0, raised: 0, delivered: 0, failed: 0 });
    const chosen = targets.filter((t) => t.events.includes(event));
    if (chosen.length === 0) return;
    const id = `${workflowInfo().workflowId}/${workflowInfo().firstExecutionRunId}#${++counts.events}`;
    counts.raised += chosen.length;
    const body: Alert = { id, event, service: service.name, platform: input.platform, at, message, restarts: state.restarts };
    for (const [i, target] of chosen.entries()) {
      const sent: Promise<void> = acts.deliverAlert
        .executeWithOptions(
          {
            summary: `alert ${service.name} ${event} → ${targetName(target)}`,
            startToCloseTimeout: '15 s',
            retry: { initialInterval: '1 s', backoffCoefficient: 2, maximumInterval: '30 s', maximumAttempts: target.attempts, nonRetryableErrorTypes: ['AlertRejected', 'AlertConfigError'] },
          },
          [{ target, alert: chosen.length > 1 ? { ...body, id: `${id}.${i + 1}` } : body }],
        )
        .then(
          () => {
            counts.delivered++;
          },
          (err: unknown) => {
            counts.failed++;
            counts.lastError = `${event} alert not delivered to ${targetName(target)}: ${failureMessage(err)}`;
            log.error(counts.lastError, { service: service.name });
          },
        )
        .finally(() => inFlight.delete(sent));
      inFlight.add(sent);
    }
  };
  /** No alert in flight and no handler running (a restart-now that finishes may raise one). */
  const settled = () => allHandlersFinished() && inFlight.size === 0;

  const restart = (reason: string): Promise<RestartOutcome> => {
    restarting ??= (async () => {
      state.status = 'restarting';
      try {
        await acts.stopService.executeWithOptions({ summary: `restart ${service.name}: stop`, startToCloseTimeout: '2 minutes', heartbeatTimeout: '10 s' }, [{ service, home, graceSeconds: 10 }]);
        const started = await acts.startService.executeWithOptions({ summary: `restart ${service.name}: start`, startToCloseTimeout: `${service.startup.start_timeout + 60} s`, heartbeatTimeout: '10 s' }, [{ service, home }]);
        const healthy = await acts.waitHealthy.executeWithOptions({ summary: `restart ${service.name}: wait healthy`, startToCloseTimeout: `${service.startup.start_timeout + 30} s`, heartbeatTimeout: '5 s', retry: { maximumAttempts: 2 } }, [{ service, home }]);
        state.restarts++;
        state.recentRestarts.push(healthy.healthyAt);
        state.timeToHealthyMs = healthy.healthyAt - started.startedAt;
        state.status = 'healthy';
        state.consecutiveFailures = 0;
        state.runningSince = started.startedAt;
        if (started.pid !== undefined) state.pid = started.pid;
        state.reason = undefined;
        recorded.serviceRestarted({ service: service.name, mode: service.deployment.mode, result: 'ok' });
        log.warn(`${service.name} restarted (${reason})`, { service: service.name, restarts: state.restarts, ...(started.pid !== undefined ? { pid: started.pid } : {}) });
        alert('restarted', `restarted (${reason}); ${healthy.message}`, healthy.healthyAt);
        return { healthy: true, message: `restarted (${reason}); ${healthy.message}`, ...(started.pid !== undefined ? { pid: started.pid } : {}) };
      } catch (err) {
        state.restarts++;
        state.recentRestarts.push(state.checks.at(-1)?.at ?? 0);
        state.status = 'unhealthy';
        state.reason = `restart failed: ${failureMessage(err)}`;
        recorded.serviceRestarted({ service: service.name, mode: service.deployment.mode, result: 'failed' });
        log.error(`${service.name} could not be restarted`, { service: service.name, reason: state.reason });
        alert('restart-failed', state.reason, state.checks.at(-1)?.at ?? 0);
        return { healthy: false, message: state.reason };
      } finally {
        restarting = undefined;
      }
    })();
    return restarting;
  };

  setHandler(supervisorStateQuery, () => state);
  keepCurrentDetails(() => supervisorNow(state));
  setHandler(pauseSignal, () => {
    switching = false;
    state.paused = true;
    state.status = 'paused';
    watching?.cancel();
  });
  setHandler(resumeSignal, () => {
    state.paused = false;
  });
  setHandler(stopSupervisingSignal, () => {
    stopRequested = true;
    watching?.cancel();
  });
  setHandler(restartNowUpdate, () => {
    switching = false;
    watching?.cancel();
    return restart('requested');
  }, {
    validator: () => {
      if (stopRequested) throw new Error(`supervision of ${service.name} is stopping`);
    },
  });

  // Each live view asked for runs out after its seconds (a timer). The running watch is
  // replaced (continuing its checks) when the most frequent view wanted changes.
  const switchWatchIfNeeded = () => {
    if (watching && !stopRequested && liveEveryMs() !== watchingEveryMs) {
      switching = true;
      watching.cancel();
    }
  };
  const openView = (view: LiveView) => {
    const id = nextView++;
    liveViews.set(id, view);
    switchWatchIfNeeded();
    void sleep(view.until - workflowNow()).then(() => {
      liveViews.delete(id);
      switchWatchIfNeeded();
    });
  };
  setHandler(liveViewSignal, ({ seconds, everySeconds }) => {
    const wanted = Math.min(Math.max(Number(seconds) || 0, 0), LIVE_VIEW_MAX_SECONDS);
    if (wanted === 0 || stopRequested) return;
    openView({ everyMs: Math.round(Math.min(Math.max(Number(everySeconds) || 1, 1), 60) * 1000), until: workflowNow() + wanted * 1000 });
  });
  // The views still open when the run before this one continued as new: its first watch is live.
  for (const view of input.liveViews ?? []) if (view.until > workflowNow()) openView(view);

  const record = (check: HealthCheckRecord) => {
    if (check.at <= (state.checks.at(-1)?.at ?? 0)) return;
    state.checks.push(check);
    recorded.healthCheck({ service: service.name, result: check.healthy ? 'healthy' : check.running ? 'unhealthy' : 'not-running' });
    if (state.checks.length > MAX_CHECKS) state.checks.splice(0, state.checks.length - MAX_CHECKS);
    state.supervisedSince ??= check.at;
    state.recentRestarts = state.recentRestarts.filter((t) => t > check.at - RESTART_WINDOW_MS);
    if (check.healthy) {
      if (check.pid !== undefined) state.pid = check.pid;
      if (check.startedAt !== undefined) state.runningSince = check.startedAt;
    }
  };

  /** One watch: returns when the status changed, or undefined when cancelled (pause, stop, restart now, a live view's start or end). */
  const watch = async () => {
    const scope = new CancellationScope();
    watching = scope;
    const continues = switching;
    switching = false;
    // Since WATCH_QUEUE: the host's watch queue, and a heartbeat timeout of 15 s (the SDK
    // sends a heartbeat per 12 s instead of per 4 s: a third of the server's load; a watch
    // whose worker died moves to another within 15 s). Since QUIET_WATCH: once a minute
    // unless watched live.
    const current = patched(WATCH_QUEUE);
    const quiet = current && patched(QUIET_WATCH);
    watchingEveryMs = quiet ? liveEveryMs() : undefined;
    const live = watchingEveryMs !== undefined;
    const heartbeatTimeout = !current ? '5 seconds' : !quiet ? WATCH_HEARTBEAT_TIMEOUT : live ? LIVE_WATCH_HEARTBEAT_TIMEOUT : QUIET_WATCH_HEARTBEAT_TIMEOUT;
    const placement = { ...(current && input.hostChoice ? { taskQueue: watchQueue(input.hostChoice.taskQueue) } : {}), heartbeatTimeout };
    try {
      return await scope.run(() =>
        acts.watchService.executeWithOptions(
          {
            summary: `watch ${service.name} health${live ? ' (live)' : ''}`,
            startToCloseTimeout: `${budgetSeconds + (intervalMs / 1000) * 2 + service.health_check.timeout + 60} s`,
            retry: { initialInterval: '1 s', maximumInterval: '30 s' },
            ...placement,
          },
          [
            {
              service,
              home,
              intervalMs,
              retries: service.health_check.retries,
              budgetMs: budgetSeconds * 1000,
              status: state.status === 'healthy' || state.status === 'unhealthy' ? state.status : 'starting',
              consecutiveFailures: state.consecutiveFailures,
              ...(quiet ? { continues, ...(live ? { liveEveryMs: watchingEveryMs } : {}) } : {}),
            },
          ],
        ),
      );
    } catch (err) {
      if (isCancellation(err)) return undefined;
      throw err;
    } finally {
      watching = undefined;
      watchingEveryMs = undefined;
    }
  };

  while (!stopRequested) {
    if (state.paused) {
      await condition(() => !state.paused || stopRequested);
      continue;
    }
    if (restarting) await restarting;
    const outcome = await watch();
    if (!outcome) continue;
    outcome.checks.forEach(record);
    state.consecutiveFailures = outcome.consecutiveFailures;
    const last = outcome.checks.at(-1);
    if (outcome.status === 'healthy') {
      if (!restarting) state.status = 'healthy';
      state.reason = undefined;
    } else if (outcome.status === 'unhealthy' && !restarting) {
      // A watch also returns every budget while nothing changes: alert on the change only.
      if (state.status !== 'unhealthy') alert('unhealthy', last?.message ?? 'unhealthy', last?.at ?? 0);
      state.status = 'unhealthy';
      state.reason = last?.message;
      if (restartEnabled) {
        const done = state.recentRestarts.length;
        if (done >= service.startup.max_restarts) {
          state.status = 'failed';
          state.reason = `gave up after ${done} restarts within ${RESTART_WINDOW_MS / 60_000} minutes; last check: ${last?.message ?? 'none'}`;
          alert('gave-up', state.reason, last?.at ?? 0);
          break;
        }
        const backoff = restartBackoffMs(done);
        if (backoff > 0) await condition(() => stopRequested, backoff);
        if (!stopRequested) await restart(last?.message ?? 'unhealthy');
      }
    }
    if (stopRequested) break;
    const limit = input.historyLimit ?? DEFAULT_HISTORY_LIMIT;
    // Alerts still retrying put the continue-as-new off (supervision goes on meanwhile), up to
    // twice the limit; then it waits for them.
    const due = workflowInfo().historyLength > limit || workflowInfo().continueAsNewSuggested;
    if (due && (inFlight.size === 0 || workflowInfo().historyLength > 2 * limit)) {
      await condition(settled);
      // A stop that came while it waited is honoured (runs from before ALERTS never waited here).
      if (stopRequested && alerting) break;
      return continueAsNew<typeof serviceSupervisor>({ ...input, state, liveViews: [...liveViews.values()] });
    }
  }
  if (stopRequested) state.status = 'stopped';
  await condition(settled);
  return state;
}
