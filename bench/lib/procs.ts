/**
 * Processes of the platform-start benchmark: unique loopback ports, a fresh home per measured
 * run, the TCP readiness wait every method shares, and the clean-up that proves nothing leaked.
 *
 * Every service process carries the project's environment marker
 * (PROVISIONING_SERVICE_ID=<home>#<name>), whichever method started it, so one scan of /proc
 * finds whatever a run left behind.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SERVICE_MARKER } from '../../src/activities/drivers/binary.js';
import { freePort } from '../../src/util/net.js';
import { cleanupHome } from '../../test/support/services.js';
import { BUSYBOX, serviceScript, workDir, type BenchService, type Shape } from './dag.js';

const FIRST_PROBE_DELAY_MS = 25;
const MAX_PROBE_DELAY_MS = 500;

/** Cleanups still owed, run on Ctrl-C too. */
const pending = new Set<() => Promise<void>>();

export function onInterrupt(): void {
  const handler = (signal: NodeJS.Signals) => {
    console.error(`\n${signal}: cleaning up ${pending.size} pending run(s)…`);
    void Promise.allSettled([...pending].map((fn) => fn())).then(() => process.exit(130));
  };
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
}

/** Runs `fn` with a fresh temporary home, then kills everything started for it and checks that nothing is left. */
export async function withHome<T>(prefix: string, fn: (home: string) => Promise<T>): Promise<T> {
  const home = await mkdtemp(path.join(os.tmpdir(), `provisioning-bench-${prefix}-`));
  const cleanup = () => killHome(home);
  pending.add(cleanup);
  try {
    return await fn(home);
  } finally {
    pending.delete(cleanup);
    await cleanup();
  }
}

/** Registers an extra cleanup (a process-compose supervisor) for Ctrl-C while `fn` runs. */
export async function withInterruptCleanup<T>(cleanup: () => Promise<void>, fn: () => Promise<T>): Promise<T> {
  pending.add(cleanup);
  try {
    return await fn();
  } finally {
    pending.delete(cleanup);
  }
}

/** One free loopback port per service, all distinct. */
export async function allocatePorts(shape: Shape, taken = new Set<number>()): Promise<Record<string, number>> {
  const ports: Record<string, number> = {};
  for (const s of shape.services) {
    let port = await freePort();
    while (taken.has(port)) port = await freePort();
    taken.add(port);
    ports[s.name] = port;
  }
  return ports;
}

export function markerEnv(home: string, name: string): NodeJS.ProcessEnv {
  return { ...process.env, [SERVICE_MARKER]: `${home}#${name}` };
}

/** Starts one service the way the binary driver does (detached, own process group, marker), without the driver's bookkeeping. */
export async function spawnService(home: string, service: BenchService, port: number): Promise<number> {
  const cwd = workDir(home, service.name);
  await mkdir(cwd, { recursive: true });
  const child = spawn(BUSYBOX, ['sh', '-c', serviceScript(service, port)], { cwd, detached: true, stdio: 'ignore', env: markerEnv(home, service.name) });
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  child.unref();
  return child.pid!;
}

export function tcpAnswers(port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * Probes at once, then pauses a tenth of the time waited so far (25 ms to 500 ms): the
 * back-off of the waitHealthy activity, so the sequential baseline probes the same way.
 */
export async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const began = performance.now();
  const deadline = began + timeoutMs;
  while (!(await tcpAnswers(port))) {
    if (performance.now() >= deadline) throw new Error(`port ${port} did not answer within ${timeoutMs / 1000} s`);
    await sleep(Math.min(MAX_PROBE_DELAY_MS, Math.max(FIRST_PROBE_DELAY_MS, (performance.now() - began) * 0.1)));
  }
}

/** Live (non-zombie) processes carrying the marker of `home`, any service, leaders or not. */
export async function leftovers(home: string): Promise<number[]> {
  const prefix = `${SERVICE_MARKER}=${home}#`;
  const found: number[] = [];
  for (const pid of (await readdir('/proc')).filter((d) => /^\d+$/.test(d)).map(Number)) {
    try {
      const environ = await readFile(`/proc/${pid}/environ`, 'utf8');
      if (!environ.split('\0').some((e) => e.startsWith(prefix))) continue;
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue;
      found.push(pid);
    } catch {
      // exited meanwhile
    }
  }
  return found;
}

/**
 * Kills every process group started for `home` (by PID file and marker, test/support's
 * cleanupHome, which also removes the home), then checks by marker that nothing is left:
 * stragglers are killed by PID and, if any survive 2 s, the run fails loudly.
 */
export async function killHome(home: string): Promise<void> {
  await cleanupHome(home);
  const deadline = performance.now() + 2_000;
  for (;;) {
    const left = await leftovers(home);
    if (left.length === 0) return;
    if (performance.now() >= deadline) throw new Error(`processes of ${home} are still alive after clean-up: PIDs ${left.join(', ')}`);
    for (const pid of left) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    await sleep(50);
  }
}
