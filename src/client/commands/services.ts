/** `provisioning services ...`: list, validate and dependencies of the registry. */
import { Option, type Command } from 'commander';
import { registryNodes } from '../../config/registry-nodes.js';
import { provisioningHome } from '../../config/home.js';
import { UsageError } from '../../config/errors.js';
import { printJson, type Io } from '../io.js';
import { assertServices, registryFor } from '../registry.js';
import { DEPENDENCY_FORMATS, dependencyView, renderDot, renderMermaid, renderTree, type DependencyFormat } from '../render/dependencies.js';
import { renderTable } from '../render/table.js';
import { registerServiceOperations } from './service-ops.js';

import { REGISTRY_HELP } from './platform.js';

export function registerServicesCommands(program: Command, io: Io): void {
  const services = program
    .command('services')
    .addHelpText('after', '\nExamples:\n  provisioning services list --registry examples/services.toml\n  provisioning services validate\n  provisioning services dependencies api-gateway --format mermaid');
  registerServiceOperations(services, io);

  services
    .command('list')
    .description('list the services of the registry')
    .option('--category <category>', 'only services of this category')
    .option('--running', 'only services running on this machine (each one\'s driver asks: PID, container, unit, pod)')
    .option('--stopped', 'only services not running on this machine')
    .option('--registry <file>', REGISTRY_HELP)
    .option('--json', 'print JSON')
    .addHelpText('after', '\nWith --running or --stopped the list has a STATUS column (running, stopped, or unknown when the driver cannot tell: a service in neither list).\n\nExamples:\n  provisioning services list\n  provisioning services list --category api --json\n  provisioning services list --running')
    .action(async (opts: { category?: string; running?: boolean; stopped?: boolean; registry?: string; json?: boolean }) => {
      if (opts.running && opts.stopped) throw new UsageError('--running and --stopped exclude each other', 'give one of them, or neither for every service');
      const registry = await registryFor(io, opts.registry);
      const statusWanted = opts.running ? 'running' : opts.stopped ? 'stopped' : undefined;
      const chosen = Object.values(registry.services).filter((s) => !opts.category || s.category === opts.category);
      const { localStatus } = await import('../../api/local.js');
      const statuses = statusWanted ? new Map((await Promise.all(chosen.map((s) => localStatus(s, provisioningHome(io.env))))).map((st) => [st.name, st])) : undefined;
      const rows = chosen
        .filter((s) => !statuses || statuses.get(s.name)?.status === statusWanted)
        .map((s) => ({
          name: s.name,
          type: s.type,
          category: s.category,
          mode: s.deployment.mode,
          auto_start: s.startup.auto_start,
          start_order: s.startup.start_order,
          dependencies: s.dependencies,
          description: s.description,
          ...(statuses ? { status: statuses.get(s.name)!.status, detail: statuses.get(s.name)!.detail } : {}),
        }));
      if (opts.json) return printJson(io, { registry: registry.source, services: rows });
      if (statuses && rows.length === 0) return io.out(`No ${statusWanted} services${opts.category ? ` of category ${opts.category}` : ''} (registry ${registry.source}).`);
      io.out(
        statuses
          ? renderTable(['NAME', 'STATUS', 'CATEGORY', 'MODE', 'DETAIL', 'DEPENDS ON'], rows.map((r) => [r.name, r.status!, r.category, r.mode, r.detail!, r.dependencies.join(', ') || '-']))
          : renderTable(['NAME', 'TYPE', 'CATEGORY', 'MODE', 'AUTO_START', 'DEPENDS ON'], rows.map((r) => [r.name, r.type, r.category, r.mode, String(r.auto_start), r.dependencies.join(', ') || '-'])),
      );
    });

  services
    .command('validate')
    .description('validate the registry: schema, dependency graph, and each mode\'s prerequisites (nothing is started)')
    .option('--registry <file>', REGISTRY_HELP)
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      '\nExit codes: 0 all valid, 1 a prerequisite is missing, 2 the registry itself is invalid.\n\nExamples:\n  provisioning services validate --registry examples/services.toml\n  provisioning services validate --json | jq \'.services[] | select(.ok == false)\'',
    )
    .action(async (opts: { registry?: string; json?: boolean }) => {
      const registry = await registryFor(io, opts.registry);
      const results = await (await import('../../api/local.js')).validateServices(registry);
      const invalid = results.filter((r) => !r.ok);
      if (invalid.length > 0) io.exitCode = 1;
      if (opts.json) {
        return printJson(io, { registry: registry.source, total: results.length, valid: results.length - invalid.length, invalid: invalid.length, services: results });
      }
      const lines = [`Registry: ${registry.source}`, `Total services: ${results.length}`, `Valid: ${results.length - invalid.length}`, `Invalid: ${invalid.length}`];
      if (invalid.length > 0) {
        lines.push('Invalid services:');
        for (const r of invalid) {
          lines.push(`❌ ${r.service} (${r.mode}):`);
          for (const c of r.checks.filter((c) => !c.ok)) lines.push(`   - ${c.message}`);
        }
      }
      io.out(lines.join('\n'));
    });

  services
    .command('dependencies')
    .argument('[service]', 'show this service only')
    .description('show the dependency graph, startup order and levels')
    .option('--reverse', 'show what depends on the service instead of what it depends on')
    .addOption(new Option('--format <format>', 'output format').choices(DEPENDENCY_FORMATS).default('tree'))
    .option('--registry <file>', REGISTRY_HELP)
    .addHelpText(
      'after',
      '\nThe json format has `order` (dependencies first), `levels` (services that can start together) and `edges`.\n\nExamples:\n  provisioning services dependencies\n  provisioning services dependencies api-gateway\n  provisioning services dependencies orchestrator --reverse\n  provisioning services dependencies --format dot | dot -Tsvg > deps.svg',
    )
    .action(async (service: string | undefined, opts: { reverse?: boolean; format: DependencyFormat; registry?: string }) => {
      const registry = await registryFor(io, opts.registry);
      if (service) assertServices(registry, [service]);
      const view = dependencyView(registryNodes(registry), service, Boolean(opts.reverse));
      switch (opts.format) {
        case 'json':
          return printJson(io, view);
        case 'dot':
          return io.out(renderDot(view));
        case 'mermaid':
          return io.out(renderMermaid(view));
        case 'tree': {
          const order = (name: string) => `${name} (order: ${registry.services[name]!.startup.start_order})`;
          const title = service ? (opts.reverse ? `Required by (${service} first):` : `${service} depends on:`) : 'Dependency graph (each service above what starts after it):';
          const levels = view.levels.map((names, i) => `  level ${i}: ${names.join(', ')}`);
          return io.out([title, renderTree(view, order), '', `Startup order: ${view.order.join(' -> ')}`, 'Levels:', ...levels].join('\n'));
        }
      }
    });
}
