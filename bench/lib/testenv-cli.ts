/**
 * `provisioning test quick <taskserv>` driven in-process through runCli, as the tests do
 * (test/support/cli.ts): the CLI path (plan, preflight, own connection, workflow, run update,
 * result, JSON report) is what gets measured. Loaded lazily, so a checkout without the
 * command (or with one that does not build) falls back to the workflow API with the reason.
 */
import type { Io } from '../../src/client/io.js';

import type { QuickRun } from './testenv-temporal.js';
import { testenvWorkflowId } from '../../src/model/ids.js';

type CliModule = typeof import('../../src/client/cli.js');

export interface QuickCli {
  run(ids: string[], taskserv: string): Promise<QuickRun>;
}

/** The CLI if this checkout registers `test quick`, else why not. */
export async function loadQuickCli(address: string, namespace: string, taskQueue: string): Promise<QuickCli | { unavailable: string }> {
  let cli: CliModule;
  try {
    cli = await import('../../src/client/cli.js');
  } catch (err) {
    return { unavailable: `src/client/cli.ts does not load: ${(err as Error).message.split('\n')[0]}` };
  }
  const quiet: Io = { out: () => undefined, err: () => undefined, env: process.env, cwd: process.cwd(), isTTY: false };
  const test = (await cli.buildProgram(quiet)).commands.find((c) => c.name() === 'test');
  if (!test?.commands.some((c) => c.name() === 'quick')) return { unavailable: 'this checkout has no `test quick` command' };

  const once = async (id: string, taskserv: string): Promise<QuickRun['envs'][number]> => {
    const out: string[] = [];
    const err: string[] = [];
    const io: Io = { out: (t) => out.push(t), err: (t) => err.push(t), env: process.env, cwd: process.cwd(), isTTY: false };
    const began = Date.now();
    const t = performance.now();
    const code = await cli.runCli(['test', 'quick', taskserv, '--id', id, '--address', address, '--namespace', namespace, '--task-queue', taskQueue, '--json'], io);
    const seconds = (performance.now() - t) / 1000;
    let report: { passed?: boolean; error?: string } = {};
    try {
      report = JSON.parse(out.join('\n')) as typeof report;
    } catch {
      // not JSON: reported below with stderr
    }
    if (code !== 0 || report.passed !== true) throw new Error(`test quick ${taskserv} --id ${id}: exit ${code}${report.error ? `: ${report.error}` : ''}${err.length > 0 ? `\n${err.join('\n').split('\n').slice(-5).join('\n')}` : ''}`);
    return { workflowId: testenvWorkflowId(id), began, seconds };
  };

  return {
    async run(ids, taskserv) {
      // Each in-process invocation listens for SIGINT while it runs; 20 at once exceed Node's default of 10.
      process.setMaxListeners(Math.max(process.getMaxListeners(), ids.length + 10));
      const t0 = performance.now();
      const outcomes = await Promise.allSettled(ids.map((id) => once(id, taskserv)));
      const seconds = (performance.now() - t0) / 1000;
      const envs = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
      const failures = outcomes.flatMap((o) => (o.status === 'rejected' ? [(o.reason as Error).message] : []));
      return { seconds, latencies: envs.map((e) => e.seconds), passed: envs.length, failures, envs };
    },
  };
}
