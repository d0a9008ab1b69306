/**
 * Benchmark of platformStart and platformStop at scale: 501 services (a root and 2 levels of
 * 250, each on 1-3 of the level before), every one a real busybox process,
 * `sh -c "sleep D; exec httpd -f -p 127.0.0.1:PORT -h ."` with D seeded in 0.2-0.6 s, healthy
 * when its TCP port answers — the platform-start benchmark's services, ten times as many.
 *
 * For each of 3 runs, in one run of this command:
 *   platformStart   client.workflow.execute(platformStart) from submission to result, then
 *   platformStop    the same for platformStop of every service, on one dev server (started once)
 *                   with an in-process worker made by the project's createWorker (production
 *                   slots and pollers), after a small warm-up start that is not measured.
 *   script          the floor: a plain script here (bench/lib/eager.ts) that starts the same graph
 *                   eagerly with the same probe back-off, then stops it dependents first.
 * Targets (issue 16): start within 1.2 × critical path + 2 s; stop within 2 s (its critical
 * path is 0: nothing waits on a stop); every workflow's history under 10,000 events.
 * Also printed, from each run's history: where the start's time went on Temporal's side — the
 * workflow tasks' total time (one at a time per run, so they are a floor of their own), the
 * activities' schedule-to-start latency, and the dev server's CPU during the start.
 *
 * Run: npm run bench:platform-scale   (or: npx tsx bench/platform-scale.ts)
 * Needs /bin/busybox and a Temporal CLI (as for the tests); about 2 minutes on 2 cores. The
 * times are wall-clock: run it on an otherwise idle machine.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import type { temporal } from '@temporalio/proto';
import { renderTable } from '../src/client/render/table.js';
import { criticalPath } from '../src/graph/index.js';
import { platformStart, platformStop } from '../src/workflows/index.js';
import { benchRegistry, BUSYBOX, edgeCount, graphNodes, wideShape } from './lib/dag.js';
import { runEagerScript, type EagerRun } from './lib/eager.js';
import { startBenchTemporal } from './lib/harness.js';
import { allocatePorts, onInterrupt, withHome } from './lib/procs.js';

const RUNS = 3;
const START_FACTOR = 1.2;
const SLACK_S = 2;
const EVENT_LIMIT = 10_000;

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

interface TemporalScaleRun {
  startSeconds: number;
  stopSeconds: number;
  ok: boolean;
  startEvents: number;
  stopEvents: number;
  /** Sum of the start's workflow tasks, started → completed. */
  workflowTaskSeconds: number;
  workflowTasks: number;
  /** The start's activities, scheduled → started, in ms. */
  scheduleToStart: number[];
  /** The dev server's CPU seconds during the start. */
  serverCpuSeconds?: number;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.floor((s.length - 1) / 2)]!;
};
const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor(s.length * q))]!;
};
const sec = (x: number) => (Number.isNaN(x) ? '—' : `${x.toFixed(2)} s`);
const millis = (e: HistoryEvent) => Number(e.eventTime?.seconds ?? 0) * 1000 + Math.floor((e.eventTime?.nanos ?? 0) / 1e6);

