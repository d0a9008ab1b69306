/** `test quick <taskserv>`: create, install, test, clean up; exit 0 only when every test passed. */
import type { Command } from 'commander';
import { printJson, type Io } from '../../io.js';
import { runLines, stamp } from '../../render/testenv.js';
import { progressChanges } from '../../render/testenv-progress.js';
import { apiContext, connect } from '../../temporal-options.js';
import { addCreateOptions, nodeFlags, planChecked, requestFlags, withResourceOptions, writeJunit, type CreateOptions } from './options.js';

export function registerQuickCommand(test: Command, io: Io): void {
  addCreateOptions(
    withResourceOptions(test.command('quick'), { disk: false })
      .argument('<taskserv>', 'taskserv to test')
      .description('create a single-taskserv environment, run its tests, clean up; exit 0 only when every test passed')
      .option('--junit <file>', 'write a JUnit XML report for CI')
      .option('--keep', 'keep the environment after the run (clean it up later with "test env cleanup <id>")')
      .addHelpText(
        'after',
        '\nThe taskserv and its dependencies are installed (install.sh, then check.sh), then each one\'s\ntest.sh runs (check.sh when it has none). Ctrl-C cancels the environment; it is removed.\n\nExit codes: 0 all tests passed, 1 a test or the setup failed, 2 bad input (nothing created).\n\nExamples:\n  provisioning test quick webserver\n  provisioning test quick kvstore --junit report.xml\n  provisioning test quick postgres --base-image ubuntu:22.04 --json',
      ),
    { quick: true },
  ).action(async (taskserv: string, opts: CreateOptions & { junit?: string; keep?: boolean }) => {
    const raw = { config: { type: 'single_taskserv', taskserv, ...nodeFlags(opts) }, ...requestFlags(opts), auto_start: true, auto_cleanup: !opts.keep };
    const plan = await planChecked(io, raw, opts, taskserv);
    const connected = await connect(io, opts);
    const abort = new AbortController();
    const onSigint = () => {
      io.err('Interrupted: cancelling the environment (it is removed)...');
      abort.abort();
    };
    process.once('SIGINT', onSigint);
    try {
      const { quickTest } = await import('../../../api/testenv/quick.js');
      const run = await quickTest(apiContext(io, connected, opts), plan, { keep: Boolean(opts.keep), signal: abort.signal, ...(opts.host !== undefined ? { host: opts.host } : {}) });
      io.err(`Environment ${plan.id}: workflow ${plan.workflowId}${run.webUi ? `\nWeb UI: ${run.webUi}` : ''}`);
      const progress = opts.json
        ? undefined
        : (async () => {
            const seen = new Map<string, string>();
            for await (const state of run.progress()) for (const line of progressChanges(state, seen)) io.err(`${stamp()} ${line}`);
          })();
      const outcome = await run.result();
      await progress;
      if (!outcome.passed) io.exitCode = 1;
      if (opts.junit) await writeJunit(io, opts.junit, `testenv.${plan.id}`, outcome.run, outcome.run ? undefined : outcome.error);
      if (opts.json) {
        const { run: result, error, removed } = outcome;
        return printJson(io, { id: plan.id, workflowId: plan.workflowId, taskserv, passed: outcome.passed, ...(result ? { tests: result.tests, durationMs: result.durationMs } : {}), ...(error ? { error } : {}), ...(removed ? { removed } : {}) });
      }
      if (outcome.run) io.out(runLines(outcome.run));
      if (outcome.error) io.err(`error: ${outcome.error}`);
      io.out(outcome.kept ? `Kept environment ${plan.id}; remove it with: provisioning test env cleanup ${plan.id}` : `Environment ${plan.id} removed${outcome.removed ? ` (${outcome.removed.containers} containers, ${outcome.removed.networks} networks)` : ''}.`);
    } finally {
      process.removeListener('SIGINT', onSigint);
      await connected.close();
    }
  });
}
