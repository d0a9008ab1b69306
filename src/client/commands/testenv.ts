/**
 * `provisioning test ...`: containerized test environments as Temporal workflows.
 *   test quick <taskserv>                      create, install, test, clean up; exit 0 only if all passed
 *   test env single|server|cluster ...         create an environment and wait until it is ready
 *   test env list|status|start|run|logs|cleanup|reap
 *   test topology list|show
 */
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { TypedSearchAttributes } from '@temporalio/common';
import { WorkflowExecutionAlreadyStartedError, WorkflowFailedError, WorkflowNotFoundError, WorkflowUpdateFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { Option, type Command } from 'commander';
import type Docker from 'dockerode';
import { OPERATION, TARGETS } from '../../model/search-attributes.js';
import { ConfigError, UsageError } from '../../config/errors.js';
import { dnsLabelProblem, DNS_LABEL_FIX } from '../../config/fields.js';
import { parseTomlText } from '../../config/registry.js';
import { parseYamlText } from '../../config/settings.js';
import { suggestionFix } from '../../config/suggest.js';
import { DEFAULT_BASE_IMAGE, ENV_ID, parseDuration, type EnvironmentPlan } from '../../config/testenv-schema.js';
import { loadEnvCatalog, loadTopologies, planFromRequest } from '../../config/testenv.js';
import { dockerClient, imagePresent, overlappingNetwork, pingDocker } from '../../docker/client.js';
import { DockerFrames, demuxDockerLogs } from '../../docker/logs.js';
import { cleanupSignal, runUpdate, startSignal, testenvStateQuery, type EnvState, type RunResult } from '../../model/testenv.js';
import { printJson, type Io } from '../io.js';
import { parsePositiveInt } from '../options.js';
import { renderJunit } from '../render/junit.js';
import { nodeLine, progressChanges } from '../render/testenv-progress.js';
import { renderTable } from '../render/table.js';
import { addTemporalOptions, connect, webUiLink, type Connected, type TemporalOptions } from '../temporal-options.js';
import { REAPER_SCHEDULE_ID, ensureReaperSchedule } from '../reaper-schedule.js';
import { testenvWorkflowId } from '../../model/ids.js';
import { NODE_LABEL, TESTENV_LABEL } from '../../model/labels.js';

interface CreateOptions extends TemporalOptions {
  id?: string;
  catalog?: string;
  baseImage?: string;
  cpu?: number;
  memory?: number;
  disk?: number;
  autoStart: boolean;
  autoCleanup?: boolean;
  ttl?: string;
  infra?: string;
  json?: boolean;
  wait: boolean;
}

function parseMemory(value: string): number {
  return parsePositiveInt(value);
}

function addCreateOptions(command: Command, { quick = false } = {}): Command {
  command
    .option('--catalog <dir>', 'taskserv catalog (default: $PROVISIONING_CATALOG, or the shipped examples/taskservs)')
    .option('--base-image <image>', `image of the containers; must be present locally (default: ${DEFAULT_BASE_IMAGE}, built when missing)`)
    .option('--id <id>', 'environment id (default: generated); the workflow is testenv/<id>')
    .option('--ttl <duration>', 'remove the environment after this long, e.g. 30m, 2h (default: 2h)')
    .option('--infra <name>', 'infra the environment belongs to (a label)')
    .option('--json', 'print JSON');
  if (!quick) {
    command
      .addOption(new Option('--auto-start', 'start the containers and install at once (the default)').default(true))
      .addOption(new Option('--no-auto-start', 'create the containers but start them only on "test env start <id>" or the first run'))
      .option('--auto-cleanup', 'remove the environment after its first run')
      .option('--no-wait', 'submit and return at once, without waiting until the environment is ready');
  }
  return addTemporalOptions(command);
}

/** --cpu, --memory (and --disk): the container's limits. */
function withResourceOptions(command: Command, { disk = true } = {}): Command {
  command.option('--cpu <millicores>', 'CPU limit in millicores (default 1000)', parsePositiveInt).option('--memory <mb>', 'memory limit in MB (default 256, at least 6)', parseMemory);
  return disk ? command.option('--disk <mb>', 'root filesystem limit in MB (storage drivers with quota support only)', parsePositiveInt) : command;
}

function resources(opts: CreateOptions): Record<string, number> | undefined {
  const r = { ...(opts.cpu !== undefined ? { cpu_millicores: opts.cpu } : {}), ...(opts.memory !== undefined ? { memory_mb: opts.memory } : {}), ...(opts.disk !== undefined ? { disk_mb: opts.disk } : {}) };
  return Object.keys(r).length > 0 ? r : undefined;
}

/** What every create command puts in the request from its flags: auto_start, auto_cleanup, ttl, infra. */
function requestFlags(opts: CreateOptions): Record<string, unknown> {
  const ttl = ttlValue(opts);
  return { auto_start: opts.autoStart, auto_cleanup: Boolean(opts.autoCleanup), ...(ttl ? { ttl } : {}), ...(opts.infra ? { infra: opts.infra } : {}) };
}

/** The node settings of a one-container environment from its flags: base_image, resources. */
function nodeFlags(opts: CreateOptions): Record<string, unknown> {
  const limits = resources(opts);
  return { ...(opts.baseImage ? { base_image: opts.baseImage } : {}), ...(limits ? { resources: limits } : {}) };
}

function ttlValue(opts: { ttl?: string }): number | undefined {
  if (opts.ttl === undefined) return undefined;
  const seconds = parseDuration(opts.ttl);
  if (seconds === undefined) throw new UsageError(`--ttl "${opts.ttl}" is not a duration`, 'write seconds (7200) or a duration like 30m or 2h');
  return seconds;
}

function environmentId(opts: { id?: string }, subject: string): string {
  if (opts.id !== undefined) {
    if (!ENV_ID.test(opts.id)) throw new UsageError(`--id "${opts.id}" is not a valid environment id`, 'use lowercase letters, digits and "-", at most 40 characters, starting and ending with a letter or digit');
    return opts.id;
  }
  return `${subject.slice(0, 24).replace(/-+$/, '')}-${randomBytes(3).toString('hex')}`;
}

/** Checks the engine can do what the plan asks before anything is created: images, subnet, disk limits. */
async function preflight(io: Io, plan: EnvironmentPlan, docker: Docker): Promise<void> {
  const ping = await pingDocker(docker);
  if (!ping.ok) {
    // The workers may run next to an engine this machine cannot see (a CI job that only submits):
    // their activities check the same things, and a failure there is cleaned up.
    io.err(`note: no Docker engine answers here (${ping.error}); images, subnet and limits are checked by the worker instead`);
    return;
  }
  const info = (await docker.info()) as { NCPU?: number; Driver?: string; DriverStatus?: Array<[string, string]> };
  const { NCPU } = info;
  for (const n of plan.nodes) {
    if (NCPU && n.resources.cpu_millicores > NCPU * 1000) {
      throw new UsageError(`node ${n.name} asks for ${n.resources.cpu_millicores} millicores, but the Docker engine has ${NCPU} CPUs (${NCPU * 1000} millicores)`, `ask for at most ${NCPU * 1000} millicores (--cpu, or resources.cpu_millicores)`);
    }
  }
  for (const image of new Set(plan.nodes.map((n) => n.image))) {
    if (image === DEFAULT_BASE_IMAGE) continue;
    if (!(await imagePresent(docker, image))) {
      const users = plan.nodes.filter((n) => n.image === image).map((n) => n.name).join(', ');
      throw new UsageError(`base image "${image}" (nodes ${users}) is not present locally`, `pull or build it first (docker pull ${image}), or pass --base-image ${DEFAULT_BASE_IMAGE}`);
    }
  }
  const taken = plan.network.subnet ? await overlappingNetwork(docker, plan.network.subnet) : undefined;
  if (taken) throw new UsageError(`subnet ${plan.network.subnet} overlaps Docker network "${taken.name}" (${taken.subnet})`, 'choose a subnet no other network uses, or leave it out to get a free one');
  if (plan.nodes.some((n) => n.resources.disk_mb !== undefined)) {
    const backing = info.DriverStatus?.find(([k]) => k === 'Backing Filesystem')?.[1];
    const supported = ['devicemapper', 'btrfs', 'zfs', 'windowsfilter'].includes(info.Driver ?? '') || (info.Driver === 'overlay2' && backing === 'xfs');
    if (!supported) {
      throw new UsageError(`disk limits (disk_mb / --disk) are not supported by this Docker engine: storage driver ${info.Driver}${backing ? ` on ${backing}` : ''}`, 'leave disk_mb out, or use overlay2 on xfs with pquota (or devicemapper, btrfs, zfs)');
    }
  }
}

function searchAttributes(plan: EnvironmentPlan, operation: string): TypedSearchAttributes {
  return new TypedSearchAttributes([
    { key: OPERATION, value: operation },
    { key: TARGETS, value: [plan.subject, ...plan.nodes.map((n) => n.name)] },
  ]);
}

/** The request validated and planned against the catalog, and checked against the engine: nothing is created yet. */
async function planChecked(io: Io, raw: unknown, opts: CreateOptions, subject: string, source = 'command line'): Promise<EnvironmentPlan> {
  const id = environmentId(opts, subject);
  const { plan } = planFromRequest(id, raw, await loadEnvCatalog(opts.catalog, io.env, io.cwd), source);
  await preflight(io, plan, dockerClient());
  return plan;
}

/** Starts the environment's workflow and says where to watch it. */
async function startEnvironment(io: Io, connected: Connected, plan: EnvironmentPlan, taskQueue: string, operation: string): Promise<{ handle: WorkflowHandle; link?: string }> {
  const handle = await submit(connected.client, plan, taskQueue, operation);
  const link = webUiLink(io.env, connected.settings, plan.workflowId);
  io.err(`Environment ${plan.id}: workflow ${plan.workflowId}${link ? `\nWeb UI: ${link}` : ''}`);
  return { handle, ...(link ? { link } : {}) };
}

async function submit(client: Client, plan: EnvironmentPlan, taskQueue: string, operation: string): Promise<WorkflowHandle> {
  try {
    return await client.workflow.start('testEnvironment', {
      taskQueue,
      workflowId: plan.workflowId,
      workflowIdConflictPolicy: 'FAIL',
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      // A workflow whose worker is lost still closes, after its TTL and a set-up budget; the reaper then removes what it left.
      workflowExecutionTimeout: `${plan.ttlSeconds + 3600} seconds`,
      typedSearchAttributes: searchAttributes(plan, operation),
      args: [{ plan }],
    });
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) throw new UsageError(`environment id "${plan.id}" is taken (workflow ${plan.workflowId} exists)`, 'choose another --id, or leave --id out to get a generated one');
    throw err;
  }
}

