/**
 * platformStart through Temporal for the benchmark: one dev server (headless, in memory, free
 * port), one workflow bundle and one in-process worker on a unique task queue for the whole
 * benchmark; each measured run times client.workflow.execute from submission to result.
 */
import { randomUUID } from 'node:crypto';
import { criticalPath } from '../../src/graph/index.js';
import { platformStart } from '../../src/workflows/index.js';
import type { Registry } from '../../src/config/registry-schema.js';
import type { PlatformResult } from '../../src/model/platform.js';
import { dockerRegistry, removeHomeContainers } from './compose-peer.js';
import { benchRegistry, graphNodes, type Shape } from './dag.js';
import { startBenchTemporal } from './harness.js';
import { allocatePorts, withHome, withInterruptCleanup } from './procs.js';

export interface TemporalRun {
  seconds: number;
  ok: boolean;
  error?: string;
  /** Where the time went, from the result's per-service timestamps (epoch ms). */
  breakdown: Breakdown;
}

export interface Breakdown {
  /** Submission to the first service's spawn: workflow start, pre-flight, first activity dispatch. */
  preflightMs: number;
  /** Mean of (start − last dependency healthy): workflow task, activity dispatch and startService's own work before the spawn. */
  dispatchGapMs: number;
  /** Mean duration of the startService activity itself. */
  startServiceMs: number;
  /** Mean of (healthy − started − delay): process start plus probe back-off granularity. */
  detectLagMs: number;
  /** Sums of the two along the critical path (by delays): what it adds on top of the delays. */
  cpGapMs: number;
  cpLagMs: number;
  /** Last service healthy to the result in hand. */
  tailMs: number;
}

export interface TemporalHarness {
  setup: string;
  /** One platformStart of the shape: binary services (the default), or the same as docker-mode containers. */
  run(shape: Shape, label: string, mode?: 'binary' | 'docker'): Promise<TemporalRun>;
  close(): Promise<void>;
}

export async function startTemporal(): Promise<TemporalHarness> {
  const { server, client, taskQueue, setupSeconds, close } = await startBenchTemporal('platform-start');
  try {
    const run = (shape: Shape, label: string, mode: 'binary' | 'docker' = 'binary'): Promise<TemporalRun> =>
      withHome(`temporal-${shape.name}`, async (home) => {
        const ports = await allocatePorts(shape);
        if (mode === 'binary') return execute(shape, label, home, benchRegistry(shape, home, ports));
        const prefix = `pbench-${label}-${randomUUID().slice(0, 6)}`;
        const cleanup = () => removeHomeContainers(home);
        return withInterruptCleanup(cleanup, async () => {
          try {
            return await execute(shape, label, home, dockerRegistry(shape, home, ports, prefix));
          } finally {
            await cleanup();
          }
        });
      });
    const execute = async (shape: Shape, label: string, home: string, registry: Registry): Promise<TemporalRun> => {
      const submitted = Date.now();
      const t0 = performance.now();
      const result = await client.workflow.execute(platformStart, {
        taskQueue,
        workflowId: `bench-${label}-${randomUUID().slice(0, 8)}`,
        workflowExecutionTimeout: '2 minutes',
        args: [{ registry, home, services: shape.services.map((s) => s.name) }],
      });
      const seconds = (performance.now() - t0) / 1000;
      return { seconds, ok: result.ok, ...(result.ok ? {} : { error: describeFailure(result) }), breakdown: breakdown(shape, result, submitted, submitted + seconds * 1000) };
    };

    return { setup: `dev server ${server.address}, bundle and worker ready in ${setupSeconds.toFixed(1)} s`, run, close };
  } catch (err) {
    await close();
    throw err;
  }
}

function describeFailure(result: PlatformResult): string {
  const bad = result.services.filter((s) => s.state !== 'started');
  const pre = (result.preflight ?? []).map((p) => `${p.service}: ${p.message}`);
  return [...pre, ...bad.slice(0, 5).map((s) => `${s.name}: ${s.state}${s.error ? ` (${s.error})` : ''}`)].join('; ') || 'not ok';
}

function mean(values: number[]): number {
  return values.length === 0 ? NaN : values.reduce((a, b) => a + b, 0) / values.length;
}

function breakdown(shape: Shape, result: PlatformResult, submitted: number, finished: number): Breakdown {
  const s = new Map(result.services.map((p) => [p.name, p]));
  const byName = new Map(shape.services.map((x) => [x.name, x]));
  const started = (n: string) => s.get(n)?.startedAt ?? NaN;
  const healthy = (n: string) => s.get(n)?.healthyAt ?? NaN;
  const gap = (n: string) => started(n) - Math.max(...byName.get(n)!.dependencies.map(healthy));
  const lag = (n: string) => healthy(n) - started(n) - byName.get(n)!.delay * 1000;
  const cp = criticalPath(graphNodes(shape), Object.fromEntries(shape.services.map((x) => [x.name, x.delay]))).path;
  const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
  return {
    preflightMs: Math.min(...shape.services.map((x) => started(x.name))) - submitted,
    dispatchGapMs: mean(shape.services.filter((x) => x.dependencies.length > 0).map((x) => gap(x.name))),
    startServiceMs: mean(result.services.map((p) => p.startMs ?? NaN)),
    detectLagMs: mean(shape.services.map((x) => lag(x.name))),
    cpGapMs: sum(cp.slice(1).map(gap)),
    cpLagMs: sum(cp.map(lag)),
    tailMs: finished - Math.max(...shape.services.map((x) => healthy(x.name))),
  };
}
