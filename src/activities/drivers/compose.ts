/**
 * docker-compose services: `docker compose -f FILE -p PROJECT up -d SERVICE` and `stop`
 * through execa with argv (falling back to the docker-compose program). Status comes from the
 * engine: the containers compose labelled with the project and service (no compose process per
 * check), so a service whose compose file was moved or deleted is still found, and stopped.
 */
import { existsSync } from 'node:fs';
import { exec } from '../../util/exec.js';
import type { ServiceDefinition } from '../../config/registry-schema.js';
import { dockerClient } from '../../docker/client.js';
import { findComposeCommand } from '../prerequisites.js';
import { ServiceConfigError, type ServiceDriver } from './types.js';

async function compose(service: ServiceDefinition, args: string[], timeoutSeconds = 120) {
  const spec = service.deployment.docker_compose!;
  const command = await findComposeCommand();
  if (!command) throw new ServiceConfigError('neither "docker compose" nor "docker-compose" is available');
  const [program, ...prefix] = command as [string, ...string[]];
  const result = await exec(program, [...prefix, '-f', spec.compose_file, '-p', spec.project_name, ...args], {
    reject: false,
    timeout: timeoutSeconds * 1000,
  });
  if (result.exitCode !== 0) {
    throw new Error(`${command.join(' ')} ${args[0]} failed (exit ${result.exitCode}): ${(result.stderr || result.stdout).trim().split('\n').slice(-5).join(' | ')}`);
  }
  return result.stdout;
}

/** The service's containers as compose labelled them (not `compose run` one-offs), newest first. */
async function containers(service: ServiceDefinition) {
  const spec = service.deployment.docker_compose!;
  const list = await dockerClient().listContainers({
    all: true,
    filters: { label: [`com.docker.compose.project=${spec.project_name}`, `com.docker.compose.service=${spec.service_name}`] },
  });
  return list.filter((c) => c.Labels['com.docker.compose.oneoff'] !== 'True').sort((a, b) => b.Created - a.Created);
}

async function containerId(service: ServiceDefinition): Promise<string | undefined> {
  const list = await containers(service);
  return (list.find((c) => c.State === 'running') ?? list[0])?.Id;
}

export const composeDriver: ServiceDriver = {
  async status(service) {
    const id = await containerId(service);
    if (!id) return { running: false, detail: 'no container' };
    const info = await dockerClient().getContainer(id).inspect();
    return info.State.Running
      ? { running: true, containerId: info.Id, startedAt: Date.parse(info.State.StartedAt), detail: `running (container ${info.Id.slice(0, 12)})` }
      : { running: false, containerId: info.Id, detail: `container ${info.State.Status}` };
  },

  async start(service, ctx) {
    const before = await this.status(service, ctx);
    if (before.running) return { alreadyRunning: true, containerId: before.containerId!, startedAt: before.startedAt ?? Date.now() };
    const startedAt = Date.now();
    await compose(service, ['up', '-d', service.deployment.docker_compose!.service_name], service.startup.start_timeout + 60);
    const id = await containerId(service);
    return { alreadyRunning: false, ...(id ? { containerId: id } : {}), startedAt };
  },

  async stop(service, ctx, { graceSeconds }) {
    const before = await this.status(service, ctx);
    if (!before.running) return { wasRunning: false, how: 'not running' };
    const spec = service.deployment.docker_compose!;
    if (existsSync(spec.compose_file)) {
      await compose(service, ['stop', '-t', String(Math.ceil(graceSeconds)), spec.service_name]);
      return { wasRunning: true, how: 'compose stop' };
    }
    // Without its compose file compose cannot stop it: the engine can, as compose would (SIGTERM, then SIGKILL after the grace).
    const running = (await containers(service)).filter((c) => c.State === 'running');
    await Promise.all(running.map((c) => dockerClient().getContainer(c.Id).stop({ t: Math.ceil(graceSeconds) })));
    return { wasRunning: true, how: `docker stop of ${running.length} container${running.length === 1 ? '' : 's'} labelled ${spec.project_name}/${spec.service_name} (compose file ${spec.compose_file} is gone)` };
  },

  async logs(service, _ctx, lines) {
    const out = await compose(service, ['logs', '--no-color', '--tail', String(lines), service.deployment.docker_compose!.service_name]);
    return out.split('\n').filter(Boolean);
  },
};
