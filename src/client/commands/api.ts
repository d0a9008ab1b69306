/** `provisioning api`: the REST API server (src/http/) on the client API. */
import type { Command } from 'commander';
import { UsageError } from '../../config/errors.js';
import { provisioningHome } from '../../config/home.js';
import type { Io } from '../io.js';
import { addTemporalOptions, type TemporalOptions } from '../temporal-options.js';
import { REGISTRY_HELP } from './platform.js';

interface ApiOptions extends TemporalOptions {
  listen?: string;
  tokenFile?: string;
  auth: boolean;
  settingsRoot?: string;
  registry?: string;
  catalog?: string;
  rateLimit?: string;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

export function parseListen(value: string): { host: string; port: number } {
  const match = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(value);
  const port = Number(match?.[2]);
  if (!match || port > 65535) throw new UsageError(`--listen "${value}" is not host:port`, 'write it like 127.0.0.1:8080 (or 0.0.0.0:8080 to listen on every interface, with a token)');
  return { host: match[1]!.replace(/^\[|\]$/g, ''), port };
}

/** A server without a token may listen on a loopback address only. */
export function assertAuthOrLoopback(host: string, token: string | undefined, what: string): void {
  if (!token && !LOOPBACK.has(host)) throw new UsageError(`${what} on ${host}: an API without a token may listen on a loopback address only`, 'listen on 127.0.0.1, or give it a token ($PROVISIONING_API_TOKEN or --token-file)');
}

export function registerApiCommand(program: Command, io: Io): void {
  addTemporalOptions(
    program
      .command('api')
      .description('serve the REST API: the seeds\' orchestrator endpoints (tasks, server workflows, test environments) and the platform')
      .option('--listen <host:port>', 'where to listen (default: $PROVISIONING_API_LISTEN or 127.0.0.1:8080)')
      .option('--token-file <file>', 'file holding the bearer token (default: $PROVISIONING_API_TOKEN)')
      .option('--no-auth', 'serve without a token; allowed only on a loopback address')
      .option('--settings-root <dir>', '"settings" paths in requests must lie inside it (default: the current directory)')
      .option('--registry <file>', `${REGISTRY_HELP}; for /platform/*`)
      .option('--catalog <dir>', 'taskserv catalog of test environments (default: $PROVISIONING_CATALOG, the config file\'s catalog, the shipped one)')
      .option('--rate-limit <n>', 'requests per minute and client (default 1200)')
      .addHelpText('after', '\nEvery endpoint but /health needs "Authorization: Bearer <token>". The OpenAPI document is at\n/openapi.json, a docs page at /docs.\n\nExamples:\n  PROVISIONING_API_TOKEN=$(openssl rand -hex 32) provisioning api\n  provisioning api --no-auth --registry examples/platform/services.toml\n  curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8080/tasks'),
  ).action(async (opts: ApiOptions) => {
    const { host, port } = parseListen(opts.listen ?? io.env.PROVISIONING_API_LISTEN ?? '127.0.0.1:8080');
    const { loadToken } = await import('../../http/auth.js');
    const token = opts.auth ? await loadToken(opts.tokenFile, io.env) : undefined;
    if (opts.auth && !token) throw new UsageError('no API token: every endpoint but /health needs one', 'set PROVISIONING_API_TOKEN or pass --token-file FILE (or --no-auth on a loopback address)');
    assertAuthOrLoopback(host, token, '--no-auth');
    const rateLimit = opts.rateLimit === undefined ? undefined : Number(opts.rateLimit);
    if (rateLimit !== undefined && !(Number.isInteger(rateLimit) && rateLimit > 0)) throw new UsageError(`--rate-limit "${opts.rateLimit}" is not a positive whole number`, 'e.g. --rate-limit 600');
    const [{ buildApp }, { connectClient, connectSettings }, { registryFor }, { apiContextFor }] = await Promise.all([import('../../http/app.js'), import('../../temporal/connection.js'), import('../registry.js'), import('../temporal-options.js')]);
    const settings = connectSettings({ ...(opts.address ? { address: opts.address } : {}), ...(opts.namespace ? { namespace: opts.namespace } : {}), ...(opts.profile ? { profile: opts.profile } : {}) });
    const registryFlag = opts.registry ?? io.env.PROVISIONING_REGISTRY;
    const app = await buildApp({
      connect: async () => apiContextFor(io, await connectClient(settings), settings, opts),
      settingsRoot: opts.settingsRoot ?? io.cwd,
      ...(registryFlag ? { registry: () => registryFor(io, registryFlag) } : {}),
      home: provisioningHome(io.env),
      ...(opts.catalog ? { catalog: opts.catalog } : {}),
      env: io.env,
      ...(token ? { token } : {}),
      ...(rateLimit ? { rateLimit } : {}),
      logger: false,
    });
    const address = await app.listen({ host, port });
    io.out(`REST API on ${address} (Temporal ${settings.address}, namespace ${settings.namespace}, task queue ${opts.taskQueue}); docs: ${address}/docs${token ? '' : ' — no auth (loopback only)'}`);
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await app.close();
    io.out('API server stopped.');
  });
}
