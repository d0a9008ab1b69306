/**
 * Benchmark of the backends: the same work on the dev server (SQLite, one process) and on the
 * production-shape cluster (the Temporal server on PostgreSQL, src/temporal/cluster.ts) with
 * 1 and 3 `provisioning worker` processes, side by side in one run.
 *
 *   quick x20   20 concurrent `test quick webserver` environments (single taskserv, auto
 *               cleanup) through the client API's quickTest: environments per minute.
 *   start x40   the 40-service "wide" platform (bench/lib/dag.ts, busybox processes with
 *               seeded delays) through platformStart: wall time ÷ the critical path (the sum
 *               of delays on the longest chain, the lower bound; 1.00 would be no overhead).
 *
 * Workers are real processes on all three backends (the same bundle, built once); one warm-up
 * of each workload per backend is not measured. Each backend is started, measured and torn
 * down in turn; everything made (processes, containers, networks, the PostgreSQL folder) is
 * removed, and the end checks that no container of the bench is left.
 *
 * Run: npm run bench:cluster   (needs what the tests need: Docker, busybox, the Temporal CLI,
 * PostgreSQL and the server built by npm run setup). About 4 minutes on 2 cores.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { quickTest } from '../src/api/testenv/quick.js';
import { renderTable } from '../src/client/render/table.js';
import { ensureBaseImage } from '../src/docker/base-image.js';
import { dockerClient } from '../src/docker/client.js';
import { criticalPath } from '../src/graph/index.js';
import type { PlatformResult } from '../src/model/platform.js';
import { startCluster, startWorkerProcess } from '../src/temporal/cluster.js';
import { startDevServer } from '../src/temporal/dev-server.js';
import { platformStart } from '../src/workflows/index.js';
import { bundleWorkflows } from '../src/worker/bundle.js';
import { freePort } from '../src/util/net.js';
import { benchRegistry, graphNodes, wideShape } from './lib/dag.js';
import { allocatePorts, onInterrupt, withHome } from './lib/procs.js';
import { benchCatalog, BENCH_PREFIX, freshId, leftovers, planFor, quickRequest, removeBenchResources } from './lib/testenv-common.js';

const QUICK = 20;
const TASK_QUEUE = 'bench-cluster';

interface Backend {
  name: string;
  address: string;
  namespace: string;
  stop(): Promise<void>;
}

interface Row {
  backend: string;
  setupS: number;
  quickS: number;
  quickFailed: number;
  startS: number;
  startOk: boolean;
  cp: number;
}

async function devBackend(env: Record<string, string>, scratch: string): Promise<Backend> {
  const server = await startDevServer({ port: await freePort(), headless: true, logFile: path.join(scratch, 'dev.log') });
  try {
    const worker = await startWorkerProcess({ address: server.address, namespace: server.namespace, taskQueue: TASK_QUEUE, identity: 'bench-dev-1', env });
    return { name: 'dev server, 1 worker', address: server.address, namespace: server.namespace, stop: async () => (await worker.kill(), await server.stop()) };
  } catch (err) {
    await server.stop();
    throw err;
  }
}

async function clusterBackend(workers: number, env: Record<string, string>): Promise<Backend> {
  const cluster = await startCluster({ workers, taskQueue: TASK_QUEUE, workerEnv: env });
  return { name: `PostgreSQL cluster, ${workers} worker${workers === 1 ? '' : 's'}`, address: cluster.address, namespace: cluster.namespace, stop: () => cluster.stop() };
}

async function quickWave(client: Client, catalog: Awaited<ReturnType<typeof benchCatalog>>, n: number): Promise<{ seconds: number; failed: number }> {
  const t0 = performance.now();
  const results = await Promise.all(
    Array.from({ length: n }, async () => {
      const run = await quickTest({ client, taskQueue: TASK_QUEUE }, planFor(freshId('cl'), quickRequest, catalog));
      return run.result();
    }),
  );
  return { seconds: (performance.now() - t0) / 1000, failed: results.filter((r) => !r.passed).length };
}

async function platformStartRun(client: Client, label: string): Promise<{ seconds: number; ok: boolean }> {
  const shape = wideShape();
  return withHome(`cluster-${label}`, async (home) => {
    const registry = benchRegistry(shape, home, await allocatePorts(shape));
    const t0 = performance.now();
    const result: PlatformResult = await client.workflow.execute(platformStart, {
      taskQueue: TASK_QUEUE,
      workflowId: `bench-cluster-${label}-${freshId('p')}`,
      workflowExecutionTimeout: '3 minutes',
      args: [{ registry, home, services: shape.services.map((s) => s.name) }],
    });
    return { seconds: (performance.now() - t0) / 1000, ok: result.ok };
  });
}

async function main(): Promise<void> {
  onInterrupt();
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'provisioning-bench-cluster-'));
  const rows: Row[] = [];
  try {
    const [bundle, catalog] = await Promise.all([bundleWorkflows(), benchCatalog(), ensureBaseImage(dockerClient())]);
    const bundlePath = path.join(scratch, 'workflow-bundle.js');
    await writeFile(bundlePath, bundle.code);
    const env = { PROVISIONING_FROM_SOURCE: '1', PROVISIONING_WORKFLOW_BUNDLE: bundlePath };
    const shape = wideShape();
    const cp = criticalPath(graphNodes(shape), Object.fromEntries(shape.services.map((s) => [s.name, s.delay]))).total;
    console.log(`quick x${QUICK}: single_taskserv webserver, auto cleanup; start x40: ${shape.describe}, critical path ${cp.toFixed(2)} s\n`);
    const backends: Array<() => Promise<Backend>> = [() => devBackend(env, scratch), () => clusterBackend(1, env), () => clusterBackend(3, env)];
    for (const make of backends) {
      const t0 = performance.now();
      const backend = await make();
      const setupS = (performance.now() - t0) / 1000;
      const connection = await Connection.connect({ address: backend.address });
      try {
        const client = new Client({ connection, namespace: backend.namespace });
        await quickWave(client, catalog, 2); // warm-up
        await platformStartRun(client, 'warm');
        const quick = await quickWave(client, catalog, QUICK);
        const start = await platformStartRun(client, 'measured');
        rows.push({ backend: backend.name, setupS, quickS: quick.seconds, quickFailed: quick.failed, startS: start.seconds, startOk: start.ok, cp });
        console.log(`${backend.name}: up in ${setupS.toFixed(1)} s; quick x${QUICK} ${quick.seconds.toFixed(1)} s (${quick.failed} failed); start x40 ${start.seconds.toFixed(2)} s${start.ok ? '' : ' NOT OK'}`);
      } finally {
        await connection.close();
        await backend.stop();
      }
    }
  } finally {
    await removeBenchResources();
    const left = await leftovers(BENCH_PREFIX);
    if (left.length > 0) console.error(`LEFT BEHIND: ${left.join(', ')}`);
    await rm(scratch, { recursive: true, force: true });
  }
  const base = rows[0];
  console.log(
    `\n${renderTable(
      ['backend', 'up in', `quick x${QUICK}`, 'envs/min', 'vs dev', 'start x40', 'start ÷ critical path'],
      rows.map((r) => [
        r.backend,
        `${r.setupS.toFixed(1)} s`,
        `${r.quickS.toFixed(1)} s${r.quickFailed ? ` (${r.quickFailed} failed)` : ''}`,
        ((QUICK / r.quickS) * 60).toFixed(1),
        base ? `${(base.quickS / r.quickS).toFixed(2)}x` : '—',
        `${r.startS.toFixed(2)} s${r.startOk ? '' : ' NOT OK'}`,
        (r.startS / r.cp).toFixed(2),
      ]),
    )}`,
  );
}

await main();