function stamp(): string {
  return new Date().toISOString().slice(11, 19);
}

/**
 * Prints phase and node changes until `until` holds, the environment is gone, or its
 * workflow closes; returns the last state. Polls (a pending result() long poll would keep
 * the connection, and the process, open).
 */
async function follow(io: Io, handle: WorkflowHandle, until: (s: EnvState) => boolean, quiet: boolean): Promise<EnvState | undefined> {
  const seen = new Map<string, string>();
  let last: EnvState | undefined;
  for (;;) {
    const state = await handle.query(testenvStateQuery).catch(() => undefined);
    if (state) {
      last = state;
      if (!quiet) for (const line of progressChanges(state, seen)) io.err(`${stamp()} ${line}`);
      if (until(state) || state.phase === 'cleaned' || state.phase === 'failed') return state;
    } else if ((await handle.describe()).status.name !== 'RUNNING') {
      return last;
    }
    await sleep(250);
  }
}

function failureMessage(err: unknown): string {
  let e: unknown = err;
  while (e && typeof e === 'object' && 'cause' in e && (e as { cause?: unknown }).cause) e = (e).cause;
  return e instanceof Error ? e.message : String(e);
}

/** A closed environment's last state: its result, or the state its failure carries; and the failure. */
async function closedState(handle: WorkflowHandle): Promise<{ state?: EnvState; error?: unknown }> {
  try {
    return { state: (await handle.result()) as EnvState };
  } catch (err) {
    const carried = err instanceof WorkflowFailedError ? ((err.cause as { details?: unknown[] } | undefined)?.details?.[0] as EnvState | undefined) : undefined;
    return { error: err, ...(carried ? { state: carried } : {}) };
  }
}

