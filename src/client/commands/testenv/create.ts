/** `test env single|server|cluster|create`: create an environment and (unless --no-wait) wait until it is ready. */
import type { Command } from 'commander';
import { UsageError } from '../../../config/errors.js';
import { readRequestFile } from '../../../config/request-file.js';
import { suggestionFix } from '../../../config/suggest.js';
import { loadTopologies } from '../../../config/testenv.js';
import { printJson, type Io } from '../../io.js';
import { summary, stamp } from '../../render/testenv.js';
import { progressChanges } from '../../render/testenv-progress.js';
import { apiContext, connect } from '../../temporal-options.js';
import { addCreateOptions, nodeFlags, planChecked, requestFlags, ttlValue, withResourceOptions, type CreateOptions } from './options.js';

const environments = () => import('../../../api/testenv/environments.js');

/** Builds the plan from a request object, then creates the environment and (unless --no-wait) waits until it is ready. */
async function createAndWait(io: Io, raw: unknown, opts: CreateOptions, subject: string, source = 'command line'): Promise<void> {
  const plan = await planChecked(io, raw, opts, subject, source);
  const connected = await connect(io, opts);
  try {
    const api = await environments();
    const env = await api.createEnvironment(apiContext(io, connected, opts), plan, 'testenv', opts.host !== undefined ? { host: opts.host } : {});
    io.err(`Environment ${plan.id}: workflow ${plan.workflowId}${env.webUi ? `\nWeb UI: ${env.webUi}` : ''}`);
    if (!opts.wait) return void (opts.json ? printJson(io, { id: plan.id, workflowId: plan.workflowId }) : io.out(plan.id));
    const seen = new Map<string, string>();
    let state;
    for await (const s of api.followEnvironment(env, (x) => x.phase === 'ready' || (x.phase === 'created' && !plan.autoStart))) {
      state = s;
      if (!opts.json) for (const line of progressChanges(s, seen)) io.err(`${stamp()} ${line}`);
    }
    if (!state || !['ready', 'created'].includes(state.phase)) {
      io.exitCode = 1;
      const closed = await api.closedState(env);
      const final = closed.state ?? state;
      if (closed.error && !final?.error) io.err(`error: ${(await import('../../../api/errors.js')).rootMessage(closed.error)}`);
      if (opts.json) return printJson(io, final ?? { id: plan.id, error: 'the environment ended before it was ready' });
      return io.out(final ? summary(final) : `Environment ${plan.id} ended before it was ready.`);
    }
    if (opts.json) return printJson(io, state);
    io.out(summary(state, env.webUi));
  } finally {
    await connected.close();
  }
}

