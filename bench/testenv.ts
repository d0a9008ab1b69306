/**
 * Benchmark of test environments (the testEnvironment workflow).
 *
 * 1. A 3-node cluster (the shipped web_3node template: lb-01 control plane with webserver and
 *    webclient, web-01 and web-02 with webserver, 500 millicores / 64 MB each, on the local
 *    busybox image): create, install, run the tests, clean up. Three ways:
 *      - ours: testEnvironment with auto_cleanup through Temporal: start, `run` update at once
 *        (it waits for ready), result after removal;
 *      - a bash script with the docker CLI (network create, docker run, one docker exec per
 *        install/check/test step, same order and parallelism, docker rm -f, network rm);
 *      - testcontainers-node (GenericContainer + Network, Ryuk reaper off, one exec per step).
 *    Same names, hostnames, aliases, limits, labels, scripts, environment and order for all
 *    three; each is split into the same phases (network, containers, install, run, cleanup):
 *    ours from its workflow history, the script from $EPOCHREALTIME marks, testcontainers
 *    from timestamps in this process. Warm-up once each, then 3 rounds (the order of the
 *    methods rotates per round, fresh ids every time); medians.
 * 2. 20 single-taskserv `test quick webserver` environments at once (auto_cleanup): through
 *    the CLI in-process (runCli) when this checkout has the command, else the workflow API;
 *    against 20 background subshells of the docker CLI doing the same. Total wall time,
 *    per-environment median and p95, throughput.
 *
 * One dev server and one in-process worker (the project's createWorker) for everything.
 * Everything made is labelled provisioning.managed=true and provisioning.testenv=<bench id>
 * (testcontainers' networks are found by name) and removed at the end, on failure and on
 * Ctrl-C too; the end checks with `docker ps -a` / `docker network ls` that nothing is left.
 *
 * Run: npm run bench:testenv   (or: npx tsx bench/testenv.ts)
 * Needs Docker, /bin/busybox (static, for the base image) and a Temporal CLI (as for the
 * tests); PROVISIONING_CATALOG picks another taskserv catalog. About 1.5 minutes on 2 cores.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { EnvironmentPlan } from '../src/config/testenv-schema.js';
import { ensureBaseImage } from '../src/docker/base-image.js';
import { dockerClient } from '../src/docker/client.js';
import { removeIdlePoolNetworks } from '../src/activities/testenv/netpool.js';
import { loadQuickCli } from './lib/testenv-cli.js';
import {
  BENCH_PREFIX,
  benchCatalog,
  clusterRequest,
  freshId,
  leftovers,
  median,
  medianBreakdown,
  PHASES,
  percentile,
  planFor,
  QUICK_TASKSERV,
  quickRequest,
  removeBenchResources,
  TEMPLATE,
  type Breakdown,
  type MethodRun,
} from './lib/testenv-common.js';
import { runClusterScript, runQuickScript } from './lib/testenv-script.js';
import { runClusterTestcontainers } from './lib/testenv-tc.js';
import { startHarness, type QuickRun, type TemporalRun } from './lib/testenv-temporal.js';

const RUNS = 3;
const QUICK = 20;
const QUICK_ROUNDS = 2;
const TARGET_SCRIPT = 1.25;
const TARGET_TC = 1.0;
/** Issue 16: 20 `test quick` at once, at least this times the docker CLI script's throughput. */
const TARGET_QUICK_THROUGHPUT = 1.5;
/** Width of a phase column. */
const COL = 11;
const LABEL_W = 40;

type Method = 'ours' | 'script' | 'tc';
const LABEL: Record<Method, string> = {
  ours: 'ours (testEnvironment workflow)',
  script: 'docker CLI script (bash)',
  tc: 'testcontainers-node',
};

const ms = (x: number) => (Number.isFinite(x) ? x.toFixed(0) : '-').padStart(COL);
const head = (names: readonly string[]) => names.map((n) => n.padStart(COL)).join('');
const sec = (x: number) => (Number.isFinite(x) ? `${x.toFixed(2)} s` : 'not measured');

