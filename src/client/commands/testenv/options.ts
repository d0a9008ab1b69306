/** Flags every environment-creating command shares, and how they become a request and a checked plan. */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Option, type Command } from 'commander';
import { UsageError } from '../../../config/errors.js';
import { dnsLabelProblem, DNS_LABEL_FIX } from '../../../config/fields.js';
import { DEFAULT_BASE_IMAGE, parseDuration, type EnvironmentPlan } from '../../../config/testenv-schema.js';
import { loadEnvCatalog } from '../../../config/testenv.js';
import type { RunResult } from '../../../model/testenv.js';
import type { Io } from '../../io.js';
import { parseHost, parsePositiveInt } from '../../options.js';
import { renderJunit } from '../../render/junit.js';
import { addTemporalOptions, type TemporalOptions } from '../../temporal-options.js';

export interface CreateOptions extends TemporalOptions {
  id?: string;
  host?: string;
  catalog?: string;
  baseImage?: string;
  cpu?: number;
  memory?: number;
  disk?: number;
  autoStart: boolean;
  autoCleanup?: boolean;
  ttl?: string;
  infra?: string;
  json?: boolean;
  wait: boolean;
}

export function addCreateOptions(command: Command, { quick = false } = {}): Command {
  command
    .option('--catalog <dir>', 'taskserv catalog (default: $PROVISIONING_CATALOG, the config file\'s catalog, the shipped examples/taskservs)')
    .option('--base-image <image>', `image of the containers; must be present locally (default: ${DEFAULT_BASE_IMAGE}, built when missing)`)
    .option('--id <id>', 'environment id (default: generated); the workflow is testenv/<id>')
    .option('--ttl <duration>', 'remove the environment after this long, e.g. 30m, 2h (default: 2h)')
    .option('--infra <name>', 'infra the environment belongs to (a label)')
    .option('--host <name>', 'make the containers on this host\'s workers and Docker engine (default: the host of the worker that takes the run)', parseHost)
    .option('--json', 'print JSON');
  if (!quick) {
    command
      .addOption(new Option('--auto-start', 'start the containers and install at once (the default)').default(true))
      .addOption(new Option('--no-auto-start', 'create the containers but start them only on "test env start <id>" or the first run'))
      .option('--auto-cleanup', 'remove the environment after its first run')
      .option('--no-wait', 'submit and return at once, without waiting until the environment is ready');
  }
  return addTemporalOptions(command);
}

/** --cpu, --memory (and --disk): the container's limits. */
export function withResourceOptions(command: Command, { disk = true } = {}): Command {
  command.option('--cpu <millicores>', 'CPU limit in millicores (default 1000)', parsePositiveInt).option('--memory <mb>', 'memory limit in MB (default 256, at least 6)', parsePositiveInt);
  return disk ? command.option('--disk <mb>', 'root filesystem limit in MB (storage drivers with quota support only)', parsePositiveInt) : command;
}

function resources(opts: CreateOptions): Record<string, number> | undefined {
  const r = { ...(opts.cpu !== undefined ? { cpu_millicores: opts.cpu } : {}), ...(opts.memory !== undefined ? { memory_mb: opts.memory } : {}), ...(opts.disk !== undefined ? { disk_mb: opts.disk } : {}) };
  return Object.keys(r).length > 0 ? r : undefined;
}

export function ttlValue(opts: { ttl?: string }): number | undefined {
  if (opts.ttl === undefined) return undefined;
  const seconds = parseDuration(opts.ttl);
  if (seconds === undefined) throw new UsageError(`--ttl "${opts.ttl}" is not a duration`, 'write seconds (7200) or a duration like 30m or 2h');
  return seconds;
}

/** What every create command puts in the request from its flags: auto_start, auto_cleanup, ttl, infra. */
export function requestFlags(opts: CreateOptions): Record<string, unknown> {
  const ttl = ttlValue(opts);
  return { auto_start: opts.autoStart, auto_cleanup: Boolean(opts.autoCleanup), ...(ttl ? { ttl } : {}), ...(opts.infra ? { infra: opts.infra } : {}) };
}

/** The node settings of a one-container environment from its flags: base_image, resources. */
export function nodeFlags(opts: CreateOptions): Record<string, unknown> {
  const limits = resources(opts);
  return { ...(opts.baseImage ? { base_image: opts.baseImage } : {}), ...(limits ? { resources: limits } : {}) };
}

export function checkNodes(nodes: string[] | undefined): void {
  for (const n of nodes ?? []) {
    const problem = dnsLabelProblem(n);
    if (problem) throw new UsageError(`--node ${problem}`, DNS_LABEL_FIX);
  }
}

/** The request validated and planned against the catalog, and checked against the engine: nothing is created yet. */
export async function planChecked(io: Io, request: unknown, opts: CreateOptions, subject: string, source = 'command line'): Promise<EnvironmentPlan> {
  const { planEnvironment } = await import('../../../api/testenv/plan.js');
  const catalog = await loadEnvCatalog(opts.catalog, io.env, io.cwd);
  const { plan, notes } = await planEnvironment({ request, catalog, subject, source, ...(opts.id !== undefined ? { id: opts.id } : {}) });
  for (const note of notes) io.err(`note: ${note}`);
  return plan;
}

export async function writeJunit(io: Io, file: string, name: string, result: RunResult | undefined, setupError?: string): Promise<void> {
  const target = path.resolve(io.cwd, file);
  await writeFile(target, renderJunit({ name, tests: result?.tests ?? [], ...(setupError !== undefined ? { setupError } : {}) }));
  io.err(`JUnit report: ${target}`);
}
