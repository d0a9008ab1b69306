/**
 * `npm run bench:cli`: how fast the CLI answers and a worker starts, as medians of repeated
 * runs, against two baselines measured in the same run: `node -e 0` (the floor of any Node
 * CLI) and `temporal --help` (a native Go CLI).
 *
 *   --help, services list, platform status (no Temporal), workflow list (a dev server),
 *   and worker start-up to its first poll (a `provisioning worker` process until the server
 *   lists it as a poller of its task queue).
 *
 * "Before": the same commands from another checkout of this repository (default: the commit
 * before the lazy CLI, 9b85611), built into a temporary git worktree that shares this
 * checkout's node_modules, so the two are measured side by side on the same machine.
 *
 *   npm run bench:cli [-- --runs N] [--before REF | --no-before]
 *
 * Needs `npm run build` (it runs the compiled CLI from dist/, as `npx provisioning` does).
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Connection } from '@temporalio/client';
import { findLocalTemporalCli } from '../src/temporal/cli-binary.js';
import { startServer } from './lib/harness.js';

const root = path.resolve(import.meta.dirname, '..');
const args = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const RUNS = Number(flag('--runs') ?? 15);
const WORKER_RUNS = Math.max(3, Math.round(RUNS / 3));
const BEFORE_REF = args.includes('--no-before') ? undefined : (flag('--before') ?? '9b85611');
const REGISTRY = path.join(root, 'examples/platform/services.toml');

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Wall time of one process run, in ms. */
function timeOnce(cmd: string, argv: string[], env: NodeJS.ProcessEnv): number {
  const t0 = performance.now();
  const r = spawnSync(cmd, argv, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = performance.now() - t0;
  if (r.status !== 0 && !(argv.includes('status') && r.status === 1)) throw new Error(`${cmd} ${argv.join(' ')} exited ${r.status}: ${r.stderr.toString().slice(0, 300)}`);
  return ms;
}

function timeMedian(cmd: string, argv: string[], env: NodeJS.ProcessEnv): number {
  const warm = timeOnce(cmd, argv, env); // also warms the file cache
  // A command that takes seconds gets 3 runs: its median is stable and the bench stays short.
  const runs = warm > 2_000 ? 3 : RUNS;
  return median(Array.from({ length: runs }, () => timeOnce(cmd, argv, env)));
}

/** A `provisioning worker` process from start until the server lists a poller on its queue. */
async function workerStartup(checkout: string, address: string, connection: Connection): Promise<number> {
  const taskQueue = `bench-cli-${randomUUID().slice(0, 8)}`;
  const t0 = performance.now();
  const child = spawn(process.execPath, [path.join(checkout, 'bin/provisioning.js'), 'worker', '--address', address, '--task-queue', taskQueue], { stdio: 'ignore', env: benchEnv() });
  try {
    for (;;) {
      const { pollers } = await connection.workflowService.describeTaskQueue({ namespace: 'default', taskQueue: { name: taskQueue }, taskQueueType: 1 });
      if ((pollers ?? []).length > 0) return performance.now() - t0;
      if (child.exitCode !== null) throw new Error(`the worker of ${checkout} exited ${child.exitCode} before it polled`);
      if (performance.now() - t0 > 120_000) throw new Error('no poll within 120 s');
      await sleep(5);
    }
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r(undefined) : child.once('exit', r)));
  }
}

function benchEnv(): NodeJS.ProcessEnv {
  // Nothing from the caller's Temporal settings; a home of its own so no dev state is read.
  const { TEMPORAL_ADDRESS: _a, TEMPORAL_NAMESPACE: _n, PROVISIONING_FROM_SOURCE: _s, ...rest } = process.env;
  return { ...rest, PROVISIONING_HOME: benchHome, TEMPORAL_ADDRESS: '127.0.0.1:1' };
}