async function testcontainersVersion(): Promise<string> {
  const pkg = JSON.parse(await readFile(path.resolve(import.meta.dirname, '../node_modules/testcontainers/package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

function describePlan(plan: EnvironmentPlan): string {
  return plan.nodes.map((n) => `${n.name} (${n.role}: ${n.order.join(' -> ')})`).join(', ');
}

function breakdownRow(label: string, b: Breakdown): string {
  return `  ${label.padEnd(LABEL_W)}${PHASES.map((p) => ms(b[p])).join('')}${ms(b.other)}`;
}

async function main(): Promise<void> {
  const began = performance.now();
  const docker = dockerClient();
  const [{ built }, engine, catalog, request, tcVersion] = await Promise.all([ensureBaseImage(docker), docker.version(), benchCatalog(), clusterRequest(), testcontainersVersion()]);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'provisioning-bench-testenv-'));
  // The worker runs in this process: its environments borrow from a pool of the bench's own, which the end removes.
  process.env.PROVISIONING_TESTENV_NETPOOL_NAME = `bench-${BENCH_PREFIX}`;
  const harness = await startHarness();
  let closed = false;
  const closeAll = async () => {
    if (closed) return;
    closed = true;
    await harness.close();
    const removed = await removeBenchResources();
    if (removed.containers + removed.networks > 0) console.log(`clean-up: removed ${removed.containers} containers and ${removed.networks} networks a failed run left behind`);
    const pooled = await removeIdlePoolNetworks();
    if (pooled > 0) console.log(`clean-up: removed the ${pooled} networks of the bench's network pool`);
    await rm(dir, { recursive: true, force: true });
  };
  const onSignal = (signal: NodeJS.Signals) => {
    console.error(`\n${signal}: removing everything of ${BENCH_PREFIX}…`);
    void closeAll().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    const sample = planFor(freshId('plan'), request, catalog);
    console.log(`test environment benchmark (${BENCH_PREFIX}): Node ${process.version}, ${os.cpus().length} cores, Docker ${engine.Version}, testcontainers ${tcVersion}`);
    console.log(`  cluster: template ${TEMPLATE}: ${describePlan(sample)}; ${sample.nodes[0]!.resources.cpu_millicores} millicores / ${sample.nodes[0]!.resources.memory_mb} MB each, image ${sample.nodes[0]!.image}${built ? ' (built now)' : ''}`);
    console.log(`  catalog: ${catalog.dir}`);
    console.log(`  Temporal: dev server ${harness.address}, bundle and worker ready in ${harness.setupSeconds.toFixed(1)} s`);

    const cluster: Record<Method, (plan: EnvironmentPlan) => Promise<MethodRun>> = {
      ours: (plan) => harness.runCluster(plan),
      script: (plan) => runClusterScript(plan, dir),
      tc: (plan) => runClusterTestcontainers(plan),
    };
    const ids: Record<Method, string> = { ours: 'tp', script: 'sh', tc: 'tc' };
    const failures: Record<Method, string[]> = { ours: [], script: [], tc: [] };
    const runs: Record<Method, MethodRun[]> = { ours: [], script: [], tc: [] };
    const attempt = async (m: Method): Promise<MethodRun | undefined> => {
      try {
        return await cluster[m](planFor(freshId(ids[m]), request, catalog));
      } catch (err) {
        failures[m].push((err as Error).message);
        console.error(`  ${LABEL[m]} failed: ${(err as Error).message}`);
        return undefined;
      }
    };

    const warm = performance.now();
    const warmups = [];
    for (const m of ['ours', 'script', 'tc'] as const) warmups.push(`${m} ${sec((await attempt(m))?.seconds ?? NaN)}`);
    console.log(`  warm-up (not counted): ${warmups.join(', ')} in ${((performance.now() - warm) / 1000).toFixed(1)} s\n`);
    for (const m of ['ours', 'script', 'tc'] as const) failures[m].length = 0;

    const order: Method[] = ['ours', 'script', 'tc'];
    for (let round = 0; round < RUNS; round++) {
      const rotated = [...order.slice(round % order.length), ...order.slice(0, round % order.length)];
      const line: string[] = [];
      for (const m of rotated) {
        const r = await attempt(m);
        if (r) runs[m].push(r);
        line.push(`${m} ${sec(r?.seconds ?? NaN)}`);
      }
      console.log(`run ${round + 1}/${RUNS}: ${line.join(', ')}`);
    }

    const wall = (m: Method) => median(runs[m].map((r) => r.seconds));
    const ours = wall('ours');
    console.log(`\n3-node cluster (create, install, run, cleanup), medians of ${RUNS} runs:`);
    console.log(`  ${'method'.padEnd(LABEL_W)}${'wall'.padStart(12)}  ${'vs ours'.padStart(8)}  docker execs`);
    for (const m of ['ours', 'script', 'tc'] as const) {
      const execs = runs[m][0]?.execs ?? NaN;
      const note = m === 'ours' ? `${execs} (one per node to install, one per node to test)` : `${execs} (one per install, check and test step)`;
      console.log(`  ${(m === 'tc' ? `${LABEL.tc} ${tcVersion}` : LABEL[m]).padEnd(LABEL_W)}${sec(wall(m)).padStart(12)}  ${(runs[m].length ? `${(wall(m) / ours).toFixed(2)}x` : '-').padStart(8)}  ${runs[m].length ? note : `not measured: ${failures[m][0] ?? 'no runs'}`}`);
    }
    const vsScript = ours / wall('script');
    const vsTc = ours / wall('tc');
    console.log(`  ours / docker CLI = ${Number.isFinite(vsScript) ? vsScript.toFixed(2) : 'not measured'} (target <= ${TARGET_SCRIPT}: ${vsScript <= TARGET_SCRIPT ? 'met' : 'NOT met'})`);
    console.log(`  ours / testcontainers = ${Number.isFinite(vsTc) ? vsTc.toFixed(2) : 'not measured'} (target <= ${TARGET_TC}: ${vsTc <= TARGET_TC ? 'met' : 'NOT met'})`);

    console.log(`\nwhere the time goes (medians, ms; a phase runs from the end of the previous one to its own end):`);
    console.log(`  ${''.padEnd(LABEL_W)}${head([...PHASES, 'other'])}`);
    for (const m of ['ours', 'script', 'tc'] as const) if (runs[m].length) console.log(breakdownRow(LABEL[m], medianBreakdown(runs[m].map((r) => r.breakdown))));
    const oursRuns = runs.ours as TemporalRun[];
    if (oursRuns.length) {
      const busy = medianBreakdown(oursRuns.map((r) => r.busy));
      const gap = medianBreakdown(oursRuns.map((r) => Object.fromEntries(Object.entries(r.breakdown).map(([k, v]) => [k, v - r.busy[k as keyof Breakdown]])) as Breakdown));
      console.log(breakdownRow('  ours: inside activities', busy));
      console.log(breakdownRow('  ours: around them (dispatch, WFTs)', gap));
      console.log(`  ("other": the script's bash start and exit, or ours from removeEnvironment done to the result in the client's hand)`);
      const typical = [...oursRuns].sort((a, b) => a.seconds - b.seconds)[Math.floor(oursRuns.length / 2)]!;
      console.log(`\n  ours, the median run (${typical.seconds.toFixed(2)} s, ${typical.events} history events, ${typical.workflowTasks} workflow tasks), ms after the start call:`);
      console.log(`    workflow started at ${ms(typical.workflowStarted - typical.submitted).trim()}`);
      for (const s of typical.spans) console.log(`    ${s.type.padEnd(18)} ${s.summary.padEnd(52)} scheduled ${ms(s.scheduled - typical.submitted).trim().padStart(5)}  done ${ms(s.completed - typical.submitted).trim().padStart(5)}  (${ms(s.completed - s.started).trim()} ms)`);
      console.log(`    workflow completed at ${ms(typical.workflowCompleted - typical.submitted).trim()}, result in hand at ${ms(typical.finished - typical.submitted).trim()}`);
    }

    // 20 single-taskserv environments at once.
    const cli = await loadQuickCli(harness.address, harness.namespace, harness.taskQueue);
    type QuickPath = 'cli' | 'api' | 'script';
    const paths: QuickPath[] = 'unavailable' in cli ? ['api', 'script'] : ['cli', 'api', 'script'];
    const QLABEL: Record<QuickPath, string> = { cli: 'ours, `test quick --json` (runCli)', api: 'ours, workflow API', script: 'docker CLI, 20 subshells' };
    console.log(`\n${QUICK} single-taskserv environments (${QUICK_TASKSERV}, auto_cleanup) at once, ${QUICK_ROUNDS} rounds per way (order rotates):`);
    if ('unavailable' in cli) console.log(`  ours through the workflow API only (start, run update, result): ${cli.unavailable}`);
    else console.log('  ours through the CLI in this process (runCli, each invocation with its own plan, preflight and connection), and through the workflow API');
    const quick: Record<QuickPath, QuickRun[]> = { cli: [], api: [], script: [] };
    const scriptPhases: Breakdown[] = [];
    const runQuick = async (p: QuickPath): Promise<QuickRun> => {
      if (p === 'api') return harness.runQuick(Array.from({ length: QUICK }, () => planFor(freshId('qa'), quickRequest, catalog)));
      if (p === 'cli' && !('unavailable' in cli)) return cli.run(Array.from({ length: QUICK }, () => freshId('qc')), QUICK_TASKSERV);
      try {
        const r = await runQuickScript(Array.from({ length: QUICK }, () => planFor(freshId('qs'), quickRequest, catalog)), dir);
        scriptPhases.push(...r.breakdowns);
        return { seconds: r.seconds, latencies: r.latencies, passed: r.latencies.length, failures: [], envs: [] };
      } catch (err) {
        return { seconds: NaN, latencies: [], passed: 0, failures: [(err as Error).message], envs: [] };
      }
    };
    // A first burst finds the pool of environment networks empty and fills it: measured, not counted in the medians.
    const coldPath: QuickPath = 'unavailable' in cli ? 'api' : 'cli';
    const cold = await runQuick(coldPath);
    console.log(`  round 0 (the network pool empty, not counted): ${coldPath} ${sec(cold.seconds)} (${cold.passed}/${QUICK} passed)`);
    for (let round = 0; round < QUICK_ROUNDS; round++) {
      const line: string[] = [];
      for (const p of [...paths.slice(round % paths.length), ...paths.slice(0, round % paths.length)]) {
        const r = await runQuick(p);
        quick[p].push(r);
        line.push(`${p} ${sec(r.seconds)} (${r.passed}/${QUICK} passed)`);
        for (const f of r.failures.slice(0, 3)) console.error(`  ${p}: ${f}`);
      }
      console.log(`  round ${round + 1}/${QUICK_ROUNDS}: ${line.join(', ')}`);
    }
    const totals = Object.fromEntries(paths.map((p) => [p, median(quick[p].map((r) => r.seconds))])) as Record<QuickPath, number>;
    console.log(`  ${'way'.padEnd(LABEL_W)}${'total'.padStart(9)}  ${'per env median'.padStart(14)}  ${'p95'.padStart(7)}  throughput`);
    for (const p of paths) {
      const lat = quick[p].flatMap((r) => r.latencies);
      console.log(`  ${QLABEL[p].padEnd(LABEL_W)}${sec(totals[p]).padStart(9)}  ${sec(median(lat)).padStart(14)}  ${sec(percentile(lat, 95)).padStart(7)}  ${((QUICK / totals[p]) * 60).toFixed(0)} environments/min`);
    }
    const oursQuick: QuickPath = 'unavailable' in cli ? 'api' : 'cli';
    console.log(`  ${oursQuick === 'cli' ? 'test quick' : 'ours'} / docker CLI = ${(totals[oursQuick] / totals.script).toFixed(2)} (medians of the totals; latencies pooled over the rounds)`);
    if (oursQuick === 'cli') console.log(`  test quick CLI / workflow API = ${(totals.cli / totals.api).toFixed(2)}`);
    console.log(`  throughput against the docker CLI script (target >= ${TARGET_QUICK_THROUGHPUT}x): ${(totals.script / totals[oursQuick]).toFixed(2)}x with the network pool filled, ${(totals.script / cold.seconds).toFixed(2)}x for the first burst (pool empty)`);

    console.log(`\n  per-environment phases under this load (medians over all environments, ms; ours from their histories):`);
    console.log(`  ${''.padEnd(LABEL_W)}${head(['submit', ...PHASES, 'other'])}   around activities`);
    for (const p of paths) {
      if (p === 'script') {
        if (scriptPhases.length) console.log(`  ${QLABEL.script.padEnd(LABEL_W)}${ms(NaN)}${PHASES.map((ph) => ms(median(scriptPhases.map((b) => b[ph])))).join('')}${ms(NaN)}`);
        continue;
      }
      const histories = await Promise.all(quick[p].flatMap((r) => r.envs).map((e) => harness.historyOf(e)));
      if (histories.length === 0) continue;
      const b = medianBreakdown(histories.map((h) => h.breakdown));
      const around = median(histories.map((h) => Object.keys(h.breakdown).reduce((sum, k) => sum + h.breakdown[k as keyof Breakdown] - h.busy[k as keyof Breakdown], 0)));
      const submit = median(histories.map((h) => h.workflowStarted - h.submitted));
      console.log(`  ${QLABEL[p].padEnd(LABEL_W)}${ms(submit)}${PHASES.map((ph) => ms(b[ph])).join('')}${ms(b.other)}   ${ms(around).trim()} ms`);
    }
    console.log('  (submit: call to WorkflowExecutionStarted, inside "network"; around activities: the phases minus time inside activities, summed)');

    await closeAll();
    const left = await leftovers();
    console.log(`\nclean-up: ${left.length === 0 ? `nothing of ${BENCH_PREFIX} is left (docker ps -a / docker network ls by label and name)` : `LEFT BEHIND: ${left.join(', ')}`}; worker and dev server stopped; total ${((performance.now() - began) / 1000).toFixed(0)} s`);
    if (left.length > 0) process.exitCode = 1;
  } finally {
    await closeAll();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}

await main();
