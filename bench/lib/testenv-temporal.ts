/**
 * The workflow side of the test-environment benchmark: one dev server (headless, in memory,
 * free port), one workflow bundle and one in-process worker (the project's createWorker, so
 * the production worker options) on a unique task queue for the whole benchmark.
 *
 * A measured environment is: start testEnvironment (auto_cleanup), execute the `run` update
 * at once (it waits for 'ready' by itself), then await the result, which comes after removal.
 * Its history then splits the wall time into the same phases as the baselines, and each
 * phase into time inside activities and time around them (dispatch, workflow tasks).
 */
import { type Client, type WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import proto from '@temporalio/proto';
import type { EnvironmentPlan } from '../../src/config/testenv-schema.js';
import type { EnvState, RunResult } from '../../src/model/testenv.js';
import { startBenchTemporal } from './harness.js';
import { PHASES, type Breakdown, type MethodRun } from './testenv-common.js';

const { EventType } = proto.temporal.api.enums.v1;

export interface ActivitySpan {
  type: string;
  summary: string;
  scheduled: number;
  started: number;
  completed: number;
}

export interface TemporalRun extends MethodRun {
  /** Per phase: milliseconds inside activities (start to completion, union over the phase's activities). */
  busy: Breakdown;
  /** The activities with epoch-ms times, and where the run began and ended. */
  spans: ActivitySpan[];
  submitted: number;
  finished: number;
  workflowStarted: number;
  workflowCompleted: number;
  workflowTasks: number;
  /** Milliseconds: mean and total of activity schedule-to-start. */
  scheduleToStartMs: number[];
  events: number;
}

export interface QuickRun {
  seconds: number;
  latencies: number[];
  passed: number;
  failures: string[];
  /** The environments that passed: workflow id, epoch ms of the call, seconds to the result. */
  envs: Array<{ workflowId: string; began: number; seconds: number }>;
}

/** What one environment's history says: phases, time inside activities, submission to workflow start. */
export type HistoryBreakdown = Awaited<ReturnType<typeof fromHistory>>;

function tsMs(ts: { seconds?: { toNumber(): number } | number | null; nanos?: number | null } | null | undefined): number {
  if (!ts) return NaN;
  const s = typeof ts.seconds === 'number' ? ts.seconds : (ts.seconds?.toNumber() ?? 0);
  return s * 1000 + (ts.nanos ?? 0) / 1e6;
}

/** Total length of the union of intervals, clipped to [from, to]. */
function covered(intervals: Array<[number, number]>, from: number, to: number): number {
  const clipped = intervals.map(([a, b]) => [Math.max(a, from), Math.min(b, to)] as [number, number]).filter(([a, b]) => b > a).sort((x, y) => x[0] - y[0]);
  let total = 0;
  let end = -Infinity;
  for (const [a, b] of clipped) {
    if (b <= end) continue;
    total += b - Math.max(a, end);
    end = b;
  }
  return total;
}

export interface TestenvHarness {
  address: string;
  namespace: string;
  taskQueue: string;
  client: Client;
  setupSeconds: number;
  runCluster(plan: EnvironmentPlan): Promise<TemporalRun>;
  runQuick(plans: EnvironmentPlan[]): Promise<QuickRun>;
  historyOf(env: QuickRun['envs'][number]): Promise<HistoryBreakdown>;
  close(): Promise<void>;
}

export async function startHarness(): Promise<TestenvHarness> {
  const { server, client, taskQueue, setupSeconds, close } = await startBenchTemporal('testenv');
  try {
    /** start → update run → result; throws unless every test passed and everything was removed. */
    const once = async (plan: EnvironmentPlan): Promise<{ handle: WorkflowHandle; run: RunResult; final: EnvState }> => {
      const handle = await client.workflow.start('testEnvironment', { taskQueue, workflowId: plan.workflowId, workflowExecutionTimeout: '3 minutes', args: [{ plan }] });
      const run = await handle.executeUpdate<RunResult, [object]>('run', { args: [{}] });
      const final = (await handle.result()) as EnvState;
      if (!run.passed) throw new Error(`environment ${plan.id}: tests failed: ${run.tests.filter((t) => !t.passed).map((t) => `${t.node}/${t.name}: ${t.output}`).join('; ')}`);
      if (final.phase !== 'cleaned') throw new Error(`environment ${plan.id} ended ${final.phase}: ${final.error ?? ''}`);
      return { handle, run, final };
    };

    const runCluster = async (plan: EnvironmentPlan): Promise<TemporalRun> => {
      const submitted = Date.now();
      const t0 = performance.now();
      const { handle } = await once(plan);
      const seconds = (performance.now() - t0) / 1000;
      return { ...(await fromHistory(handle, submitted, submitted + seconds * 1000)), seconds, execs: 2 * plan.nodes.length };
    };

    const runQuick = async (plans: EnvironmentPlan[]): Promise<QuickRun> => {
      const t0 = performance.now();
      const outcomes = await Promise.allSettled(
        plans.map(async (plan) => {
          const began = Date.now();
          const t = performance.now();
          await once(plan);
          return { workflowId: plan.workflowId, began, seconds: (performance.now() - t) / 1000 };
        }),
      );
      const seconds = (performance.now() - t0) / 1000;
      const envs = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
      const failures = outcomes.flatMap((o) => (o.status === 'rejected' ? [(o.reason as Error).message] : []));
      return { seconds, latencies: envs.map((e) => e.seconds), passed: envs.length, failures, envs };
    };

    const historyOf = (env: QuickRun['envs'][number]) => fromHistory(client.workflow.getHandle(env.workflowId), env.began, env.began + env.seconds * 1000);

    return { address: server.address, namespace: server.namespace, taskQueue, client, setupSeconds, runCluster, runQuick, historyOf, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/**
 * Phase boundaries from the history, like the scripts' marks: network = submission to
 * createEnvNetwork done; containers = to the containers started (the last createEnvNode or
 * startEnvNodes done); install = to the last installEnvNode done; run = to the last
 * runEnvTests done; cleanup = to removeEnvironment done; other = to the result in the
 * client's hand.
 */
async function fromHistory(handle: WorkflowHandle, submitted: number, finished: number): Promise<Omit<TemporalRun, 'seconds' | 'execs'>> {
  const history = await handle.fetchHistory();
  const events = history.events ?? [];
  const spans = new Map<number, ActivitySpan>();
  let workflowStarted = NaN;
  let workflowCompleted = NaN;
  let workflowTasks = 0;
  for (const e of events) {
    const at = tsMs(e.eventTime);
    const id = Number(e.eventId);
    switch (e.eventType) {
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
        workflowStarted = at;
        break;
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
        workflowCompleted = at;
        break;
      case EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
        workflowTasks += 1;
        break;
      case EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED: {
        const summaryPayload = e.userMetadata?.summary;
        const summary = summaryPayload ? String(defaultPayloadConverter.fromPayload(summaryPayload)) : '';
        spans.set(id, { type: e.activityTaskScheduledEventAttributes?.activityType?.name ?? '?', summary, scheduled: at, started: NaN, completed: NaN });
        break;
      }
      case EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
        spans.get(Number(e.activityTaskStartedEventAttributes?.scheduledEventId))!.started = at;
        break;
      case EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
        spans.get(Number(e.activityTaskCompletedEventAttributes?.scheduledEventId))!.completed = at;
        break;
      default:
        break;
    }
  }
  const list = [...spans.values()];
  const lastDone = (type: string) => Math.max(...list.filter((s) => s.type === type).map((s) => s.completed));
  const ends: Record<(typeof PHASES)[number], number> = {
    network: lastDone('createEnvNetwork'),
    // Containers are started by startEnvNodes, or (patch create-and-start) by createEnvNode itself.
    containers: Math.max(lastDone('createEnvNode'), lastDone('startEnvNodes')),
    install: lastDone('installEnvNode'),
    run: lastDone('runEnvTests'),
    cleanup: lastDone('removeEnvironment'),
  };
  const breakdown = { other: 0 } as Breakdown;
  const busy = { other: 0 } as Breakdown;
  const intervals = list.map((s) => [s.started, s.completed] as [number, number]);
  let previous = submitted;
  for (const phase of PHASES) {
    breakdown[phase] = ends[phase] - previous;
    busy[phase] = covered(intervals, previous, ends[phase]);
    previous = ends[phase];
  }
  breakdown.other = finished - ends.cleanup;
  busy.other = 0;
  return { breakdown, busy, spans: list, submitted, finished, workflowStarted, workflowCompleted, workflowTasks, scheduleToStartMs: list.map((s) => s.started - s.scheduled), events: events.length };
}
