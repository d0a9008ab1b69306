/** `provisioning platform ...`: start, stop and restart as workflows; status, health and logs read locally. */
import type { Command } from 'commander';
import { assertPlatformName } from '../../api/validate.js';
import { nothingToStart } from '../../api/platform-plan.js';
import { provisioningHome } from '../../config/home.js';
import type { Registry } from '../../config/registry-schema.js';
import type { PlatformOperation } from '../../model/platform.js';
import { printJson, type Io } from '../io.js';
import type { LocalStatus, SupervisedStatus } from '../../api/local.js';
import { parseHost, parsePositiveInt, parsePositiveNumber } from '../options.js';
import { assertServices, registryFor } from '../registry.js';
import { addTemporalOptions, connect, withApi, type TemporalOptions } from '../temporal-options.js';
import { registerObserveCommands } from './platform-observe.js';

const localServices = () => import('../../api/local.js');
const supervision = () => import('../../api/services.js');

export const REGISTRY_HELP = 'service registry file (default: $PROVISIONING_REGISTRY, the config file\'s registry, ./provisioning/services.toml, ~/.provisioning/services.toml)';

interface OperationOptions extends TemporalOptions {
  registry?: string;
  force?: boolean;
  json?: boolean;
  wait: boolean;
  platform?: string;
  grace?: number;
  host?: string;
}

export function platformName(io: Io, flag: string | undefined): string {
  const name = flag ?? io.env.PROVISIONING_PLATFORM ?? 'default';
  assertPlatformName(name);
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
      .option('--registry <file>', REGISTRY_HELP)
      .option('--host <name>', 'run the services on this host\'s workers (default: the host of the worker that takes the run)', parseHost),
  );
}

export async function runOperation(io: Io, operation: PlatformOperation, services: string[], opts: OperationOptions): Promise<void> {
  const registry = await registryFor(io, opts.registry);
  assertServices(registry, services);
  const idle = operation === 'start' ? nothingToStart(registry, services) : undefined;
  if (idle) {
    // Nothing would start: say why instead of running a workflow that does nothing.
    const { why, fix: what } = idle;
    if (opts.json) return printJson(io, { workflowId: null, ok: true, services: [], nothingToDo: why, fix: what });
    io.out(`Nothing to start: ${why}.
  To start services: ${what}.`);
    return;
  }
  const { runPlatformOperation } = await import('../platform-runner.js');
  await runPlatformOperation(io, {
    operation,
    platform: platformName(io, opts.platform),
    registry,
    services,
    force: Boolean(opts.force),
    ...(opts.grace !== undefined ? { graceSeconds: opts.grace } : {}),
    ...(opts.host !== undefined ? { host: opts.host } : {}),
    home: provisioningHome(io.env),
    wait: opts.wait,
    json: Boolean(opts.json),
    temporal: opts,
  });
}

interface StatusOptions extends TemporalOptions {
  json?: boolean;
  platform?: string;
  registry?: string;
}

export type { SupervisedStatus };

/** Each service's supervisor state; undefined when Temporal does not answer (then the SDK is not even loaded). */
async function supervisionStates(io: Io, opts: TemporalOptions, platform: string, services: string[]) {
  const connected = await connect(io, opts, { quick: true }).catch(() => undefined);
  if (!connected) return undefined;
  try {
    return await (await supervision()).supervisionOf(connected.client, platform, services);
  } finally {
    await connected.close();
  }
}

/** Adds each service's restart count and supervisor status; null when Temporal does not answer. */
export async function withSupervision(io: Io, opts: StatusOptions, registry: Registry, statuses: LocalStatus[]): Promise<SupervisedStatus[]> {
  const states = await supervisionStates(io, opts, platformName(io, opts.platform), Object.keys(registry.services));
  return (await localServices()).withSupervision(statuses, states);
}

function statusLine(s: SupervisedStatus): string {
  const icon = s.status === 'running' ? '🟢' : s.status === 'stopped' ? '⚪' : '❓';
  const uptime = s.uptimeSeconds !== undefined ? `uptime: ${s.uptimeSeconds}s` : '';
  const restarts = s.restarts ? `restarts: ${s.restarts}` : '';
  const supervised = s.supervision && s.supervision !== 'not supervised' ? `supervised: ${s.supervision}` : '';
  const extra = [uptime, restarts, supervised].filter(Boolean).join(', ');
  return `${icon} ${s.name} - ${s.status === 'running' ? 'running' : s.detail}${extra ? ` (${extra})` : ''}`;
}

