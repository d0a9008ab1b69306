/**
 * The `provisioning` command line. Exit codes: 0 done, 1 an operation failed,
 * 2 a usage or configuration error (nothing was started).
 */
import { Command, CommanderError } from 'commander';
import { ConfigError, UsageError } from '../config/errors.js';
import { registerDevCommand } from './commands/dev.js';
import { registerPlatformCommands } from './commands/platform.js';
import { registerServerCommands } from './commands/server.js';
import { registerWorkflowCommands } from './commands/workflow.js';
import { registerServicesCommands } from './commands/services.js';
import { registerTestCommands } from './commands/testenv.js';
import { registerWorkerCommand } from './commands/worker.js';
import type { Io } from './io.js';

export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

export function buildProgram(io: Io): Command {
  const program = new Command('provisioning')
    .description('Durable platform orchestration on Temporal: start services in dependency order, create servers, run test environments.')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) })
    .addHelpText(
      'after',
      '\nGet started:\n  provisioning dev                                   # local Temporal + worker, Web UI on http://localhost:8233\n  provisioning services list --registry examples/services.toml\n  provisioning services dependencies --registry examples/services.toml',
    );
  registerPlatformCommands(program, io);
  registerServicesCommands(program, io);
  registerServerCommands(program, io);
  registerTestCommands(program, io);
  registerWorkflowCommands(program, io);
  registerDevCommand(program, io);
  registerWorkerCommand(program, io);
  return program;
}

export async function runCli(argv: readonly string[], io: Io): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync([...argv], { from: 'user' });
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
