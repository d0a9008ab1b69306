/** `provisioning platform ...`: start, stop and restart as workflows; status, health and logs read locally. */
import type { Command } from 'commander';
import { UsageError } from '../../config/errors.js';
import { dnsLabelProblem } from '../../config/fields.js';
import { provisioningHome } from '../../config/home.js';
import type { Registry } from '../../config/registry-schema.js';
import type { PlatformOperation } from '../../workflows/platform-model.js';
import { printJson, type Io } from '../io.js';
import { localHealth, platformStatus, streamLogs, type LocalStatus } from '../local-services.js';
import { parsePositiveInt, parsePositiveNumber } from '../options.js';
import { runPlatformOperation } from '../platform-runner.js';
import { assertServices, registryFor } from '../registry.js';
import { addTemporalOptions, type TemporalOptions } from '../temporal-options.js';

export const REGISTRY_HELP = 'service registry file (default: $PROVISIONING_REGISTRY, ./provisioning/services.toml, ~/.provisioning/services.toml)';

interface OperationOptions extends TemporalOptions {
  registry?: string;
  force?: boolean;
  json?: boolean;
  wait: boolean;
  platform?: string;
  grace?: number;
}

export function platformName(io: Io, flag: string | undefined): string {
  const name = flag ?? io.env.PROVISIONING_PLATFORM ?? 'default';
  const problem = dnsLabelProblem(name);
  if (problem) throw new UsageError(`invalid platform ${problem}`, 'use lowercase letters, digits and "-", at most 63 characters');
  return name;
}

/** Adds the options every start/stop/restart command shares. */
export function operationCommand(command: Command): Command {
  return addTemporalOptions(
    command
      .option('--force', 'start: go on when pre-flight fails; stop: stop even when running dependents are left out')
      .option('--json', 'print the result as JSON (an object with a `services` array)')
      .option('--no-wait', 'submit the workflow and return at once')
      .option('--grace <seconds>', 'seconds between SIGTERM (or docker stop) and SIGKILL', parsePositiveNumber)
      .option('--platform <name>', 'platform name, the workflow id is platform/<name> (default: $PROVISIONING_PLATFORM or "default")')
      .option('--registry <file>', REGISTRY_HELP),
  );
}

export async function runOperation(io: Io, operation: PlatformOperation, services: string[], opts: OperationOptions): Promise<void> {
  const registry = await registryFor(io, opts.registry);
  assertServices(registry, services);
  await runPlatformOperation(io, {
    operation,
    platform: platformName(io, opts.platform),
    registry,
    services,
    force: Boolean(opts.force),
    ...(opts.grace !== undefined ? { graceSeconds: opts.grace } : {}),
    home: provisioningHome(io.env),
    wait: opts.wait,
    json: Boolean(opts.json),
    temporal: opts,
  });
}

function statusLine(s: LocalStatus): string {
  const icon = s.status === 'running' ? '🟢' : s.status === 'stopped' ? '⚪' : '❓';
  const uptime = s.uptimeSeconds !== undefined ? ` (uptime: ${s.uptimeSeconds}s)` : '';
  return `${icon} ${s.name} - ${s.status === 'running' ? `running${uptime}` : s.detail}`;
}

export function renderPlatformStatus(registry: Registry, statuses: LocalStatus[]): string {
  const running = statuses.filter((s) => s.status === 'running').length;
  const lines = ['Platform Services Status', `Registry: ${registry.source}`, `Running: ${running}/${statuses.length}`];
  const categories = [...new Set(statuses.map((s) => s.category))];
  for (const category of categories) {
    lines.push(`=== ${category.toUpperCase()} ===`);
    for (const s of statuses.filter((x) => x.category === category)) lines.push(statusLine(s));
  }
  return lines.join('\n');
}

