/**
 * Docker services through dockerode: the container is named from the registry (default
 * provisioning-<name>), labelled provisioning.managed=true and provisioning.service=<name>,
 * ports published on 127.0.0.1 unless a host address is given; an existing container is
 * reused, and stop keeps it for the next start.
 */
import type Docker from 'dockerode';
import { DEFAULT_HOST_IP, parsePortMapping } from '../../config/ports.js';
import type { ServiceDefinition } from '../../config/registry-schema.js';
import { BASE_IMAGE, ensureBaseImage } from '../../docker/base-image.js';
import { dockerClient, imagePresent, inspectContainer, isNotModified } from '../../docker/client.js';
import { findOrCreate, foreignOwner } from '../../docker/resources.js';
import { demuxDockerLogs } from '../../docker/logs.js';
import { ServiceConfigError, type DriverContext, type ServiceDriver } from './types.js';
import { HOME_LABEL, MANAGED_LABEL, SERVICE_LABEL } from '../../model/labels.js';

const docker = dockerClient;

/** The ownership rule (docker/resources.ts) for services: only a container made for this service is started or stopped. */
function assertOurs(service: ServiceDefinition, info: Docker.ContainerInspectInfo): void {
  const owner = foreignOwner(info.Config.Labels, { [MANAGED_LABEL]: 'true', [SERVICE_LABEL]: service.name });
  if (owner) {
    throw new ServiceConfigError(
      `container ${containerName(service)} already exists and is not service ${service.name}'s (it belongs to ${owner}); it was left alone. Remove or rename it, or set deployment.docker.container_name`,
    );
  }
}

export function containerName(service: ServiceDefinition): string {
  return service.deployment.docker!.container_name ?? `provisioning-${service.name}`;
}

function inspect(service: ServiceDefinition): Promise<Docker.ContainerInspectInfo | undefined> {
  return inspectContainer(docker(), containerName(service));
}

export function containerSpec(service: ServiceDefinition, ctx: DriverContext): Docker.ContainerCreateOptions {
  const spec = service.deployment.docker!;
  const exposed: Record<string, object> = {};
  const bindings: Record<string, Array<{ HostIp: string; HostPort: string }>> = {};
  for (const text of spec.ports) {
    const port = parsePortMapping(text);
    if ('error' in port) throw new ServiceConfigError(`port mapping "${text}": ${port.error}`);
    const key = `${port.containerPort}/${port.protocol}`;
    exposed[key] = {};
    (bindings[key] ??= []).push({ HostIp: port.hostIp || DEFAULT_HOST_IP, HostPort: port.hostPort === undefined ? '' : String(port.hostPort) });
  }
  const resources = service.resources;
  return {
    name: containerName(service),
    Image: spec.image,
    ...(spec.command ? { Cmd: spec.command } : {}),
    Env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
    ExposedPorts: exposed,
    Labels: { [MANAGED_LABEL]: 'true', [SERVICE_LABEL]: service.name, [HOME_LABEL]: ctx.home },
    HostConfig: {
      PortBindings: bindings,
      Binds: spec.volumes,
      RestartPolicy: { Name: spec.restart_policy === 'no' ? '' : spec.restart_policy },
      ...(spec.network ? { NetworkMode: spec.network } : {}),
      ...(resources?.cpu_millicores ? { NanoCpus: resources.cpu_millicores * 1_000_000 } : {}),
      ...(resources?.memory_mb ? { Memory: resources.memory_mb * 1024 * 1024 } : {}),
    },
  };
}

export const dockerDriver: ServiceDriver = {
  async status(service) {
    const info = await inspect(service);
    if (!info) return { running: false, detail: 'no container' };
    if (!info.State.Running) return { running: false, containerId: info.Id, detail: `container ${info.State.Status} (exit ${info.State.ExitCode})` };
    return { running: true, containerId: info.Id, startedAt: Date.parse(info.State.StartedAt), detail: `running (container ${info.Id.slice(0, 12)})` };
  },

  async start(service, ctx) {
    const existing = await inspect(service);
    if (existing) assertOurs(service, existing);
    if (existing?.State.Running) return { alreadyRunning: true, containerId: existing.Id, startedAt: Date.parse(existing.State.StartedAt) };
    const id = await findOrCreate({
      find: () => inspect(service),
      adopt: (found) => {
        assertOurs(service, found);
        return found.Id;
      },
      create: async () => {
        const image = service.deployment.docker!.image;
        if (image === BASE_IMAGE) await ensureBaseImage(docker());
        else if (!(await imagePresent(docker(), image))) throw new ServiceConfigError(`image ${image} is not present locally (build or pull it first)`);
        return (await docker().createContainer(containerSpec(service, ctx))).id;
      },
    });
    const startedAt = Date.now();
    await docker().getContainer(id).start();
    return { alreadyRunning: false, containerId: id, startedAt };
  },

  async stop(service, _ctx, { graceSeconds }) {
    const info = await inspect(service);
    if (!info?.State.Running) return { wasRunning: false, how: 'not running' };
    assertOurs(service, info);
    try {
      await docker().getContainer(info.Id).stop({ t: Math.ceil(graceSeconds) });
    } catch (err) {
      if (!isNotModified(err)) throw err;
    }
    return { wasRunning: true, how: `docker stop (${Math.ceil(graceSeconds)} s grace)` };
  },

  async logs(service, _ctx, lines) {
    const info = await inspect(service);
    if (!info) return [];
    const raw = await docker().getContainer(info.Id).logs({ stdout: true, stderr: true, tail: lines, follow: false });
    return demuxDockerLogs(raw).split('\n').filter((l, i, a) => i < a.length - 1 || l !== '');
  },
};
