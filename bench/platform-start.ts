/**
 * Benchmark of platformStart: how close does the eager, dependency-ordered start through
 * Temporal come to the critical path, and how does it compare with a sequential start and
 * with process-compose on the same services?
 *
 * Two seeded graphs of 40 services ("wide": a root and 3 levels of 13, each on 1-3 services of
 * the level before; "deep": 4 chains of 10 with some cross edges). Every service is a real
 * busybox process, `sh -c "sleep D; exec httpd -f -p 127.0.0.1:PORT -h ."`, with D seeded in
 * 0.2-0.6 s, healthy when its TCP port answers (health_check interval 0.5 s, timeout 1 s).
 * Each measured run gets a fresh PROVISIONING home and fresh loopback ports, and everything it
 * started is killed and checked gone afterwards (by PID file and environment marker).
 *
 * For each graph, in one run of this command:
 *   critical path   the longest chain's sum of delays (src/graph criticalPath): the lower bound.
 *   platformStart   client.workflow.execute(platformStart) from submission to result, on one
 *                   dev server (started once) with an in-process worker (bundle built once),
 *                   after one small warm-up start that is not measured.
 *   sequential      the seeds' way: a loop here that starts one service at a time in start
 *                   order, waiting for its port (probed as waitHealthy does) before the next.
 *   process-compose the same graph as a process-compose project (depends_on process_healthy,
 *                   an exec readiness probe every 1 s, its smallest period), until its REST API
 *                   reports every process Ready; only when a binary is found or `go install`s.
 * platformStart and process-compose: median of 3 runs, interleaved; sequential: 1 run (it is
 * ~24 s a graph and only a reference). Timings use performance.now().
 *
 * Run: npm run bench:platform-start   (or: npx tsx bench/platform-start.ts)
 * Needs /bin/busybox and a Temporal CLI (as for the tests); about 2.5 minutes on 2 cores. The
 * times are wall-clock: run it on an otherwise idle machine.
 */
import os from 'node:os';
import { existsSync } from 'node:fs';
import { renderTable } from '../src/client/render/table.js';
import { criticalPath } from '../src/graph/index.js';
import { BUSYBOX, deepShape, edgeCount, graphNodes, HEALTH_INTERVAL_S, wideShape, type Shape } from './lib/dag.js';
import { COMPOSE_HEALTH_INTERVAL, ensureImage, findCompose, runCompose, type Compose } from './lib/compose-peer.js';
import { findProcessCompose, runProcessCompose } from './lib/process-compose.js';
import { onInterrupt } from './lib/procs.js';
import { runSequential } from './lib/sequential.js';
import { startTemporal, type TemporalRun } from './lib/temporal.js';

const RUNS = 3;
const TARGET_FACTOR = 1.1;
const TARGET_SLACK_S = 0.5;

interface ShapeResult {
  shape: Shape;
  cp: number;
  cpHops: number;
  temporal: TemporalRun[];
  temporalErrors: string[];
  pc: number[];
  pcErrors: string[];
  sequential?: number;
  sequentialError?: string;
  /** The same graph as docker-mode containers: platformStart against docker-compose. */
  dockerTemporal: number[];
  dockerTemporalErrors: string[];
  compose: number[];
  composeErrors: string[];
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.floor((s.length - 1) / 2)]!;
};
const sec = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? '—' : `${x.toFixed(2)} s`);
const times = (x: number) => `${x.toFixed(2)}×`;
/** When waitHealthy's probes happen after a spawn, in ms: at once, then a tenth of the time waited (25 ms to the interval). */
function probeSchedule(untilMs = 1_300): number[] {
  const at = [0];
  const next = (t: number) => t + Math.min(HEALTH_INTERVAL_S * 1000, Math.max(25, t * 0.1));
  while (next(at.at(-1)!) <= untilMs) at.push(Math.round(next(at.at(-1)!)));
  return at;
}
const message = (err: unknown) => (err as Error).message.split('\n')[0]!;

