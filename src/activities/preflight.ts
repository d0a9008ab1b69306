/**
 * Pre-flight, before anything starts: each service's mode prerequisites, its conflicts
 * (a listed service, program or container that is running, by name), and the ports it
 * declares that something else already holds. Services already running are left alone.
 */
import dgram from 'node:dgram';
import { parsePortMapping } from '../config/ports.js';
import type { ServiceDefinition } from '../config/registry-schema.js';
import { dockerClient, pingDocker } from '../docker/client.js';
import { isPortFree } from '../util/net.js';
import { processesNamed, tcpPortOwner } from '../util/procfs.js';
import { driverFor, type DriverContext } from './drivers/index.js';
import { withHeartbeat } from './platform.js';
import { checkPrerequisites } from './prerequisites.js';
import type { PreflightInput, PreflightProblem, PreflightResult } from '../model/platform.js';

interface DeclaredPort {
  port: number;
  protocol: 'tcp' | 'udp';
  host: string;
}

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '0.0.0.0', '::1', '[::1]', '']);

/** Ports the service will listen on: published container ports, and local health-check ports. */
export function declaredPorts(service: ServiceDefinition): DeclaredPort[] {
  const ports: DeclaredPort[] = [];
  for (const text of service.deployment.docker?.ports ?? []) {
    const p = parsePortMapping(text);
    if (!('error' in p) && p.hostPort !== undefined && p.protocol !== 'sctp') ports.push({ port: p.hostPort, protocol: p.protocol, host: p.hostIp });
  }
  const h = service.health_check;
  if (service.deployment.mode !== 'remote') {
    if (h.type === 'tcp' && LOCAL_HOSTS.has(h.tcp!.host)) ports.push({ port: h.tcp!.port, protocol: 'tcp', host: '127.0.0.1' });
    if (h.type === 'http') {
      const url = new URL(h.http!.endpoint);
      const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
      if (LOCAL_HOSTS.has(url.hostname)) ports.push({ port, protocol: 'tcp', host: '127.0.0.1' });
    }
  }
  const seen = new Set<string>();
  return ports.filter((p) => !seen.has(`${p.protocol}/${p.port}`) && seen.add(`${p.protocol}/${p.port}`));
}

function isUdpPortFree(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket('udp4');
    socket.once('error', () => {
      socket.close();
      resolve(false);
    });
    socket.bind(port, host === '0.0.0.0' ? '127.0.0.1' : host, () => socket.close(() => resolve(true)));
  });
}

async function portProblems(service: ServiceDefinition): Promise<PreflightProblem[]> {
  const problems: PreflightProblem[] = [];
  for (const { port, protocol, host } of declaredPorts(service)) {
    const bindHost = host === '0.0.0.0' || host === '' ? '127.0.0.1' : host.replace(/^\[|\]$/g, '');
    const free = protocol === 'tcp' ? await isPortFree(port, bindHost) : await isUdpPortFree(port, bindHost);
    if (free) continue;
    const owner = protocol === 'tcp' ? await tcpPortOwner(port) : undefined;
    problems.push({ service: service.name, check: 'port', message: `port ${port}/${protocol} is already in use${owner ? ` by ${owner}` : ''}` });
  }
  return problems;
}

async function runningContainer(name: string): Promise<boolean> {
  try {
    return (await dockerClient().getContainer(name).inspect()).State.Running;
  } catch {
    return false;
  }
}

async function conflictProblems(service: ServiceDefinition, input: PreflightInput, ctx: DriverContext, dockerUp: boolean): Promise<PreflightProblem[]> {
  const problems: PreflightProblem[] = [];
  for (const name of service.conflicts) {
    const other = input.registry[name];
    if (other) {
      if ((await driverFor(other).status(other, ctx)).running) problems.push({ service: service.name, check: 'conflict', message: `conflicting service ${name} is running` });
      continue;
    }
    const pids = await processesNamed(name);
    if (pids.length > 0) problems.push({ service: service.name, check: 'conflict', message: `conflicting program ${name} is running (PID ${pids.join(', ')})` });
    else if (dockerUp && (await runningContainer(name))) problems.push({ service: service.name, check: 'conflict', message: `conflicting container ${name} is running` });
  }
  return problems;
}

/** Activity. */
export function preflight(input: PreflightInput): Promise<PreflightResult> {
  return withHeartbeat(() => runPreflight(input));
}

async function runPreflight(input: PreflightInput): Promise<PreflightResult> {
  const ctx: DriverContext = { home: input.home };
  const statuses = await Promise.all(input.services.map(async (s) => ({ service: s, running: (await driverFor(s).status(s, ctx)).running })));
  const toCheck = statuses.filter((s) => !s.running).map((s) => s.service);
  const needsDocker = toCheck.some((s) => s.conflicts.some((c) => !input.registry[c]));
  const dockerUp = needsDocker && (await pingDocker(dockerClient(), 2_000)).ok;
  const prerequisites = await checkPrerequisites(toCheck);
  const problems: PreflightProblem[] = prerequisites.flatMap((r) =>
    r.checks.filter((c) => !c.ok).map((c) => ({ service: r.service, check: 'prerequisite' as const, message: c.message })),
  );
  const perService = await Promise.all(toCheck.map(async (service) => [...(await conflictProblems(service, input, ctx, dockerUp)), ...(await portProblems(service))]));
  problems.push(...perService.flat());
  return { ok: problems.length === 0, problems, running: statuses.filter((s) => s.running).map((s) => s.service.name) };
}
