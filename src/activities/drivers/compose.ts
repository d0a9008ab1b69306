/**
 * docker-compose services: `docker compose -f FILE -p PROJECT up -d SERVICE` and `stop`
 * through execa with argv (falling back to the docker-compose program); status from
 * `ps -q` and the engine.
 */
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

async function containerId(service: ServiceDefinition): Promise<string | undefined> {
  const out = await compose(service, ['ps', '-q', service.deployment.docker_compose!.service_name]);
  return out.trim().split('\n').find(Boolean);
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
    await compose(service, ['stop', '-t', String(Math.ceil(graceSeconds)), service.deployment.docker_compose!.service_name]);
    return { wasRunning: true, how: 'compose stop' };
  },

  async logs(service, _ctx, lines) {
    const out = await compose(service, ['logs', '--no-color', '--tail', String(lines), service.deployment.docker_compose!.service_name]);
    return out.split('\n').filter(Boolean);
  },
};
