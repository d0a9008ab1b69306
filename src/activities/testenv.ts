/**
 * Test-environment activities: an isolated network per environment (a given subnet, or a
 * free /24 from a pool), one container per node with hostname, alias, limits and labels,
 * taskserv installs and test runs inside the containers, removal by label, and the reaper
 * that removes what belongs to closed workflows.
 *
 * Every node's PID 1 follows /var/log/provisioning/node.log, and every step run here
 * appends its output there, so `docker logs` of a node is its install and test log.
 */
import { randomBytes } from 'node:crypto';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { WorkflowNotFoundError } from '@temporalio/client';
import type Docker from 'dockerode';
import { cidrsOverlap, formatIpv4, parseCidr, type TaskservManifest } from '../config/settings-schema.js';
import { networkName, type EnvironmentPlan, type EnvNode } from '../config/testenv-schema.js';
import { BASE_IMAGE, ensureBaseImage } from '../docker/base-image.js';
import { dockerClient, imagePresent, inspectContainer, isNotFound } from '../docker/client.js';
import { DockerFrames } from '../docker/logs.js';
import type { RunRequest, TestResult } from '../model/testenv.js';
import { testenvWorkflowId } from '../model/ids.js';

import { withHeartbeat } from './platform.js';
import { CLUSTER_LABEL, EXPIRES_LABEL, MANAGED_LABEL, NAMESPACE_LABEL, NODE_LABEL, RUN_LABEL, TESTENV_LABEL, WORKFLOW_LABEL } from '../model/labels.js';

export const NODE_LOG = '/var/log/provisioning/node.log';
/** Where free subnets for environments come from, one /24 each. */
export const DEFAULT_POOL = '10.213.0.0/16';

let client: Docker | undefined;
const docker = () => (client ??= dockerClient());

function failure(message: string, type = 'TestEnvConfigError'): ApplicationFailure {
  return ApplicationFailure.create({ message, type, nonRetryable: true });
}

const statusCode = (err: unknown) => (err as { statusCode?: number }).statusCode;

/** An environment whose TTL passed this long ago is reaped whoever owns it (its own TTL cleanup did not happen). */
export const EXPIRED_GRACE_MS = 15 * 60 * 1000;

let clusterId: string | undefined;
/** The Temporal cluster this worker talks to; a failed lookup is not remembered (the activity retries). */
async function temporalCluster(): Promise<string> {
  if (clusterId) return clusterId;
  const info = await Context.current().client.workflowService.getClusterInfo({});
  if (!info.clusterId) throw new Error('the Temporal server did not say its cluster id');
  return (clusterId = info.clusterId);
}

interface Owner {
  id: string;
  /** Epoch ms after which the environment may be reaped whatever its owner says. */
  expiresAt?: number;
}

/** Labels that tie a resource to the workflow run, namespace and Temporal cluster that own it. */
/** The workflow run this activity works for. */
function ownerRun(): { workflowId: string; runId: string; namespace: string } {
  const info = Context.current().info;
  const execution = info.workflowExecution;
  if (!execution) throw failure('test-environment activities run only on behalf of a workflow');
  return { workflowId: execution.workflowId, runId: execution.runId, namespace: info.workflowNamespace ?? 'default' };
}

async function ownerLabels({ id, expiresAt }: Owner): Promise<Record<string, string>> {
  const run = ownerRun();
  return {
    [MANAGED_LABEL]: 'true',
    [TESTENV_LABEL]: id,
    [WORKFLOW_LABEL]: run.workflowId,
    [RUN_LABEL]: run.runId,
    [NAMESPACE_LABEL]: run.namespace,
    [CLUSTER_LABEL]: await temporalCluster(),
    ...(expiresAt ? { [EXPIRES_LABEL]: String(expiresAt) } : {}),
  };
}

/** A resource found by name is reused only when this same workflow run made it (a retry). */
function assertOurs(kind: string, name: string, labels: Record<string, string> | undefined): void {
  if (labels?.[RUN_LABEL] !== ownerRun().runId) {
    const owner = labels?.[WORKFLOW_LABEL] ? `workflow ${labels[WORKFLOW_LABEL]} (run ${labels[RUN_LABEL] ?? '?'})` : 'something else';
    throw failure(`${kind} ${name} already exists and belongs to ${owner}; choose another environment id, or remove it ("provisioning test env reap")`);
  }
}

