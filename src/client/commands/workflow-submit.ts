/**
 * `provisioning workflow submit FILE`: any of our operations from a request file — the REST
 * API's bodies with an `operation` field. The request is checked against the same schema as
 * the API's (strictly: an unknown key is refused), then run as the operation's own command
 * (`server create`, `test env create`, `platform start`, ...), so it prints the workflow id and
 * follows it exactly as that command does.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { ConfigError } from '../../config/errors.js';
import { zodProblems } from '../../config/issues.js';
import { readRequestFile } from '../../config/request-file.js';
import { closest } from '../../config/suggest.js';
import { loadEnvCatalog, planFromRequest } from '../../config/testenv.js';
import { SUBMIT_OPERATIONS, submitRequest, type SubmitRequest } from '../../model/requests.js';
import type { Io } from '../io.js';
import { addTemporalOptions, type TemporalOptions } from '../temporal-options.js';
import { REGISTRY_HELP } from './platform.js';

interface SubmitOptions extends TemporalOptions {
  registry?: string;
  wait: boolean;
  json?: boolean;
}

const EXAMPLE = `{ "operation": "server-create", "infra": "demo", "settings": "settings.yaml", "servers": ["web-01"] }`;

/** Checks the file's request; problems name the file and the key path (exit 2). */
function parseRequest(value: unknown, source: string): SubmitRequest {
  const operation = (value as { operation?: unknown } | null)?.operation;
  if (typeof operation !== 'string' || !(SUBMIT_OPERATIONS as readonly string[]).includes(operation)) {
    const near = typeof operation === 'string' ? closest(operation, SUBMIT_OPERATIONS) : undefined;
    const got = operation === undefined ? 'missing' : `${JSON.stringify(operation)} is not an operation`;
    throw new ConfigError(source, [{ path: 'operation', problem: got, fix: `${near ? `did you mean ${near}? ` : ''}use one of ${SUBMIT_OPERATIONS.join(', ')}` }], 'request');
  }
  const parsed = submitRequest.safeParse(value, { reportInput: true });
  if (!parsed.success) throw new ConfigError(source, zodProblems(parsed.error), 'request');
  return parsed.data;
}

/** A test-environment request as `test env create --file` reads it: the seeds' request; id and host are flags. */
function environmentBody(request: Extract<SubmitRequest, { operation: 'test-environment' }>): Record<string, unknown> {
  const { operation: _operation, wait: _wait, host: _host, id: _id, ...body } = request;
  return body;
}

/** The operation's own command line. Paths are made absolute against the request file's folder; an inline document goes to `scratch`. */
async function commandFor(request: SubmitRequest, source: string, scratch: () => Promise<string>): Promise<string[]> {
  const here = path.dirname(source);
  const settings = async (value: string | Record<string, unknown>) => {
    if (typeof value === 'string') return path.resolve(here, value);
    const file = path.join(await scratch(), 'settings.json');
    await writeFile(file, JSON.stringify(value));
    return file;
  };
  const flag = (name: string, value: string | number | undefined) => (value === undefined ? [] : [name, String(value)]);
  switch (request.operation) {
    case 'server-create':
    case 'cluster-create':
      return [request.operation === 'server-create' ? 'server' : 'cluster', 'create', ...request.servers, '--settings', await settings(request.settings), ...flag('--infra', request.infra), ...(request.check_mode ? ['--check'] : []), ...(request.operation === 'server-create' ? flag('--host', request.host) : [])];
    case 'taskserv-create':
      return ['taskserv', 'create', request.taskserv, '--server', request.server, '--settings', await settings(request.settings), ...flag('--infra', request.infra)];
    case 'platform-start':
    case 'platform-stop':
    case 'platform-restart':
    case 'platform-update':
      return ['platform', request.operation.slice('platform-'.length), ...request.services, '--platform', request.platform, ...(request.force ? ['--force'] : []), ...flag('--grace', request.grace), ...flag('--host', request.host)];
    case 'test-environment': {
      const { host, id } = request;
      const file = path.join(await scratch(), 'request.json');
      await writeFile(file, JSON.stringify(environmentBody(request)));
      return ['test', 'env', 'create', '--file', file, ...flag('--id', id), ...flag('--host', host)];
    }
  }
}

export function registerSubmitCommand(workflow: Command, io: Io): void {
  addTemporalOptions(
    workflow
      .command('submit')
      .argument('<file>', 'a request file (JSON, YAML or TOML): the REST API\'s body with an "operation"')
      .description(`submit an operation from a request file and follow it as its own command does (${SUBMIT_OPERATIONS.join(', ')})`)
      .option('--registry <file>', `${REGISTRY_HELP}; for the platform-* operations`)
      .option('--no-wait', 'submit the workflow and return at once')
      .option('--json', 'print JSON, as the operation\'s command does')
      .addHelpText(
        'after',
        `\nThe bodies are the REST API's (README "The REST API"): server-create and cluster-create take POST /workflows/servers/create's, taskserv-create POST /workflows/taskserv/create's, test-environment POST /test/environments/create's, platform-start, platform-stop, platform-restart and platform-update POST /platform/start's. Paths ("settings") are relative to the request file. The body's "wait" is the API's; here the command follows the workflow unless --no-wait.\n\nExample file:\n  ${EXAMPLE}\n\nExamples:\n  provisioning workflow submit create-web.json\n  provisioning workflow submit env.yaml --json\n  provisioning workflow submit start.toml --registry examples/services.toml --no-wait`,
      ),
  ).action(async (file: string, opts: SubmitOptions) => {
    const { source, value } = await readRequestFile(io.cwd, file, 'request');
    const request = parseRequest(value, source);
    let dir: string | undefined;
    const scratch = async () => (dir ??= await mkdtemp(path.join(os.tmpdir(), 'provisioning-submit-')));
    try {
      if (request.operation === 'test-environment') {
        // The environment's own problems, named in the user's file (the command below reads a copy).
        planFromRequest(request.id ?? 'submitted', environmentBody(request), await loadEnvCatalog(undefined, io.env, io.cwd), source);
      }
      const argv = [...(await commandFor(request, source, scratch)), ...(opts.wait ? [] : ['--no-wait']), ...(opts.json ? ['--json'] : [])];
      if (request.operation.startsWith('platform-') && opts.registry) argv.push('--registry', path.resolve(io.cwd, opts.registry));
      for (const [name, value] of [['--address', opts.address], ['--namespace', opts.namespace], ['--profile', opts.profile], ['--task-queue', opts.taskQueue]] as const) if (value) argv.push(name, value);
      io.err(`${request.operation} from ${source}: provisioning ${argv.join(' ')}`);
      if (!io.run) throw new Error('workflow submit runs inside the provisioning CLI (runCli)');
      const code = await io.run(argv);
      if (code !== 0) io.exitCode = code;
    } finally {
      if (dir) await rm(dir, { recursive: true, force: true });
    }
  });
}
