/**
 * Benchmark of the REST API (`provisioning api`, its own process, against a dev server and an
 * in-process worker).
 *
 * 1. Throughput and latency of GET /health, GET /tasks/{id} and GET /tasks under concurrent
 *    load from a second process (bench/lib/api-load.ts: 32 connections, 5 s each), against the
 *    same load on a bare node:http server answering a small JSON body: the ceiling of an HTTP
 *    endpoint in Node on this machine, measured in the same run.
 * 2. What POST /test/environments/create with wait (then DELETE) adds over the same through the
 *    typed client API in this process (createEnvironment, follow until ready, cleanupEnvironment):
 *    3 rounds each, alternating, medians.
 *
 * Run: npm run bench:api   (or: npx tsx bench/api.ts). Needs Docker and a Temporal CLI, as the tests.
 */
import { createServer } from 'node:http';
import path from 'node:path';
import { execa } from 'execa';
import { cleanupEnvironment, createEnvironment, followEnvironment, planEnvironment, reapEnvironments } from '../src/api/index.js';
import { loadEnvCatalog } from '../src/config/testenv.js';
import { ensureBaseImage } from '../src/docker/base-image.js';
import { dockerClient } from '../src/docker/client.js';
import { freePort } from '../src/util/net.js';
import { startBenchTemporal } from './lib/harness.js';
import { median } from './lib/testenv-common.js';

const root = path.resolve(import.meta.dirname, '..');
const TOKEN = 'bench-token-0123456789abcdef';
const ROUNDS = 3;

interface Load {
  requests: number;
  errors: number;
  rps: number;
  p50: number;
  p99: number;
}

async function load(url: string, token = TOKEN): Promise<Load> {
  const { stdout } = await execa('npx', ['tsx', path.join(root, 'bench/lib/api-load.ts'), url, token, '32', '5'], { cwd: root });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as Load;
}

async function main(): Promise<void> {
  await ensureBaseImage(dockerClient());
  const temporal = await startBenchTemporal('api');
  const port = await freePort();
  const api = execa('node', [path.join(root, 'bin/provisioning.js'), 'api', '--listen', `127.0.0.1:${port}`, '--address', temporal.server.address, '--task-queue', temporal.taskQueue, '--rate-limit', '10000000'], {
    env: { PROVISIONING_FROM_SOURCE: '1', PROVISIONING_API_TOKEN: TOKEN },
    reject: false,
    all: true,
  });
  let output = '';
  api.all.on('data', (d: Buffer) => (output += d.toString()));
  const bare = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ status: 'ok', server: 'ok' }));
  });
  try {
    while (!output.includes('REST API on')) {
      if (api.exitCode !== null) throw new Error(`api did not start:\n${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const base = `http://127.0.0.1:${port}`;
    const ctx = { client: temporal.client, taskQueue: temporal.taskQueue };
    // A closed task to read: one reaper run.
    await reapEnvironments(ctx, 'bench');
    const task = (await (await fetch(`${base}/tasks?limit=1`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as { tasks: Array<{ id: string }> };
    const taskId = task.tasks[0]!.id;
    const barePort = await freePort();
    await new Promise<void>((r) => bare.listen(barePort, '127.0.0.1', () => r()));

    const rows: Array<[string, Load]> = [];
    rows.push(['bare node:http (baseline)', await load(`http://127.0.0.1:${barePort}/`, '')]);
    rows.push(['GET /health', await load(`${base}/health`)]);
    rows.push(['GET /tasks/{id}', await load(`${base}/tasks/${encodeURIComponent(taskId)}`)]);
    rows.push(['GET /tasks?limit=20', await load(`${base}/tasks?limit=20`)]);
    const ceiling = rows[0]![1].rps;
    console.log('\nThroughput, 32 connections from a second process, 5 s each');
    console.log('endpoint                    req/s   vs bare   p50 ms   p99 ms   errors');
    for (const [name, r] of rows) console.log(`${name.padEnd(26)} ${r.rps.toFixed(0).padStart(6)}   ${(r.rps / ceiling).toFixed(2).padStart(6)}x ${r.p50.toFixed(1).padStart(8)} ${r.p99.toFixed(1).padStart(8)}   ${r.errors}`);

    const catalog = await loadEnvCatalog(undefined, process.env, root);
    const request = { config: { type: 'single_taskserv', taskserv: 'webserver', resources: { cpu_millicores: 500, memory_mb: 64 } } };
    const viaHttp: number[] = [];
    const viaApi: number[] = [];
    for (let i = 0; i < ROUNDS + 1; i++) {
      // Round 0 warms both paths up (image, JIT) and is not counted.
      const t0 = performance.now();
      const res = await fetch(`${base}/test/environments/create`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(request) });
      const created = (await res.json()) as { id: string; phase: string };
      const httpMs = performance.now() - t0;
      if (created.phase !== 'ready') throw new Error(`HTTP create ended ${created.phase}`);
      await fetch(`${base}/test/environments/${created.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${TOKEN}` } });

      const t1 = performance.now();
      const { plan } = await planEnvironment({ request, catalog, subject: 'webserver' });
      const env = await createEnvironment(ctx, plan);
      let phase = '';
      for await (const s of followEnvironment(env, (x) => x.phase === 'ready')) phase = s.phase;
      const apiMs = performance.now() - t1;
      if (phase !== 'ready') throw new Error(`API create ended ${phase}`);
      await cleanupEnvironment(ctx, env.id);
      if (i > 0) {
        viaHttp.push(httpMs);
        viaApi.push(apiMs);
      }
    }
    const [h, a] = [median(viaHttp), median(viaApi)];
    console.log(`\nPOST /test/environments/create with wait, ${ROUNDS} rounds (medians): HTTP ${h.toFixed(0)} ms, typed API ${a.toFixed(0)} ms; HTTP adds ${(h - a).toFixed(0)} ms (${(h / a).toFixed(2)}x)`);
  } finally {
    bare.close();
    api.kill('SIGTERM');
    await api;
    await temporal.close();
  }
}

await main();
