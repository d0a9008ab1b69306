/** `provisioning server|taskserv|cluster ...`: provisioning workflows from a settings file. */
import type { Command } from 'commander';
import { findRegistry } from '../../config/discovery.js';
import { UsageError } from '../../config/errors.js';
import { provisioningHome } from '../../config/home.js';
import { loadRegistry } from '../../config/registry.js';
import type { Registry } from '../../config/registry-schema.js';
import type { Settings } from '../../config/settings-schema.js';
import { loadSettings } from '../../config/settings.js';
import { loadEnvCatalog } from '../../config/testenv.js';
import type { ServerCreateView } from '../../api/servers.js';
import type { ServerCreateResult, ServerProgress } from '../../model/servers.js';
import { printJson, type Io } from '../io.js';
import { outcomeOf } from '../outcome.js';
import { renderTable } from '../render/table.js';
import { addTemporalOptions, apiContext, connect, type TemporalOptions } from '../temporal-options.js';
import { parseHost } from '../options.js';
import { platformName } from './platform.js';

const serversApi = () => import('../../api/servers.js');

interface ServerOptions extends TemporalOptions {
  settings?: string;
  infra?: string;
  check?: boolean;
  wait: boolean;
  json?: boolean;
  registry?: string;
  platform?: string;
  host?: string;
}

export async function settingsFor(io: Io, opts: { settings?: string; infra?: string }): Promise<Settings> {
  if (!opts.settings) throw new UsageError('no settings file given', 'pass --settings FILE (for example --settings examples/infra/settings.yaml)');
  const settings = await loadSettings(opts.settings.startsWith('/') ? opts.settings : `${io.cwd}/${opts.settings}`, io.env);
  if (opts.infra && opts.infra !== settings.infra) {
    throw new UsageError(`${settings.source} describes infra "${settings.infra}", not "${opts.infra}"`, `pass --infra ${settings.infra}, or the settings file of ${opts.infra}`);
  }
  return settings;
}

/** The registry for required services: the one named, or one that is found; none is fine. */
async function optionalRegistry(io: Io, flag: string | undefined): Promise<Registry | undefined> {
  try {
    return await loadRegistry(findRegistry({ ...(flag ? { flag } : {}), env: io.env, cwd: io.cwd }).file, io.env);
  } catch (err) {
    if (flag) throw err;
    return undefined;
  }
}

function serverLine(s: ServerProgress): string {
  const icon = { ready: '✅', failed: '❌', 'rolled-back': '↩', cancelled: '⛔' }[s.state as string] ?? '…';
  const taskservs = s.taskservs.map((t) => `${t.name}:${t.state}`).join(' ');
  return `${icon} ${s.hostname}: ${s.state}${s.created === false ? ' (existed)' : ''}${taskservs ? ` [${taskservs}]` : ''}${s.error ? `\n   ${s.error.split('\n').join('\n   ')}` : ''}`;
}

/** Prints a line each time a server's state changes. */
function printChanges(io: Io, view: ServerCreateView, seen: Map<string, string>): void {
  for (const server of view.servers) {
    const line = server.detail ? serverLine(server.detail) : `… ${server.hostname}: ${server.state}`;
    if (seen.get(server.hostname) !== line) io.out(`${new Date().toISOString().slice(11, 19)} ${line}`);
    seen.set(server.hostname, line);
  }
}

