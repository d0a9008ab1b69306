/**
 * Health probes as small objects (as testcontainers' wait strategies): each makes one
 * attempt and says whether it is healthy, a message for people, and how long it took. One
 * timing model (timing.ts) repeats them for a start's wait, a supervisor's watch and a one-off
 * status check alike; a service's check (activities/health.ts serviceProbe) runs its health
 * check's attempt after its driver's status.
 */
import { readFile, stat } from 'node:fs/promises';
import net from 'node:net';
import type { ServiceDefinition } from '../config/registry-schema.js';
import { exec } from '../util/exec.js';

export interface ProbeResult {
  healthy: boolean;
  message: string;
  durationMs: number;
  /** Waiting longer cannot help (the process is gone): a wait stops at such a result. */
  fatal?: boolean;
  /** What the probe learnt on the way: whether it runs, its PID, since when. */
  facts?: ProbeFacts;
}

export interface ProbeFacts {
  running?: boolean;
  pid?: number;
  startedAt?: number;
  detail?: string;
}

export type Outcome = Omit<ProbeResult, 'durationMs'>;

export interface Probe {
  /** What it checks, for messages: "HTTP GET http://localhost:8080/health (expecting 200)". */
  readonly description: string;
  check(): Promise<ProbeResult>;
  /** One attempt, untimed: what check() times (for a probe that runs this one as part of its own attempt). */
  attempt(): Promise<Outcome>;
}

/** A probe from a description and one attempt; the attempt is timed. */
export function probe(description: string, attempt: () => Promise<Outcome>): Probe {
  return {
    description,
    attempt,
    async check() {
      const started = performance.now();
      const outcome = await attempt();
      return { ...outcome, durationMs: Math.round((performance.now() - started) * 10) / 10 };
    },
  };
}

export function httpProbe(spec: { endpoint: string; method: string; expected_status: number }, timeoutMs: number, token?: () => Promise<string | undefined>): Probe {
  return probe(`HTTP ${spec.method} ${spec.endpoint} (expecting ${spec.expected_status})`, async () => {
    const bearer = await token?.();
    try {
      const response = await fetch(spec.endpoint, {
        method: spec.method,
        signal: AbortSignal.timeout(timeoutMs),
        redirect: 'manual',
        ...(bearer ? { headers: { authorization: `Bearer ${bearer}` } } : {}),
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
  });
}

export function tcpProbe({ host, port }: { host: string; port: number }, timeoutMs: number): Probe {
  return probe(
    `TCP ${host}:${port}`,
    () =>
      new Promise((resolve) => {
        const socket = net.connect({ host, port });
        const done = (result: Outcome) => {
          socket.destroy();
          resolve(result);
        };
        socket.setTimeout(timeoutMs, () => done({ healthy: false, message: `TCP ${host}:${port}: no answer within ${timeoutMs / 1000} s` }));
        socket.once('connect', () => done({ healthy: true, message: `TCP ${host}:${port} accepts connections` }));
        socket.once('error', (err: NodeJS.ErrnoException) => done({ healthy: false, message: `TCP ${host}:${port}: ${err.code ?? err.message}` }));
      }),
  );
}

/** Runs argv (never a shell) and compares its exit code. */
export function commandProbe({ command, expected_exit_code }: { command: string[]; expected_exit_code: number }, timeoutMs: number): Probe {
  return probe(`command ${JSON.stringify(command)} (expecting exit ${expected_exit_code})`, async () => {
    const [program, ...args] = command as [string, ...string[]];
    const result = await exec(program, args, { reject: false, timeout: timeoutMs, stdin: 'ignore', all: true });
    if (result.timedOut) return { healthy: false, message: `command ${program} did not finish within ${timeoutMs / 1000} s` };
    if (result.failed && result.exitCode === undefined) return { healthy: false, message: `command ${program} could not run: ${result.shortMessage}` };
    const output = (result.all ?? '').trim().split('\n').slice(-1)[0] ?? '';
    return result.exitCode === expected_exit_code
      ? { healthy: true, message: `command ${program} exited ${result.exitCode}${output ? `: ${output}` : ''}` }
      : { healthy: false, message: `command ${program} exited ${result.exitCode} (expected ${expected_exit_code})${output ? `: ${output}` : ''}` };
  });
}

export function fileProbe({ path, must_exist }: { path: string; must_exist: boolean }): Probe {
  return probe(`file ${path} ${must_exist ? 'exists' : 'is absent'}`, async () => {
    const exists = await stat(path).then(
      () => true,
      () => false,
    );
    if (exists === must_exist) return { healthy: true, message: `file ${path} ${exists ? 'exists' : 'is absent'}` };
    return { healthy: false, message: `file ${path} ${exists ? 'exists but must not' : 'does not exist'}` };
  });
}

export function alwaysHealthy(description: string, message: string): Probe {
  return probe(description, () => Promise.resolve({ healthy: true, message }));
}

/** The probe a registry service's health_check describes. */
export function healthProbe(service: ServiceDefinition): Probe {
  const h = service.health_check;
  const timeoutMs = h.timeout * 1000;
  switch (h.type) {
    case 'http': {
      const file = service.deployment.remote?.auth_token_path;
      return httpProbe(h.http!, timeoutMs, file ? async () => (await readFile(file, 'utf8')).trim() : undefined);
    }
    case 'tcp':
      return tcpProbe(h.tcp!, timeoutMs);
    case 'command':
      return commandProbe(h.command!, timeoutMs);
    case 'file':
      return fileProbe(h.file!);
    case 'none':
      return alwaysHealthy('process running (no health check)', 'no health check configured');
  }
}
