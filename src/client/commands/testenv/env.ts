/** `test env list|status|start|run|logs|cleanup|reap`: inspect, use and remove environments. */
import type { Command } from 'commander';
import { UsageError } from '../../../config/errors.js';
import { parseDuration } from '../../../config/testenv-schema.js';
import { REAPER_SCHEDULE_ID } from '../../../model/ids.js';
import type { RunResult } from '../../../model/testenv.js';
import { printJson, type Io } from '../../io.js';
import { outcomeOf } from '../../outcome.js';
import { parsePositiveInt } from '../../options.js';
import { renderTable } from '../../render/table.js';
import { runLines, stamp, summary } from '../../render/testenv.js';
import { progressChanges } from '../../render/testenv-progress.js';
import { addTemporalOptions, withApi, type TemporalOptions } from '../../temporal-options.js';
import { checkNodes, writeJunit } from './options.js';

const environments = () => import('../../../api/testenv/environments.js');
const reaper = () => import('../../../api/testenv/reaper.js');

export function registerEnvCommands(env: Command, io: Io): void {
  addTemporalOptions(
    env
      .command('list')
      .description('list test environments (running ones with their phase and nodes)')
      .option('--all', 'include closed environments')
      .option('--limit <n>', 'at most this many', parsePositiveInt, 50)
      .option('--json', 'print JSON')
      .addHelpText('after', '\nExamples:\n  provisioning test env list\n  provisioning test env list --all --json'),
  ).action((opts: TemporalOptions & { all?: boolean; limit: number; json?: boolean }) =>
    withApi(io, opts, async (ctx) => {
      const rows = await (await environments()).listEnvironments(ctx, { all: Boolean(opts.all), limit: opts.limit });
      if (opts.json) return printJson(io, { environments: rows });
      io.out(rows.length ? renderTable(['ID', 'STATUS', 'PHASE', 'TYPE', 'SUBJECT', 'NODES', 'STARTED'], rows.map((r) => [r.id, r.status, r.phase ?? '-', r.type ?? '-', r.subject ?? '-', (r.nodes ?? []).join(',') || '-', r.startTime])) : opts.all ? 'No test environments.' : 'No running test environments (--all shows closed ones).');
    }),
  );

  addTemporalOptions(
    env
      .command('status')
      .argument('<id>', 'environment id')
      .description('state, nodes, addresses, installed taskservs and the last run of an environment')
      .option('--json', 'print JSON')
      .addHelpText('after', '\nExamples:\n  provisioning test env status webserver-3fa2c1\n  provisioning test env status webserver-3fa2c1 --json'),
  ).action((id: string, opts: TemporalOptions & { json?: boolean }) =>
    withApi(io, opts, async (ctx) => {
      const { status, state, webUi } = await (await environments()).environmentStatus(ctx, id);
      if (opts.json) return printJson(io, { status, ...(state ?? { id }) });
      io.out(state ? `${summary(state, webUi)}${state.lastRun ? `\nLast run:\n${runLines(state.lastRun)}` : ''}` : `Environment ${id}: workflow ${status.toLowerCase()}, no state recorded.`);
    }),
  );

  addTemporalOptions(
    env
      .command('start')
      .argument('<id>', 'environment id')
      .description('start an environment created with --no-auto-start (containers, then installs)')
      .addHelpText('after', '\nExamples:\n  provisioning test env start postgres-9a1b2c'),
  ).action((id: string, opts: TemporalOptions) =>
    withApi(io, opts, async (ctx) => {
      const api = await environments();
      const started = await api.startEnvironment(ctx, id);
      const seen = new Map<string, string>();
      let state;
      for await (const s of api.followEnvironment(started, (x) => x.phase === 'ready')) {
        state = s;
        for (const line of progressChanges(s, seen)) io.err(`${stamp()} ${line}`);
      }
      if (state?.phase !== 'ready') io.exitCode = 1;
      if (state) io.out(summary(state));
    }),
  );

  addTemporalOptions(
    env
      .command('run')
      .argument('<id>', 'environment id')
      .argument('[command...]', 'a command to run instead of the taskservs\' tests (after --)')
      .description('run tests on an environment: each installed taskserv\'s test.sh (check.sh when it has none), or a command')
      .option('--node <name...>', 'only these nodes (default: every node)')
      .option('--junit <file>', 'write a JUnit XML report')
      .option('--json', 'print JSON')
      .addHelpText('after', '\nExit codes: 0 every test passed, 1 a test failed, 2 bad input or no such environment.\n\nExamples:\n  provisioning test env run web-3fa2c1\n  provisioning test env run web-3fa2c1 --node web-01 --junit report.xml\n  provisioning test env run web-3fa2c1 --node lb-01 -- wget -q -O - http://web-01/'),
  ).action((id: string, command: string[], opts: TemporalOptions & { node?: string[]; junit?: string; json?: boolean }) => {
    checkNodes(opts.node);
    return withApi(io, opts, async (ctx) => {
      const result: RunResult = await outcomeOf(io, (await environments()).runTests(ctx, id, { ...(opts.node ? { nodes: opts.node } : {}), ...(command.length > 0 ? { command } : {}) }));
      if (opts.junit) await writeJunit(io, opts.junit, `testenv.${id}`, result);
      if (opts.json) return printJson(io, { id, ...result });
      io.out(runLines(result));
    });
  });

  env
    .command('logs')
    .argument('<id>', 'environment id')
    .description('the logs of an environment\'s nodes: install and test output, and what each node\'s processes print')
    .option('--node <name...>', 'only these nodes')
    .option('--tail <lines>', 'lines per node', parsePositiveInt)
    .option('-f, --follow', 'keep printing new lines until Ctrl-C')
    .addHelpText('after', '\nReads the containers directly (no Temporal connection needed).\n\nExamples:\n  provisioning test env logs web-3fa2c1\n  provisioning test env logs web-3fa2c1 --node web-01 --follow')
    .action(async (id: string, opts: { node?: string[]; tail?: number; follow?: boolean }) => {
      checkNodes(opts.node);
      const logs = await import('../../../api/testenv/logs.js');
      const which = { ...(opts.node ? { nodes: opts.node } : {}), ...(opts.tail ? { tail: opts.tail } : {}) };
      if (!opts.follow) {
        for (const l of await logs.environmentLogs(id, which)) io.out(`==> ${l.node} (${l.container}) <==\n${l.text.trimEnd()}`);
        return;
      }
      const abort = new AbortController();
      const stop = () => abort.abort();
      process.once('SIGINT', stop);
      try {
        await logs.followEnvironmentLogs(id, (node, line) => io.out(`${node} | ${line}`), { ...which, signal: abort.signal });
      } finally {
        process.removeListener('SIGINT', stop);
      }
    });

  addTemporalOptions(
    env
      .command('cleanup')
      .argument('<id>', 'environment id')
      .description('remove an environment: its containers and network')
      .option('--no-wait', 'signal and return at once')
      .option('--json', 'print JSON')
      .addHelpText('after', '\nExamples:\n  provisioning test env cleanup web-3fa2c1'),
  ).action((id: string, opts: TemporalOptions & { wait: boolean; json?: boolean }) =>
    withApi(io, opts, async (ctx) => {
      const outcome = await (await environments()).cleanupEnvironment(ctx, id, { wait: opts.wait });
      if (opts.json) return printJson(io, 'left' in outcome ? { id, status: outcome.status, removed: outcome.removed } : outcome);
      if ('alreadyCleanedUp' in outcome) return io.out(`Environment ${id} is already cleaned up (workflow ${outcome.status.toLowerCase()}).`);
      if ('left' in outcome) {
        const { left, removed } = outcome;
        return io.out(`Environment ${id} (workflow ${outcome.status.toLowerCase()}) left ${left.containers} containers and ${left.networks} networks; ${removed ? `removed ${removed.containers} containers, ${removed.networks} networks` : 'the reaper did not remove them (another Temporal server owns them)'}.`);
      }
      if ('signalled' in outcome) return io.out(`Cleanup of ${id} requested.`);
      io.out(`Environment ${id} removed${outcome.removed ? `: ${outcome.removed.containers} containers, ${outcome.removed.networks} networks` : ''}.`);
    }),
  );

  addTemporalOptions(
    env
      .command('reap')
      .description('remove containers and networks of environments whose workflow is closed (terminated, lost worker)')
      .option('--schedule', `instead, create or update the Temporal schedule "${REAPER_SCHEDULE_ID}" that reaps periodically`)
      .option('--every <duration>', 'interval of the schedule', '10m')
      .option('--json', 'print JSON')
      .addHelpText('after', '\nOnly resources created through this Temporal cluster and namespace are considered; an\nenvironment whose workflow is still running is never touched. "provisioning dev" installs\nthe schedule for you.\n\nExamples:\n  provisioning test env reap\n  provisioning test env reap --schedule --every 5m'),
  ).action((opts: TemporalOptions & { schedule?: boolean; every: string; json?: boolean }) => {
    const every = parseDuration(opts.every);
    if (every === undefined) throw new UsageError(`--every "${opts.every}" is not a duration`, 'write it like 5m or 1h');
    return withApi(io, opts, async (ctx) => {
      const api = await reaper();
      if (opts.schedule) {
        const action = await api.ensureReaperSchedule(ctx, every);
        if (opts.json) return printJson(io, { schedule: REAPER_SCHEDULE_ID, everySeconds: every, action });
        return io.out(`Schedule ${REAPER_SCHEDULE_ID} ${action}: reaps every ${opts.every}.`);
      }
      const result = await api.reapEnvironments(ctx, 'manual');
      if (opts.json) return printJson(io, result);
      io.out(
        [
          result.reaped.length === 0
            ? `Nothing to reap (${result.checked} environments with resources, all owned by running workflows).`
            : result.reaped.map((r) => `🗑 ${r.id}: workflow ${r.status.toLowerCase()}; removed ${r.containers} containers, ${r.networks} networks`).join('\n'),
          ...(result.idlePoolNetworks ? [`Removed ${result.idlePoolNetworks} idle networks of the environment network pool.`] : []),
        ].join('\n'),
      );
    });
  });
}
