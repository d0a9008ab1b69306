/** Remote services run elsewhere: nothing to start or stop; "running" means its health check passes. */
import { healthProbe } from '../../health/probes.js';
import type { ServiceDefinition } from '../../config/registry-schema.js';
import type { ServiceDriver } from './types.js';

/** A remote service's status line: where it runs, and what its health check said. */
export function remoteDetail(service: ServiceDefinition, message: string): string {
  return `remote ${service.deployment.remote!.endpoint}: ${message}`;
}

export const remoteDriver: ServiceDriver = {
  async status(service) {
    const probe = await healthProbe(service).check();
    return { running: probe.healthy, detail: remoteDetail(service, probe.message) };
  },
  start() {
    return Promise.resolve({ alreadyRunning: true, startedAt: Date.now() });
  },
  stop() {
    return Promise.resolve({ wasRunning: false, how: 'remote services are not stopped from here' });
  },
  logs(service) {
    return Promise.resolve([`${service.name} runs remotely at ${service.deployment.remote!.endpoint}; its logs are not available here`]);
  },
};