async function runServerWorkflow(io: Io, type: 'serverCreate' | 'clusterCreate', servers: string[], opts: ServerOptions): Promise<void> {
  const settings = await settingsFor(io, opts);
  const api = await serversApi();
  await api.checkServerCreate({ settings, servers, check: Boolean(opts.check) });
  const registry = await optionalRegistry(io, opts.registry);
  const request = { settings, servers, check: Boolean(opts.check), ...(opts.host !== undefined ? { host: opts.host } : {}), ...(registry ? { registry, home: provisioningHome(io.env), platform: platformName(io, opts.platform) } : {}) };
  const connected = await connect(io, opts);
  try {
    const run = await (type === 'clusterCreate' ? api.createCluster : api.createServers)(apiContext(io, connected, opts), request);
    (opts.json ? io.err : io.out)(`Workflow ${run.workflowId}${run.webUi ? `\nWeb UI: ${run.webUi}` : ''}`);
    if (!opts.wait) return void (opts.json && printJson(io, { workflowId: run.workflowId }));
    // Check mode only plans: its per-server progress lines would all read "queued".
    if (!opts.json && !opts.check) {
      const seen = new Map<string, string>();
      for await (const view of run.progress({ intervalMs: 400 })) printChanges(io, view, seen);
    }
    const result: ServerCreateResult = await outcomeOf(io, run.result());
    if (opts.json) return printJson(io, { workflowId: run.workflowId, ...result });
    if (result.plan) {
      const lines = [`Plan for infra ${result.infra} (check mode: nothing was changed)`];
      for (const s of result.plan.servers) lines.push(`  ${s.exists ? '=' : '+'} ${s.hostname} (${s.provider}): ${s.exists ? 'exists' : 'would be created'}; taskservs: ${s.taskservOrder.join(' -> ') || 'none'}`);
      for (const r of result.plan.requiredServices) lines.push(`  required service ${r.name}: ${r.running ? 'running' : r.autoStart ? 'would be started' : 'NOT running (not auto_start)'}`);
      return io.out(lines.join('\n'));
    }
    io.out([...result.servers.map(serverLine), `${result.ok ? 'Done' : 'Failed'}: ${result.servers.filter((s) => s.state === 'ready').length}/${result.servers.length} servers ready`].join('\n'));
  } finally {
    await connected.close();
  }
}

function withSettingsOptions(command: Command): Command {
  return addTemporalOptions(
    command
      .option('--settings <file>', 'infrastructure settings (YAML)')
      .option('--infra <name>', 'infra name (must match the settings)')
      .option('--json', 'print JSON')
      .option('--no-wait', 'submit the workflow and return at once'),
  );
}

