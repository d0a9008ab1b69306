/**
 * The docker provider: a server is a long-lived container (a simulated machine) named
 * <infra>-<hostname> on the infra's network, with the plan's CPU and memory limits and the
 * labels provisioning.managed=true, provisioning.infra=<infra>. Create is idempotent by name.
 */
import { randomBytes } from 'node:crypto';
import type Docker from 'dockerode';
import { BASE_IMAGE, ensureBaseImage } from '../../docker/base-image.js';
import { dockerClient, imagePresent, inspectContainer, isNotFound } from '../../docker/client.js';
import { demuxDockerLogs } from '../../docker/logs.js';

import { ServiceConfigError } from '../drivers/types.js';
import { networkName, serverName, type Provider, type ServerContext, type StepsResult } from './types.js';
import { INFRA_LABEL, MANAGED_LABEL, SERVER_LABEL } from '../../model/labels.js';

/** Where a docker server records its installed taskservs. */
const MARKERS = '/var/lib/provisioning/taskservs';

let client: Docker | undefined;
const docker = () => (client ??= dockerClient());

const inspect = (name: string) => inspectContainer(docker(), name);

/**
 * The ownership rule: a container or network is adopted (reused, started, deleted) only when
 * its labels say it is this infra's; one of the same name that is not is never touched.
 */
function assertOurs(what: string, name: string, labels: Record<string, string> | null | undefined, ctx: ServerContext, server?: string): void {
  const l = labels ?? {};
  if (l[MANAGED_LABEL] === 'true' && l[INFRA_LABEL] === ctx.settings.infra && (server === undefined || l[SERVER_LABEL] === server)) return;
  throw new ServiceConfigError(
    `${what} ${name} already exists and is not ${server ? `server ${server}` : 'the network'} of infra ${ctx.settings.infra} (its labels do not say so); it was left alone. Remove or rename it, or choose another ${server ? 'hostname' : 'network name'}`,
  );
}

/** The infra's network, created once with its subnet and labels; concurrent creates meet on the name. */
export async function ensureNetwork(ctx: ServerContext): Promise<string> {
  const name = networkName(ctx);
  try {
    const found = (await docker().getNetwork(name).inspect()) as { Id: string; Labels?: Record<string, string> };
    assertOurs('network', name, found.Labels, ctx);
    return found.Id;
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  try {
    const subnet = ctx.settings.network?.subnet;
    const network = await docker().createNetwork({
      Name: name,
      CheckDuplicate: true,
      Labels: { [MANAGED_LABEL]: 'true', [INFRA_LABEL]: ctx.settings.infra },
      ...(subnet ? { IPAM: { Driver: 'default', Config: [{ Subnet: subnet }] } } : {}),
    });
    return network.id;
  } catch (err) {
    const e = err as { statusCode?: number; message?: string };
    if (e.statusCode === 409) {
      const found = (await docker().getNetwork(name).inspect()) as { Id: string; Labels?: Record<string, string> };
      assertOurs('network', name, found.Labels, ctx);
      return found.Id;
    }
    if (/overlap/i.test(e.message ?? '')) throw new ServiceConfigError(`subnet ${ctx.settings.network?.subnet} overlaps an existing Docker network: ${e.message}`);
    throw err;
  }
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
    const existing = await inspect(name);
    if (existing) {
      assertOurs('container', name, existing.Config.Labels, ctx, ctx.server.hostname);
      if (!existing.State.Running) await docker().getContainer(existing.Id).start();
      return { created: false, id: existing.Id };
    }
    const image = ctx.server.image;
    if (image === BASE_IMAGE) await ensureBaseImage(docker());
    else if (!(await imagePresent(docker(), image))) throw new ServiceConfigError(`image ${image} is not present locally (build or pull it first)`);
    await ensureNetwork(ctx);
    try {
      const container = await docker().createContainer({
        name,
        Hostname: ctx.server.hostname,
        Image: image,
        Cmd: ['tail', '-f', '/dev/null'],
        Labels: { [MANAGED_LABEL]: 'true', [INFRA_LABEL]: ctx.settings.infra, [SERVER_LABEL]: ctx.server.hostname },
        HostConfig: {
          NetworkMode: networkName(ctx),
          NanoCpus: ctx.server.plan.cpu_millicores * 1_000_000,
          Memory: ctx.server.plan.memory_mb * 1024 * 1024,
        },
        NetworkingConfig: { EndpointsConfig: { [networkName(ctx)]: { Aliases: [ctx.server.hostname] } } },
      });
      await container.start();
      return { created: true, id: container.id };
    } catch (err) {
      // A retry after a crash between create and the answer finds the container by name.
      if ((err as { statusCode?: number }).statusCode === 409) {
        const found = await inspect(name);
        assertOurs('container', name, found?.Config.Labels, ctx, ctx.server.hostname);
        return { created: false, id: found?.Id };
      }
      throw err;
    }
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

  async run(ctx, taskserv, scripts, env) {
    // All steps in one exec; an install records itself once its script succeeded. A marker in
    // the output says which step failed; its nonce is new per exec, so script output cannot forge one.
    const marker = `@@provisioning:${randomBytes(8).toString('hex')}:failed:`;
    const program = scripts.flatMap((script, i) => [
      `sh -c "$${i + 3}" "$2" || { s=$?; echo "${marker}${script.step}:$s"; exit $s; }`,
      ...(script.step === 'install' ? ['mkdir -p "$1" && touch "$1/$2"'] : []),
    ]);
    const result = await execIn(serverName(ctx), ['sh', '-c', program.join('\n'), 'provision', MARKERS, taskserv, ...scripts.map((s) => s.content)], env);
    const failed = new RegExp(`^${marker}(install|check|test):`, 'm').exec(result.output)?.[1] as StepsResult['failedStep'];
    return { ...result, output: result.output.replace(new RegExp(`^${marker}.*\\n?`, 'gm'), ''), ...(result.exitCode !== 0 ? { failedStep: failed ?? scripts[0]!.step } : {}) };
  },
};

/** Removes the infra's network once no container uses it. */
export async function removeNetworkIfUnused(ctx: ServerContext): Promise<boolean> {
  try {
    const info = (await docker().getNetwork(networkName(ctx)).inspect()) as { Labels?: Record<string, string>; Containers?: unknown };
    if (info.Labels?.[MANAGED_LABEL] !== 'true' || info.Labels[INFRA_LABEL] !== ctx.settings.infra) return false; // not ours: never removed
    if (Object.keys((info.Containers as Record<string, unknown> | undefined) ?? {}).length > 0) return false;
    await docker().getNetwork(networkName(ctx)).remove();
    return true;
  } catch {
    return false;
  }
}
