/**
 * `platform monitor`, `platform metrics` and `platform versions`: the whole platform at a
 * glance, read from this machine and from the services' supervisors (their queries), like
 * `platform status`; they change nothing.
 */
import type { Command } from 'commander';
import { UsageError } from '../../config/errors.js';
import { provisioningHome } from '../../config/home.js';
import type { Registry } from '../../config/registry-schema.js';
import { packageRoot } from '../../config/shipped.js';
import { printJson, type Io } from '../io.js';
import { parsePositiveInt, parsePositiveNumber } from '../options.js';
import { assertServices, registryFor } from '../registry.js';
import { addTemporalOptions, connect, type Connected, type TemporalOptions } from '../temporal-options.js';
import { platformName, REGISTRY_HELP } from './platform.js';

const localServices = () => import('../../api/local.js');
const supervision = () => import('../../api/services.js');

interface ObserveOptions extends TemporalOptions {
  json?: boolean;
  platform?: string;
  registry?: string;
}

interface MonitorOptions extends ObserveOptions {
  interval: number;
  category?: string[];
  service?: string;
  count?: number;
}

/** The services the --category filter keeps; an unknown category is a usage error naming the known ones. */
function byCategory(registry: Registry, categories: string[] | undefined): string[] {
  const names = Object.keys(registry.services);
  if (!categories || categories.length === 0) return names;
  const known = [...new Set(Object.values(registry.services).map((s) => s.category))];
  const unknown = categories.filter((c) => !known.includes(c));
  if (unknown.length > 0) throw new UsageError(`--category ${unknown.join(', ')}: no service of ${registry.source} is in ${unknown.length > 1 ? 'these categories' : 'this category'}`, `use one of ${known.join(', ')}`);
  return names.filter((n) => categories.includes(registry.services[n]!.category));
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

async function readOwnVersion(): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  const path = await import('node:path');
  return (JSON.parse(await readFile(path.join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version;
}

export function registerObserveCommands(platform: Command, io: Io): void {
  addTemporalOptions(
    platform
      .command('monitor')
      .description('a live view of every service: state, health with the last check and its latency, PID or container, uptime, restarts, supervision, and what each stopped service waits on')
      .option('--interval <seconds>', 'seconds between refreshes', parsePositiveNumber, 5)
      .option('--category <name>', 'only services of this category (repeatable)', collect)
      .option('--service <name>', 'also show this service\'s recent checks')
      .option('--count <n>', 'stop after this many refreshes (default: until q or Ctrl-C)', parsePositiveInt)
      .option('--json', 'print one JSON line per refresh: { at, platform, temporal, services: [...] }')
      .option('--platform <name>', 'platform name (default: $PROVISIONING_PLATFORM or "default")')
      .option('--registry <file>', REGISTRY_HELP)
      .addHelpText(
        'after',
        '\nOn a terminal the view is redrawn in place; q or Ctrl-C quits. Otherwise it prints a\ntimestamped line for each service whose state, health, restarts or supervision changed\n(every service on the first refresh). Health is the supervisor\'s last check; a running\nservice without a supervisor is probed at each refresh.\n\nExamples:\n  provisioning platform monitor --interval 5\n  provisioning platform monitor --category infrastructure --service redis\n  provisioning platform monitor --json --count 1 | jq \'.services[] | {service, health}\'',
      ),
  ).action((opts: MonitorOptions) => monitor(io, opts));

  addTemporalOptions(
    platform
      .command('metrics')
      .description('each supervised service\'s uptime, restarts, time to healthy, and check success rate and latency over the supervisor\'s recent checks')
      .option('--service <name>', 'only this service')
      .option('--json', 'print JSON: { platform, services: [{ service, supervised, status, uptimeSeconds, restarts, timeToHealthyMs, checks, windowSeconds, successRate, latencyMs: { mean, p95, max } }] }')
      .option('--platform <name>', 'platform name (default: $PROVISIONING_PLATFORM or "default")')
      .option('--registry <file>', REGISTRY_HELP)
      .addHelpText('after', '\nThe figures come from the services\' supervisors (restart_on_failure services after a platform\nstart, or any service under "services monitor"), so Temporal must answer.\n\nExamples:\n  provisioning platform metrics\n  provisioning platform metrics --service orchestrator --json'),
  ).action(async (opts: ObserveOptions & { service?: string }) => {
    const registry = await registryFor(io, opts.registry);
    if (opts.service) assertServices(registry, [opts.service]);
    const names = opts.service ? [opts.service] : Object.keys(registry.services);
    const platform = platformName(io, opts.platform);
    const connected = await connect(io, opts);
    try {
      const metrics = await (await supervision()).platformMetrics(connected.client, platform, names);
      if (opts.json) return printJson(io, { platform, services: metrics });
      io.out((await import('../render/metrics.js')).renderMetrics(metrics));
    } finally {
      await connected.close();
    }
  });

  addTemporalOptions(
    platform
      .command('versions')
      .description('each service\'s version as its mode knows it, and this tool\'s and the Temporal server\'s')
      .option('--json', 'print JSON: { provisioning, temporal: { address, version }, services: [{ service, mode, version, source, digest?, note? }] }')
      .option('--registry <file>', REGISTRY_HELP)
      .addHelpText(
        'after',
        '\nbinary: the first line binary_path prints with deployment.binary.version_args (e.g. ["--version"]);\ndocker: the image tag and its digest; docker-compose: the service\'s image in the compose file;\nkubernetes: helm_chart.version; any mode whose HTTP health check answers JSON with a\n"version" field gives that when its mode does not say (remote services).\n\nExamples:\n  provisioning platform versions\n  provisioning platform versions --json | jq \'.services[] | {service, version}\'',
      ),
  ).action(async (opts: ObserveOptions) => {
    const registry = await registryFor(io, opts.registry);
    const [own, versions, temporal] = await Promise.all([readOwnVersion(), (await localServices()).localVersions(registry), temporalVersion(io, opts)]);
    if (opts.json) return printJson(io, { provisioning: own, temporal, services: versions });
    io.out((await import('../render/metrics.js')).renderVersions(own, temporal, versions));
  });
}

async function temporalVersion(io: Io, opts: TemporalOptions): Promise<{ address: string; version: string | null; error?: string }> {
  let connected: Connected;
  try {
    connected = await connect(io, opts, { quick: true });
  } catch (err) {
    const { connectSettings } = await import('../../temporal/connection.js');
    return { address: connectSettings({ ...(opts.address ? { address: opts.address } : {}) }).address, version: null, error: (err as Error).message.split(': ')[1] ?? 'not reachable' };
  }
  try {
    return { address: connected.settings.address, version: await (await import('../../api/workers.js')).temporalServerVersion(connected.client) };
  } finally {
    await connected.close();
  }
}

async function monitor(io: Io, opts: MonitorOptions): Promise<void> {
  const registry = await registryFor(io, opts.registry);
  if (opts.service) assertServices(registry, [opts.service]);
  const names = byCategory(registry, opts.category);
  const platform = platformName(io, opts.platform);
  const home = provisioningHome(io.env);
  const [local, api, render] = await Promise.all([localServices(), supervision(), import('../render/monitor.js')]);
  const connected = await connect(io, opts, { quick: true }).catch(() => undefined);

  const wanted = opts.service && !names.includes(opts.service) ? [...names, opts.service] : names;
  // Supervisors' watches heartbeat once a minute unless watched: a live view at this refresh interval while the monitor runs.
  const keepLive = connected ? api.liveViewsKeeper(connected.client, platform, wanted, opts.interval) : async () => {};
  const refresh = async () => {
    await keepLive();
    const [statuses, views] = await Promise.all([
      Promise.all(wanted.map((n) => local.localStatus(registry.services[n]!, home))),
      connected ? api.supervisorViews(connected.client, platform, wanted).catch(() => undefined) : Promise.resolve(undefined),
    ]);
    const running = new Set(statuses.filter((s) => s.status === 'running').map((s) => s.name));
    // A running service without a supervisor's check is probed now.
    const probed = await Promise.all(statuses.map((s) => (s.status === 'running' && !views?.get(s.name)?.checks.length ? local.localHealth(registry.services[s.name]!, home) : Promise.resolve(undefined))));
    const rows = statuses.map((s, i) => render.monitorRow(s, views?.get(s.name), probed[i], views !== undefined, running)).filter((r) => names.includes(r.service));
    const frame: import('../render/monitor.js').MonitorFrame = { at: Date.now(), platform, registry: registry.source, temporal: views !== undefined, services: rows };
    if (opts.service) frame.checks = { service: opts.service, checks: views?.get(opts.service)?.checks ?? [] };
    return frame;
  };

  const live = io.isTTY && !opts.json;
  const stdin = process.stdin;
  const keys = live && stdin.isTTY;
  const abort = new AbortController();
  const onKey = (key: Buffer) => {
    const k = key.toString();
    if (k === 'q' || k === 'Q' || k === '\u0003' || k === '\u001b') abort.abort();
  };
  const onSigint = () => abort.abort();
  process.once('SIGINT', onSigint);
  if (keys) {
    stdin.setRawMode(true);
    stdin.resume();
    stdin.on('data', onKey);
  }
  if (live) io.out('\x1b[?25l');
  const seen = new Map<string, string>();
  try {
    for (let n = 0; !abort.signal.aborted && (opts.count === undefined || n < opts.count); n++) {
      if (n > 0) {
        const { setTimeout: sleep } = await import('node:timers/promises');
        await sleep(opts.interval * 1000, undefined, { signal: abort.signal }).catch(() => undefined);
        if (abort.signal.aborted) break;
      }
      const frame = await refresh();
      if (opts.json) io.out(JSON.stringify(frame));
      else if (live) io.out(`\x1b[H\x1b[J${render.renderFrame(frame, opts.interval, process.stdout.columns || 200)}`);
      else {
        for (const row of frame.services) {
          const key = render.rowKey(row);
          if (seen.get(row.service) === key) continue;
          seen.set(row.service, key);
          io.out(render.changeLine(row, frame.at));
        }
      }
    }
  } finally {
    process.removeListener('SIGINT', onSigint);
    if (keys) {
      stdin.off('data', onKey);
      stdin.setRawMode(false);
      stdin.pause();
    }
    if (live) io.out('\x1b[?25h');
    await connected?.close();
  }
}
