/** State, runs and results of the test-environment workflow. Pure; the CLI reads them too. */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { EnvironmentPlan, EnvNode } from '../config/testenv-schema.js';

export type EnvPhase =
  | 'creating-network'
  | 'creating-containers'
  | 'created'
  | 'starting'
  | 'installing'
  | 'ready'
  | 'running'
  | 'cleaning-up'
  | 'cleaned'
  | 'failed';

export type NodeState = 'pending' | 'created' | 'running' | 'installing' | 'ready' | 'failed';

export interface TaskservState {
  name: string;
  state: 'pending' | 'installing' | 'installed' | 'failed';
  durationMs?: number;
  output?: string;
}

export interface NodeView {
  name: string;
  role: EnvNode['role'];
  container: string;
  image: string;
  resources: EnvNode['resources'];
  state: NodeState;
  address?: string;
  /** Epoch ms when its installs started and when it became ready. */
  installStartedAt?: number;
  readyAt?: number;
  taskservs: TaskservState[];
  /** Value of EnvState.seq at this node's last state change, so followers print changes in order. */
  seq?: number;
}

export interface TestResult {
  node: string;
  /** The taskserv's test ("<taskserv>", or "<taskserv>:check" when it has no test.sh), or the command. */
  name: string;
  exitCode: number;
  passed: boolean;
  durationMs: number;
  /** The last lines of its output. */
  output: string;
}

export interface RunRequest {
  /** Nodes to run on; every node when absent. */
  nodes?: string[];
  /** argv to run instead of the taskservs' tests. */
  command?: string[];
}

export interface RunResult {
  run: number;
  startedAt: number;
  durationMs: number;
  passed: boolean;
  tests: TestResult[];
}

export interface EnvState {
  id: string;
  workflowId: string;
  type: EnvironmentPlan['type'];
  subject: string;
  phase: EnvPhase;
  /** The host whose workers (and Docker engine) run the environment. */
  host?: string;
  network: { name: string; subnet?: string; gateway?: string; pooled?: boolean };
  nodes: NodeView[];
  autoCleanup: boolean;
  createdAt: number;
  expiresAt: number;
  runs: number;
  lastRun?: RunResult;
  /** Why the environment was removed: cleanup signal, auto_cleanup, ttl, failed or cancelled. */
  cleanupReason?: 'signal' | 'auto-cleanup' | 'ttl' | 'failed' | 'cancelled';
  removed?: { containers: number; networks: number };
  error?: string;
  /** A logical clock of state changes; `phaseSeq` and each node's `seq` say when each last changed. */
  seq?: number;
  phaseSeq?: number;
}

export function initialState(plan: EnvironmentPlan, now: number): EnvState {
  return {
    id: plan.id,
    workflowId: plan.workflowId,
    type: plan.type,
    subject: plan.subject,
    phase: 'creating-network',
    network: { ...plan.network },
    nodes: plan.nodes.map((n) => ({
      name: n.name,
      role: n.role,
      container: n.container,
      image: n.image,
      resources: n.resources,
      state: 'pending',
      taskservs: n.order.map((name) => ({ name, state: 'pending' })),
    })),
    autoCleanup: plan.autoCleanup,
    createdAt: now,
    expiresAt: now + plan.ttlSeconds * 1000,
    runs: 0,
  };
}

/** Control planes are set up first, then every other node (the seeds' cluster order). */
export function installWaves(nodes: readonly EnvNode[]): EnvNode[][] {
  const first = nodes.filter((n) => n.role === 'control-plane');
  const rest = nodes.filter((n) => n.role !== 'control-plane');
  return [first, rest].filter((w) => w.length > 0);
}

/** Phases in which a run can still be served (it waits for the environment to be ready). */
export function acceptsRuns(phase: EnvPhase): boolean {
  return !['cleaning-up', 'cleaned', 'failed'].includes(phase);
}

// The messages of the workflow, defined once: the workflow sets their handlers, the front ends call them.
export const testenvStateQuery = defineQuery<EnvState>('testenvState');
export const cleanupSignal = defineSignal<[]>('cleanup');
export const startSignal = defineSignal<[]>('start');
export const runUpdate = defineUpdate<RunResult, [RunRequest]>('run');

export interface ReapedEnvironment {
  id: string;
  workflowId: string;
  /** The owning workflow's status when it was reaped, "not found", or "expired" (TTL long past). */
  status: string;
  containers: number;
  networks: number;
}

/** What a reaper run checked and removed. */
export interface ReapResult {
  /** Environments that had resources. */
  checked: number;
  reaped: ReapedEnvironment[];
  /** Idle networks of the pool of environment networks that it removed. */
  idlePoolNetworks?: number;
}

export interface EnvNetwork {
  name: string;
  subnet: string;
  gateway?: string;
  /** Borrowed from the pool of environment networks (given back, not removed, at cleanup). */
  pooled?: boolean;
}

export interface CreateNetworkInput {
  plan: Pick<EnvironmentPlan, 'id' | 'network'>;
  expiresAt?: number;
}

/** Creates (does not start) a node's container; a retry finds the one it made by name. */
export interface CreateNodeInput {
  plan: Pick<EnvironmentPlan, 'id'>;
  node: EnvNode;
  expiresAt?: number;
  /** The network createEnvNetwork gave the environment; default `testenv-<id>` (runs from before the network pool). */
  network?: string;
  /** Start it too, and return its address (an environment that starts at once). */
  start?: boolean;
}

export interface InstallOutcome {
  node: string;
  taskservs: Array<{ name: string; exitCode: number; durationMs: number; output: string }>;
}
