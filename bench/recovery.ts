/**
 * Recovery-time benchmark: what a user waits for after a crash. A platform start of the deep
 * graph (40 real busybox services, bench/lib/dag.ts) runs on a worker *process*
 * (`provisioning worker`, the built CLI); at a random point of the start the worker is killed
 * with SIGKILL, a new worker process is started at once, and the start completes on it.
 *
 * In one run of this command, on one dev server:
 *   unkilled   3 starts on one worker process, nothing killed: the median is the baseline D.
 *   killed     10 starts, each killed at a seeded random point between 10 % and 90 % of D;
 *              per run: the new worker's own start-up (spawn to "Worker polling"), the total
 *              time, and the extra time (total − D) beyond that start-up: what Temporal's
 *              recovery adds (timeouts that notice the dead worker, retries).
 * Every run gets a fresh home and ports; everything it started is killed and checked gone.
 *
 * Target (issue 16): median extra time beyond the worker's start-up under 2 s.
 * Run: npm run bench:recovery   (about 3 minutes; needs dist/, built by npm run setup or build)
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import { execa, type ResultPromise } from 'execa';
import { renderTable } from '../src/client/render/table.js';
import { criticalPath } from '../src/graph/index.js';
import type { platformStart } from '../src/workflows/index.js';
import { watchOutput } from '../src/util/process.js';
import { defaultWorkerIdentity, forgetWorker } from '../src/temporal/worker-registry.js';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { benchRegistry, BUSYBOX, deepShape, graphNodes } from './lib/dag.js';
import { startServer } from './lib/harness.js';
import { allocatePorts, onInterrupt, withHome, withInterruptCleanup } from './lib/procs.js';
import { mulberry32 } from './lib/random.js';

const UNKILLED = 3;
const KILLED = 10;
const TARGET_EXTRA_S = 2;
const root = path.resolve(import.meta.dirname, '..');
const bin = path.join(root, 'bin/provisioning.js');

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.floor((s.length - 1) / 2)]!;
};
const sec = (x: number) => `${x.toFixed(2)} s`;

interface Worker {
  child: ResultPromise;
  startupSeconds: number;
}

async function startWorker(address: string, taskQueue: string): Promise<Worker> {
  const t0 = performance.now();
  const child = execa('node', [bin, 'worker', '--address', address, '--task-queue', taskQueue, '--log-level', 'error'], { reject: false, all: true, env: { PROVISIONING_FROM_SOURCE: '' } });
  await watchOutput(child).until('Worker polling', 'provisioning worker', 60_000);
  return { child, startupSeconds: (performance.now() - t0) / 1000 };
}

/** Workers killed with SIGKILL: the next worker takes over from each and forgets its record; the end removes what is left. */
const killed: number[] = [];

async function stopWorker(worker: Worker, signal: NodeJS.Signals): Promise<void> {
  worker.child.kill(signal);
  await worker.child;
  if (signal === 'SIGKILL' && worker.child.pid !== undefined) killed.push(worker.child.pid);
}