/** Runs the reaper workflow once. */
function runReaper(client: Client, taskQueue: string, label: string): Promise<{ checked: number; reaped: Array<{ id: string; status: string; containers: number; networks: number }> }> {
  return client.workflow.execute('reapTestEnvironmentsWorkflow', {
    taskQueue,
    workflowId: `testenv-reaper/${label}-${randomBytes(3).toString('hex')}`,
    typedSearchAttributes: new TypedSearchAttributes([{ key: OPERATION, value: 'testenv-reap' }]),
  });
}

function summary(state: EnvState, link?: string): string {
  const lines = [
    `Environment ${state.id} (${state.type} ${state.subject}): ${state.phase}`,
    `  network ${state.network.name}${state.network.subnet ? ` ${state.network.subnet}` : ''}`,
    ...state.nodes.map((n) => `  ${nodeLine(n)}`),
  ];
  if (state.phase === 'ready' || state.phase === 'created') {
    lines.push(`  expires ${new Date(state.expiresAt).toISOString()}${state.autoCleanup ? ' (or after its first run: auto-cleanup)' : ''}`);
    lines.push('', 'Next:', `  provisioning test env run ${state.id}`, `  provisioning test env logs ${state.id}`, `  provisioning test env cleanup ${state.id}`);
  }
  if (state.error) lines.push(`  error: ${state.error.split('\n').join('\n    ')}`);
  if (link) lines.push(`Web UI: ${link}`);
  return lines.join('\n');
}

/** Builds the plan from a request object, then creates the environment and (unless --no-wait) waits until it is ready. */
async function createEnvironment(io: Io, raw: unknown, opts: CreateOptions, subject: string, source = 'command line'): Promise<void> {
  const plan = await planChecked(io, raw, opts, subject, source);
  const connected = await connect(io, opts);
  try {
    const { handle, link } = await startEnvironment(io, connected, plan, opts.taskQueue, 'testenv');
    if (!opts.wait) return void (opts.json ? printJson(io, { id: plan.id, workflowId: plan.workflowId }) : io.out(plan.id));
    const state = await follow(io, handle, (s) => s.phase === 'ready' || (s.phase === 'created' && !plan.autoStart), Boolean(opts.json));
    if (!state || !['ready', 'created'].includes(state.phase)) {
      io.exitCode = 1;
      const closed = await closedState(handle);
      const final = closed.state ?? state;
      if (closed.error && !final?.error) io.err(`error: ${failureMessage(closed.error)}`);
      if (opts.json) return printJson(io, final ?? { id: plan.id, error: 'the environment ended before it was ready' });
      return io.out(final ? summary(final) : `Environment ${plan.id} ended before it was ready.`);
    }
    if (opts.json) return printJson(io, state);
    io.out(summary(state, link));
  } finally {
    await connected.close();
  }
}

/** An environment that exists (its workflow is known); closed ones are refused where `open` is asked. */
async function environmentHandle(client: Client, id: string, open: boolean): Promise<{ handle: WorkflowHandle; status: string }> {
  if (!ENV_ID.test(id)) throw new UsageError(`"${id}" is not a test environment id`, 'ids look like webserver-3fa2c1; list them with "provisioning test env list"');
  const handle = client.workflow.getHandle(testenvWorkflowId(id));
  let status: string;
  try {
    const description = await handle.describe();
    if (description.type !== 'testEnvironment') throw new UsageError(`workflow ${testenvWorkflowId(id)} is not a test environment`, 'list environments with "provisioning test env list"');
    status = description.status.name;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new UsageError(`no test environment "${id}"`, 'list them with "provisioning test env list"');
    throw err;
  }
  if (open && status !== 'RUNNING') throw new UsageError(`test environment "${id}" was cleaned up (workflow ${status.toLowerCase()})`, `create a new one; its last state is shown by "provisioning test env status ${id}"`);
  return { handle, status };
}

