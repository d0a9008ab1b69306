/**
 * Health of a registry service: its health_check as a probe (health/probes.ts), and the
 * service check that the start wait, the supervisor's watch and the local status commands all
 * use: is it running (its driver says), and does its probe pass.
 */
import type { ServiceDefinition } from '../config/registry-schema.js';
import { allOf, healthProbe, probe, type Probe } from '../health/probes.js';
import { driverFor } from './drivers/index.js';

export type { ProbeResult } from '../health/probes.js';

/** What the service's probe checks, for error messages: "HTTP GET http://localhost:8080/health (expecting 200)". */
export function describeProbe(service: ServiceDefinition): string {
  return healthProbe(service).description;
}

/** One attempt of the service's health check. */
export function probeHealth(service: ServiceDefinition) {
  return healthProbe(service).check();
}

/**
 * A probe of the service's process or container: healthy while it runs; a service that is
 * not running is a fatal result (waiting will not bring it back). Remote services always "run".
 */
export function runningProbe(service: ServiceDefinition, home: string): Probe {
  return probe(`${service.name} running`, async () => {
    const status = await driverFor(service).status(service, { home });
    const facts = { running: status.running, detail: status.detail, ...(status.pid !== undefined ? { pid: status.pid } : {}), ...(status.startedAt !== undefined ? { startedAt: status.startedAt } : {}) };
    if (!status.running && service.deployment.mode !== 'remote') return { healthy: false, fatal: true, message: `not running (${status.detail})`, facts };
    return { healthy: true, message: status.detail, facts };
  });
}

/**
 * Running, then healthy: the check of a service. With `none` = 'status', a service without a
 * health check reports its status line ("running (PID 123)") rather than "no health check configured".
 */
export function serviceProbe(service: ServiceDefinition, home: string, { none = 'default' }: { none?: 'default' | 'status' } = {}): Probe {
  const running = runningProbe(service, home);
  if (service.health_check.type === 'none' && none === 'status') return running;
  return allOf(running, healthProbe(service));
}
