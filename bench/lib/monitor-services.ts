/**
 * The supervised services of the monitoring benchmark: each is its own busybox httpd on its
 * own loopback port, started through the binary driver (so the PID and state files exist as
 * after a platform start and a watch's check sees them running), healthy when its port answers:
 * a tcp check every second, 3 retries, no restart on failure (monitoring is measured, not healing).
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { binaryDriver } from '../../src/activities/drivers/binary.js';
import { parseRegistry } from '../../src/config/registry.js';
import type { ServiceDefinition } from '../../src/config/registry-schema.js';
import { freePort } from '../../src/util/net.js';
import { BUSYBOX, workDir } from './dag.js';
import { waitForPort } from './procs.js';

export const INTERVAL_S = 1;

export function serviceName(i: number): string {
  return `svc-${String(i).padStart(3, '0')}`;
}

/** `count` distinct free loopback ports. */
async function distinctPorts(count: number): Promise<number[]> {
  const taken = new Set<number>();
  while (taken.size < count) taken.add(await freePort());
  return [...taken];
}

/** The registry's service definitions, validated and with defaults, as workflows receive them. */
export function monitorServices(home: string, ports: readonly number[]): ServiceDefinition[] {
  const raw = Object.fromEntries(
    ports.map((port, i) => [
      serviceName(i),
      {
        deployment: { mode: 'binary', binary: { binary_path: BUSYBOX, args: ['httpd', '-f', '-p', `127.0.0.1:${port}`, '-h', '.'], working_dir: workDir(home, serviceName(i)) } },
        health_check: { type: 'tcp', interval: INTERVAL_S, retries: 3, timeout: 1, tcp: { host: '127.0.0.1', port } },
        startup: { restart_on_failure: false, start_timeout: 10 },
      },
    ]),
  );
  return Object.values(parseRegistry({ services: raw }, path.join(home, 'services.toml'), {}).services);
}

/** Starts `count` services with binaryDriver.start, 10 at a time, and waits until every port answers. */
export async function startServices(home: string, count: number): Promise<ServiceDefinition[]> {
  const services = monitorServices(home, await distinctPorts(count));
  await mkdir(path.join(home, 'work'), { recursive: true });
  for (let i = 0; i < services.length; i += 10) {
    await Promise.all(services.slice(i, i + 10).map((s) => binaryDriver.start(s, { home })));
  }
  await Promise.all(services.map((s) => waitForPort(s.health_check.tcp!.port, 10_000)));
  return services;
}
