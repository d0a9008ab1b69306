/** `test topology list|show`: the topology templates for cluster environments. */
import type { Command } from 'commander';
import { UsageError } from '../../../config/errors.js';
import { suggestionFix } from '../../../config/suggest.js';
import { DEFAULT_BASE_IMAGE } from '../../../config/testenv-schema.js';
import { loadTopologies } from '../../../config/testenv.js';
import { printJson, type Io } from '../../io.js';
import { renderTable } from '../../render/table.js';

export function registerTopologyCommands(test: Command, io: Io): void {
  const topology = test.command('topology').description('topology templates for cluster environments');
  topology
    .command('list')
    .description('list the topology templates (shipped, then ~/.provisioning/test-topologies.toml, then --topologies)')
    .option('--topologies <file>', 'extra templates file')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExamples:\n  provisioning test topology list\n  provisioning test topology list --json')
    .action(async (opts: { topologies?: string; json?: boolean }) => {
    const templates = Object.values(await loadTopologies({ ...(opts.topologies ? { file: opts.topologies } : {}), env: io.env, cwd: io.cwd }));
    if (opts.json) return printJson(io, { templates });
    io.out(renderTable(['NAME', 'CLUSTER TYPE', 'NODES', 'IMAGE', 'DESCRIPTION'], templates.map((t) => [t.name, t.cluster_type, t.nodes.map((n) => n.name).join(','), t.base_image ?? DEFAULT_BASE_IMAGE, t.description])));
  });

  topology
    .command('show')
    .argument('<name>', 'template name')
    .description('show a topology template: nodes, roles, taskservs, resources')
    .option('--topologies <file>', 'extra templates file')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExamples:\n  provisioning test topology show web_3node')
    .action(async (name: string, opts: { topologies?: string; json?: boolean }) => {
    const templates = await loadTopologies({ ...(opts.topologies ? { file: opts.topologies } : {}), env: io.env, cwd: io.cwd });
    const t = templates[name];
    if (!t) throw new UsageError(`unknown topology template "${name}"`, suggestionFix(name, Object.keys(templates), 'template'));
    if (opts.json) return printJson(io, t);
    io.out(
      [
        `${t.name}: ${t.description} (cluster type ${t.cluster_type}, image ${t.base_image ?? DEFAULT_BASE_IMAGE}${t.network ? `, subnet ${t.network.subnet}` : ''})`,
        `from ${t.source}`,
        renderTable(['NODE', 'ROLE', 'TASKSERVS', 'CPU (m)', 'MEMORY (MB)'], t.nodes.map((n) => [n.name, n.role, n.taskservs.join(', ') || '-', String(n.resources?.cpu_millicores ?? 1000), String(n.resources?.memory_mb ?? 256)])),
      ].join('\n'),
    );
  });
}
