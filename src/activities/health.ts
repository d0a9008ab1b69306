/**
 * Health probes: http (method, expected status, timeout; bearer token for remote services),
 * tcp, command (argv, expected exit code, never a shell) and file (must_exist). Each returns
 * whether it is healthy, a message for people, and how long it took.
 */
import { readFile, stat } from 'node:fs/promises';
import net from 'node:net';
import { exec } from '../util/exec.js';
import type { ServiceDefinition } from '../config/registry-schema.js';

export interface ProbeResult {
  healthy: boolean;
  message: string;
  durationMs: number;
}

/** What the probe checks, for error messages: "HTTP GET http://localhost:8080/health". */
export function describeProbe(service: ServiceDefinition): string {
  const h = service.health_check;
  switch (h.type) {
    case 'http':
      return `HTTP ${h.http!.method} ${h.http!.endpoint} (expecting ${h.http!.expected_status})`;
    case 'tcp':
      return `TCP ${h.tcp!.host}:${h.tcp!.port}`;
    case 'command':
      return `command ${JSON.stringify(h.command!.command)} (expecting exit ${h.command!.expected_exit_code})`;
    case 'file':
      return `file ${h.file!.path} ${h.file!.must_exist ? 'exists' : 'is absent'}`;
    case 'none':
      return 'process running (no health check)';
  }
}

async function bearerToken(service: ServiceDefinition): Promise<string | undefined> {
  const file = service.deployment.remote?.auth_token_path;
  if (!file) return undefined;
  return (await readFile(file, 'utf8')).trim();
}

async function probeHttp(service: ServiceDefinition, timeoutMs: number): Promise<Omit<ProbeResult, 'durationMs'>> {
  const spec = service.health_check.http!;
  const token = await bearerToken(service);
  try {
    const response = await fetch(spec.endpoint, {
      method: spec.method,
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'manual',
      ...(token ? { headers: { authorization: `Bearer ${token}` } } : {}),
    });
    await response.body?.cancel();
    return response.status === spec.expected_status
      ? { healthy: true, message: `HTTP status ${response.status} matches expected` }
      : { healthy: false, message: `HTTP ${spec.method} ${spec.endpoint} returned ${response.status} (expected ${spec.expected_status})` };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    const reason = e.name === 'TimeoutError' ? `no answer within ${timeoutMs / 1000} s` : (e.cause?.code ?? e.cause?.message ?? e.message);
    return { healthy: false, message: `HTTP ${spec.method} ${spec.endpoint} failed: ${reason}` };
  }
}

function probeTcp(service: ServiceDefinition, timeoutMs: number): Promise<Omit<ProbeResult, 'durationMs'>> {
  const { host, port } = service.health_check.tcp!;
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (result: Omit<ProbeResult, 'durationMs'>) => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () => done({ healthy: false, message: `TCP ${host}:${port}: no answer within ${timeoutMs / 1000} s` }));
    socket.once('connect', () => done({ healthy: true, message: `TCP ${host}:${port} accepts connections` }));
    socket.once('error', (err: NodeJS.ErrnoException) => done({ healthy: false, message: `TCP ${host}:${port}: ${err.code ?? err.message}` }));
  });
}

async function probeCommand(service: ServiceDefinition, timeoutMs: number): Promise<Omit<ProbeResult, 'durationMs'>> {
  const { command, expected_exit_code } = service.health_check.command!;
  const [program, ...args] = command as [string, ...string[]];
  const result = await exec(program, args, { reject: false, timeout: timeoutMs, stdin: 'ignore', all: true });
  if (result.timedOut) return { healthy: false, message: `command ${program} did not finish within ${timeoutMs / 1000} s` };
  if (result.failed && result.exitCode === undefined) return { healthy: false, message: `command ${program} could not run: ${result.shortMessage}` };
  const output = (result.all ?? '').trim().split('\n').slice(-1)[0] ?? '';
  return result.exitCode === expected_exit_code
    ? { healthy: true, message: `command ${program} exited ${result.exitCode}${output ? `: ${output}` : ''}` }
    : { healthy: false, message: `command ${program} exited ${result.exitCode} (expected ${expected_exit_code})${output ? `: ${output}` : ''}` };
}

async function probeFile(service: ServiceDefinition): Promise<Omit<ProbeResult, 'durationMs'>> {
  const { path, must_exist } = service.health_check.file!;
  const exists = await stat(path).then(
    () => true,
    () => false,
  );
  if (exists === must_exist) return { healthy: true, message: `file ${path} ${exists ? 'exists' : 'is absent'}` };
  return { healthy: false, message: `file ${path} ${exists ? 'exists but must not' : 'does not exist'}` };
}

export async function probeHealth(service: ServiceDefinition): Promise<ProbeResult> {
  const started = performance.now();
  const timeoutMs = service.health_check.timeout * 1000;
  let result: Omit<ProbeResult, 'durationMs'>;
  switch (service.health_check.type) {
    case 'http':
      result = await probeHttp(service, timeoutMs);
      break;
    case 'tcp':
      result = await probeTcp(service, timeoutMs);
      break;
    case 'command':
      result = await probeCommand(service, timeoutMs);
      break;
    case 'file':
      result = await probeFile(service);
      break;
    case 'none':
      result = { healthy: true, message: 'no health check configured' };
      break;
  }
  return { ...result, durationMs: Math.round((performance.now() - started) * 10) / 10 };
}
