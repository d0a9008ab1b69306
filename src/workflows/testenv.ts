/**
 * testEnvironment (id testenv/<id>): a workflow that owns a containerized test environment.
 * It creates the network and the nodes' containers, starts them (now, or on the `start`
 * signal when auto_start is off), installs each node's taskservs in dependency order
 * (control planes first), and is then ready. The `run` update runs tests; the `cleanup`
 * signal, the TTL timer, or auto_cleanup after the first run removes everything. Removal
 * runs in a non-cancellable scope on success, failure and cancellation alike.
 */
import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  proxyActivities,
  setHandler,
  allHandlersFinished,
  sleep,
  log,
  metricMeter,
  patched,
} from '@temporalio/workflow';
import type * as activities from '../activities/index.js';
import type { HostRequest } from '../model/worker-defaults.js';
import { chooseHost, hostBound } from './hosts.js';
import { failureMessage } from '../model/failure.js';
import type { EnvironmentPlan, EnvNode } from '../config/testenv-schema.js';
import { acceptsRuns, cleanupSignal, initialState, installWaves, runUpdate, startSignal, testenvStateQuery, type EnvState, type NodeView, type RunRequest, type TestResult } from '../model/testenv.js';
import { testenvNow } from '../model/runbook.js';
import { keepCurrentDetails } from './details.js';
import { metrics } from '../model/metrics.js';
import { workflowNow } from './clock.js';

const recorded = metrics(metricMeter);

/** Patch: an environment that starts at once creates and starts each container in one activity. */
export const CREATE_AND_START = 'create-and-start';


/** Activities that create resources are waited for on cancel, so cleanup sees what they made. */
const SETUP_OPTIONS = {
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '10 seconds',
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: { initialInterval: '1 s', maximumAttempts: 5, nonRetryableErrorTypes: ['TestEnvConfigError', 'TaskservFailed', 'TestEnvNodeGone', 'TestEnvNodeFailed', 'TestEnvPoolExhausted'] },
};

const CLEANUP_OPTIONS = {
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '1 s', maximumInterval: '30 s' },
};

/**
 * Test runs are not retried (a test need not be idempotent), so their heartbeat timeout must
 * outlast a Temporal server restart (heartbeats cannot be recorded meanwhile). Installs are
 * (taskservs are idempotent, as server create assumes; a failing script is TaskservFailed and
 * never retried): a lost worker or a server restart re-runs them on another attempt.
 */
const NOT_RETRIED_HEARTBEAT = '60 seconds';

/** The reaper runs on any worker. */
const anywhere = proxyActivities<typeof activities>(CLEANUP_OPTIONS);

export interface TestEnvironmentInput extends HostRequest {
  plan: EnvironmentPlan;
}

/** Like Promise.all, but waits for every branch: no resource is still being made when cleanup starts. */
async function allSettled<T>(work: Array<Promise<T>>): Promise<T[]> {
  const settled = await Promise.allSettled(work);
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((s) => (s as PromiseFulfilledResult<T>).value);
}