async function main(): Promise<void> {
  onInterrupt();
  const began = performance.now();
  if (!existsSync(BUSYBOX)) throw new Error(`${BUSYBOX} is missing (apt-get install busybox-static)`);
  console.log(`platformStart benchmark — Node ${process.version}, ${os.cpus().length} cores, health interval ${HEALTH_INTERVAL_S} s\n`);

  const pc = await findProcessCompose();
  console.log(pc.available ? `process-compose ${pc.version} (${pc.path}, found via ${pc.source})` : `process-compose NOT MEASURED: ${pc.reason}`);
  const compose = await findCompose();
  console.log(compose.available ? `docker-compose ${compose.version} (${compose.argv.join(' ')})` : `docker-compose NOT MEASURED: ${compose.reason}`);
  if (compose.available) await ensureImage();
  const temporal = await startTemporal();
  console.log(`Temporal: ${temporal.setup}`);

  const results: ShapeResult[] = [];
  try {
    const warm = await temporal.run({ name: 'warmup', describe: 'warm-up', services: [{ name: 'warm-a', dependencies: [], delay: 0.1 }, { name: 'warm-b', dependencies: ['warm-a'], delay: 0.1 }] }, 'warmup');
    console.log(`warm-up platformStart (2 services, not measured): ${sec(warm.seconds)}${warm.ok ? '' : ` — NOT OK: ${warm.error}`}`);

    for (const shape of [wideShape(), deepShape()]) {
      const cp = criticalPath(graphNodes(shape), Object.fromEntries(shape.services.map((s) => [s.name, s.delay])));
      const r: ShapeResult = { shape, cp: cp.total, cpHops: cp.path.length, temporal: [], temporalErrors: [], pc: [], pcErrors: [], dockerTemporal: [], dockerTemporalErrors: [], compose: [], composeErrors: [] };
      results.push(r);
      console.log(`\n${shape.name}: ${shape.services.length} services, ${edgeCount(shape)} edges — ${shape.describe}; critical path ${cp.path.length} services, ${sec(cp.total)}`);
      for (let run = 1; run <= RUNS; run++) {
        const line: string[] = [];
        try {
          const t = await temporal.run(shape, `${shape.name}-${run}`);
          r.temporal.push(t);
          line.push(`platformStart ${sec(t.seconds)}${t.ok ? '' : ' NOT OK'}`);
          if (!t.ok) console.error(`  ERROR: platformStart result not ok: ${t.error}`);
        } catch (err) {
          r.temporalErrors.push(message(err));
          line.push(`platformStart FAILED: ${message(err)}`);
        }
        if (pc.available) {
          try {
            const seconds = await runProcessCompose(pc, shape);
            r.pc.push(seconds);
            line.push(`process-compose ${sec(seconds)}`);
          } catch (err) {
            r.pcErrors.push(message(err));
            line.push(`process-compose FAILED: ${message(err)}`);
          }
        }
        console.log(`  run ${run}/${RUNS}: ${line.join(', ')}`);
      }
      if (compose.available) await dockerRuns(temporal, compose, r);
      try {
        r.sequential = await runSequential(shape);
        console.log(`  sequential (1 run): ${sec(r.sequential)}`);
      } catch (err) {
        r.sequentialError = message(err);
        console.log(`  sequential FAILED: ${r.sequentialError}`);
      }
    }
  } finally {
    await temporal.close();
  }
  report(results, pc.available ? `process-compose ${pc.version}` : undefined);
  reportDocker(results, compose);
  console.log(`\ntotal benchmark time ${((performance.now() - began) / 1000).toFixed(0)} s; every run's processes were killed and checked gone.`);
}

