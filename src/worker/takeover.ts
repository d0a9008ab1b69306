/**
 * Taking over from a dead predecessor. A worker killed with SIGKILL (OOM, a crash, a power cut
 * of its container) says nothing to the server: its running activities are noticed only at
 * their heartbeat timeout, and the next workflow task of each of its runs waits out the sticky
 * timeout for the dead worker's cache. A worker that starts on the same machine can know
 * better: the worker registry (registry.ts) says which workers of its task queue died here.
 * At start-up it fails each activity such a worker was running (with its last heartbeat, so the
 * retry resumes where it was) and resets the sticky queue of those runs, so the work goes on
 * at once instead of after the timeouts.
 *
 * A worker that is not known to be dead (of another machine or PID namespace, or alive) is
 * never taken over: there the timeouts apply, as without this.
 */
import type { NativeConnection } from '@temporalio/worker';
import proto from '@temporalio/proto';
import { inPool } from '../model/pool.js';
import type { WorkerRecord } from '../temporal/worker-registry.js';

const STARTED = proto.temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED;
const WORKFLOW_TASK_SCHEDULED = proto.temporal.api.enums.v1.PendingWorkflowTaskState.PENDING_WORKFLOW_TASK_STATE_SCHEDULED;
/** Describes at once: a start-up chore, not worth more of the server. */
const CONCURRENCY = 8;

export interface TakenOver {
  workflowId: string;
  runId: string;
  activityId: string;
  activityType: string;
  deadWorker: string;
}

export interface TakeoverReport {
  activities: TakenOver[];
  /** Runs whose sticky queue was reset. */
  resetSticky: number;
}

/**
 * Fails the activities that dead workers of this machine (`dead`, from the worker registry)
 * were running in the open runs of `taskQueue`, and resets those runs' sticky queues. Looks at
 * no run when no worker of the queue died here. Returns what it did.
 */
export async function takeOverDeadWorkers(connection: Pick<NativeConnection, 'workflowService'>, namespace: string, taskQueue: string, self: string, dead: ReadonlyArray<Pick<WorkerRecord, 'identity'>>): Promise<TakeoverReport> {
  const report: TakeoverReport = { activities: [], resetSticky: 0 };
  const deadIdentities = new Set(dead.map((d) => d.identity));
  if (deadIdentities.size === 0) return report;
  const service = connection.workflowService;
  const executions: Array<{ workflowId: string; runId: string }> = [];
  let nextPageToken: Uint8Array | undefined;
  do {
    const page = await service.listWorkflowExecutions({ namespace, query: `ExecutionStatus = "Running" AND TaskQueue = "${taskQueue}"`, pageSize: 1000, nextPageToken });
    for (const e of page.executions ?? []) if (e.execution?.workflowId && e.execution.runId) executions.push({ workflowId: e.execution.workflowId, runId: e.execution.runId });
    nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
  } while (nextPageToken);

  const waiting: Array<{ workflowId: string; runId: string }> = [];
  const orphaned: Array<{ workflowId: string; runId: string }> = [];
  await inPool(executions, CONCURRENCY, async (execution) => {
    const described = await service.describeWorkflowExecution({ namespace, execution }).catch(() => undefined);
    if (!described) return; // closed meanwhile
    const orphans = (described.pendingActivities ?? []).filter((a) => a.state === STARTED && Boolean(a.activityId) && deadIdentities.has(a.lastWorkerIdentity ?? ''));
    if (orphans.length === 0) {
      if (described.pendingWorkflowTask?.state === WORKFLOW_TASK_SCHEDULED) waiting.push(execution);
      return;
    }
    orphaned.push(execution);
    // Failing by id fails whatever attempt runs then: look again right before (once for all of
    // the run's orphans), so an attempt that a timeout already gave to a live worker is left alone.
    const again = await service.describeWorkflowExecution({ namespace, execution }).catch(() => undefined);
    for (const a of orphans) {
      const deadWorker = a.lastWorkerIdentity!;
      if (!stillOrphaned(again?.pendingActivities ?? [], a)) continue;
      const failed = await service
        .respondActivityTaskFailedById({
          namespace,
          workflowId: execution.workflowId,
          runId: execution.runId,
          activityId: a.activityId!,
          identity: self,
          failure: { message: `worker ${deadWorker} is gone (its process no longer runs); ${self} took over`, source: 'provisioning', applicationFailureInfo: { type: 'WorkerGone', nonRetryable: false } },
          ...(a.heartbeatDetails ? { lastHeartbeatDetails: a.heartbeatDetails } : {}),
        })
        .then(() => true)
        .catch(() => false); // finished or timed out meanwhile: nothing to take over
      if (failed) report.activities.push({ ...execution, activityId: a.activityId!, activityType: a.activityType?.name ?? '', deadWorker });
    }
  });
  // Their next workflow tasks would wait for the dead worker's cache: send them to the normal
  // queue. Only after a crash: a run waiting for a live worker's task would just be replayed.
  const reset = orphaned.length > 0 ? [...orphaned, ...waiting] : [];
  await inPool(reset, CONCURRENCY, async (execution) => {
    if (await service.resetStickyTaskQueue({ namespace, execution }).then(() => true, () => false)) report.resetSticky += 1;
  });
  return report;
}

type Pending = NonNullable<Awaited<ReturnType<Pick<NativeConnection, 'workflowService'>['workflowService']['describeWorkflowExecution']>>['pendingActivities']>[number];

/** The activity is still the same attempt, started by the same dead worker. */
function stillOrphaned(pending: ReadonlyArray<Pending>, seen: Pending): boolean {
  const now = pending.find((a) => a.activityId === seen.activityId);
  return Boolean(now && now.state === STARTED && now.attempt === seen.attempt && now.lastWorkerIdentity === seen.lastWorkerIdentity);
}
