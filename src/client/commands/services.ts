/** `provisioning services ...`: list, validate and dependencies of the registry. */
import { Option, type Command } from 'commander';
import { registryNodes } from '../../config/registry-nodes.js';
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
    .option('--registry <file>', REGISTRY_HELP)
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExamples:\n  provisioning services list\n  provisioning services list --category api --json')
    .action(async (opts: { category?: string; registry?: string; json?: boolean }) => {
      const registry = await registryFor(io, opts.registry);
      const rows = Object.values(registry.services)
        .filter((s) => !opts.category || s.category === opts.category)
        .map((s) => ({
          name: s.name,
          type: s.type,
          category: s.category,
          mode: s.deployment.mode,
          auto_start: s.startup.auto_start,
          start_order: s.startup.start_order,
          dependencies: s.dependencies,
          description: s.description,
        }));
      if (opts.json) return printJson(io, { registry: registry.source, services: rows });
      io.out(
        renderTable(
          ['NAME', 'TYPE', 'CATEGORY', 'MODE', 'AUTO_START', 'DEPENDS ON'],
          rows.map((r) => [r.name, r.type, r.category, r.mode, String(r.auto_start), r.dependencies.join(', ') || '-']),
        ),
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