/** RUNS interleaved pairs of the shape in docker mode: platformStart, then docker-compose. */
async function dockerRuns(temporal: Awaited<ReturnType<typeof startTemporal>>, compose: Extract<Compose, { available: true }>, r: ShapeResult): Promise<void> {
  for (let run = 1; run <= RUNS; run++) {
    const line: string[] = [];
    try {
      const t = await temporal.run(r.shape, `${r.shape.name}-docker-${run}`, 'docker');
      if (t.ok) r.dockerTemporal.push(t.seconds);
      else r.dockerTemporalErrors.push(t.error ?? 'not ok');
      line.push(`platformStart (docker) ${sec(t.seconds)}${t.ok ? '' : ` NOT OK: ${t.error}`}`);
    } catch (err) {
      r.dockerTemporalErrors.push(message(err));
      line.push(`platformStart (docker) FAILED: ${message(err)}`);
    }
    try {
      const seconds = await runCompose(compose, r.shape, `pcbench-${r.shape.name}-${run}-${process.pid}`);
      r.compose.push(seconds);
      line.push(`docker-compose ${sec(seconds)}`);
    } catch (err) {
      r.composeErrors.push(message(err));
      line.push(`docker-compose FAILED: ${message(err)}`);
    }
    console.log(`  docker run ${run}/${RUNS}: ${line.join(', ')}`);
  }
}

function reportDocker(results: ShapeResult[], compose: Compose): void {
  console.log(`\nthe same graphs as containers of the local base image (docker mode), medians of ${RUNS} runs:\n`);
  if (!compose.available) {
    console.log(`  not measured: ${compose.reason}`);
    return;
  }
  const rows = results.map((r) => {
    const ps = median(r.dockerTemporal);
    const dc = median(r.compose);
    return [r.shape.name, `${sec(r.cp)} (${r.cpHops})`, sec(ps), times(ps / r.cp), sec(dc), times(dc / r.cp), r.dockerTemporal.length && r.compose.length ? times(ps / dc) : '—'];
  });
  console.log(renderTable(['shape', 'critical path (hops)', 'platformStart (docker)', '÷ cp', `docker-compose ${compose.version}`, '÷ cp', 'pS ÷ compose'], rows));
  console.log('faster than docker-compose (target):');
  for (const r of results) {
    const ps = median(r.dockerTemporal);
    const dc = median(r.compose);
    const verdict = r.compose.length === 0 ? `not measured (${r.composeErrors[0] ?? 'no run'})` : r.dockerTemporal.length === 0 ? `no successful platformStart (${r.dockerTemporalErrors[0] ?? 'no run'})` : `${ps < dc ? 'yes' : 'NO'} (${sec(ps)} vs ${sec(dc)})`;
    console.log(`  ${r.shape.name}: ${verdict}`);
  }
  console.log(
    `  note: compose's healthcheck is an exec of busybox wget in the container every ${COMPOSE_HEALTH_INTERVAL}, and \`depends_on: service_healthy\` starts a dependent once the engine reports the check passed;` +
      ' platformStart probes the published port over http from the worker (25 ms after the start, then a tenth of the time waited).',
  );
  const list = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(', ') || '—';
  for (const r of results) console.log(`  ${r.shape.name}: platformStart (docker) [${list(r.dockerTemporal)}]; docker-compose [${list(r.compose)}]${r.composeErrors.length ? ` errors: ${r.composeErrors.join('; ')}` : ''}`);
}

