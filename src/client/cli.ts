/**
 * The `provisioning` command line. Exit codes: 0 done, 1 an operation failed,
 * 2 a usage or configuration error (nothing was started).
 *
 * Each top-level command's module is loaded only when that command runs, so `--help` and
 * the local commands answer without loading the Temporal SDK, dockerode or webpack.
 */
import { Command, CommanderError } from 'commander';
import { ConfigError, UsageError } from '../config/errors.js';
import type { Io } from './io.js';
import { tracing, tracingEnabled } from '../temporal/tracing.js';

export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

type Register = (program: Command, io: Io) => void;

interface TopLevel {
  names: string[];
  /** One line per name for `provisioning --help`; the module gives the full help. */
  summaries: string[];
  load: () => Promise<Register>;
}

const COMMANDS: TopLevel[] = [
  { names: ['platform'], summaries: ["start, stop and inspect the platform's services in dependency order"], load: async () => (await import('./commands/platform.js')).registerPlatformCommands },
  { names: ['services'], summaries: ['inspect and validate the service registry; status, health and supervision of one service'], load: async () => (await import('./commands/services.js')).registerServicesCommands },
  {
    names: ['server', 'taskserv', 'cluster'],
    summaries: ['create, list and delete servers of an infra', 'the taskserv catalog', 'clusters: servers with roles'],
    load: async () => (await import('./commands/server.js')).registerServerCommands,
  },
  { names: ['test'], summaries: ['containerized test environments: a taskserv, a server or a cluster in isolated containers'], load: async () => (await import('./commands/testenv.js')).registerTestCommands },
  { names: ['workflow'], summaries: ['submit an operation from a request file; find, inspect and cancel provisioning workflows'], load: async () => (await import('./commands/workflow.js')).registerWorkflowCommands },
  { names: ['api'], summaries: ['serve the REST API (the seeds\' orchestrator endpoints) for CI and other tools'], load: async () => (await import('./commands/api.js')).registerApiCommand },
  { names: ['dev'], summaries: ['start a local Temporal dev server (with Web UI) and a worker; Ctrl-C stops both'], load: async () => (await import('./commands/dev.js')).registerDevCommand },
  { names: ['worker'], summaries: ['run a worker against an existing Temporal server (scale out by running more)'], load: async () => (await import('./commands/worker.js')).registerWorkerCommand },
  { names: ['config'], summaries: ['show and change the defaults in <home>/config.toml (registry, Temporal address, task queue, log level, ...)'], load: async () => (await import('./commands/config.js')).registerConfigCommand },
  { names: ['validate'], summaries: ['check the config file, the registry, the catalog and the topologies in one go'], load: async () => (await import('./commands/config.js')).registerValidateCommand },
  { names: ['monitoring'], summaries: ['install the shipped Grafana dashboards'], load: async () => (await import('./commands/monitoring.js')).registerMonitoringCommand },
  { names: ['temporal-cli'], summaries: ['show where the Temporal CLI is found, or install it into the user cache'], load: async () => (await import('./commands/temporal-cli.js')).registerTemporalCliCommand },
];

function rootProgram(io: Io): Command {
  return new Command('provisioning')
    // Options a command left at their defaults take the environment's or the config file's value.
    .hook('preAction', async (_root, action) => (await import('./config-defaults.js')).applyConfigDefaults(action, io.env))
    .description('Durable platform orchestration on Temporal: start services in dependency order, create servers, run test environments.')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) })
    .addHelpText(
      'after',
      '\nGet started:\n  provisioning dev                                   # local Temporal + worker, Web UI on http://localhost:8233\n  provisioning services list --registry examples/services.toml\n  provisioning services dependencies --registry examples/services.toml',
    );
}

/**
 * The program with the full definitions of `only` (a top-level command name) or, without it,
 * of every command; the others appear by name and summary.
 */
export async function buildProgram(io: Io, only?: string): Promise<Command> {
  const program = rootProgram(io);
  for (const entry of COMMANDS) {
    const full = only === undefined || entry.names.includes(only);
    if (full) (await entry.load())(program, io);
    entry.names.forEach((name, i) => {
      const command = full ? program.commands.find((c) => c.name() === name) : program.command(name);
      command?.description(entry.summaries[i] ?? '');
    });
  }
  return program;
}

/** The top-level command that argv names (`help X` names X), if any. */
function commandNamed(argv: readonly string[]): string {
  const [first, second] = argv;
  if (first === 'help' && second) return second;
  return first && !first.startsWith('-') ? first : '';
}

/** Long-running servers: no span around their whole life; they trace what they serve (worker, REST API). */
const SERVES = new Set(['worker', 'api', 'dev']);

export async function runCli(argv: readonly string[], io: Io): Promise<number> {
  io.run ??= (inner) => runCli(inner, { ...io, exitCode: undefined, run: undefined });
  try {
    const program = await buildProgram(io, commandNamed(argv));
    if (tracingEnabled(io.env) && !SERVES.has(commandNamed(argv))) {
      // One trace per command: what it starts (workflows, their activities) are its children.
      const traced = await tracing('provisioning-cli', io.env);
      const name = ['provisioning', ...argv.filter((a) => !a.startsWith('-')).slice(0, 2)].join(' ');
      try {
        await traced!.inSpan(name, () => program.parseAsync([...argv], { from: 'user' }));
      } finally {
        await traced!.shutdown((line) => io.err(line));
      }
    } else {
      await program.parseAsync([...argv], { from: 'user' });
    }
    return io.exitCode ?? 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      const done = ['commander.helpDisplayed', 'commander.version', 'commander.help'].includes(err.code);
      return done ? 0 : EXIT_USAGE;
    }
    if (err instanceof ConfigError || err instanceof UsageError) {
      io.err(`error: ${err.message}`);
      return EXIT_USAGE;
    }
    io.err(`error: ${(err as Error).message ?? String(err)}`);
    return EXIT_FAILED;
  }
}
