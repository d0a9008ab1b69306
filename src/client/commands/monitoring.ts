/** `provisioning monitoring install-dashboards --dir DIR`: the shipped Grafana dashboards, for Grafana's file provisioning. */
import { existsSync, statSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { UsageError } from '../../config/errors.js';
import { SHIPPED_DASHBOARDS } from '../../config/shipped.js';
import { printJson, type Io } from '../io.js';

const PROVIDER_FILE = 'provisioning-dashboards.yaml';

/** Grafana's dashboard provider: load every JSON file in `dir` into the folder "provisioning". */
function providerYaml(dir: string): string {
  return ['apiVersion: 1', 'providers:', '  - name: provisioning', '    folder: provisioning', '    type: file', '    allowUiUpdates: false', '    options:', `      path: ${JSON.stringify(dir)}`, ''].join('\n');
}

export function registerMonitoringCommand(program: Command, io: Io): void {
  const monitoring = program.command('monitoring');
  monitoring
    .command('install-dashboards')
    .description('write the shipped Grafana dashboards and a dashboard provider file into a folder for Grafana\'s file provisioning')
    .requiredOption('--dir <dir>', 'the folder to write into (created when missing)')
    .option('--force', 'replace files that exist with other content')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      `\nIt writes each dashboard JSON and ${PROVIDER_FILE}, a provider that loads the folder into the Grafana folder "provisioning". Point Grafana at the provider: copy or mount it into Grafana's provisioning/dashboards/ (for example /etc/grafana/provisioning/dashboards/). A file that exists with other content is left alone unless --force; one with the same content is reported unchanged.\n\nThe dashboards read the worker's metrics (provisioning worker --metrics-listen) and the REST API's /metrics; README "Observing it".\n\nExamples:\n  provisioning monitoring install-dashboards --dir /var/lib/grafana/dashboards/provisioning\n  provisioning monitoring install-dashboards --dir ./grafana --json`,
    )
    .action(async (opts: { dir: string; force?: boolean; json?: boolean }) => {
      const dir = path.resolve(io.cwd, opts.dir);
      if (existsSync(dir) && !statSync(dir).isDirectory()) throw new UsageError(`--dir ${dir} is not a directory`, 'give a folder (it is created when missing)');
      const sources = (await readdir(SHIPPED_DASHBOARDS)).filter((f) => f.endsWith('.json')).sort();
      const files: Array<{ name: string; content: string }> = [...(await Promise.all(sources.map(async (name) => ({ name, content: await readFile(path.join(SHIPPED_DASHBOARDS, name), 'utf8') })))), { name: PROVIDER_FILE, content: providerYaml(dir) }];
      const plan = await Promise.all(
        files.map(async (f) => {
          const target = path.join(dir, f.name);
          const existing = existsSync(target) ? await readFile(target, 'utf8') : undefined;
          return { ...f, target, state: existing === undefined ? 'written' : existing === f.content ? 'unchanged' : opts.force ? 'replaced' : 'conflict' };
        }),
      );
      const conflicts = plan.filter((p) => p.state === 'conflict');
      if (conflicts.length > 0) throw new UsageError(`${conflicts.map((c) => c.target).join(', ')} ${conflicts.length === 1 ? 'exists' : 'exist'} with other content; nothing was written`, 'pass --force to replace, or choose another --dir');
      await mkdir(dir, { recursive: true });
      for (const p of plan) if (p.state !== 'unchanged') await writeFile(p.target, p.content);
      if (opts.json) return printJson(io, { dir, files: plan.map(({ target, state }) => ({ file: target, state })) });
      io.out([...plan.map((p) => `${p.state.padEnd(9)} ${p.target}`), `Grafana loads them once ${path.join(dir, PROVIDER_FILE)} is in its provisioning/dashboards/ folder.`].join('\n'));
    });
}