/** A worktree of `ref`, built with this checkout's node_modules; removed by the returned cleanup. */
async function buildBefore(ref: string): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'provisioning-bench-cli-before-'));
  const git = (...a: string[]) => {
    const r = spawnSync('git', ['-C', root, ...a], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`git ${a.join(' ')}: ${r.stderr.trim()}`);
  };
  git('worktree', 'add', '--detach', dir, ref);
  const cleanup = async () => {
    git('worktree', 'remove', '--force', dir);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await symlink(path.join(root, 'node_modules'), path.join(dir, 'node_modules'));
    const tsc = spawnSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: dir, encoding: 'utf8' });
    if (tsc.status !== 0) throw new Error(`building ${ref} failed: ${tsc.stdout.slice(0, 500)}`);
    return { dir, cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

const benchHome = await mkdtemp(path.join(os.tmpdir(), 'provisioning-bench-cli-home-'));

async function main(): Promise<void> {
  if (!existsSync(path.join(root, 'dist/client/main.js')) || !existsSync(path.join(root, 'dist/workflow-bundle.js'))) {
    console.error('bench:cli: dist/ is missing or has no workflow bundle; run "npm run build" first');
    process.exit(2);
  }
  const temporal = await findLocalTemporalCli();
  if (!temporal) {
    console.error('bench:cli: no Temporal CLI found; run "npm run setup"');
    process.exit(2);
  }
  const cleanups: Array<() => Promise<void>> = [() => rm(benchHome, { recursive: true, force: true })];
  try {
    const server = await startServer(path.join(benchHome, 'temporal.log'));
    cleanups.push(() => server.stop());
    const connection = await Connection.connect({ address: server.address });
    cleanups.push(() => connection.close());
    const before = BEFORE_REF ? await buildBefore(BEFORE_REF) : undefined;
    if (before) cleanups.push(before.cleanup);

    const env = benchEnv();
    console.log(`bench:cli: medians of ${RUNS} runs (worker start-up: ${WORKER_RUNS}); Node ${process.version}, ${os.cpus().length} cores`);
    const node0 = timeMedian(process.execPath, ['-e', '0'], env);
    const temporalHelp = timeMedian(temporal.path, ['--help'], env);
    console.log(`baselines: node -e 0 ${node0.toFixed(0)} ms, temporal --help ${temporalHelp.toFixed(0)} ms (${temporal.version})\n`);

    const commands: Array<[string, string[]]> = [
      ['--help', ['--help']],
      ['services list', ['services', 'list', '--registry', REGISTRY]],
      ['platform status (no Temporal)', ['platform', 'status', '--registry', REGISTRY]],
      ['workflow list (dev server)', ['workflow', 'list', '--address', server.address]],
    ];
    const rows: string[][] = [];
    const row = (what: string, ms: number, beforeMs?: number) =>
      rows.push([what, `${ms.toFixed(0)} ms`, `${(ms / node0).toFixed(2)}x`, `${(ms / temporalHelp).toFixed(2)}x`, beforeMs === undefined ? '-' : `${beforeMs.toFixed(0)} ms`, beforeMs === undefined ? '-' : `${(ms / beforeMs).toFixed(2)}x`]);
    for (const [what, argv] of commands) {
      const now = timeMedian(process.execPath, [path.join(root, 'bin/provisioning.js'), ...argv], env);
      const then = before ? timeMedian(process.execPath, [path.join(before.dir, 'bin/provisioning.js'), ...argv], env) : undefined;
      row(what, now, then);
    }
    const startups = async (checkout: string) => {
      const ms: number[] = [];
      for (let i = 0; i < WORKER_RUNS; i++) ms.push(await workerStartup(checkout, server.address, connection));
      return median(ms);
    };
    row('worker start-up to first poll', await startups(root), before ? await startups(before.dir) : undefined);

    const header = ['command', 'median', 'vs node -e 0', 'vs temporal --help', `before (${BEFORE_REF ?? 'none'})`, 'now / before'];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
    console.log(line(header));
    for (const r of rows) console.log(line(r));
  } finally {
    for (const fn of cleanups.reverse()) await fn().catch((err: unknown) => console.error(`clean-up: ${(err as Error).message}`));
  }
}

await main();
