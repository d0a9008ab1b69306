/**
 * process-compose on the same graph, when a binary can be had: PATH, then ~/go/bin, then
 * `go install github.com/f1bonacc1/process-compose@latest` (10-minute limit).
 *
 * Each process runs the same busybox script with the same environment marker;
 * `depends_on: {condition: process_healthy}` gates it on its dependencies; the readiness
 * probe is an exec of busybox nc against the port (process-compose has no TCP probe), with
 * `period_seconds: 1`, the smallest it accepts (an integer; below 1 it falls back to 10).
 * The time measured is from spawning `process-compose up` (headless, its REST API on a free
 * loopback port) until its API reports every process Ready, polled every 25 ms.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, open, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { SERVICE_MARKER } from '../../src/activities/drivers/binary.js';
import { freePort } from '../../src/util/net.js';
import { which } from '../../src/util/which.js';
import { BUSYBOX, serviceScript, workDir, type Shape } from './dag.js';
import { allocatePorts, withHome, withInterruptCleanup } from './procs.js';

const MODULE = 'github.com/f1bonacc1/process-compose';
const INSTALL_TIMEOUT_MS = 10 * 60_000;
const READY_TIMEOUT_MS = 60_000;
const POLL_MS = 25;
const PROBE_PERIOD_S = 1;

export type ProcessCompose = { available: true; path: string; version: string; source: string; listenFlag: boolean } | { available: false; reason: string };

async function goBinDir(): Promise<string> {
  const env = await execa('go', ['env', 'GOBIN', 'GOPATH'], { reject: false, timeout: 30_000 });
  const [gobin, gopath] = env.stdout.split('\n').map((l) => l.trim());
  return gobin || path.join(gopath || path.join(os.homedir(), 'go'), 'bin');
}

async function describe(binary: string, source: string): Promise<ProcessCompose> {
  const version = await execa(binary, ['version', '-L', os.devNull], { reject: false, timeout: 10_000, env: noEgressEnv() });
  const help = await execa(binary, ['up', '--help', '-L', os.devNull], { reject: false, timeout: 10_000, env: noEgressEnv() });
  return {
    available: true,
    path: binary,
    version: /Version:\s*(\S+)/.exec(version.stdout)?.[1] ?? 'unknown',
    source,
    listenFlag: `${help.stdout}${help.stderr}`.includes('address to listen on'),
  };
}

/** Finds process-compose, or installs it with `go install`; says why when it cannot. */
export async function findProcessCompose(): Promise<ProcessCompose> {
  const onPath = which('process-compose', process.env.PATH ?? '');
  if (onPath) return describe(onPath, 'PATH');
  const home = path.join(os.homedir(), 'go', 'bin', 'process-compose');
  if (existsSync(home)) return describe(home, '~/go/bin');
  if (!which('go', process.env.PATH ?? '')) return { available: false, reason: 'not on PATH nor in ~/go/bin, and no `go` to install it with' };
  console.log(`process-compose not found; trying: go install ${MODULE}@latest (up to 10 minutes)…`);
  const install = await execa('go', ['install', `${MODULE}@latest`], { reject: false, timeout: INSTALL_TIMEOUT_MS, all: true });
  const installed = path.join(await goBinDir(), 'process-compose');
  if (install.exitCode === 0 && existsSync(installed)) return describe(installed, `go install ${MODULE}@latest`);
  const why = install.timedOut ? 'timed out after 10 minutes' : (install.all ?? '').trim().split('\n').map((l) => l.trim()).filter(Boolean).join(' ').slice(0, 300);
  return { available: false, reason: `go install ${MODULE}@latest failed: ${why || `exit ${install.exitCode}`}` };
}

/**
 * Only loopback traffic: a process-compose built by `go install` checks for updates at
 * start; an unreachable loopback proxy makes that request fail at once (Go never proxies
 * loopback addresses, so the REST API is unaffected).
 */
function noEgressEnv(): NodeJS.ProcessEnv {
  return { ...process.env, HTTPS_PROXY: 'http://127.0.0.1:9', HTTP_PROXY: 'http://127.0.0.1:9', NO_PROXY: '127.0.0.1,localhost' };
}

const q = (s: string) => JSON.stringify(s); // a JSON string is a valid YAML scalar

