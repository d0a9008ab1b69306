/** `provisioning server|taskserv|cluster ...`: provisioning workflows from a settings file. */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import { TypedSearchAttributes } from '@temporalio/common';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { OPERATION, TARGETS } from '../../model/search-attributes.js';
import { findRegistry } from '../../config/discovery.js';
import { UsageError } from '../../config/errors.js';
import { provisioningHome } from '../../config/home.js';
import { loadRegistry } from '../../config/registry.js';
import type { Registry } from '../../config/registry-schema.js';
import type { Settings } from '../../config/settings-schema.js';
import { loadSettings } from '../../config/settings.js';
import { loadEnvCatalog } from '../../config/testenv.js';
import { suggestionFix } from '../../config/suggest.js';
import { dockerClient, overlappingNetwork } from '../../docker/client.js';
import { infraWorkflowId, taskservCreateWorkflowId } from '../../model/ids.js';
import { serverCreateProgressQuery, serverProgressQuery, type ServerCreateResult, type ServerProgress } from '../../model/servers.js';
import { printJson, type Io } from '../io.js';
import { renderTable } from '../render/table.js';
import { addTemporalOptions, connect, webUiLink, type TemporalOptions } from '../temporal-options.js';
import { platformName } from './platform.js';
import { INFRA_LABEL, SERVER_LABEL } from '../../model/labels.js';

interface ServerOptions extends TemporalOptions {
  settings?: string;
  infra?: string;
  check?: boolean;
  wait: boolean;
  json?: boolean;
  registry?: string;
  platform?: string;
}

export async function settingsFor(io: Io, opts: { settings?: string; infra?: string }): Promise<Settings> {
  if (!opts.settings) throw new UsageError('no settings file given', 'pass --settings FILE (for example --settings examples/infra/settings.yaml)');
  const settings = await loadSettings(opts.settings.startsWith('/') ? opts.settings : `${io.cwd}/${opts.settings}`, io.env);
  if (opts.infra && opts.infra !== settings.infra) {
    throw new UsageError(`${settings.source} describes infra "${settings.infra}", not "${opts.infra}"`, `pass --infra ${settings.infra}, or the settings file of ${opts.infra}`);
  }
  return settings;
}

function assertServers(settings: Settings, names: string[]): void {
  const known = settings.servers.map((s) => s.hostname);
  for (const name of names) {
    if (!known.includes(name)) throw new UsageError(`server "${name}" is not in ${settings.source}`, suggestionFix(name, known, 'server'));
  }
}