function runLines(result: RunResult): string {
  const lines = result.tests.map((t) => `${t.passed ? '✅' : '❌'} ${t.node} ${t.name} (${t.durationMs} ms)${t.passed ? '' : ` exit ${t.exitCode}\n${t.output.split('\n').map((l) => `     ${l}`).join('\n')}`}`);
  const failed = result.tests.filter((t) => !t.passed).length;
  lines.push(`${failed === 0 ? 'Passed' : 'Failed'}: ${result.tests.length - failed}/${result.tests.length} tests passed in ${(result.durationMs / 1000).toFixed(1)} s`);
  return lines.join('\n');
}

async function writeJunit(io: Io, file: string, name: string, result: RunResult | undefined, setupError?: string): Promise<void> {
  const target = path.resolve(io.cwd, file);
  await writeFile(target, renderJunit({ name, tests: result?.tests ?? [], ...(setupError !== undefined ? { setupError } : {}) }));
  io.err(`JUnit report: ${target}`);
}

function updateError(err: unknown, id: string): Error {
  const message = failureMessage(err);
  if (/is (being cleaned up|cleaning-up|cleaned|failed)/.test(message)) return new UsageError(`test environment "${id}" was cleaned up (${message})`, 'create a new one');
  if (err instanceof WorkflowUpdateFailedError) return new Error(message);
  return err as Error;
}

/** Reads a topology file (TOML, YAML or JSON): { nodes = [...], network = { subnet } }. */
async function readTopologyFile(io: Io, file: string, what = 'topology'): Promise<{ source: string; topology: unknown }> {
  const source = path.resolve(io.cwd, file);
  let text: string;
  try {
    text = await readFile(source, 'utf8');
  } catch {
    throw new ConfigError(source, [{ path: '', problem: 'file not found', fix: `check the path of the ${what} file` }], what);
  }
  const ext = path.extname(source).toLowerCase();
  if (ext === '.json') {
    try {
      return { source, topology: JSON.parse(text) };
    } catch (err) {
      throw new ConfigError(source, [{ path: '', problem: `invalid JSON: ${(err as Error).message}`, fix: 'fix the JSON syntax' }], what);
    }
  }
  return { source, topology: ext === '.yaml' || ext === '.yml' ? parseYamlText(text, source, what) : parseTomlText(text, source, what) };
}

function checkNodes(nodes: string[] | undefined): void {
  for (const n of nodes ?? []) {
    const problem = dnsLabelProblem(n);
    if (problem) throw new UsageError(`--node ${problem}`, DNS_LABEL_FIX);
  }
}

