/** Remote services run elsewhere: nothing to start or stop; "running" means its health check passes. */
import { healthProbe } from '../../health/probes.js';
import type { ServiceDriver } from './types.js';

export const remoteDriver: ServiceDriver = {
  async status(service) {
    const probe = await healthProbe(service).check();
    return { running: probe.healthy, detail: `remote ${service.deployment.remote!.endpoint}: ${probe.message}` };
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