export function registerCreateCommands(env: Command, io: Io): void {
  addCreateOptions(
    withResourceOptions(env.command('single'))
      .argument('<taskserv>', 'taskserv to install (with its dependencies)')
      .description('a single-taskserv environment: one container with the taskserv installed')
      .addHelpText('after', '\nExamples:\n  provisioning test env single webserver\n  provisioning test env single kvstore --cpu 500 --memory 64 --auto-cleanup\n  provisioning test env single postgres --base-image ubuntu:22.04 --no-auto-start'),
  ).action((taskserv: string, opts: CreateOptions) =>
    createAndWait(io, { config: { type: 'single_taskserv', taskserv, ...nodeFlags(opts) }, ...requestFlags(opts) }, opts, taskserv),
  );

  addCreateOptions(
    withResourceOptions(env.command('server'))
      .argument('<name>', 'server name (the container\'s hostname)')
      .argument('<taskservs...>', 'taskservs to install, in any order (dependencies are added and ordered)')
      .description('a server simulation: one container with several taskservs installed in dependency order')
      .addHelpText('after', '\nExamples:\n  provisioning test env server web-01 webserver kvstore jobrunner\n  provisioning test env server web-01 containerd kubernetes --base-image ubuntu:22.04'),
  ).action((name: string, taskservs: string[], opts: CreateOptions) =>
    createAndWait(io, { config: { type: 'server_simulation', server_name: name, taskservs, ...nodeFlags(opts) }, ...requestFlags(opts) }, opts, name),
  );

  addCreateOptions(
    env
      .command('cluster')
      .argument('<cluster_type>', 'cluster type (a label, e.g. kubernetes, etcd, web)')
      .description('a cluster topology: one container per node, control planes set up first')
      .option('--topology <template>', 'a topology template (see "provisioning test topology list")')
      .option('--file <file>', 'a topology file (TOML, YAML or JSON): nodes = [{ name, role, taskservs, resources }], network = { subnet }')
      .option('--topologies <file>', 'extra topology templates (overrides the shipped and the home ones)')
      .option('--subnet <cidr>', 'subnet of the environment network (default: the template\'s, or a free /24)')
      .addHelpText('after', '\nExamples:\n  provisioning test env cluster web --topology web_3node\n  provisioning test env cluster kubernetes --topology kubernetes_3node --base-image ubuntu:22.04\n  provisioning test env cluster etcd --file my-topology.toml --subnet 10.214.5.0/24'),
  ).action(async (clusterType: string, opts: CreateOptions & { topology?: string; file?: string; topologies?: string; subnet?: string }) => {
    if (Boolean(opts.topology) === Boolean(opts.file)) throw new UsageError('give exactly one of --topology <template> and --file <file>', 'list the templates with "provisioning test topology list"');
    let topology: unknown;
    let source = 'command line';
    let baseImage = opts.baseImage;
    if (opts.topology) {
      const templates = await loadTopologies({ ...(opts.topologies ? { file: opts.topologies } : {}), env: io.env, cwd: io.cwd });
      const template = templates[opts.topology];
      if (!template) throw new UsageError(`unknown topology template "${opts.topology}"`, suggestionFix(opts.topology, Object.keys(templates), 'template'));
      topology = { nodes: template.nodes, ...(template.network ? { network: template.network } : {}) };
      baseImage ??= template.base_image;
      source = `${template.source} [${template.name}]`;
    } else {
      ({ source, value: topology } = await readRequestFile(io.cwd, opts.file!));
      if (topology && typeof topology === 'object' && 'topology' in topology) topology = topology.topology;
    }
    if (opts.subnet && topology && typeof topology === 'object') topology = { ...topology, network: { subnet: opts.subnet } };
    const raw = { config: { type: 'cluster_topology', cluster_type: clusterType, topology, ...(baseImage ? { base_image: baseImage } : {}) }, ...requestFlags(opts) };
    return createAndWait(io, raw, opts, clusterType, source);
  });

  addCreateOptions(
    env
      .command('create')
      .requiredOption('--file <file>', 'a request (JSON, YAML or TOML): { config: { type, ... }, auto_start, auto_cleanup, ttl }')
      .description('create an environment from a request file in the seeds\' format (any of the three types)')
      .addHelpText(
        'after',
        '\nThe file holds what the seeds POST to /test/environments/create, e.g.\n  { "config": { "type": "single_taskserv", "taskserv": "webserver",\n               "resources": { "cpu_millicores": 500, "memory_mb": 64 } },\n    "auto_start": true, "auto_cleanup": false }\nFlags given on the command line (--auto-cleanup, --ttl) override the file.\n\nExamples:\n  provisioning test env create --file env.json',
      ),
  ).action(async (opts: CreateOptions & { file: string }) => {
    const { source, value: raw } = await readRequestFile(io.cwd, opts.file, 'test environment request');
    const request = (raw && typeof raw === 'object' ? { ...(raw as Record<string, unknown>) } : raw) as Record<string, unknown>;
    if (request && typeof request === 'object') {
      if (opts.autoCleanup) request.auto_cleanup = true;
      if (!opts.autoStart) request.auto_start = false;
      if (opts.ttl) request.ttl = ttlValue(opts);
      if (opts.infra) request.infra = opts.infra;
    }
    const config = (request?.config ?? {}) as Record<string, unknown>;
    const subject = [config.taskserv, config.server_name, config.cluster_type].find((v): v is string => typeof v === 'string' && /^[a-z0-9-]+$/.test(v)) ?? 'env';
    return createAndWait(io, request, opts, subject, source);
  });
}
