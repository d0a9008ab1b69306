/**
 * platformUpdate: a rolling restart from platformStart's and platformStop's own steps
 * (platform.ts), one service at a time, each healthy before the next is stopped.
 */
import { isCancellation, log } from '@temporalio/workflow';
import { startupOrder } from '../graph/index.js';
import { registryNodes } from '../config/registry-nodes.js';
import { failureMessage } from '../model/failure.js';
import type { PlatformInput, PlatformResult } from '../model/platform.js';
import { startOne, superviseService } from './platform.js';
import { DEFAULT_GRACE_SECONDS, onHostOf, recorded, serviceNamesOrFail, Tracker } from './platform-run.js';
import { stopOne } from './platform-stop.js';
/**
 * A rolling restart: the requested running services (default: every running one), one at a
 * time in startup order (dependencies first). Each is stopped, started and waited healthy
 * before the next one is touched, so at most one service is down at any moment; the first
 * failure ends the roll and the rest stay as they were (skipped, still running).
 */
export async function platformUpdate(input: PlatformInput): Promise<PlatformResult> {
  const { registry, home } = input;
  const tracker = new Tracker('update', registry);
  serviceNamesOrFail(registry, input.services ?? []);
  const run = await onHostOf(input);
  const { acts } = run;
  const platform = input.platform ?? 'default';
  const statuses = await acts.serviceStatuses.executeWithOptions(
    { summary: 'read service statuses', startToCloseTimeout: '1 minute', retry: { maximumAttempts: 3 } },
    [{ services: Object.values(registry.services), home }],
  );
  const running = new Set(statuses.filter((s) => s.running).map((s) => s.name));
  const requested = input.services && input.services.length > 0 ? new Set(input.services) : running;
  const order = startupOrder(registryNodes(registry)).filter((n) => requested.has(n));
  order.forEach((name, i) => tracker.set(name, { state: 'pending', waitingOn: i > 0 ? [order[i - 1]!] : [] }));
  tracker.phase = 'starting';
  const grace = input.graceSeconds ?? DEFAULT_GRACE_SECONDS;
  let failed: string | undefined;
  for (const [i, name] of order.entries()) {
    const service = registry.services[name]!;
    const next = order[i + 1];
    if (next) tracker.set(next, { waitingOn: [name] });
    if (failed) {
      tracker.set(name, { state: 'skipped', skippedBecause: failed, error: `not updated: ${failed} failed first`, waitingOn: [] });
      continue;
    }
    if (!running.has(name)) {
      tracker.set(name, { state: 'not-running', waitingOn: [] });
      continue;
    }
    if (service.deployment.mode === 'remote') {
      tracker.set(name, { state: 'already-running', waitingOn: [], error: 'remote service: not restarted here' });
      continue;
    }
    tracker.set(name, { state: 'stopping', waitingOn: [] });
    try {
      const stopped = await stopOne(service, home, platform, grace, run, `update ${name}: stop`);
      tracker.set(name, { stopMs: stopped.stopMs });
      await startOne(service, home, tracker, platform, run, registry.alerts?.webhooks);
      log.info(`${name} updated`, { service: name });
    } catch (err) {
      if (isCancellation(err)) {
        tracker.set(name, { state: 'cancelled' });
        throw err;
      }
      failed = name;
      tracker.set(name, { state: 'failed', error: failureMessage(err) });
      recorded.serviceFailed({ service: name, mode: service.deployment.mode });
      log.error(`${name} failed to update; the roll stops here`, { service: name, error: failureMessage(err) });
      // Its supervisor was ended for the update: a restart_on_failure service gets one again,
      // which heals it as it would any failure.
      if (service.startup.restart_on_failure) await superviseService(service, home, platform, run.host, undefined, registry.alerts?.webhooks);
    }
  }
  return tracker.result();
}