async function main(): Promise<void> {
  onInterrupt();
  if (!existsSync(BUSYBOX)) throw new Error(`${BUSYBOX} is missing (apt-get install busybox-static)`);
  if (!existsSync(path.join(root, 'dist/cli/main.js'))) throw new Error('dist/ is missing: run npm run build (or npm run setup) first');
  const shape = deepShape();
  const cp = criticalPath(graphNodes(shape), Object.fromEntries(shape.services.map((s) => [s.name, s.delay])));
  console.log(`recovery benchmark — ${shape.name}: ${shape.services.length} services, critical path ${sec(cp.total)}; ${UNKILLED} unkilled and ${KILLED} killed starts\n`);

  const scratch = await mkdtemp(path.join(os.tmpdir(), 'provisioning-bench-recovery-'));
  const server = await startServer(path.join(scratch, 'temporal.log'));
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection, namespace: server.namespace });
  const taskQueue = `bench-recovery-${randomUUID().slice(0, 8)}`;
  const workers = new Set<Worker>();
  const killAll = async () => {
    for (const w of workers) await stopWorker(w, 'SIGKILL');
    workers.clear();
    // What is left of them in the machine's worker registry.
    await Promise.all(killed.map((pid) => forgetWorker(defaultWorkerIdentity(pid), pid)));
  };

  const start = (label: string, onSubmitted: (t0: number) => void) =>
    withHome(`recovery-${label}`, async (home) => {
      const registry = benchRegistry(shape, home, await allocatePorts(shape));
      const t0 = performance.now();
      const handle = await client.workflow.start<typeof platformStart>('platformStart', {
        taskQueue,
        workflowId: `bench-recovery-${label}-${randomUUID().slice(0, 8)}`,
        workflowExecutionTimeout: '5 minutes',
        args: [{ registry, home, services: shape.services.map((s) => s.name) }],
      });
      onSubmitted(t0);
      const result = await handle.result();
      const seconds = (performance.now() - t0) / 1000;
      if (!result.ok) throw new Error(`${label}: the start did not succeed: ${result.services.filter((s) => s.state !== 'started').map((s) => `${s.name} ${s.state}`).slice(0, 3).join(', ')}`);
      // What the history says the recovery waited for: a workflow task the dead worker had begun ends only at its timeout.
      const { events } = await handle.fetchHistory();
      const timedOut = (events ?? []).filter((e) => e.workflowTaskTimedOutEventAttributes?.timeoutType === proto.temporal.api.enums.v1.TimeoutType.TIMEOUT_TYPE_START_TO_CLOSE).length;
      return { seconds, timedOut };
    });

  const rows: string[][] = [];
  const extras: number[] = [];
  try {
    await withInterruptCleanup(killAll, async () => {
      // Baseline: one worker, nothing killed (a warm-up first, not measured).
      const steady = await startWorker(server.address, taskQueue);
      workers.add(steady);
      await start('warmup', () => undefined);
      const base: number[] = [];
      for (let i = 1; i <= UNKILLED; i++) base.push((await start(`unkilled-${i}`, () => undefined)).seconds);
      const d = median(base);
      console.log(`unkilled: ${base.map(sec).join(', ')} — median D = ${sec(d)}`);
      await stopWorker(steady, 'SIGTERM');
      workers.delete(steady);

      const random = mulberry32(16);
      for (let i = 1; i <= KILLED; i++) {
        const killAt = (0.1 + random() * 0.8) * d;
        let first: Worker | undefined = await startWorker(server.address, taskQueue);
        workers.add(first);
        let second: Worker | undefined;
        const recovered = new Promise<void>((resolve, reject) => {
          void start(`killed-${i}`, (t0) => {
            setTimeout(() => {
              void (async () => {
                const dying = first!;
                await stopWorker(dying, 'SIGKILL');
                workers.delete(dying);
                first = undefined;
                second = await startWorker(server.address, taskQueue);
                workers.add(second);
              })().catch(reject);
            }, Math.max(0, killAt * 1000 - (performance.now() - t0)));
          }).then(({ seconds: total, timedOut }) => {
            const startup = second?.startupSeconds ?? NaN;
            const extra = total - d;
            extras.push(extra - startup);
            const note = timedOut ? `${timedOut} workflow task begun by the dead worker timed out (10 s)` : '';
            rows.push([String(i), sec(killAt), sec(startup), sec(total), sec(extra), sec(extra - startup), note]);
            console.log(`  killed run ${i}/${KILLED}: killed at ${sec(killAt)}, new worker up in ${sec(startup)}, done after ${sec(total)} (+${sec(extra)}; ${sec(extra - startup)} beyond the start-up)${note ? `; ${note}` : ''}`);
            resolve();
          }, reject);
        });
        await recovered;
        await killAll();
      }
      console.log('');
      console.log(renderTable(['run', 'killed at', 'new worker start-up', 'total', 'extra (total − D)', 'extra beyond start-up', 'history'], rows));
      const m = median(extras);
      console.log(`\nD (unkilled median) ${sec(d)}; killed starts: median extra beyond the new worker's start-up ${sec(m)}, max ${sec(Math.max(...extras))}`);
      console.log(`target: median extra beyond start-up under ${TARGET_EXTRA_S} s — ${m < TARGET_EXTRA_S ? 'met' : `NOT met (by ${sec(m - TARGET_EXTRA_S)})`}`);
    });
  } finally {
    await killAll();
    await connection.close();
    await server.stop();
    await rm(scratch, { recursive: true, force: true });
  }
}

await main();