export function composeYaml(shape: Shape, home: string, ports: Readonly<Record<string, number>>): string {
  const lines = ['version: "0.5"', `log_location: ${q(path.join(home, 'processes.log'))}`, 'processes:'];
  for (const s of shape.services) {
    lines.push(
      `  ${q(s.name)}:`,
      `    command: ${q(`${BUSYBOX} sh -c '${serviceScript(s, ports[s.name]!)}'`)}`,
      `    working_dir: ${q(workDir(home, s.name))}`,
      `    environment:`,
      `      - ${q(`${SERVICE_MARKER}=${home}#${s.name}`)}`,
    );
    if (s.dependencies.length > 0) {
      lines.push('    depends_on:');
      for (const d of s.dependencies) lines.push(`      ${q(d)}:`, '        condition: process_healthy');
    }
    lines.push(
      '    readiness_probe:',
      '      exec:',
      `        command: ${q(`${BUSYBOX} nc -w 1 127.0.0.1 ${ports[s.name]!} </dev/null`)}`,
      '      initial_delay_seconds: 0',
      `      period_seconds: ${PROBE_PERIOD_S}`,
      '      timeout_seconds: 1',
      '      success_threshold: 1',
      '      failure_threshold: 20',
    );
  }
  return `${lines.join('\n')}\n`;
}

interface ApiProcess {
  name: string;
  status: string;
  is_ready: string;
}

async function readyCount(apiPort: number): Promise<{ ready: number; failed: string[] } | undefined> {
  try {
    const response = await fetch(`http://127.0.0.1:${apiPort}/processes`, { signal: AbortSignal.timeout(1_000) });
    if (!response.ok) return undefined;
    const body = (await response.json()) as { data?: ApiProcess[] } | ApiProcess[];
    const list = Array.isArray(body) ? body : (body.data ?? []);
    return {
      ready: list.filter((p) => p.is_ready === 'Ready').length,
      failed: list.filter((p) => ['Completed', 'Error', 'Skipped', 'Terminating'].includes(p.status)).map((p) => `${p.name} ${p.status}`),
    };
  } catch {
    return undefined; // not listening yet
  }
}

async function tail(file: string, lines = 8): Promise<string> {
  return readFile(file, 'utf8').then(
    (t) => t.trimEnd().split('\n').slice(-lines).join('\n'),
    () => '',
  );
}

/** Seconds from `process-compose up` to every process Ready; everything is stopped and checked afterwards. */
export function runProcessCompose(pc: Extract<ProcessCompose, { available: true }>, shape: Shape): Promise<number> {
  return withHome(`pc-${shape.name}`, async (home) => {
    const taken = new Set<number>();
    const ports = await allocatePorts(shape, taken);
    let apiPort = await freePort();
    while (taken.has(apiPort)) apiPort = await freePort();
    await Promise.all(shape.services.map((s) => mkdir(workDir(home, s.name), { recursive: true })));
    const file = path.join(home, 'process-compose.yaml');
    await writeFile(file, composeYaml(shape, home, ports));
    const address = pc.listenFlag ? ['--address', '127.0.0.1'] : [];
    const logFile = path.join(home, 'process-compose.log');
    const out = await open(path.join(home, 'process-compose.out'), 'a');

    const t0 = performance.now();
    const child = spawn(pc.path, ['up', '-f', file, '-t=false', '-p', String(apiPort), ...address, '-L', logFile], {
      cwd: home,
      detached: true,
      stdio: ['ignore', out.fd, out.fd],
      env: noEgressEnv(),
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    let gone = false;
    void exited.then(() => (gone = true));
    await out.close();

    const stop = async () => {
      if (!gone) await execa(pc.path, ['down', '-p', String(apiPort), '--address', '127.0.0.1', '-L', path.join(home, 'process-compose-down.log')], { reject: false, timeout: 10_000, env: noEgressEnv() });
      const timer = new AbortController();
      await Promise.race([exited, sleep(10_000, undefined, { signal: timer.signal }).catch(() => undefined)]);
      timer.abort();
      if (!gone) {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          // gone
        }
        await exited;
      }
    };
    return withInterruptCleanup(stop, async () => {
      try {
        for (;;) {
          const state = await readyCount(apiPort);
          if (state?.ready === shape.services.length) return (performance.now() - t0) / 1000;
          if (state && state.failed.length > 0) throw new Error(`process-compose: ${state.failed.slice(0, 5).join(', ')}`);
          if (gone) throw new Error(`process-compose exited early:\n${await tail(path.join(home, 'process-compose.out'))}\n${await tail(logFile)}`);
          if (performance.now() - t0 > READY_TIMEOUT_MS) throw new Error(`process-compose: only ${state?.ready ?? 0}/${shape.services.length} ready after ${READY_TIMEOUT_MS / 1000} s`);
          await sleep(POLL_MS);
        }
      } finally {
        await stop();
      }
    });
  });
}