/** When this attempt was cancelled or superseded while it created something, remove it again. */
async function undoIfCancelled(remove: () => Promise<unknown>): Promise<void> {
  if (!Context.current().cancellationSignal.aborted) return;
  await remove().catch(() => undefined);
  throw Context.current().cancellationSignal.reason ?? new Error('cancelled');
}

// ---------------------------------------------------------------------------------------------
// Network

function* poolSubnets(pool: string, start: number): Generator<string> {
  const p = parseCidr(pool);
  if (!p || p.bits > 24) throw failure(`PROVISIONING_TESTENV_POOL ${pool} is not an IPv4 CIDR of /24 or larger`);
  const count = 2 ** (24 - p.bits);
  for (let i = 0; i < count; i++) {
    const base = p.base + ((start + i) % count) * 256;
    yield `${formatIpv4(base)}/24`;
  }
}

function hash(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619) >>> 0;
  return h;
}

async function usedSubnets(): Promise<string[]> {
  const networks = await docker().listNetworks();
  return networks.flatMap((n) => (n.IPAM?.Config ?? []).map((c) => c.Subnet).filter((s): s is string => Boolean(s)));
}

export interface EnvNetwork {
  name: string;
  subnet: string;
  gateway?: string;
}

async function inspectNetwork(name: string): Promise<{ network: EnvNetwork; labels: Record<string, string> } | undefined> {
  try {
    const info = (await docker().getNetwork(name).inspect()) as { IPAM?: { Config?: Array<{ Subnet?: string; Gateway?: string }> }; Labels?: Record<string, string> };
    const config = (info.IPAM?.Config ?? [])[0];
    return { network: { name, subnet: config?.Subnet ?? '', ...(config?.Gateway ? { gateway: config.Gateway } : {}) }, labels: info.Labels ?? {} };
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

export interface CreateNetworkInput {
  plan: Pick<EnvironmentPlan, 'id' | 'network'>;
  expiresAt?: number;
}

/** Creates the environment's network: the plan's subnet, or the first free /24 of the pool. */
export async function createEnvNetwork(input: CreateNetworkInput): Promise<EnvNetwork> {
  return withHeartbeat(() => makeNetwork(input));
}

async function makeNetwork({ plan, expiresAt }: CreateNetworkInput): Promise<EnvNetwork> {
  const name = networkName(plan.id);
  const existing = await inspectNetwork(name);
  if (existing) {
    assertOurs('network', name, existing.labels);
    return existing.network;
  }
  const labels = await ownerLabels({ id: plan.id, ...(expiresAt ? { expiresAt } : {}) });
  const create = async (subnet: string) => {
    const made = await docker().createNetwork({ Name: name, Driver: 'bridge', CheckDuplicate: true, Labels: labels, IPAM: { Driver: 'default', Config: [{ Subnet: subnet }] } });
    await undoIfCancelled(() => made.remove());
  };
  if (plan.network.subnet) {
    try {
      await create(plan.network.subnet);
    } catch (err) {
      if (/overlap/i.test((err as Error).message)) throw failure(`subnet ${plan.network.subnet} overlaps an existing Docker network; choose another or leave it out to get a free one`);
      throw err;
    }
    return (await inspectNetwork(name))!.network;
  }
  const used = await usedSubnets();
  const poolCidr = process.env.PROVISIONING_TESTENV_POOL ?? DEFAULT_POOL;
  for (const subnet of poolSubnets(poolCidr, hash(plan.id))) {
    if (used.some((u) => cidrsOverlap(u, subnet))) continue;
    try {
      await create(subnet);
      return (await inspectNetwork(name))!.network;
    } catch (err) {
      // Another environment took it between the listing and the create: try the next one.
      if (/overlap/i.test((err as Error).message)) continue;
      if (statusCode(err) === 409) {
        const found = (await inspectNetwork(name))!;
        assertOurs('network', name, found.labels);
        return found.network;
      }
      throw err;
    }
  }
  throw failure(`no free /24 is left in the pool ${poolCidr}; clean up environments ("provisioning test env reap") or set PROVISIONING_TESTENV_POOL`, 'TestEnvPoolExhausted');
}

// ---------------------------------------------------------------------------------------------
// Containers

const PID1 = `mkdir -p /var/log/provisioning && touch ${NODE_LOG} && exec tail -n +1 -f ${NODE_LOG}`;

/** Creates (does not start) a node's container; a retry finds the one it made by name. */
export interface CreateNodeInput {
  plan: Pick<EnvironmentPlan, 'id'>;
  node: EnvNode;
  expiresAt?: number;
}

export async function createEnvNode(input: CreateNodeInput): Promise<{ id: string; created: boolean }> {
  return withHeartbeat(() => makeNode(input));
}

async function makeNode({ plan, node, expiresAt }: CreateNodeInput): Promise<{ id: string; created: boolean }> {
  const existing = await inspectContainer(docker(), node.container);
  if (existing) {
    assertOurs('container', node.container, existing.Config.Labels);
    return { id: existing.Id, created: false };
  }
  if (node.image === BASE_IMAGE) await ensureBaseImage(docker());
  else if (!(await imagePresent(docker(), node.image))) throw failure(`image ${node.image} of node ${node.name} is not present locally; pull or build it first`);
  const network = networkName(plan.id);
  try {
    const container = await docker().createContainer({
      name: node.container,
      Hostname: node.name,
      Image: node.image,
      Entrypoint: ['sh', '-c'],
      Cmd: [PID1],
      Labels: { ...(await ownerLabels({ id: plan.id, ...(expiresAt ? { expiresAt } : {}) })), [NODE_LABEL]: node.name },
      HostConfig: {
        NetworkMode: network,
        NanoCpus: node.resources.cpu_millicores * 1_000_000,
        Memory: node.resources.memory_mb * 1024 * 1024,
        MemorySwap: node.resources.memory_mb * 1024 * 1024,
        ...(node.resources.disk_mb ? { StorageOpt: { size: `${node.resources.disk_mb}M` } } : {}),
      },
      NetworkingConfig: { EndpointsConfig: { [network]: { Aliases: [node.name] } } },
    });
    await undoIfCancelled(() => container.remove({ force: true }));
    return { id: container.id, created: true };
  } catch (err) {
    if (statusCode(err) === 409) {
      const found = (await inspectContainer(docker(), node.container))!;
      assertOurs('container', node.container, found.Config.Labels);
      return { id: found.Id, created: false };
    }
    if (/storage ?opt|quota/i.test((err as Error).message)) throw failure(`node ${node.name}: the Docker engine cannot limit disk size (${(err as Error).message}); leave disk_mb out`);
    throw err;
  }
}

/** Starts the nodes' containers and returns each one's address on the environment network. */
export async function startEnvNodes({ plan, nodes }: { plan: Pick<EnvironmentPlan, 'id'>; nodes: string[] }): Promise<Record<string, string>> {
  const network = networkName(plan.id);
  const addresses: Record<string, string> = {};
  await withHeartbeat(() => Promise.all(
    nodes.map(async (container) => {
      const before = await inspectContainer(docker(), container);
      if (!before) throw failure(`container ${container} is gone`, 'TestEnvNodeGone');
      if (!before.State.Running) await docker().getContainer(container).start();
      const info = (await inspectContainer(docker(), container))!;
      if (!info.State.Running) throw failure(`container ${container} stopped right after starting (exit ${info.State.ExitCode}): ${info.State.Error || 'see its logs'}`, 'TestEnvNodeFailed');
      addresses[container] = info.NetworkSettings.Networks[network]?.IPAddress ?? '';
    }),
  ));
  return addresses;
}

// ---------------------------------------------------------------------------------------------
// Steps inside a node

export interface StepOutcome {
  label: string;
  exitCode: number;
  startedAt: number;
  durationMs: number;
  output: string;
}

/**
 * A POSIX sh program whose text is constant apart from positional references: every value
 * from config (scripts, parameters, argv) travels as an argument, never as program text.
 */
class Program {
  /** Marks step boundaries in the output; random per exec, so output cannot fake a marker. */
  readonly nonce = randomBytes(8).toString('hex');
  readonly args: string[] = [this.nonce];
  readonly lines: string[] = [
    'M="@@provisioning:$1"',
    'LOG=' + NODE_LOG,
    'mkdir -p "${LOG%/*}"',
    // step LABEL CMD...: runs CMD with its output to the caller and appended to the node log.
    'step() {',
    '  label=$1; shift',
    // The container's uptime (centiseconds) times each step where it runs; stream batching cannot skew it.
    '  read t0 _ </proc/uptime',
    '  echo "$M:begin:$label"',
    '  echo "==> $label" >>"$LOG"',
    '  st="${LOG%/*}/.status.$$"',
    '  { "$@"; echo $? >"$st"; } 2>&1 | tee -a "$LOG"',
    '  s=$(cat "$st" 2>/dev/null); rm -f "$st"; s=${s:-127}',
    '  echo "<== $label: exit $s" >>"$LOG"',
    '  read t1 _ </proc/uptime',
    '  echo "$M:end:$label:$s:$t0:$t1"',
    '  return "$s"',
    '}',
  ];

  ref(value: string): string {
    this.args.push(value);
    return `"\${${this.args.length}}"`;
  }

  step(label: string, argv: string[], stopOnFailure: boolean): void {
    this.lines.push(`step ${[label, ...argv].map((v) => this.ref(v)).join(' ')}${stopOnFailure ? ' || exit $?' : ''}`);
  }

  argv(): string[] {
    return ['sh', '-c', this.lines.join('\n'), 'provisioning', ...this.args];
  }
}

function tail(text: string, lines = 40): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/** Runs a program in a container, timing each step by the arrival of its markers. */
async function runSteps(container: string, program: Program, env: Record<string, string>, onStep: (label: string) => void): Promise<{ steps: StepOutcome[]; exitCode: number; output: string }> {
  const exec = await docker().getContainer(container).exec({ Cmd: program.argv(), Env: Object.entries(env).map(([k, v]) => `${k}=${v}`), AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  const frames = new DockerFrames();
  const steps: StepOutcome[] = [];
  let current: { label: string; startedAt: number; lines: string[] } | undefined;
  let partial = '';
  const all: string[] = [];
  const onLine = (line: string) => {
    const marker = `@@provisioning:${program.nonce}:`;
    const begin = line.startsWith(`${marker}begin:`) ? [line, line.slice(marker.length + 6)] : null;
    const end = line.startsWith(`${marker}end:`) ? /^(.*):(\d+):([\d.]*):([\d.]*)$/.exec(line.slice(marker.length + 4)) : null;
    if (begin) {
      current = { label: begin[1]!, startedAt: Date.now(), lines: [] };
      onStep(current.label);
    } else if (end && current) {
      const measured = end[3] && end[4] ? Math.round((Number(end[4]) - Number(end[3])) * 1000) : undefined;
      steps.push({ label: current.label, exitCode: Number(end[2]), startedAt: current.startedAt, durationMs: measured ?? Date.now() - current.startedAt, output: tail(current.lines.join('\n')) });
      current = undefined;
    } else {
      current?.lines.push(line);
      all.push(line);
    }
  };
  await new Promise<void>((resolve, reject) => {
    stream.on('data', (chunk: Buffer) => {
      const text = partial + frames.push(chunk);
      const lines = text.split('\n');
      partial = lines.pop()!;
      lines.forEach(onLine);
    });
    stream.on('end', () => {
      if (partial) onLine(partial);
      resolve();
    });
    stream.on('error', reject);
    void Context.current().cancelled.catch(() => {
      stream.destroy();
      resolve();
    });
  });
  const info = await exec.inspect();
  return { steps, exitCode: info.ExitCode ?? -1, output: tail(all.join('\n')) };
}

function scriptEnv(plan: Pick<EnvironmentPlan, 'id' | 'nodes' | 'infra'>, node: EnvNode): Record<string, string> {
  return { ENV_ID: plan.id, NODE: node.name, NODES: plan.nodes.map((n) => n.name).join(' '), SERVER: node.name, INFRA: plan.infra ?? `testenv-${plan.id}` };
}

/** argv that runs one of a taskserv's scripts with its parameters (and TASKSERV) in the environment. */
function scriptArgv(taskserv: TaskservManifest, script: string): string[] {
  const pairs = Object.entries({ ...taskserv.parameters, TASKSERV: taskserv.name }).map(([k, v]) => `${k}=${v}`);
  return ['env', ...pairs, 'sh', '-c', script, taskserv.name];
}

export interface InstallOutcome {
  node: string;
  taskservs: Array<{ name: string; exitCode: number; durationMs: number; output: string }>;
}

/** Installs then checks each of a node's taskservs in order, in one exec; the first failure stops it. */
export async function installEnvNode({ plan, node }: { plan: Pick<EnvironmentPlan, 'id' | 'nodes' | 'taskservs' | 'infra'>; node: EnvNode }): Promise<InstallOutcome> {
  return withHeartbeat(async (beat) => {
    const program = new Program();
    for (const name of node.order) {
      const t = plan.taskservs[name]!;
      program.step(`install:${name}`, scriptArgv(t, t.scripts.install), true);
      program.step(`check:${name}`, scriptArgv(t, t.scripts.check), true);
    }
    const result = await runSteps(node.container, program, scriptEnv(plan, node), (label) => beat({ node: node.name, step: label }));
    const taskservs = node.order.flatMap((name) => {
      const install = result.steps.find((s) => s.label === `install:${name}`);
      const check = result.steps.find((s) => s.label === `check:${name}`);
      if (!install) return [];
      const failed = install.exitCode !== 0 ? install : check && check.exitCode !== 0 ? check : undefined;
      return [{ name, exitCode: failed?.exitCode ?? (check ? 0 : -1), durationMs: install.durationMs + (check?.durationMs ?? 0), output: tail([install.output, check?.output ?? ''].filter(Boolean).join('\n'), 20) }];
    });
    const failed = taskservs.find((t) => t.exitCode !== 0) ?? (result.exitCode !== 0 || taskservs.length < node.order.length ? { name: node.order[taskservs.length] ?? '?', exitCode: result.exitCode, output: result.output } : undefined);
    if (failed) {
      const step = result.steps.find((s) => s.exitCode !== 0)?.label.split(':')[0] ?? 'install';
      throw ApplicationFailure.create({
        message: `${step} of taskserv ${failed.name} on node ${node.name} failed (exit ${failed.exitCode}):\n${failed.output}`,
        type: 'TaskservFailed',
        nonRetryable: true,
        details: [{ node: node.name, taskservs }],
      });
    }
    return { node: node.name, taskservs };
  }, { abortOnCancel: true });
}

/**
 * Runs tests on one node: each installed taskserv's test.sh (check.sh when it has none), or
 * the given argv. Every test runs; failures are results, not errors.
 */
export async function runEnvTests({ plan, node, request }: { plan: Pick<EnvironmentPlan, 'id' | 'nodes' | 'taskservs' | 'infra'>; node: EnvNode; request: RunRequest }): Promise<TestResult[]> {
  return withHeartbeat(async (beat) => {
    if (!(await inspectContainer(docker(), node.container))?.State.Running) throw failure(`node ${node.name} (${node.container}) is not running`, 'TestEnvNodeGone');
    const program = new Program();
    const names: string[] = [];
    if (request.command) {
      names.push(request.command.join(' '));
      program.step('command', request.command, false);
    } else {
      for (const name of node.order) {
        const t = plan.taskservs[name]!;
        const [label, script] = t.scripts.test !== undefined ? [name, t.scripts.test] : [`${name}:check`, t.scripts.check];
        names.push(label);
        program.step(label, scriptArgv(t, script), false);
      }
    }
    if (names.length === 0) return [];
    const result = await runSteps(node.container, program, scriptEnv(plan, node), (label) => beat({ node: node.name, test: label }));
    return names.map((name, i) => {
      const step = result.steps[i];
      if (!step) return { node: node.name, name, exitCode: -1, passed: false, durationMs: 0, output: tail(result.output) || 'the test did not run (the exec ended early)' };
      return { node: node.name, name, exitCode: step.exitCode, passed: step.exitCode === 0, durationMs: step.durationMs, output: step.output };
    });
  }, { abortOnCancel: true });
}

// ---------------------------------------------------------------------------------------------
// Removal and the reaper

/** Removes the environment's containers, then its network; `run` narrows it to what one workflow run made. */
async function removeById(id: string, run?: string): Promise<{ containers: number; networks: number }> {
  const filters = { label: [`${TESTENV_LABEL}=${id}`, ...(run ? [`${RUN_LABEL}=${run}`] : [])] };
  const containers = await docker().listContainers({ all: true, filters });
  await Promise.all(
    containers.map((c) =>
      docker()
        .getContainer(c.Id)
        .remove({ force: true, v: true })
        .catch((err: unknown) => {
          if (!isNotFound(err) && !/removal of container .* is already in progress/i.test((err as Error).message)) throw err;
        }),
    ),
  );
  const networks = await docker().listNetworks({ filters });
  for (const n of networks) {
    for (let attempt = 0; ; attempt++) {
      try {
        await docker().getNetwork(n.Id).remove();
        break;
      } catch (err) {
        if (isNotFound(err)) break;
        if (attempt >= 20) throw err;
        // A container still detaching from the network: try again shortly.
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  }
  return { containers: containers.length, networks: networks.length };
}

/** Removes every container and network this workflow run made for the environment. Idempotent. */
export async function removeEnvironment({ id }: { id: string }): Promise<{ containers: number; networks: number }> {
  return removeById(id, ownerRun().runId);
}

export interface ReapedEnvironment {
  id: string;
  workflowId: string;
  /** The owning workflow's status when it was reaped, "not found", or "expired" (TTL long past). */
  status: string;
  containers: number;
  networks: number;
}

interface Found {
  id: string;
  workflowId: string;
  run?: string;
  namespace?: string;
  cluster?: string;
  expiresAt?: number;
}

/**
 * Removes environments whose owning workflow run is closed (or unknown): a terminated
 * workflow, or one whose execution timed out after its worker was lost. Owners are asked only
 * when they are this worker's Temporal cluster and namespace; an environment of any owner is
 * also reaped once its TTL is long past (a dev server that is gone can no longer clean up).
 */
export async function reapTestEnvironments(): Promise<{ checked: number; reaped: ReapedEnvironment[] }> {
  const ctx = Context.current();
  const cluster = await temporalCluster();
  const namespace = ctx.info.workflowNamespace ?? 'default';
  const filters = { label: [`${MANAGED_LABEL}=true`, TESTENV_LABEL] };
  const [containers, networks] = await Promise.all([docker().listContainers({ all: true, filters }), docker().listNetworks({ filters })]);
  const found = new Map<string, Found>();
  for (const labels of [...containers.map((c) => c.Labels), ...networks.map((n) => n.Labels ?? {})]) {
    const id = labels[TESTENV_LABEL];
    if (!id) continue;
    const key = `${id}/${labels[RUN_LABEL] ?? ''}`;
    const expires = Number(labels[EXPIRES_LABEL]);
    found.set(key, {
      id,
      workflowId: labels[WORKFLOW_LABEL] ?? testenvWorkflowId(id),
      ...(labels[RUN_LABEL] ? { run: labels[RUN_LABEL] } : {}),
      ...(labels[NAMESPACE_LABEL] ? { namespace: labels[NAMESPACE_LABEL] } : {}),
      ...(labels[CLUSTER_LABEL] ? { cluster: labels[CLUSTER_LABEL] } : {}),
      ...(Number.isFinite(expires) && expires > 0 ? { expiresAt: expires } : {}),
    });
  }
  const reaped: ReapedEnvironment[] = [];
  for (const env of found.values()) {
    ctx.heartbeat(env.id);
    let status: string | undefined;
    if (env.expiresAt !== undefined && Date.now() > env.expiresAt + EXPIRED_GRACE_MS) status = 'expired';
    else if (env.namespace === namespace && env.cluster === cluster) {
      try {
        status = (await ctx.client.workflow.getHandle(env.workflowId, env.run).describe()).status.name;
      } catch (err) {
        if (!(err instanceof WorkflowNotFoundError)) throw err;
        status = 'not found';
      }
      if (status === 'RUNNING') status = undefined;
    }
    if (status === undefined) continue;
    reaped.push({ id: env.id, workflowId: env.workflowId, status, ...(await removeById(env.id, env.run)) });
  }
  return { checked: found.size, reaped };
}
