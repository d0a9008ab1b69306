/** Per-service commands: start/stop/restart one service (as platform workflows), its status, health and logs; operation checks and readiness. */
import type { Command } from 'commander';
import { provisioningHome } from '../../config/home.js';
import type { PlatformOperation } from '../../model/platform.js';
import { printJson, type Io } from '../io.js';
import { parsePositiveInt } from '../options.js';
import { assertServices, registryFor } from '../registry.js';
import { operationCommand, platformName, REGISTRY_HELP, registerLogsCommand, runOperation, withSupervision } from './platform.js';
import { parsePositiveNumber } from '../options.js';
import { addTemporalOptions, apiContext, connect, type TemporalOptions } from '../temporal-options.js';
import { UsageError } from '../../config/errors.js';
import type { HealthCheckRecord } from '../../model/supervisor.js';

// Loaded when a command runs, so `--help` and the local commands start fast.
const localServices = () => import('../../api/local.js');
const supervision = () => import('../../api/services.js');

interface MonitorOptions extends TemporalOptions {
  interval?: number;
  count?: number;
  json?: boolean;
  pause?: boolean;
  resume?: boolean;
  stop?: boolean;
  restart?: boolean;
  platform?: string;
  registry?: string;
}

/** "2025-10-06 14:30:00", local time, as in the seeds' guide. */
function timestamp(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

function checkLine(name: string, check: HealthCheckRecord): string {
  return `${timestamp(check.at)} ${check.healthy ? '✅' : '❌'} ${name}: ${check.message}`;
}

export function registerServiceOperations(services: Command, io: Io): void {
  const operations: Array<[PlatformOperation, string]> = [
    ['start', 'start a service after pre-flight checks, starting its dependencies first'],
    ['stop', 'stop a service; refused while services that depend on it run, unless --force'],
    ['restart', 'stop and start a service'],
  ];
  for (const [operation, description] of operations) {
    operationCommand(
      services
        .command(operation)
        .argument('<service>', 'service name')
        .description(description)
        .addHelpText('after', `\nExit codes: 0 done, 1 failed (or refused), 2 bad input.\n\nExamples:\n  provisioning services ${operation} orchestrator\n  provisioning services ${operation} orchestrator --json${operation === 'stop' ? '\n  provisioning services stop orchestrator --force   # even though its dependents run' : ''}`),
    ).action(
      (name: string, opts: Parameters<typeof runOperation>[3]) => runOperation(io, operation, [name], opts),
    );
  }

  addTemporalOptions(
    services
      .command('status')
      .argument('<service>', 'service name')
      .description('show a service\'s status, PID or container, uptime, restarts and health')
      .option('--json', 'print JSON (with pid and restarts)')
      .addHelpText('after', '\nExamples:\n  provisioning services status orchestrator\n  provisioning services status orchestrator --json')
      .option('--platform <name>', 'platform name (default: $PROVISIONING_PLATFORM or "default")')
      .option('--registry <file>', REGISTRY_HELP),
  ).action(async (name: string, opts: TemporalOptions & { json?: boolean; registry?: string; platform?: string }) => {
      const registry = await registryFor(io, opts.registry);
      assertServices(registry, [name]);
      const home = provisioningHome(io.env);
      const { localHealth, localStatus } = await localServices();
      const [local, health] = await Promise.all([localStatus(registry.services[name]!, home), localHealth(registry.services[name]!, home)]);
      const [status] = await withSupervision(io, opts, { ...registry, services: { [name]: registry.services[name]! } }, [local]);
      if (!status) return;
      if (opts.json) return printJson(io, { ...status, pid: status.pid ?? null, health: health.status });
      io.out(
        [
          `Service: ${status.name}`,
          `Type: ${status.type}`,
          `Category: ${status.category}`,
          `Status: ${status.status} (${status.detail})`,
          `Deployment: ${status.mode}`,
          `Health: ${health.status}`,
          `Auto-start: ${status.autoStart}`,
          ...(status.pid !== undefined ? [`PID: ${status.pid}`] : []),
          ...(status.containerId ? [`Container: ${status.containerId.slice(0, 12)}`] : []),
          ...(status.uptimeSeconds !== undefined ? [`Uptime: ${status.uptimeSeconds}s`] : []),
          `Restarts: ${status.restarts ?? 'unknown (Temporal not reachable)'}`,
          `Supervision: ${status.supervision ?? 'unknown (Temporal not reachable)'}`,
          `Dependencies: [${status.dependencies.join(', ')}]`,
        ].join('\n'),
      );
    });

  services
    .command('health')
    .argument('<service>', 'service name')
    .description('run the service\'s health check once')
    .option('--json', 'print JSON')
    .option('--registry <file>', REGISTRY_HELP)
    .addHelpText('after', '\nExit code 1 when the service is not healthy.\n\nExamples:\n  provisioning services health orchestrator\n  provisioning services health orchestrator --json')
    .action(async (name: string, opts: { json?: boolean; registry?: string }) => {
      const registry = await registryFor(io, opts.registry);
      assertServices(registry, [name]);
      const health = await (await localServices()).localHealth(registry.services[name]!, provisioningHome(io.env));
      if (!health.healthy) io.exitCode = 1;
      if (opts.json) return printJson(io, health);
      io.out(
        [`Service: ${name}`, `Status: ${health.status}`, `Healthy: ${health.healthy}`, `Message: ${health.message}`, `Check type: ${health.checkType}`, ...(health.durationMs !== undefined ? [`Check duration: ${Math.round(health.durationMs)}ms`] : [])].join('\n'),
      );
    });

  registerLogsCommand(services, io);

  addTemporalOptions(
    services
      .command('monitor')
      .argument('<service>', 'service name')
      .description('supervise a service durably and print a line per health check until Ctrl-C')
      .option('--interval <seconds>', 'seconds between checks (default: the health check\'s interval)', parsePositiveNumber)
      .option('--count <n>', 'stop watching after this many checks', parsePositiveInt)
      .option('--json', 'print each check as a JSON line')
      .option('--pause', 'pause the running supervisor (no checks, no restarts) and exit')
      .option('--resume', 'resume a paused supervisor and exit')
      .option('--restart', 'restart the service through its supervisor now; returns when it is healthy or failed')
      .option('--stop', 'stop supervising (the service keeps running) and exit')
      .option('--platform <name>', 'platform name (default: $PROVISIONING_PLATFORM or "default")')
      .option('--registry <file>', REGISTRY_HELP)
      .addHelpText(
        'after',
        '\nSupervision is a workflow (service/<platform>/<name>) that goes on after Ctrl-C: it checks health every interval and, with restart_on_failure, restarts the service with back-off, at most max_restarts times in 10 minutes.\n\nExamples:\n  provisioning services monitor orchestrator\n  provisioning services monitor orchestrator --interval 10\n  provisioning services monitor orchestrator --restart\n  provisioning services monitor orchestrator --stop',
      ),
  ).action(async (name: string, opts: MonitorOptions) => {
    const registry = await registryFor(io, opts.registry);
    assertServices(registry, [name]);
    const actions = (['pause', 'resume', 'stop', 'restart'] as const).filter((a) => opts[a]);
    if (actions.length > 1) throw new UsageError(`--${actions.join(' and --')} cannot be combined`, 'give one action at a time');
    const platform = platformName(io, opts.platform);
    const connected = await connect(io, opts);
    const ctx = apiContext(io, connected, opts);
    try {
      const api = await supervision();
      const action = actions[0];
      if (action === 'restart') {
        const outcome = await api.restartService(ctx, platform, name);
        if (!outcome.healthy) io.exitCode = 1;
        return opts.json ? printJson(io, outcome) : io.out(`${outcome.healthy ? '✅' : '❌'} ${name}: ${outcome.message}`);
      }
      if (action) {
        await { pause: api.pauseSupervision, resume: api.resumeSupervision, stop: api.stopSupervision }[action](ctx, platform, name);
        return io.out(`${name}: ${{ pause: 'supervision paused', resume: 'supervision resumed', stop: 'no longer supervised (the service keeps running)' }[action]}`);
      }
      const service = registry.services[name]!;
      const interval = opts.interval ?? service.health_check.interval;
      if (!opts.json) io.out(`Starting health monitoring for ${name} (interval: ${interval}s)\nPress Ctrl+C to stop watching; supervision goes on (end it with: provisioning services monitor ${name} --stop)`);
      const abort = new AbortController();
      const stop = () => abort.abort();
      process.once('SIGINT', stop);
      try {
        const monitor = await api.monitorService(ctx, { platform, service, home: provisioningHome(io.env), ...(opts.interval !== undefined ? { intervalSeconds: opts.interval } : {}), ...(registry.alerts ? { alerts: registry.alerts.webhooks } : {}) });
        const events = monitor.events({ signal: abort.signal, ...(opts.count !== undefined ? { count: opts.count } : {}) });
        let next = await events.next();
        for (; !next.done; next = await events.next()) {
          const event = next.value;
          if (event.kind === 'check') io.out(opts.json ? JSON.stringify({ service: name, ...event.check }) : checkLine(name, event.check));
          else if (!opts.json) io.out(`${timestamp(Date.now())} ${name}: ${event.state.status}${event.state.reason ? ` (${event.state.reason})` : ''}, restarts: ${event.state.restarts}`);
        }
        const final = next.value;
        if (final?.status === 'failed') {
          io.exitCode = 1;
          if (!opts.json) io.out(`${name} failed: ${final.reason ?? 'unknown reason'}`);
        }
      } finally {
        process.removeListener('SIGINT', stop);
      }
    } finally {
      await connected.close();
    }
  });

  services
    .command('check')
    .argument('<operation>', 'an operation such as server, taskserv, cluster')
    .description('which services an operation needs (their required_for) and whether they run')
    .option('--json', 'print JSON')
    .option('--registry <file>', REGISTRY_HELP)
    .addHelpText('after', '\nExit code 1 when a required service is not running.\n\nExample:\n  provisioning services check server')
    .action(async (operation: string, opts: { json?: boolean; registry?: string }) => {
      const registry = await registryFor(io, opts.registry);
      const { required: statuses, allRunning, knownOperations: known } = await (await localServices()).requiredFor(registry, operation, provisioningHome(io.env));
      if (!allRunning) io.exitCode = 1;
      if (opts.json) {
        return printJson(io, { operation, required: statuses.map((s) => ({ name: s.name, running: s.status === 'running', autoStart: s.autoStart })), allRunning, knownOperations: known });
      }
      io.out(
        [
          `Operation: ${operation}`,
          `Required services: ${statuses.map((s) => s.name).join(', ') || `none (operations the registry knows: ${known.join(', ') || 'none'})`}`,
          ...statuses.map((s) => `  ${s.status === 'running' ? '🟢' : '⚪'} ${s.name}: ${s.status}${s.status !== 'running' && s.autoStart ? ' (auto_start: provisioning platform start starts it)' : ''}`),
          `All running: ${allRunning}`,
        ].join('\n'),
      );
    });

  services
    .command('readiness')
    .description('platform readiness: what runs, what is ready to start, what has issues')
    .addHelpText('after', '\nExamples:\n  provisioning services readiness\n  provisioning services readiness --json')
    .option('--json', 'print JSON')
    .option('--registry <file>', REGISTRY_HELP)
    .action(async (opts: { json?: boolean; registry?: string }) => {
      const registry = await registryFor(io, opts.registry);
      const { services: rows, ...summary } = await (await localServices()).readiness(registry, provisioningHome(io.env));
      if (opts.json) return printJson(io, { ...summary, services: rows });
      const icon = { running: '🟢', ready: '🟡', issues: '🔴' } as const;
      io.out(
        [
          'Platform Readiness Report',
          `Total services: ${summary.total}`,
          `Running: ${summary.running}`,
          `Ready to start: ${summary.readyToStart}`,
          'Services:',
          ...rows.map((r) => `${icon[r.state]} ${r.name} - ${r.type} - ${r.category}${r.issues.length ? `: ${r.issues.join('; ')}` : ''}`),
          `Issues: ${summary.issues}`,
        ].join('\n'),
      );
    });
}
