/**
 * Health of a registry service: its health_check as a probe (health/probes.ts), and the
 * service check that the start wait, the supervisor's watch and the local status commands all
 * use: is it running (its driver says), and does its probe pass.
 */
import type { ServiceDefinition } from '../config/registry-schema.js';
import { healthProbe, probe, type Probe, type ProbeFacts } from '../health/probes.js';
import { driverFor } from './drivers/index.js';
import { remoteDetail } from './drivers/remote.js';

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
 * Running, then healthy: the check of a service. Its driver's status first: a service that is
 * not running is a fatal result (waiting will not bring it back); then its health check. What
 * the status showed (running, PID, since when) is kept in the result's facts either way. A
 * remote service's status is its health check, so that is made once. With `none` = 'status',
 * a service without a health check reports its status line ("running (PID 123)") rather than
 * "no health check configured".
 *
 * One probe, not a composition of two: a supervisor's watch makes this check every interval
 * for every service, and each layer of promises and copies around it showed in its CPU.
 */
export function serviceProbe(service: ServiceDefinition, home: string, { none = 'default' }: { none?: 'default' | 'status' } = {}): Probe {
  const driver = driverFor(service);
  const ctx = { home };
  const remote = service.deployment.mode === 'remote';
  const health = service.health_check.type === 'none' && none === 'status' ? undefined : healthProbe(service);
  return probe(health ? `${service.name} running and ${health.description}` : `${service.name} running`, async () => {
    if (remote && health) {
      // A remote service's status is its health check (drivers/remote.ts): asked once, not twice.
      const outcome = await health.attempt();
      return { ...outcome, facts: { running: outcome.healthy, detail: remoteDetail(service, outcome.message) } };
    }
    const status = await driver.status(service, ctx);
    const facts: ProbeFacts = { running: status.running, detail: status.detail };
    if (status.pid !== undefined) facts.pid = status.pid;
    if (status.startedAt !== undefined) facts.startedAt = status.startedAt;
    if (!status.running && !remote) return { healthy: false, fatal: true, message: `not running (${status.detail})`, facts };
    if (!health) return { healthy: true, message: status.detail, facts };
    return { ...(await health.attempt()), facts };
  });
}
