/**
 * Host routing inside workflows. A run chooses its host once, at its start (the input's, or
 * the host of the worker that claims it), and sends its host-bound activities to that host's
 * queue with a schedule-to-start timeout: when no worker of the host polls, the activity fails
 * with a message naming the host instead of waiting forever.
 *
 * Histories recorded before host queues existed replay without the choice (patch
 * HOST_QUEUES): their activities stay on the shared queue.
 */
import { ActivityFailure, ApplicationFailure, patched, proxyActivities, proxyLocalActivities, TimeoutFailure, workflowInfo, type ActivityOptions } from '@temporalio/workflow';
import type * as activities from '../activities/index.js';
import type { HostActivities } from '../activities/host.js';
import { DEFAULT_HOST_WAIT_SECONDS, hostQueue, type HostChoice, type HostRequest } from '../model/worker-defaults.js';

export const HOST_QUEUES = 'host-queues';

/** A local activity: it runs in the worker that runs this workflow task (its host is the answer), with no round trip through the server, and is recorded as a marker. */
const claim = proxyLocalActivities<HostActivities>({ startToCloseTimeout: '10 s', retry: { maximumAttempts: 5 } });

/**
 * This run's host: the one the input names, else the host of the worker that runs this
 * first workflow task. Undefined when replaying a history from before host queues. `inherited` is a choice
 * made by a parent run (children keep their parent's host).
 */
export async function chooseHost(request: HostRequest & { hostChoice?: HostChoice }): Promise<HostChoice | undefined> {
  if (request.hostChoice) return request.hostChoice;
  if (!patched(HOST_QUEUES)) return undefined;
  const host = request.host ?? (await claim.claimHost.executeWithOptions({ summary: 'choose the host' }, [])).host;
  return { host, taskQueue: hostQueue(workflowInfo().taskQueue, host), waitSeconds: request.hostWaitSeconds ?? DEFAULT_HOST_WAIT_SECONDS };
}

type Acts = ReturnType<typeof proxyActivities<typeof activities>>;

/** The project's activities with `options`, sent to the chosen host (the shared queue without one). */
export function hostBound(options: ActivityOptions, host: HostChoice | undefined): Acts {
  if (!host) return proxyActivities<typeof activities>(options);
  const acts = proxyActivities<typeof activities>({ ...options, taskQueue: host.taskQueue, scheduleToStartTimeout: `${host.waitSeconds} s` });
  const explain = (name: string) => (err: unknown) => {
    throw hostUnavailable(err, host, name) ?? err;
  };
  return new Proxy(acts, {
    get(target, name: string) {
      const fn = target[name as keyof Acts] as ((...args: unknown[]) => Promise<unknown>) & { executeWithOptions: (o: ActivityOptions, a: unknown[]) => Promise<unknown> };
      const wrapped = (...args: unknown[]) => fn(...args).catch(explain(name));
      wrapped.executeWithOptions = (o: ActivityOptions, a: unknown[]) => fn.executeWithOptions(o, a).catch(explain((o as { summary?: string }).summary ?? name));
      return wrapped;
    },
  });
}

/** A run's host and the project's activities bound to it. */
export interface OnHost {
  acts: Acts;
  host: HostChoice | undefined;
}

/** Chooses the run's host (chooseHost) and binds the activities with `options` to it (hostBound). */
export async function onHost(options: ActivityOptions, request: HostRequest & { hostChoice?: HostChoice }): Promise<OnHost> {
  const host = await chooseHost(request);
  return { acts: hostBound(options, host), host };
}

/** A schedule-to-start timeout means no worker of the host polled its queue in time. */
export function hostUnavailable(err: unknown, host: HostChoice, what: string): ApplicationFailure | undefined {
  if (!(err instanceof ActivityFailure) || !(err.cause instanceof TimeoutFailure) || err.cause.timeoutType !== 'SCHEDULE_TO_START') return undefined;
  return ApplicationFailure.nonRetryable(
    `host ${host.host}: no worker took "${what}" within ${host.waitSeconds} s (task queue ${host.taskQueue}); start one there: provisioning worker --host ${host.host}`,
    'HostUnavailable',
  );
}
