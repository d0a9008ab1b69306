/**
 * The docker provider: a server is a long-lived container (a simulated machine) named
 * <infra>-<hostname> on the infra's network, with the plan's CPU and memory limits and the
 * labels provisioning.managed=true, provisioning.infra=<infra>. Create is idempotent by name.
 */
import type Docker from 'dockerode';
import { BASE_IMAGE, ensureBaseImage } from '../../docker/base-image.js';
import { dockerClient as docker, imagePresent, inspectContainer, isNotFound } from '../../docker/client.js';
import { demuxDockerLogs } from '../../docker/logs.js';
import { findOrCreate, foreignOwner, type Labels } from '../../docker/resources.js';
import { Program, runSteps } from '../../docker/steps.js';
import { INFRA_LABEL, MANAGED_LABEL, SERVER_LABEL } from '../../model/labels.js';
import { ServiceConfigError } from '../drivers/types.js';
import { networkName, serverName, type CreateResult, type Provider, type ServerContext, type StepsResult } from './types.js';

/** Where a docker server records its installed taskservs, and logs what its scripts print. */
const MARKERS = '/var/lib/provisioning/taskservs';
const SERVER_LOG = '/var/log/provisioning/provision.log';

const inspect = (name: string) => inspectContainer(docker(), name);

/** The labels of this infra's resources (and of one server's container). */
function infraLabels(ctx: ServerContext, server?: string): Record<string, string> {
  return { [MANAGED_LABEL]: 'true', [INFRA_LABEL]: ctx.settings.infra, ...(server ? { [SERVER_LABEL]: server } : {}) };
}

/** The ownership rule (docker/resources.ts) for servers: only this infra's resources are adopted. */
function assertOurs(what: string, name: string, labels: Labels, ctx: ServerContext, server?: string): void {
  const owner = foreignOwner(labels, infraLabels(ctx, server));
  if (!owner) return;
  throw new ServiceConfigError(
    `${what} ${name} already exists and is not ${server ? `server ${server}` : 'the network'} of infra ${ctx.settings.infra} (it belongs to ${owner}); it was left alone. Remove or rename it, or choose another ${server ? 'hostname' : 'network name'}`,
  );
}

async function inspectNetwork(name: string): Promise<{ Id: string; Labels?: Record<string, string>; Containers?: Record<string, unknown> } | undefined> {
  try {
    return (await docker().getNetwork(name).inspect());
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** The infra's network, created once with its subnet and labels; concurrent creates meet on the name. */
export async function ensureNetwork(ctx: ServerContext): Promise<string> {
  const name = networkName(ctx);
  const subnet = ctx.settings.network?.subnet;
  return findOrCreate({
    find: () => inspectNetwork(name),
    adopt: (found) => {
      assertOurs('network', name, found.Labels, ctx);
      return found.Id;
    },
    create: async () => {
      try {
        const network = await docker().createNetwork({ Name: name, CheckDuplicate: true, Labels: infraLabels(ctx), ...(subnet ? { IPAM: { Driver: 'default', Config: [{ Subnet: subnet }] } } : {}) });
        return network.id;
      } catch (err) {
        if (/overlap/i.test((err as Error).message ?? '')) throw new ServiceConfigError(`subnet ${subnet} overlaps an existing Docker network: ${(err as Error).message}`);
        throw err;
      }
    },
  });
}

export async function execIn(containerName: string, argv: string[], env: Record<string, string> = {}): Promise<{ exitCode: number; output: string }> {
  const exec = await docker().getContainer(containerName).exec({ Cmd: argv, Env: Object.entries(env).map(([k, v]) => `${k}=${v}`), AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  const raw = await new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
  const info = await exec.inspect();
  return { exitCode: info.ExitCode ?? -1, output: demuxDockerLogs(raw) };
}

export const dockerProvider: Provider = {
  async exists(ctx) {
    return (await inspect(serverName(ctx))) !== undefined;
  },

  async create(ctx) {
    const name = serverName(ctx);
    const hostname = ctx.server.hostname;
    return findOrCreate<Docker.ContainerInspectInfo, CreateResult>({
      find: () => inspect(name),
      adopt: async (existing) => {
        assertOurs('container', name, existing.Config.Labels, ctx, hostname);
        if (!existing.State.Running) await docker().getContainer(existing.Id).start();
        return { created: false, id: existing.Id };
      },
      create: async () => {
        const image = ctx.server.image;
        if (image === BASE_IMAGE) await ensureBaseImage(docker());
        else if (!(await imagePresent(docker(), image))) throw new ServiceConfigError(`image ${image} is not present locally (build or pull it first)`);
        await ensureNetwork(ctx);
        const container = await docker().createContainer({
          name,
          Hostname: hostname,
          Image: image,
          Cmd: ['tail', '-f', '/dev/null'],
          Labels: infraLabels(ctx, hostname),
          HostConfig: {
            NetworkMode: networkName(ctx),
            NanoCpus: ctx.server.plan.cpu_millicores * 1_000_000,
            Memory: ctx.server.plan.memory_mb * 1024 * 1024,
          },
          NetworkingConfig: { EndpointsConfig: { [networkName(ctx)]: { Aliases: [hostname] } } },
        });
        await container.start();
        return { created: true, id: container.id };
      },
    });
  },

  async delete(ctx) {
    const existing = await inspect(serverName(ctx));
    if (!existing) return { deleted: false };
    assertOurs('container', serverName(ctx), existing.Config.Labels, ctx, ctx.server.hostname);
    await docker().getContainer(existing.Id).remove({ force: true });
    return { deleted: true };
  },

  async probe(ctx) {
    const info = await inspect(serverName(ctx));
    if (!info?.State.Running) return { ready: false, installed: [] };
    // One exec answers both: every exec is a round trip through the engine.
    const listed = await execIn(serverName(ctx), ['sh', '-c', 'ls -1 "$1" 2>/dev/null; true', 'ls', MARKERS]).catch(() => undefined);
    return listed?.exitCode === 0 ? { ready: true, installed: listed.output.split('\n').filter(Boolean).sort() } : { ready: false, installed: [] };
  },

  async run(ctx, taskserv, scripts, env, signal) {
    // All steps in one exec (docker/steps.ts); an install records itself once its script succeeded.
    const program = new Program(SERVER_LOG);
    for (const script of scripts) {
      program.step(script.step, ['sh', '-c', script.content, taskserv], true);
      if (script.step === 'install') {
        program.command(['mkdir', '-p', MARKERS]);
        program.command(['touch', `${MARKERS}/${taskserv}`]);
      }
    }
    const result = await runSteps(serverName(ctx), program, env, undefined, signal);
    const failed = result.steps.find((s) => s.exitCode !== 0)?.label as StepsResult['failedStep'];
    return { exitCode: result.exitCode, output: result.output, ...(result.exitCode !== 0 ? { failedStep: failed ?? scripts[0]!.step } : {}) };
  },
};

/** Removes the infra's network once no container uses it. */
export async function removeNetworkIfUnused(ctx: ServerContext): Promise<boolean> {
  try {
    const info = await inspectNetwork(networkName(ctx));
    if (!info || foreignOwner(info.Labels, infraLabels(ctx))) return false; // not ours: never removed
    if (Object.keys(info.Containers ?? {}).length > 0) return false;
    await docker().getNetwork(networkName(ctx)).remove();
    return true;
  } catch {
    return false;
  }
}