export function registerTestCommands(program: Command, io: Io): void {
  const test = program.command('test');

  addCreateOptions(
    withResourceOptions(test.command('quick'), { disk: false })
      .argument('<taskserv>', 'taskserv to test')
      .description('create a single-taskserv environment, run its tests, clean up; exit 0 only when every test passed')
      .option('--junit <file>', 'write a JUnit XML report for CI')
      .option('--keep', 'keep the environment after the run (clean it up later with "test env cleanup <id>")')
      .addHelpText(
        'after',
        '\nThe taskserv and its dependencies are installed (install.sh, then check.sh), then each one\'s\ntest.sh runs (check.sh when it has none). Ctrl-C cancels the environment; it is removed.\n\nExit codes: 0 all tests passed, 1 a test or the setup failed, 2 bad input (nothing created).\n\nExamples:\n  provisioning test quick webserver\n  provisioning test quick kvstore --junit report.xml\n  provisioning test quick postgres --base-image ubuntu:22.04 --json',
      ),
    { quick: true },
  ).action(async (taskserv: string, opts: CreateOptions & { junit?: string; keep?: boolean }) => {
    const raw = { config: { type: 'single_taskserv', taskserv, ...nodeFlags(opts) }, ...requestFlags(opts), auto_start: true, auto_cleanup: !opts.keep };
    const plan = await planChecked(io, raw, opts, taskserv);
    const connected = await connect(io, opts);
    const { client } = connected;
    const name = `testenv.${plan.id}`;
    let interrupted = false;
    let started = false;
    const cancel = () => void client.workflow.getHandle(plan.workflowId).cancel().catch(() => undefined);
    const onSigint = () => {
      interrupted = true;
      io.err('Interrupted: cancelling the environment (it is removed)...');
      if (started) cancel();
    };
    process.once('SIGINT', onSigint);
    try {
      const { handle } = await startEnvironment(io, connected, plan, opts.taskQueue, 'testenv-quick');
      started = true;
      if (interrupted) cancel(); // Ctrl-C came while the start was on its way
      const progress = opts.json ? undefined : follow(io, handle, (s) => !['creating-network', 'creating-containers', 'starting', 'installing'].includes(s.phase), false);
      let result: RunResult | undefined;
      let error: string | undefined;
      try {
        result = await handle.executeUpdate(runUpdate, { args: [{}] });
      } catch (err) {
        error = failureMessage(err);
        // Whatever went wrong, the environment goes: quick never leaves one behind.
        await handle.signal(cleanupSignal).catch(() => undefined);
      }
      await progress;
      let final: EnvState | undefined;
      if (!opts.keep || error) {
        try {
          final = (await handle.result()) as EnvState;
        } catch (err) {
          error = interrupted ? 'interrupted: the environment was cancelled and removed' : failureMessage(err);
        }
      }
      const passed = Boolean(result?.passed) && !error;
      if (!passed) io.exitCode = 1;
      if (opts.junit) await writeJunit(io, opts.junit, name, result, result ? undefined : error);
      if (opts.json) return printJson(io, { id: plan.id, workflowId: plan.workflowId, taskserv, passed, ...(result ? { tests: result.tests, durationMs: result.durationMs } : {}), ...(error ? { error } : {}), ...(final?.removed ? { removed: final.removed } : {}) });
      if (result) io.out(runLines(result));
      if (error) io.err(`error: ${error}`);
      io.out(opts.keep && !error ? `Kept environment ${plan.id}; remove it with: provisioning test env cleanup ${plan.id}` : `Environment ${plan.id} removed${final?.removed ? ` (${final.removed.containers} containers, ${final.removed.networks} networks)` : ''}.`);
    } finally {
      process.removeListener('SIGINT', onSigint);
      await connected.close();
    }
  });

  const env = test.command('env').description('create, inspect, run and clean up test environments');

  addCreateOptions(
    withResourceOptions(env.command('single'))
      .argument('<taskserv>', 'taskserv to install (with its dependencies)')
      .description('a single-taskserv environment: one container with the taskserv installed')
      .addHelpText('after', '\nExamples:\n  provisioning test env single webserver\n  provisioning test env single kvstore --cpu 500 --memory 64 --auto-cleanup\n  provisioning test env single postgres --base-image ubuntu:22.04 --no-auto-start'),
  ).action((taskserv: string, opts: CreateOptions) =>
    createEnvironment(io, { config: { type: 'single_taskserv', taskserv, ...nodeFlags(opts) }, ...requestFlags(opts) }, opts, taskserv),
  );

  addCreateOptions(
    withResourceOptions(env.command('server'))
      .argument('<name>', 'server name (the container\'s hostname)')
      .argument('<taskservs...>', 'taskservs to install, in any order (dependencies are added and ordered)')
      .description('a server simulation: one container with several taskservs installed in dependency order')
      .addHelpText('after', '\nExamples:\n  provisioning test env server web-01 webserver kvstore jobrunner\n  provisioning test env server web-01 containerd kubernetes --base-image ubuntu:22.04'),
  ).action((name: string, taskservs: string[], opts: CreateOptions) =>
    createEnvironment(io, { config: { type: 'server_simulation', server_name: name, taskservs, ...nodeFlags(opts) }, ...requestFlags(opts) }, opts, name),
  );

  addCreateOptions(
    env
      .command('cluster')
      .argument('<cluster_type>', 'cluster type (a label, e.g. kubernetes, etcd, web)')
      .description('a cluster topology: one container per node, control planes set up first')
      .option('--topology <template>', 'a topology template (see "provisioning test topology list")')
      .option('--file <file>', 'a topology file (TOML, YAML or JSON): nodes = [{ name, role, taskservs, resources }], network = { subnet }')
      .option('--topologies <file>', 'extra topology templates (overrides the shipped and the home ones)')
      .option('--subnet <cidr>', 'subnet of the environment network (default: the template\'s, or a free /24)')
      .addHelpText('after', '\nExamples:\n  provisioning test env cluster web --topology web_3node\n  provisioning test env cluster kubernetes --topology kubernetes_3node --base-image ubuntu:22.04\n  provisioning test env cluster etcd --file my-topology.toml --subnet 10.214.5.0/24'),
  ).action(async (clusterType: string, opts: CreateOptions & { topology?: string; file?: string; topologies?: string; subnet?: string }) => {
    if (Boolean(opts.topology) === Boolean(opts.file)) throw new UsageError('give exactly one of --topology <template> and --file <file>', 'list the templates with "provisioning test topology list"');
    let topology: unknown;
    let source = 'command line';
    let baseImage = opts.baseImage;
    if (opts.topology) {
      const templates = await loadTopologies({ ...(opts.topologies ? { file: opts.topologies } : {}), env: io.env, cwd: io.cwd });
      const template = templates[opts.topology];
      if (!template) throw new UsageError(`unknown topology template "${opts.topology}"`, suggestionFix(opts.topology, Object.keys(templates), 'template'));
      topology = { nodes: template.nodes, ...(template.network ? { network: template.network } : {}) };
      baseImage ??= template.base_image;
      source = `${template.source} [${template.name}]`;
    } else {
      ({ source, topology } = await readTopologyFile(io, opts.file!));
      if (topology && typeof topology === 'object' && 'topology' in topology) topology = (topology).topology;
    }
    if (opts.subnet && topology && typeof topology === 'object') topology = { ...(topology), network: { subnet: opts.subnet } };
    const raw = { config: { type: 'cluster_topology', cluster_type: clusterType, topology, ...(baseImage ? { base_image: baseImage } : {}) }, ...requestFlags(opts) };
    return createEnvironment(io, raw, opts, clusterType, source);
  });

  addCreateOptions(
    env
      .command('create')
      .requiredOption('--file <file>', 'a request (JSON, YAML or TOML): { config: { type, ... }, auto_start, auto_cleanup, ttl }')
      .description('create an environment from a request file in the seeds\' format (any of the three types)')
      .addHelpText(
        'after',
        '\nThe file holds what the seeds POST to /test/environments/create, e.g.\n  { "config": { "type": "single_taskserv", "taskserv": "webserver",\n               "resources": { "cpu_millicores": 500, "memory_mb": 64 } },\n    "auto_start": true, "auto_cleanup": false }\nFlags given on the command line (--auto-cleanup, --ttl) override the file.\n\nExamples:\n  provisioning test env create --file env.json',
      ),
  ).action(async (opts: CreateOptions & { file: string }) => {
    const { source, topology: raw } = await readTopologyFile(io, opts.file, 'test environment request');
    const request = (raw && typeof raw === 'object' ? { ...(raw as Record<string, unknown>) } : raw) as Record<string, unknown>;
    if (request && typeof request === 'object') {
      if (opts.autoCleanup) request.auto_cleanup = true;
      if (!opts.autoStart) request.auto_start = false;
      if (opts.ttl) request.ttl = ttlValue(opts);
      if (opts.infra) request.infra = opts.infra;
    }
    const config = (request?.config ?? {}) as Record<string, unknown>;
    const subject = [config.taskserv, config.server_name, config.cluster_type].find((v): v is string => typeof v === 'string' && /^[a-z0-9-]+$/.test(v)) ?? 'env';
    return createEnvironment(io, request, opts, subject, source);
  });

  addTemporalOptions(
    env
      .command('list')
      .description('list test environments (running ones with their phase and nodes)')
      .option('--all', 'include closed environments')
      .option('--limit <n>', 'at most this many', parsePositiveInt, 50)
      .option('--json', 'print JSON')
      .addHelpText('after', '\nExamples:\n  provisioning test env list\n  provisioning test env list --all --json'),
  ).action(async (opts: TemporalOptions & { all?: boolean; limit: number; json?: boolean }) => {
    const { client, close } = await connect(io, opts);
    try {
      const query = `WorkflowType = "testEnvironment"${opts.all ? '' : ' AND ExecutionStatus = "Running"'}`;
      const rows: Array<{ id: string; status: string; startTime: string; phase?: string; type?: string; subject?: string; nodes?: string[]; expiresAt?: string }> = [];
      for await (const w of client.workflow.list({ query })) {
        const id = w.workflowId.replace(/^testenv\//, '');
        const state = w.status.name === 'RUNNING' ? await client.workflow.getHandle(w.workflowId).query(testenvStateQuery).catch(() => undefined) : undefined;
        rows.push({ id, status: w.status.name, startTime: w.startTime.toISOString(), ...(state ? { phase: state.phase, type: state.type, subject: state.subject, nodes: state.nodes.map((n) => n.name), expiresAt: new Date(state.expiresAt).toISOString() } : {}) });
        if (rows.length >= opts.limit) break;
      }
      if (opts.json) return printJson(io, { environments: rows });
      io.out(rows.length ? renderTable(['ID', 'STATUS', 'PHASE', 'TYPE', 'SUBJECT', 'NODES', 'STARTED'], rows.map((r) => [r.id, r.status, r.phase ?? '-', r.type ?? '-', r.subject ?? '-', (r.nodes ?? []).join(',') || '-', r.startTime])) : opts.all ? 'No test environments.' : 'No running test environments (--all shows closed ones).');
    } finally {
      await close();
    }
  });

  addTemporalOptions(
    env
      .command('status')
      .argument('<id>', 'environment id')
      .description('state, nodes, addresses, installed taskservs and the last run of an environment')
      .option('--json', 'print JSON')
      .addHelpText('after', '\nExamples:\n  provisioning test env status webserver-3fa2c1\n  provisioning test env status webserver-3fa2c1 --json'),
  ).action(async (id: string, opts: TemporalOptions & { json?: boolean }) => {
    const { client, settings, close } = await connect(io, opts);
    try {
      const { handle, status } = await environmentHandle(client, id, false);
      const state = status === 'RUNNING' ? await handle.query(testenvStateQuery) : (await closedState(handle)).state;
      if (opts.json) return printJson(io, { status, ...(state ?? { id }) });
      io.out(state ? `${summary(state, webUiLink(io.env, settings, testenvWorkflowId(id)))}${state.lastRun ? `\nLast run:\n${runLines(state.lastRun)}` : ''}` : `Environment ${id}: workflow ${status.toLowerCase()}, no state recorded.`);
    } finally {
      await close();
    }
  });

  addTemporalOptions(
    env
      .command('start')
      .argument('<id>', 'environment id')
      .description('start an environment created with --no-auto-start (containers, then installs)')
      .addHelpText('after', '\nExamples:\n  provisioning test env start postgres-9a1b2c'),
  ).action(async (id: string, opts: TemporalOptions) => {
    const { client, close } = await connect(io, opts);
    try {
      const { handle } = await environmentHandle(client, id, true);
      await handle.signal(startSignal);
      const state = await follow(io, handle, (s) => s.phase === 'ready', false);
      if (state?.phase !== 'ready') io.exitCode = 1;
      if (state) io.out(summary(state));
    } finally {
      await close();
    }
  });

  addTemporalOptions(
    env
      .command('run')
      .argument('<id>', 'environment id')
      .argument('[command...]', 'a command to run instead of the taskservs\' tests (after --)')
      .description('run tests on an environment: each installed taskserv\'s test.sh (check.sh when it has none), or a command')
      .option('--node <name...>', 'only these nodes (default: every node)')
      .option('--junit <file>', 'write a JUnit XML report')
      .option('--json', 'print JSON')
      .addHelpText('after', '\nExit codes: 0 every test passed, 1 a test failed, 2 bad input or no such environment.\n\nExamples:\n  provisioning test env run web-3fa2c1\n  provisioning test env run web-3fa2c1 --node web-01 --junit report.xml\n  provisioning test env run web-3fa2c1 --node lb-01 -- wget -q -O - http://web-01/'),
  ).action(async (id: string, command: string[], opts: TemporalOptions & { node?: string[]; junit?: string; json?: boolean }) => {
    checkNodes(opts.node);
    const { client, close } = await connect(io, opts);
    try {
      const { handle } = await environmentHandle(client, id, true);
      const state = await handle.query(testenvStateQuery);
      const known = state.nodes.map((n) => n.name);
      for (const n of opts.node ?? []) if (!known.includes(n)) throw new UsageError(`environment ${id} has no node "${n}"`, suggestionFix(n, known, 'node'));
      let result: RunResult;
      try {
        result = await handle.executeUpdate(runUpdate, { args: [{ ...(opts.node ? { nodes: opts.node } : {}), ...(command.length > 0 ? { command } : {}) }] });
      } catch (err) {
        throw updateError(err, id);
      }
      if (!result.passed) io.exitCode = 1;
      if (opts.junit) await writeJunit(io, opts.junit, `testenv.${id}`, result);
      if (opts.json) return printJson(io, { id, ...result });
      io.out(runLines(result));
    } finally {
      await close();
    }
  });

  env
    .command('logs')
    .argument('<id>', 'environment id')
    .description('the logs of an environment\'s nodes: install and test output, and what each node\'s processes print')
    .option('--node <name...>', 'only these nodes')
    .option('--tail <lines>', 'lines per node', parsePositiveInt)
    .option('-f, --follow', 'keep printing new lines until Ctrl-C')
    .addHelpText('after', '\nReads the containers directly (no Temporal connection needed).\n\nExamples:\n  provisioning test env logs web-3fa2c1\n  provisioning test env logs web-3fa2c1 --node web-01 --follow')
    .action(async (id: string, opts: { node?: string[]; tail?: number; follow?: boolean }) => {
    if (!ENV_ID.test(id)) throw new UsageError(`"${id}" is not a test environment id`, 'list them with "provisioning test env list"');
    checkNodes(opts.node);
    const docker = dockerClient();
    const containers = (await docker.listContainers({ all: true, filters: { label: [`${TESTENV_LABEL}=${id}`] } })).sort((a, b) => (a.Labels[NODE_LABEL] ?? '').localeCompare(b.Labels[NODE_LABEL] ?? ''));
    if (containers.length === 0) throw new UsageError(`test environment "${id}" has no containers: it does not exist or was cleaned up`, 'list running environments with "provisioning test env list"');
    const known = containers.map((c) => c.Labels[NODE_LABEL] ?? '');
    for (const n of opts.node ?? []) if (!known.includes(n)) throw new UsageError(`environment ${id} has no node "${n}"`, suggestionFix(n, known, 'node'));
    const chosen = containers.filter((c) => !opts.node || opts.node.includes(c.Labels[NODE_LABEL] ?? ''));
    if (!opts.follow) {
      for (const c of chosen) {
        const raw = await docker.getContainer(c.Id).logs({ stdout: true, stderr: true, follow: false, ...(opts.tail ? { tail: opts.tail } : {}) });
        io.out(`==> ${c.Labels[NODE_LABEL]} (${c.Names[0]?.slice(1)}) <==\n${demuxDockerLogs(raw).trimEnd()}`);
      }
      return;
    }
    const abort = new AbortController();
    const stop = () => abort.abort();
    process.once('SIGINT', stop);
    try {
      await Promise.all(
        chosen.map(async (c) => {
          const node = c.Labels[NODE_LABEL] ?? c.Id.slice(0, 12);
          const stream = (await docker.getContainer(c.Id).logs({ stdout: true, stderr: true, follow: true, ...(opts.tail ? { tail: opts.tail } : {}) })) as NodeJS.ReadableStream & { destroy: () => void };
          const frames = new DockerFrames();
          let partial = '';
          await new Promise<void>((resolve) => {
            abort.signal.addEventListener('abort', () => {
              stream.destroy();
              resolve();
            });
            stream.on('data', (chunk: Buffer) => {
              const lines = (partial + frames.push(chunk)).split('\n');
              partial = lines.pop()!;
              for (const line of lines) io.out(`${node} | ${line}`);
            });
            stream.on('end', () => resolve());
            stream.on('error', () => resolve());
          });
        }),
      );
    } finally {
      process.removeListener('SIGINT', stop);
    }
  });

  addTemporalOptions(
    env
      .command('cleanup')
      .argument('<id>', 'environment id')
      .description('remove an environment: its containers and network')
      .option('--no-wait', 'signal and return at once')
      .option('--json', 'print JSON')
      .addHelpText('after', '\nExamples:\n  provisioning test env cleanup web-3fa2c1'),
  ).action(async (id: string, opts: TemporalOptions & { wait: boolean; json?: boolean }) => {
    const { client, close } = await connect(io, opts);
    try {
      const { handle, status } = await environmentHandle(client, id, false);
      if (status !== 'RUNNING') {
        // A terminated or timed-out workflow ran no cleanup: the reaper removes what it left.
        const left = await dockerClient()
          .listContainers({ all: true, filters: { label: [`${TESTENV_LABEL}=${id}`] } })
          .then((c) => c.length, () => 0);
        const leftNetworks = await dockerClient()
          .listNetworks({ filters: { label: [`${TESTENV_LABEL}=${id}`] } })
          .then((n) => n.length, () => 0);
        if (left + leftNetworks === 0) {
          if (opts.json) return printJson(io, { id, status, alreadyCleanedUp: true });
          return io.out(`Environment ${id} is already cleaned up (workflow ${status.toLowerCase()}).`);
        }
        const reaped = await runReaper(client, opts.taskQueue, `cleanup-${id}`);
        const mine = reaped.reaped.find((r) => r.id === id);
        if (opts.json) return printJson(io, { id, status, removed: mine ? { containers: mine.containers, networks: mine.networks } : null });
        return io.out(`Environment ${id} (workflow ${status.toLowerCase()}) left ${left} containers and ${leftNetworks} networks; ${mine ? `removed ${mine.containers} containers, ${mine.networks} networks` : 'the reaper did not remove them (another Temporal server owns them)'}.`);
      }
      await handle.signal(cleanupSignal);
      if (!opts.wait) return void (opts.json ? printJson(io, { id, signalled: true }) : io.out(`Cleanup of ${id} requested.`));
      const { state } = await closedState(handle);
      if (opts.json) return printJson(io, { id, removed: state?.removed ?? null });
      io.out(`Environment ${id} removed${state?.removed ? `: ${state.removed.containers} containers, ${state.removed.networks} networks` : ''}.`);
    } finally {
      await close();
    }
  });

  addTemporalOptions(
    env
      .command('reap')
      .description('remove containers and networks of environments whose workflow is closed (terminated, lost worker)')
      .option('--schedule', `instead, create or update the Temporal schedule "${REAPER_SCHEDULE_ID}" that reaps periodically`)
      .option('--every <duration>', 'interval of the schedule', '10m')
      .option('--json', 'print JSON')
      .addHelpText('after', '\nOnly resources created through this Temporal cluster and namespace are considered; an\nenvironment whose workflow is still running is never touched. "provisioning dev" installs\nthe schedule for you.\n\nExamples:\n  provisioning test env reap\n  provisioning test env reap --schedule --every 5m'),
  ).action(async (opts: TemporalOptions & { schedule?: boolean; every: string; json?: boolean }) => {
    const every = parseDuration(opts.every);
    if (every === undefined) throw new UsageError(`--every "${opts.every}" is not a duration`, 'write it like 5m or 1h');
    const { client, close } = await connect(io, opts);
    try {
      if (opts.schedule) {
        const action = await ensureReaperSchedule(client, opts.taskQueue, every);
        if (opts.json) return printJson(io, { schedule: REAPER_SCHEDULE_ID, everySeconds: every, action });
        return io.out(`Schedule ${REAPER_SCHEDULE_ID} ${action}: reaps every ${opts.every}.`);
      }
      const result = await runReaper(client, opts.taskQueue, 'manual');
      if (opts.json) return printJson(io, result);
      io.out(
        result.reaped.length === 0
          ? `Nothing to reap (${result.checked} environments with resources, all owned by running workflows).`
          : result.reaped.map((r) => `🗑 ${r.id}: workflow ${r.status.toLowerCase()}; removed ${r.containers} containers, ${r.networks} networks`).join('\n'),
      );
    } finally {
      await close();
    }
  });

  const topology = test.command('topology').description('topology templates for cluster environments');
  topology
    .command('list')
    .description('list the topology templates (shipped, then ~/.provisioning/test-topologies.toml, then --topologies)')
    .option('--topologies <file>', 'extra templates file')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExamples:\n  provisioning test topology list\n  provisioning test topology list --json')
    .action(async (opts: { topologies?: string; json?: boolean }) => {
    const templates = Object.values(await loadTopologies({ ...(opts.topologies ? { file: opts.topologies } : {}), env: io.env, cwd: io.cwd }));
    if (opts.json) return printJson(io, { templates });
    io.out(renderTable(['NAME', 'CLUSTER TYPE', 'NODES', 'IMAGE', 'DESCRIPTION'], templates.map((t) => [t.name, t.cluster_type, t.nodes.map((n) => n.name).join(','), t.base_image ?? DEFAULT_BASE_IMAGE, t.description])));
  });

  topology
    .command('show')
    .argument('<name>', 'template name')
    .description('show a topology template: nodes, roles, taskservs, resources')
    .option('--topologies <file>', 'extra templates file')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExamples:\n  provisioning test topology show web_3node')
    .action(async (name: string, opts: { topologies?: string; json?: boolean }) => {
    const templates = await loadTopologies({ ...(opts.topologies ? { file: opts.topologies } : {}), env: io.env, cwd: io.cwd });
    const t = templates[name];
    if (!t) throw new UsageError(`unknown topology template "${name}"`, suggestionFix(name, Object.keys(templates), 'template'));
    if (opts.json) return printJson(io, t);
    io.out(
      [
        `${t.name}: ${t.description} (cluster type ${t.cluster_type}, image ${t.base_image ?? DEFAULT_BASE_IMAGE}${t.network ? `, subnet ${t.network.subnet}` : ''})`,
        `from ${t.source}`,
        renderTable(['NODE', 'ROLE', 'TASKSERVS', 'CPU (m)', 'MEMORY (MB)'], t.nodes.map((n) => [n.name, n.role, n.taskservs.join(', ') || '-', String(n.resources?.cpu_millicores ?? 1000), String(n.resources?.memory_mb ?? 256)])),
      ].join('\n'),
    );
  });
}