export function registerServerCommands(program: Command, io: Io): void {
  const server = program.command('server');
  withSettingsOptions(
    server
      .command('create')
      .argument('[servers...]', 'hostnames (default: every server of the settings)')
      .description('create servers through their provider and install their taskservs in dependency order')
      .option('--check', 'check mode: print the plan (what exists, taskserv order, required services) and change nothing')
      .option('--registry <file>', 'service registry, to ensure the services the "server" operation requires')
      .option('--platform <name>', 'platform of those services (default: $PROVISIONING_PLATFORM or "default")')
      .option('--host <name>', 'make the servers through this host\'s workers (its Docker engine, for the docker provider; default: the host of the worker that takes the run)', parseHost)
      .addHelpText('after', '\nExit codes: 0 all servers ready, 1 a server failed, 2 bad input (nothing created).\n\nExamples:\n  provisioning server create --settings examples/infra/settings.yaml --check\n  provisioning server create web-01 --infra demo --settings examples/infra/settings.yaml\n  provisioning server create --settings examples/infra/settings.yaml --json'),
  ).action((servers: string[], opts: ServerOptions) => runServerWorkflow(io, 'serverCreate', servers, opts));

  server
    .command('list')
    .description('list the servers (containers) of an infra on the docker provider')
    .requiredOption('--infra <name>', 'infra name')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExamples:\n  provisioning server list --infra demo\n  provisioning server list --infra demo --json')
    .action(async (opts: { infra: string; json?: boolean }) => {
      const rows = await (await import('../../api/inventory.js')).listServers(opts.infra);
      if (opts.json) return printJson(io, { infra: opts.infra, servers: rows });
      io.out(rows.length ? renderTable(['HOSTNAME', 'CONTAINER', 'STATE', 'IMAGE'], rows.map((r) => [r.hostname, r.container, r.state, r.image])) : `No servers of infra ${opts.infra}.`);
    });

  withSettingsOptions(
    server
      .command('delete')
      .argument('[servers...]', 'hostnames (default: every server of the settings)')
      .description('delete servers through their provider')
      .addHelpText('after', '\nExamples:\n  provisioning server delete --settings examples/infra/settings.yaml\n  provisioning server delete web-02 --infra demo --settings examples/infra/settings.yaml'),
  ).action(async (servers: string[], opts: ServerOptions) => {
    const settings = await settingsFor(io, opts);
    (await import('../../api/validate.js')).assertServers(settings, servers);
    const connected = await connect(io, opts);
    try {
      const deleted = await (await serversApi()).deleteServers(apiContext(io, connected, opts), { settings, servers });
      if (opts.json) return printJson(io, { infra: settings.infra, servers: deleted });
      io.out(deleted.map((d) => `${d.deleted ? '🗑' : '⚪'} ${d.hostname}: ${d.deleted ? 'deleted' : 'did not exist'}`).join('\n'));
    } finally {
      await connected.close();
    }
  });

  const taskserv = program.command('taskserv');
  taskserv
    .command('list')
    .description('list the taskservs of a catalog')
    .option('--settings <file>', 'settings whose catalog to list')
    .option('--catalog <dir>', 'catalog directory (default: the settings\' catalog with --settings, else $PROVISIONING_CATALOG, the config file\'s catalog, the shipped examples/taskservs)')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExamples:\n  provisioning taskserv list\n  provisioning taskserv list --catalog examples/taskservs\n  provisioning taskserv list --settings examples/infra/settings.yaml --json')
    .action(async (opts: { settings?: string; catalog?: string; json?: boolean }) => {
      // The same default as `test env`: without --settings, --catalog, $PROVISIONING_CATALOG or the shipped one.
      const catalog = opts.settings && !opts.catalog ? (await settingsFor(io, opts)).taskservs : (await loadEnvCatalog(opts.catalog, io.env, io.cwd)).taskservs;
      const rows = Object.values(catalog).map(({ scripts, ...t }) => ({ ...t, scripts: Object.keys(scripts).filter((k) => scripts[k as keyof typeof scripts] !== undefined) }));
      if (opts.json) return printJson(io, { taskservs: rows });
      io.out(renderTable(['NAME', 'VERSION', 'REQUIRES', 'DEPENDS ON', 'DESCRIPTION'], rows.map((t) => [t.name, t.version, t.requires, t.dependencies.join(', ') || '-', t.description])));
    });

  withSettingsOptions(
    taskserv
      .command('create')
      .argument('<taskserv>', 'taskserv name')
      .requiredOption('--server <hostname>', 'an existing server of the infra')
      .description('install a taskserv, and its missing dependencies, on an existing server')
      .addHelpText('after', '\nExamples:\n  provisioning taskserv create jobrunner --server web-01 --infra demo --settings examples/infra/settings.yaml'),
  ).action(async (name: string, opts: ServerOptions & { server: string }) => {
    const settings = await settingsFor(io, opts);
    (await serversApi()).checkTaskservCreate({ settings, server: opts.server, taskserv: name });
    const connected = await connect(io, opts);
    try {
      const result: ServerProgress = await outcomeOf(io, (await serversApi()).createTaskserv(apiContext(io, connected, opts), { settings, server: opts.server, taskserv: name }));
      if (opts.json) return printJson(io, result);
      io.out(serverLine(result));
    } finally {
      await connected.close();
    }
  });

  const cluster = program.command('cluster');
  withSettingsOptions(
    cluster
      .command('create')
      .argument('[servers...]', 'hostnames (default: every server of the settings)')
      .description('create the servers of a cluster: every control-plane node first, then the workers')
      .option('--registry <file>', 'service registry, to ensure the services the operation requires')
      .option('--platform <name>', 'platform of those services')
      .addHelpText('after', '\nServers take role: control-plane | worker | standalone in the settings.\n\nExamples:\n  provisioning cluster create --settings cluster.yaml'),
  ).action((servers: string[], opts: ServerOptions) => runServerWorkflow(io, 'clusterCreate', servers, opts));
}
