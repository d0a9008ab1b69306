/** Node containers: create, start, install taskservs and run tests inside them. */
import { ApplicationFailure, Context, log } from '@temporalio/activity';
import type Docker from 'dockerode';
import type { TaskservManifest } from '../../config/settings-schema.js';
import { networkName, type EnvironmentPlan, type EnvNode } from '../../config/testenv-schema.js';
import { BASE_IMAGE, ensureBaseImage } from '../../docker/base-image.js';
import { dockerClient as docker, imagePresent, inspectContainer } from '../../docker/client.js';
import { findOrCreate } from '../../docker/resources.js';
import type { RunRequest, TestResult } from '../../model/testenv.js';
import { withHeartbeat } from '../platform.js';
import { NODE_LABEL } from '../../model/labels.js';
import { NODE_LOG, assertOurs, failure, ownerLabels, undoIfCancelled } from './ownership.js';
import { Program, runSteps, tail } from '../../docker/steps.js';
import type { CreateNodeInput, InstallOutcome } from '../../model/testenv.js';

const PID1 = `mkdir -p /var/log/provisioning && touch ${NODE_LOG} && exec tail -n +1 -f ${NODE_LOG}`;

/** Creates a node's container, and with `start` starts it too (one step instead of two when the environment starts at once). */
export async function createEnvNode(input: CreateNodeInput): Promise<{ id: string; created: boolean; address?: string }> {
  return withHeartbeat(async () => {
    const made = await makeNode(input);
    return input.start ? { ...made, address: await startNode(input.node.container, input.network ?? networkName(input.plan.id), made.created) } : made;
  });
}

async function makeNode({ plan, node, expiresAt, network = networkName(plan.id) }: CreateNodeInput): Promise<{ id: string; created: boolean }> {
  return findOrCreate<Docker.ContainerInspectInfo, { id: string; created: boolean }>({
    find: () => inspectContainer(docker(), node.container),
    adopt: (found) => {
      assertOurs('container', node.container, found.Config.Labels);
      return { id: found.Id, created: false };
    },
    create: async () => {
      if (node.image === BASE_IMAGE) await ensureBaseImage(docker());
      else if (!(await imagePresent(docker(), node.image))) throw failure(`image ${node.image} of node ${node.name} is not present locally; pull or build it first`);
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
        if (/storage ?opt|quota/i.test((err as Error).message)) throw failure(`node ${node.name}: the Docker engine cannot limit disk size (${(err as Error).message}); leave disk_mb out`);
        throw err;
      }
    },
  });
}

/** Starts the nodes' containers and returns each one's address on the environment network. */
export async function startEnvNodes({ plan, nodes, network = networkName(plan.id) }: { plan: Pick<EnvironmentPlan, 'id'>; nodes: string[]; network?: string }): Promise<Record<string, string>> {
  const addresses: Record<string, string> = {};
  await withHeartbeat(() => Promise.all(nodes.map(async (container) => void (addresses[container] = await startNode(container, network)))));
  return addresses;
}

/**
 * Starts a node's container (unless it runs) and returns its address on `network`. One this
 * activity has just `created` is known to be stopped: the engine is not asked first.
 */
async function startNode(container: string, network: string, created = false): Promise<string> {
  const before = created ? undefined : await inspectContainer(docker(), container);
  if (!created && !before) throw failure(`container ${container} is gone`, 'TestEnvNodeGone');
  if (created || !before?.State.Running) await docker().getContainer(container).start();
  const info = (await inspectContainer(docker(), container))!;
  if (!info.State.Running) throw failure(`container ${container} stopped right after starting (exit ${info.State.ExitCode}): ${info.State.Error || 'see its logs'}`, 'TestEnvNodeFailed');
  return info.NetworkSettings.Networks[network]?.IPAddress ?? '';
}

// ---------------------------------------------------------------------------------------------
// Steps inside a node

function scriptEnv(plan: Pick<EnvironmentPlan, 'id' | 'nodes' | 'infra'>, node: EnvNode): Record<string, string> {
  return { ENV_ID: plan.id, NODE: node.name, NODES: plan.nodes.map((n) => n.name).join(' '), SERVER: node.name, INFRA: plan.infra ?? `testenv-${plan.id}` };
}

/** argv that runs one of a taskserv's scripts with its parameters (and TASKSERV) in the environment. */
function scriptArgv(taskserv: TaskservManifest, script: string): string[] {
  const pairs = Object.entries({ ...taskserv.parameters, TASKSERV: taskserv.name }).map(([k, v]) => `${k}=${v}`);
  return ['env', ...pairs, 'sh', '-c', script, taskserv.name];
}

/** Installs then checks each of a node's taskservs in order, in one exec; the first failure stops it. */
export async function installEnvNode({ plan, node }: { plan: Pick<EnvironmentPlan, 'id' | 'nodes' | 'taskservs' | 'infra'>; node: EnvNode }): Promise<InstallOutcome> {
  return withHeartbeat(async (beat) => {
    const program = new Program(NODE_LOG);
    for (const name of node.order) {
      const t = plan.taskservs[name]!;
      program.step(`install:${name}`, scriptArgv(t, t.scripts.install), true);
      program.step(`check:${name}`, scriptArgv(t, t.scripts.check), true);
    }
    const result = await runSteps(node.container, program, scriptEnv(plan, node), (label) => beat({ node: node.name, step: label }), Context.current().cancellationSignal);
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
    log.info(`node ${node.name} installed ${node.order.join(', ')}`, { environment: plan.id, node: node.name, taskservs: node.order });
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
    const program = new Program(NODE_LOG);
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
    const result = await runSteps(node.container, program, scriptEnv(plan, node), (label) => beat({ node: node.name, test: label }), Context.current().cancellationSignal);
    return names.map((name, i) => {
      const step = result.steps[i];
      if (!step) return { node: node.name, name, exitCode: -1, passed: false, durationMs: 0, output: tail(result.output) || 'the test did not run (the exec ended early)' };
      return { node: node.name, name, exitCode: step.exitCode, passed: step.exitCode === 0, durationMs: step.durationMs, output: step.output };
    });
  }, { abortOnCancel: true });
}

// ---------------------------------------------------------------------------------------------
// Removal and the reaper