export function registerPlatformCommands(program: Command, io: Io): void {
  const platform = program
    .command('platform')
    .description('start, stop and inspect the platform\'s services')
    .addHelpText(
      'after',
      '\nExamples:\n  provisioning platform start --registry examples/platform/services.toml\n  provisioning platform start api-gateway          # and what it depends on\n  provisioning platform status\n  provisioning platform stop',
    );

  const operations: Array<[PlatformOperation, string, string]> = [
    ['start', 'start services (default: the auto_start ones) and their dependencies, in dependency order, as a workflow', 'provisioning platform start\n  provisioning platform start orchestrator control-center --json\n  provisioning platform start --no-wait'],
    ['stop', 'stop services (default: all running) in reverse dependency order, as a workflow', 'provisioning platform stop\n  provisioning platform stop orchestrator --force'],
    ['restart', 'stop, then start the same services (default: all running)', 'provisioning platform restart\n  provisioning platform restart orchestrator'],
  ];
  for (const [operation, description, examples] of operations) {
    operationCommand(
      platform
        .command(operation)
        .argument('[services...]', 'service names')
        .description(description)
        .addHelpText('after', `\nExit codes: 0 done, 1 a service failed (or pre-flight failed, or stop was refused), 2 bad input.\n\nExamples:\n  ${examples}`),
    ).action((services: string[], opts: OperationOptions) => runOperation(io, operation, services, opts));
  }

  platform
    .command('status')
    .description('show each service\'s status and uptime on this machine')
    .option('--json', 'print JSON')
    .option('--registry <file>', REGISTRY_HELP)
    .action(async (opts: { json?: boolean; registry?: string }) => {
      const registry = await registryFor(io, opts.registry);
      const statuses = await platformStatus(registry, provisioningHome(io.env));
      if (opts.json) printJson(io, { registry: registry.source, services: statuses });
      else io.out(renderPlatformStatus(registry, statuses));
    });

  platform
    .command('health')
    .description('probe the health of every running service')
    .option('--json', 'print JSON')
    .option('--registry <file>', REGISTRY_HELP)
    .addHelpText('after', '\nExit code 1 when a running service is unhealthy.')
    .action(async (opts: { json?: boolean; registry?: string }) => {
      const registry = await registryFor(io, opts.registry);
      const home = provisioningHome(io.env);
      const results = await Promise.all(Object.values(registry.services).map((s) => localHealth(s, home)));
      const count = (status: string) => results.filter((r) => r.status === status).length;
      const summary = { healthy: count('healthy'), unhealthy: count('unhealthy'), notRunning: count('not-running') };
      if (summary.unhealthy > 0) io.exitCode = 1;
      if (opts.json) return printJson(io, { services: results, summary });
      const icon = { healthy: '✅', unhealthy: '❌', 'not-running': '⚪' } as const;
      io.out(
        [
          'Platform Health Check',
          ...results.map((r) => `${icon[r.status]} ${r.name}: ${r.status === 'healthy' ? 'Healthy - ' : r.status === 'unhealthy' ? 'Unhealthy - ' : ''}${r.message}`),
          `Summary: ${summary.healthy} healthy, ${summary.unhealthy} unhealthy, ${summary.notRunning} not running`,
        ].join('\n'),
      );
    });

  platform
    .command('logs')
    .argument('<service>', 'service name')
    .description('show a service\'s log')
    .option('--lines <n>', 'how many lines', parsePositiveInt, 50)
    .option('--follow', 'keep printing new lines until Ctrl-C')
    .option('--registry <file>', REGISTRY_HELP)
    .action(async (name: string, opts: { lines: number; follow?: boolean; registry?: string }) => {
      const registry = await registryFor(io, opts.registry);
      assertServices(registry, [name]);
      const abort = new AbortController();
      const stop = () => abort.abort();
      process.once('SIGINT', stop);
      try {
        await streamLogs(registry.services[name]!, provisioningHome(io.env), opts.lines, Boolean(opts.follow), (l) => io.out(l), abort.signal);
      } finally {
        process.removeListener('SIGINT', stop);
      }
    });
}