export function renderPlatformStatus(registry: Registry, statuses: SupervisedStatus[]): string {
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
    .addHelpText(
      'after',
      '\nExamples:\n  provisioning platform start --registry examples/platform/services.toml\n  provisioning platform start api-gateway          # and what it depends on\n  provisioning platform status\n  provisioning platform stop',
    );

  const operations: Array<[PlatformOperation, string, string]> = [
    ['start', 'start services (default: the auto_start ones) and their dependencies, in dependency order, as a workflow', 'provisioning platform start\n  provisioning platform start orchestrator control-center --json\n  provisioning platform start --no-wait'],
    ['stop', 'stop services (default: all running) in reverse dependency order, as a workflow', 'provisioning platform stop\n  provisioning platform stop orchestrator --force'],
    ['restart', 'stop, then start the same services (default: all running)', 'provisioning platform restart\n  provisioning platform restart orchestrator'],
    ['update', 'rolling restart: each running service (default: all) in dependency order, one at a time, healthy before the next; stops at the first failure', 'provisioning platform update\n  provisioning platform update orchestrator control-center --json'],
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

  addTemporalOptions(
    platform
      .command('status')
      .description('show each service\'s status, uptime and restart count on this machine')
      .addHelpText('after', '\nExamples:\n  provisioning platform status\n  provisioning platform status --json | jq \'.services[] | {name, status, restarts}\'')
      .option('--json', 'print JSON')
      .option('--platform <name>', 'platform name (default: $PROVISIONING_PLATFORM or "default")')
      .option('--registry <file>', REGISTRY_HELP),
  ).action(async (opts: StatusOptions) => {
    const registry = await registryFor(io, opts.registry);
    const statuses = await withSupervision(io, opts, registry, await (await localServices()).platformStatus(registry, provisioningHome(io.env)));
    if (opts.json) printJson(io, { registry: registry.source, services: statuses });
    else io.out(renderPlatformStatus(registry, statuses));
  });

  addTemporalOptions(
    platform
      .command('health')
      .description('probe the health of every running service')
      .option('--json', 'print JSON')
      .option('--platform <name>', 'platform name (default: $PROVISIONING_PLATFORM or "default")')
      .option('--registry <file>', REGISTRY_HELP)
      .addHelpText('after', '\nExit code 1 when a running service is unhealthy.\n\nExamples:\n  provisioning platform health\n  provisioning platform health --json'),
  ).action(async (opts: StatusOptions) => {
      const registry = await registryFor(io, opts.registry);
      const home = provisioningHome(io.env);
      const names = Object.keys(registry.services);
      const { localHealth } = await localServices();
      const [probed, states] = await Promise.all([
        Promise.all(Object.values(registry.services).map((s) => localHealth(s, home))),
        supervisionStates(io, opts, platformName(io, opts.platform), names),
      ]);
      const results = probed.map((r) => (states?.get(r.name)?.status === 'restarting' ? { ...r, status: 'restarting' as const } : r));
      const count = (status: string) => results.filter((r) => r.status === status).length;
      const summary = { healthy: count('healthy'), unhealthy: count('unhealthy'), notRunning: count('not-running'), restarting: count('restarting') };
      if (summary.unhealthy > 0) io.exitCode = 1;
      if (opts.json) return printJson(io, { services: results, summary });
      const icon = { healthy: '✅', unhealthy: '❌', 'not-running': '⚪', restarting: '🔄' } as const;
      const label = { healthy: 'Healthy - ', unhealthy: 'Unhealthy - ', 'not-running': '', restarting: 'Restarting - ' } as const;
      io.out(
        [
          'Platform Health Check',
          ...results.map((r) => `${icon[r.status]} ${r.name}: ${label[r.status]}${r.message}`),
          `Summary: ${summary.healthy} healthy, ${summary.unhealthy} unhealthy, ${summary.notRunning} not running, ${summary.restarting} restarting`,
        ].join('\n'),
      );
    });

  addTemporalOptions(
    platform
      .command('analyze')
      .argument('[id]', 'workflow id or run id of a finished start or restart (default: the newest completed start of the platform)')
      .description('why was the start slow: the critical chain of a finished start, from its history')
      .option('--platform <name>', 'platform name (default: $PROVISIONING_PLATFORM or "default")')
      .option('--json', 'print JSON: { workflowId, runId, chain: { links, totalMs, lowerBoundMs } }')
      .addHelpText('after', '\nEach service on the chain with @offset (start of the run to healthy) and +duration (spawn to\nhealthy), and the wait between the dependency it waited for last turning healthy and its own\nspawn; the lower bound is the longest chain of spawn-to-healthy times.\n\nExamples:\n  provisioning platform analyze\n  provisioning platform analyze platform/default --json\n  provisioning platform analyze 0199a7c2-5b1e-7d3a-9f1c-2b4e6d8f0a1c'),
  ).action((id: string | undefined, opts: TemporalOptions & { platform?: string; json?: boolean }) =>
    withApi(io, opts, async (ctx) => {
      const analysis = await (await import('../../api/platform-analyze.js')).analyzeStart(ctx, id, platformName(io, opts.platform));
      if (opts.json) return printJson(io, analysis);
      io.out((await import('../render/chain.js')).renderChain(analysis));
    }),
  );

  registerObserveCommands(platform, io);
  registerLogsCommand(platform, io);
}

/** `logs <service> [--lines N] [--follow]`, under both `platform` and `services`. */
export function registerLogsCommand(parent: Command, io: Io): void {
  parent
    .command('logs')
    .argument('<service>', 'service name')
    .description('show a service\'s log')
    .option('--lines <n>', 'how many lines', parsePositiveInt, 50)
    .option('--follow', 'keep printing new lines until Ctrl-C')
    .option('--registry <file>', REGISTRY_HELP)
    .addHelpText('after', `\nExamples:\n  provisioning ${parent.name()} logs orchestrator\n  provisioning ${parent.name()} logs orchestrator --lines 200\n  provisioning ${parent.name()} logs orchestrator --follow`)
    .action(async (name: string, opts: { lines: number; follow?: boolean; registry?: string }) => {
      const registry = await registryFor(io, opts.registry);
      assertServices(registry, [name]);
      const abort = new AbortController();
      const stop = () => abort.abort();
      process.once('SIGINT', stop);
      try {
        await (await localServices()).streamLogs(registry.services[name]!, provisioningHome(io.env), opts.lines, Boolean(opts.follow), (l) => io.out(l), abort.signal);
      } finally {
        process.removeListener('SIGINT', stop);
      }
    });
}