/** A subnet another Docker network already uses makes Docker refuse the infra network: say so before anything starts. */
async function assertSubnetFree(settings: Settings): Promise<void> {
  const subnet = settings.network?.subnet;
  if (!subnet || !settings.servers.some((s) => s.provider === 'docker')) return;
  const taken = await overlappingNetwork(dockerClient(), subnet, (n) => n.Labels?.[INFRA_LABEL] === settings.infra).catch(() => undefined);
  if (taken) {
    throw new UsageError(
      `${settings.source}: network.subnet ${subnet} overlaps Docker network "${taken.name}" (${taken.subnet})`,
      'choose a subnet no other network uses, or leave network.subnet out to let Docker pick one',
    );
  }
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

async function follow(io: Io, client: Client, workflowId: string, json: boolean): Promise<ServerCreateResult> {
  const handle = client.workflow.getHandle(workflowId);
  const result = handle.result() as Promise<ServerCreateResult>;
  let done = false;
  void result.then(() => (done = true), () => (done = true));
  const seen = new Map<string, string>();
  while (!done) {
    if (!json) {
      const view = await handle.query(serverCreateProgressQuery).catch(() => undefined);
      for (const server of view?.servers ?? []) {
        const detail = await client.workflow.getHandle(server.workflowId).query(serverProgressQuery).catch(() => undefined);
        const line = detail ? serverLine(detail) : `… ${server.hostname}: ${server.state}`;
        if (seen.get(server.hostname) !== line) io.out(`${new Date().toISOString().slice(11, 19)} ${line}`);
        seen.set(server.hostname, line);
      }
    }
    await Promise.race([sleep(400), result.catch(() => undefined)]);
  }
  return result;
}

async function runServerWorkflow(io: Io, type: 'serverCreate' | 'clusterCreate', servers: string[], opts: ServerOptions): Promise<void> {
  const settings = await settingsFor(io, opts);
  assertServers(settings, servers);
  if (!opts.check) await assertSubnetFree(settings);
  const registry = await optionalRegistry(io, opts.registry);
  const { client, settings: conn, close } = await connect(io, opts);
  try {
    const workflowId = infraWorkflowId(type === 'clusterCreate' ? 'cluster-create' : 'server-create', settings.infra);
    try {
      await client.workflow.start(type, {
        taskQueue: opts.taskQueue,
        workflowId,
        workflowIdConflictPolicy: 'FAIL',
        workflowIdReusePolicy: 'ALLOW_DUPLICATE',
        typedSearchAttributes: new TypedSearchAttributes([
          { key: OPERATION, value: opts.check ? 'server-check' : type === 'clusterCreate' ? 'cluster-create' : 'server-create' },
          { key: TARGETS, value: servers.length > 0 ? servers : settings.servers.map((s) => s.hostname) },
        ]),
        args: [{ settings, servers, checkMode: Boolean(opts.check), ...(registry ? { registry, home: provisioningHome(io.env), platform: platformName(io, opts.platform) } : {}) }],
      });
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) throw new Error(`infra "${settings.infra}" is busy: ${workflowId} is still running`);
      throw err;
    }
    const link = webUiLink(io.env, conn, workflowId);
    (opts.json ? io.err : io.out)(`Workflow ${workflowId}${link ? `\nWeb UI: ${link}` : ''}`);
    if (!opts.wait) return void (opts.json && printJson(io, { workflowId }));
    // Check mode only plans: its per-server progress lines would all read "queued".
    const result = await follow(io, client, workflowId, Boolean(opts.json) || Boolean(opts.check));
    if (!result.ok) io.exitCode = 1;
    if (opts.json) return printJson(io, { workflowId, ...result });
    if (result.plan) {
      const lines = [`Plan for infra ${result.infra} (check mode: nothing was changed)`];
      for (const s of result.plan.servers) lines.push(`  ${s.exists ? '=' : '+'} ${s.hostname} (${s.provider}): ${s.exists ? 'exists' : 'would be created'}; taskservs: ${s.taskservOrder.join(' -> ') || 'none'}`);
      for (const r of result.plan.requiredServices) lines.push(`  required service ${r.name}: ${r.running ? 'running' : r.autoStart ? 'would be started' : 'NOT running (not auto_start)'}`);
      return io.out(lines.join('\n'));
    }
    io.out([...result.servers.map(serverLine), `${result.ok ? 'Done' : 'Failed'}: ${result.servers.filter((s) => s.state === 'ready').length}/${result.servers.length} servers ready`].join('\n'));
  } finally {
    await close();
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
      .addHelpText('after', '\nExit codes: 0 all servers ready, 1 a server failed, 2 bad input (nothing created).\n\nExamples:\n  provisioning server create --settings examples/infra/settings.yaml --check\n  provisioning server create web-01 --infra demo --settings examples/infra/settings.yaml\n  provisioning server create --settings examples/infra/settings.yaml --json'),
  ).action((servers: string[], opts: ServerOptions) => runServerWorkflow(io, 'serverCreate', servers, opts));

  server
    .command('list')
    .description('list the servers (containers) of an infra on the docker provider')
    .requiredOption('--infra <name>', 'infra name')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExamples:\n  provisioning server list --infra demo\n  provisioning server list --infra demo --json')
    .action(async (opts: { infra: string; json?: boolean }) => {
      const containers = await dockerClient().listContainers({ all: true, filters: { label: [`${INFRA_LABEL}=${opts.infra}`] } });
      const rows = containers
        .map((c) => ({ hostname: c.Labels[SERVER_LABEL] ?? '', container: c.Names[0]?.slice(1) ?? '', state: c.State, image: c.Image }))
        .sort((a, b) => a.hostname.localeCompare(b.hostname));
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
    assertServers(settings, servers);
    const { client, close } = await connect(io, opts);
    try {
      const deleted = await client.workflow.execute<(input: { settings: Settings; servers?: string[] }) => Promise<Array<{ hostname: string; deleted: boolean }>>>('serverDelete', {
        taskQueue: opts.taskQueue,
        workflowId: infraWorkflowId('server-delete', settings.infra),
        typedSearchAttributes: new TypedSearchAttributes([{ key: OPERATION, value: 'server-delete' }]),
        args: [{ settings, servers }],
      });
      if (opts.json) return printJson(io, { infra: settings.infra, servers: deleted });
      io.out(deleted.map((d) => `${d.deleted ? '🗑' : '⚪'} ${d.hostname}: ${d.deleted ? 'deleted' : 'did not exist'}`).join('\n'));
    } finally {
      await close();
    }
  });

  const taskserv = program.command('taskserv');
  taskserv
    .command('list')
    .description('list the taskservs of a catalog')
    .option('--settings <file>', 'settings whose catalog to list')
    .option('--catalog <dir>', 'catalog directory (default: the settings\' catalog with --settings, else $PROVISIONING_CATALOG, else the shipped examples/taskservs)')
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
    assertServers(settings, [opts.server]);
    if (!settings.taskservs[name]) throw new UsageError(`taskserv "${name}" is not in the catalog ${settings.catalog}`, suggestionFix(name, Object.keys(settings.taskservs), 'taskserv'));
    const { client, close } = await connect(io, opts);
    try {
      const result = await client.workflow.execute<(input: { settings: Settings; hostname: string; taskserv: string }) => Promise<ServerProgress>>('taskservCreate', {
        taskQueue: opts.taskQueue,
        workflowId: taskservCreateWorkflowId(settings.infra, opts.server, name),
        typedSearchAttributes: new TypedSearchAttributes([{ key: OPERATION, value: 'taskserv-create' }, { key: TARGETS, value: [opts.server, name] }]),
        args: [{ settings, hostname: opts.server, taskserv: name }],
      });
      if (result.state !== 'ready') io.exitCode = 1;
      if (opts.json) return printJson(io, result);
      io.out(serverLine(result));
    } finally {
      await close();
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