export async function testEnvironment(input: TestEnvironmentInput): Promise<EnvState> {
  const { plan } = input;
  const state = initialState(plan, workflowNow());
  let cleanupRequested = false;
  let startRequested = plan.autoStart;
  let busy = false;
  setHandler(testenvStateQuery, () => state);
  keepCurrentDetails(() => testenvNow(state));
  // A cleanup during set-up cancels the set-up (its creates are awaited) rather than waiting for installs to end.
  const setupScope = new CancellationScope();
  let settingUp = true;
  setHandler(cleanupSignal, () => {
    cleanupRequested = true;
    if (settingUp) setupScope.cancel();
  });
  setHandler(startSignal, () => void (startRequested = true));
  // The environment's containers live on one Docker engine: every activity goes to its host's
  // workers, bound below once the host is chosen (handlers are set first: an update that finds
  // no handler at the end of the first activation is rejected).
  const on = {} as { setup: ReturnType<typeof hostBound>; cleanup: ReturnType<typeof hostBound> };
  const node = (name: string) => state.nodes.find((n) => n.name === name)!;
  // Every phase or node change is stamped, so a follower that polls sees them in the order they happened.
  const tick = () => (state.seq = (state.seq ?? 0) + 1);
  const setPhase = (phase: EnvState['phase']) => {
    state.phase = phase;
    state.phaseSeq = tick();
    log.info(`environment ${plan.id}: ${phase}`, { environment: plan.id, phase, nodes: plan.nodes.map((n) => n.name) });
  };
  const setNode = (view: NodeView, change: Partial<NodeView>) => Object.assign(view, change, { seq: tick() });
  /** What the install and test activities need of the plan. */
  const scriptPlan = { id: plan.id, nodes: plan.nodes, taskservs: plan.taskservs, ...(plan.infra ? { infra: plan.infra } : {}) };

  setHandler(
    runUpdate,
    async (request) => {
      startRequested = true;
      await condition(() => !busy && (state.phase === 'ready' || !acceptsRuns(state.phase)));
      // Checked in the same step that takes `busy`: a cleanup due now is never overtaken by a run.
      if (cleanupRequested || (plan.autoCleanup && state.runs > 0)) throw ApplicationFailure.nonRetryable(`environment ${plan.id} is being cleaned up`, 'TestEnvNotReady');
      if (state.phase !== 'ready') throw ApplicationFailure.nonRetryable(`environment ${plan.id} is ${state.phase}${state.error ? `: ${state.error}` : ''}`, 'TestEnvNotReady');
      busy = true;
      setPhase('running');
      const startedAt = workflowNow();
      try {
        const chosen = plan.nodes.filter((n) => !request.nodes || request.nodes.includes(n.name));
        // Every node's tests finish (or fail) before the run ends; a node whose tests could not run is a failed test.
        const settled = await Promise.allSettled(
          chosen.map((n) =>
            on.setup.runEnvTests.executeWithOptions(
              { summary: `tests on ${n.name}`, startToCloseTimeout: '30 minutes', heartbeatTimeout: NOT_RETRIED_HEARTBEAT, retry: { maximumAttempts: 1 } },
              [{ plan: scriptPlan, node: n, request }],
            ),
          ),
        );
        const tests: TestResult[] = settled.flatMap((r, i) =>
          r.status === 'fulfilled' ? r.value : [{ node: chosen[i]!.name, name: 'run', exitCode: -1, passed: false, durationMs: 0, output: failureMessage(r.reason) }],
        );
        const cancelled = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected' && isCancellation(r.reason));
        if (cancelled) throw cancelled.reason;
        state.lastRun = { run: state.runs + 1, startedAt, durationMs: workflowNow() - startedAt, passed: tests.every((t) => t.passed), tests };
        (state.lastRun.passed ? recorded.testenvPassed : recorded.testenvFailed)({ type: plan.type });
        return state.lastRun;
      } finally {
        state.runs += 1;
        busy = false;
        if ((state.phase as EnvState['phase']) === 'running') setPhase('ready');
      }
    },
    {
      validator: (request: RunRequest) => {
        if (!acceptsRuns(state.phase)) throw new Error(`environment ${plan.id} is ${state.phase}; create a new one`);
        const unknown = (request.nodes ?? []).filter((n) => !plan.nodes.some((p) => p.name === n));
        if (unknown.length > 0) throw new Error(`environment ${plan.id} has no node ${unknown.join(', ')}; its nodes are ${plan.nodes.map((n) => n.name).join(', ')}`);
        if (request.command && request.command.length === 0) throw new Error('the command is empty');
      },
    },
  );

  const install = async (n: EnvNode) => {
    const view = node(n.name);
    setNode(view, { state: 'installing', installStartedAt: workflowNow() });
    view.taskservs.forEach((t) => (t.state = 'installing'));
    try {
      const outcome = await on.setup.installEnvNode.executeWithOptions(
        { summary: `install ${n.order.join(', ') || 'nothing'} on ${n.name}`, startToCloseTimeout: '60 minutes', heartbeatTimeout: '30 seconds', retry: { maximumAttempts: 3 } },
        [{ plan: scriptPlan, node: n }],
      );
      for (const t of outcome.taskservs) Object.assign(view.taskservs.find((v) => v.name === t.name)!, { state: 'installed', durationMs: t.durationMs, output: t.output });
      setNode(view, { state: 'ready', readyAt: workflowNow() });
    } catch (err) {
      setNode(view, { state: 'failed' });
      const details = (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure ? err.cause.details?.[0] : undefined) as { taskservs?: Array<{ name: string; exitCode: number; output: string }> } | undefined;
      for (const t of details?.taskservs ?? []) Object.assign(view.taskservs.find((v) => v.name === t.name)!, { state: t.exitCode === 0 ? 'installed' : 'failed', output: t.output });
      const failing = view.taskservs.find((t) => t.state === 'installing');
      if (failing && !isCancellation(err)) failing.state = 'failed';
      view.taskservs.filter((t) => t.state === 'installing').forEach((t) => (t.state = 'pending'));
      throw err;
    }
  };

  /** Network, containers, start, installs: everything up to ready. */
  const setUp = async (): Promise<void> => {
    setPhase('creating-network');
    const network = await on.setup.createEnvNetwork.executeWithOptions(
      { summary: plan.network.subnet ? `create network ${plan.network.name}` : 'borrow a network of the pool (or create one)', startToCloseTimeout: '2 minutes', retry: { maximumAttempts: 5, nonRetryableErrorTypes: ['TestEnvConfigError', 'TestEnvPoolExhausted'] } },
      [{ plan: { id: plan.id, network: plan.network }, expiresAt: state.expiresAt }],
    );
    state.network = network;

    setPhase('creating-containers');
    // An environment that starts at once creates and starts each container in one step (runs recorded before CREATE_AND_START took two).
    const startNow = startRequested && patched(CREATE_AND_START);
    await allSettled(
      plan.nodes.map(async (n) => {
        const made = await on.setup.createEnvNode.executeWithOptions(
          {
            summary: `${startNow ? 'create and start' : 'create'} container ${n.container}`,
            startToCloseTimeout: '5 minutes',
            retry: { maximumAttempts: 5, nonRetryableErrorTypes: ['TestEnvConfigError', 'TestEnvNodeGone', 'TestEnvNodeFailed'] },
          },
          [{ plan: { id: plan.id }, node: n, expiresAt: state.expiresAt, network: network.name, ...(startNow ? { start: true } : {}) }],
        );
        setNode(node(n.name), startNow ? { state: 'running', address: made.address } : { state: 'created' });
      }),
    );

    if (!startRequested) {
      setPhase('created');
      await condition(() => startRequested || cleanupRequested, Math.max(1, state.expiresAt - workflowNow()));
    }
    if (startRequested && !cleanupRequested) {
      if (!startNow) {
        setPhase('starting');
        const addresses = await on.setup.startEnvNodes.executeWithOptions(
          { summary: `start ${plan.nodes.length} containers`, startToCloseTimeout: '5 minutes' },
          [{ plan: { id: plan.id }, nodes: plan.nodes.map((n) => n.container), network: network.name }],
        );
        for (const n of state.nodes) setNode(n, { state: 'running', address: addresses[n.container] });
      }

      setPhase('installing');
      for (const wave of installWaves(plan.nodes)) await allSettled(wave.map(install));
      setPhase('ready');
      recorded.testenvCreated({ type: plan.type });
    }
  };

  // Not cancellable: whatever happens next, cleanup knows where the environment lives.
  const host = await CancellationScope.nonCancellable(() => chooseHost(input));
  if (host) state.host = host.host;
  Object.assign(on, { setup: hostBound(SETUP_OPTIONS, host), cleanup: hostBound(CLEANUP_OPTIONS, host) });

  // The TTL also bounds the set-up: an install that outlives it is interrupted and removed.
  let ttlDuringSetup = false;
  const ttlTimer = new CancellationScope();
  void ttlTimer
    .run(() => sleep(Math.max(1, state.expiresAt - workflowNow()), { summary: `time to live: remove at ${new Date(state.expiresAt).toISOString()}` }))
    .then(() => {
      if (!settingUp) return;
      ttlDuringSetup = true;
      setupScope.cancel();
    })
    .catch(() => undefined);

  let failure: unknown;
  try {
    await setupScope.run(() => setUp());
    settingUp = false;
    ttlTimer.cancel();
    if (state.phase === 'ready') {
      // A cleanup waits for a run in progress to finish; the TTL does not.
      await condition(() => (cleanupRequested || (plan.autoCleanup && state.runs > 0)) && !busy, Math.max(1, state.expiresAt - workflowNow()));
    }
    state.cleanupReason = cleanupRequested ? 'signal' : plan.autoCleanup && state.runs > 0 ? 'auto-cleanup' : 'ttl';
  } catch (err) {
    settingUp = false;
    ttlTimer.cancel();
    if (isCancellation(err) && (cleanupRequested || ttlDuringSetup) && !CancellationScope.current().consideredCancelled) {
      state.cleanupReason = cleanupRequested ? 'signal' : 'ttl'; // the cleanup signal or the TTL interrupted the set-up
    } else {
      failure = err;
      state.cleanupReason = isCancellation(err) ? 'cancelled' : 'failed';
      if (!isCancellation(err)) {
        state.error = failureMessage(err);
        recorded.testenvFailed({ type: plan.type });
      }
    }
  }

  setPhase('cleaning-up');
  // Runs whatever happened above, including cancellation of this workflow.
  state.removed = await CancellationScope.nonCancellable(() => on.cleanup.removeEnvironment.executeWithOptions({ summary: `remove environment ${plan.id}` }, [{ id: plan.id }]));
  setPhase(failure && !isCancellation(failure) ? 'failed' : 'cleaned');
  await CancellationScope.nonCancellable(() => condition(allHandlersFinished));
  if (failure && isCancellation(failure)) throw failure as Error;
  if (failure) throw ApplicationFailure.nonRetryable(`test environment ${plan.id} failed: ${state.error}`, 'TestEnvFailed', state);
  return state;
}

/** The reaper, run by the testenv-reaper schedule and `provisioning test env reap`. */
export async function reapTestEnvironmentsWorkflow(): Promise<Awaited<ReturnType<typeof activities.reapTestEnvironments>>> {
  const result = await anywhere.reapTestEnvironments.executeWithOptions({ summary: 'reap test environments of closed workflows', startToCloseTimeout: '10 minutes', heartbeatTimeout: '1 minute', retry: { maximumAttempts: 3 } }, []);
  if (result.reaped.length > 0) recorded.testenvReaped({}, result.reaped.length);
  const sum = (kind: 'containers' | 'networks') => result.reaped.reduce((n, r) => n + (r[kind] ?? 0), 0);
  if (sum('containers') > 0) recorded.reaperRemovals({ kind: 'container' }, sum('containers'));
  if (sum('networks') > 0) recorded.reaperRemovals({ kind: 'network' }, sum('networks'));
  return result;
}