function report(results: ShapeResult[], pcName: string | undefined): void {
  const rows = results.map((r) => {
    const ps = median(r.temporal.filter((t) => t.ok).map((t) => t.seconds));
    const pcs = median(r.pc);
    return [
      r.shape.name,
      String(r.shape.services.length),
      String(edgeCount(r.shape)),
      `${sec(r.cp)} (${r.cpHops})`,
      sec(ps),
      times(ps / r.cp),
      `+${(ps - r.cp).toFixed(2)} s`,
      sec(r.sequential),
      r.sequential === undefined ? '—' : times(r.sequential / ps),
      pcName ? sec(pcs) : 'not measured',
      pcName && r.pc.length > 0 ? times(ps / pcs) : '—',
    ];
  });
  console.log(`\nmedians of ${RUNS} runs (platformStart, process-compose); sequential 1 run\n`);
  console.log(
    renderTable(['shape', 'services', 'edges', 'critical path (hops)', 'platformStart', '÷ cp', 'overhead', 'sequential', 'speed-up', 'process-compose', 'pS ÷ pc'], rows),
  );

  console.log(`\ntarget: within ${TARGET_FACTOR}x of the critical path plus at most ${TARGET_SLACK_S} s (platformStart <= ${TARGET_FACTOR} × cp + ${TARGET_SLACK_S} s)`);
  for (const r of results) {
    const ps = median(r.temporal.filter((t) => t.ok).map((t) => t.seconds));
    const limit = TARGET_FACTOR * r.cp + TARGET_SLACK_S;
    const verdict = Number.isNaN(ps) ? 'NOT MEASURED (no successful run)' : ps <= limit ? 'met' : 'NOT met';
    console.log(`  ${r.shape.name}: ${sec(ps)} vs ${TARGET_FACTOR} × ${r.cp.toFixed(2)} + ${TARGET_SLACK_S} = ${sec(limit)} — ${verdict}`);
  }
  console.log('faster than process-compose:');
  for (const r of results) {
    const ps = median(r.temporal.filter((t) => t.ok).map((t) => t.seconds));
    const pcs = median(r.pc);
    const verdict = !pcName ? 'not measured (no process-compose binary)' : r.pc.length === 0 ? `not measured (${r.pcErrors[0] ?? 'no run'})` : `${ps < pcs ? 'yes' : 'no'} (${sec(ps)} vs ${sec(pcs)})`;
    console.log(`  ${r.shape.name}: ${verdict}`);
  }
  if (pcName) {
    console.log(
      `  note: ${pcName}'s readiness probe period is an integer number of seconds (1 s minimum) and runs a process (busybox nc);` +
        ` platformStart and the sequential loop probe in-process after 25 ms, then every tenth of the time waited, up to ${HEALTH_INTERVAL_S * 1000} ms.`,
    );
  }

  console.log(`\nwhere platformStart's time goes (its median run, from the per-service timestamps of the workflow result):`);
  console.log(`  probes after a spawn at ${probeSchedule().map((ms) => `${ms}`).join(', ')} ms… (a tenth of the time waited, 25 ms to ${HEALTH_INTERVAL_S * 1000} ms)`);
  for (const r of results) {
    const ok = r.temporal.filter((t) => t.ok);
    const m = ok.find((t) => t.seconds === median(ok.map((x) => x.seconds)));
    if (!m) continue;
    const b = m.breakdown;
    const ms = (x: number) => `${x.toFixed(0)} ms`;
    console.log(
      `  ${r.shape.name}: submission → first spawn ${ms(b.preflightMs)} (workflow start, pre-flight); per service, means: ` +
        `dependency healthy → dependent spawned ${ms(b.dispatchGapMs)} (startService itself takes ${ms(b.startServiceMs)}), ` +
        `spawn → healthy beyond the delay ${ms(b.detectLagMs)}; last healthy → result ${ms(b.tailMs)}`,
    );
    console.log(
      `  ${' '.repeat(r.shape.name.length)}  along the critical path's ${r.cpHops} services: gaps ${ms(b.cpGapMs)} + detection lags ${ms(b.cpLagMs)}` +
        `; + pre-flight + tail = ${((b.preflightMs + b.cpGapMs + b.cpLagMs + b.tailMs) / 1000).toFixed(2)} s, against ${(m.seconds - r.cp).toFixed(2)} s of overhead measured`,
    );
  }
  console.log('\nall runs (s):');
  for (const r of results) {
    const list = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(', ') || '—';
    console.log(
      `  ${r.shape.name}: platformStart [${list(r.temporal.map((t) => t.seconds))}]${r.temporalErrors.length ? ` errors: ${r.temporalErrors.join('; ')}` : ''}` +
        `${pcName ? `; process-compose [${list(r.pc)}]${r.pcErrors.length ? ` errors: ${r.pcErrors.join('; ')}` : ''}` : ''}; sequential [${list(r.sequential === undefined ? [] : [r.sequential])}]`,
    );
  }
}

try {
  await main();
} catch (err) {
  console.error(`benchmark failed: ${(err as Error).stack ?? String(err)}`);
  process.exitCode = 1;
}