/** CPU seconds (user + system) of a process so far, from /proc; undefined off Linux or when it is gone. */
function cpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const raw = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = raw.slice(raw.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

function historyFigures(events: HistoryEvent[]): Pick<TemporalScaleRun, 'workflowTaskSeconds' | 'workflowTasks' | 'scheduleToStart'> {
  const at = new Map(events.map((e) => [Number(e.eventId), millis(e)]));
  let workflowTaskMs = 0;
  let workflowTasks = 0;
  const scheduleToStart: number[] = [];
  for (const e of events) {
    if (e.workflowTaskCompletedEventAttributes) {
      workflowTaskMs += millis(e) - at.get(Number(e.workflowTaskCompletedEventAttributes.startedEventId))!;
      workflowTasks++;
    }
    if (e.activityTaskStartedEventAttributes) scheduleToStart.push(millis(e) - at.get(Number(e.activityTaskStartedEventAttributes.scheduledEventId))!);
  }
  return { workflowTaskSeconds: workflowTaskMs / 1000, workflowTasks, scheduleToStart };
}

async function main(): Promise<void> {
  onInterrupt();
  const began = performance.now();
  if (!existsSync(BUSYBOX)) throw new Error(`${BUSYBOX} is missing (apt-get install busybox-static)`);
  const shape = { ...wideShape(3, 2, 250), name: 'scale' };
  const cp = criticalPath(graphNodes(shape), Object.fromEntries(shape.services.map((s) => [s.name, s.delay])));
  console.log(`platform scale benchmark — Node ${process.version}, ${os.cpus().length} cores`);
  console.log(`${shape.name}: ${shape.services.length} services, ${edgeCount(shape)} edges — ${shape.describe}; critical path ${cp.path.length} services, ${sec(cp.total)}\n`);

  const t = await startBenchTemporal('platform-scale');
  console.log(`Temporal: dev server ${t.server.address}, bundle and worker ready in ${t.setupSeconds.toFixed(1)} s`);
  const serverPid = t.server.pid;
  const temporalRuns: TemporalScaleRun[] = [];
  const scripts: EagerRun[] = [];
  try {
    const warm = { name: 'warmup', describe: 'warm-up', services: [{ name: 'warm-a', dependencies: [], delay: 0.1 }, { name: 'warm-b', dependencies: ['warm-a'], delay: 0.1 }] };
    await withHome('scale-warmup', async (home) => {
      const registry = benchRegistry(warm, home, await allocatePorts(warm));
      const input = { registry, home, services: ['warm-a', 'warm-b'] };
      await t.client.workflow.execute(platformStart, { taskQueue: t.taskQueue, workflowId: `warm-${randomUUID().slice(0, 8)}`, args: [input] });
      await t.client.workflow.execute(platformStop, { taskQueue: t.taskQueue, workflowId: `warm-stop-${randomUUID().slice(0, 8)}`, args: [input] });
    });
    for (let run = 1; run <= RUNS; run++) {
      const r = await withHome(`scale-temporal`, async (home): Promise<TemporalScaleRun> => {
        const registry = benchRegistry(shape, home, await allocatePorts(shape));
        const services = shape.services.map((s) => s.name);
        const id = `scale-${run}-${randomUUID().slice(0, 8)}`;
        const cpu0 = cpuSeconds(serverPid);
        const t0 = performance.now();
        const started = await t.client.workflow.execute(platformStart, { taskQueue: t.taskQueue, workflowId: id, workflowExecutionTimeout: '5 minutes', args: [{ registry, home, services }] });
        const startSeconds = (performance.now() - t0) / 1000;
        const cpu1 = cpuSeconds(serverPid);
        const t1 = performance.now();
        const stopped = await t.client.workflow.execute(platformStop, { taskQueue: t.taskQueue, workflowId: `${id}-stop`, workflowExecutionTimeout: '5 minutes', args: [{ registry, home }] });
        const stopSeconds = (performance.now() - t1) / 1000;
        const startHistory = (await t.client.workflow.getHandle(id).fetchHistory()).events ?? [];
        const stopHistory = (await t.client.workflow.getHandle(`${id}-stop`).fetchHistory()).events ?? [];
        return {
          startSeconds,
          stopSeconds,
          ok: started.ok && stopped.ok && stopped.services.filter((s) => s.state === 'stopped').length === services.length,
          startEvents: startHistory.length,
          stopEvents: stopHistory.length,
          ...historyFigures(startHistory),
          ...(cpu0 !== undefined && cpu1 !== undefined ? { serverCpuSeconds: cpu1 - cpu0 } : {}),
        };
      });
      temporalRuns.push(r);
      const s = await runEagerScript(shape);
      scripts.push(s);
      console.log(
        `  run ${run}/${RUNS}: platformStart ${sec(r.startSeconds)}, platformStop ${sec(r.stopSeconds)}${r.ok ? '' : ' NOT OK'} (${r.startEvents} + ${r.stopEvents} events); script start ${sec(s.startSeconds)}, stop ${sec(s.stopSeconds)}`,
      );
    }
  } finally {
    await t.close();
  }

  const ok = temporalRuns.filter((r) => r.ok);
  const start = median(ok.map((r) => r.startSeconds));
  const stop = median(ok.map((r) => r.stopSeconds));
  const scriptStart = median(scripts.map((s) => s.startSeconds));
  const scriptStop = median(scripts.map((s) => s.stopSeconds));
  console.log(`\nmedians of ${RUNS} runs\n`);
  console.log(
    renderTable(
      ['', 'critical path', 'platform (Temporal)', 'script (floor)', '÷ script', '÷ critical path', 'target', 'met'],
      [
        ['start', sec(cp.total), sec(start), sec(scriptStart), `${(start / scriptStart).toFixed(2)}×`, `${(start / cp.total).toFixed(2)}×`, `≤ ${sec(START_FACTOR * cp.total + SLACK_S)}`, start <= START_FACTOR * cp.total + SLACK_S ? 'yes' : 'NO'],
        ['stop', sec(0), sec(stop), sec(scriptStop), `${(stop / scriptStop).toFixed(2)}×`, '—', `≤ ${sec(SLACK_S)}`, stop <= SLACK_S ? 'yes' : 'NO'],
      ],
    ),
  );
  const maxEvents = Math.max(...temporalRuns.flatMap((r) => [r.startEvents, r.stopEvents]));
  console.log(`\nlargest history: ${maxEvents} events (limit ${EVENT_LIMIT}: ${maxEvents < EVENT_LIMIT ? 'under' : 'OVER'})`);
  const m = ok.find((r) => r.startSeconds === start);
  if (m) {
    console.log(`\nwhere the median start's ${sec(start)} went on Temporal's side:`);
    console.log(`  ${m.workflowTasks} workflow tasks, ${sec(m.workflowTaskSeconds)} in all from started to completed (a run's tasks go one at a time)`);
    console.log(`  ${m.scheduleToStart.length} activities, schedule → start median ${median(m.scheduleToStart).toFixed(0)} ms, p90 ${quantile(m.scheduleToStart, 0.9).toFixed(0)} ms, max ${Math.max(...m.scheduleToStart).toFixed(0)} ms`);
    if (m.serverCpuSeconds !== undefined) console.log(`  the dev server used ${m.serverCpuSeconds.toFixed(2)} s of CPU during it (${((100 * m.serverCpuSeconds) / m.startSeconds).toFixed(0)}% of one core)`);
  }
  console.log('\nall runs (s):');
  console.log(`  platformStart [${temporalRuns.map((r) => r.startSeconds.toFixed(2)).join(', ')}]; platformStop [${temporalRuns.map((r) => r.stopSeconds.toFixed(2)).join(', ')}]`);
  console.log(`  script start [${scripts.map((s) => s.startSeconds.toFixed(2)).join(', ')}]; script stop [${scripts.map((s) => s.stopSeconds.toFixed(2)).join(', ')}]`);
  console.log(`\ntotal benchmark time ${((performance.now() - began) / 1000).toFixed(0)} s; every run's processes were killed and checked gone.`);
  if (ok.length < temporalRuns.length) process.exitCode = 1;
}

try {
  await main();
} catch (err) {
  console.error(`benchmark failed: ${(err as Error).stack ?? String(err)}`);
  process.exitCode = 1;
}
