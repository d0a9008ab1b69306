/**
 * Server activities: find, create, wait for and delete a server through its provider, and
 * run a taskserv's install, check or test script on it. Providers that can record installs
 * (docker) do, so a re-run skips what is installed.
 */
import path from 'node:path';
import { ApplicationFailure, Context, log } from '@temporalio/activity';
import type { ServerSpec, TaskservManifest } from '../config/settings-schema.js';
import { ServiceConfigError } from './drivers/types.js';
import { withHeartbeat } from './platform.js';
import { ensureNetwork, removeNetworkIfUnused } from './providers/docker.js';
import { providerFor, type ServerContext, type TaskservStep } from './providers/index.js';
import type { ServerInput, SettingsContext, TaskservRun } from '../model/servers.js';

function context({ settings, server }: ServerInput): ServerContext {
  return { settings, server };
}

function nonRetryable(message: string, type: string): ApplicationFailure {
  return ApplicationFailure.create({ message, type, nonRetryable: true });
}

export async function serverExists(input: ServerInput): Promise<boolean> {
  return providerFor(input.server.provider).exists(context(input));
}

export async function createServer(input: ServerInput): Promise<{ created: boolean; id?: string; output?: string }> {
  try {
    return await withHeartbeat(() => providerFor(input.server.provider).create(context(input)));
  } catch (err) {
    if (err instanceof ServiceConfigError) throw nonRetryable(`${input.server.hostname}: ${err.message}`, 'ServerConfigError');
    throw err;
  }
}

/** Waits until the server answers, and returns the taskservs recorded on it. */
export async function waitServerReady(input: ServerInput & { timeoutSeconds: number }): Promise<{ waitedMs: number; installed: string[] }> {
  const began = Date.now();
  const provider = providerFor(input.server.provider);
  for (let delay = 25; ; delay = Math.min(delay * 2, 1000)) {
    Context.current().heartbeat();
    const probe = await provider.probe(context(input)).catch(() => ({ ready: false, installed: [] as string[] }));
    if (probe.ready) return { waitedMs: Date.now() - began, installed: probe.installed };
    if (Date.now() - began > input.timeoutSeconds * 1000) {
      throw nonRetryable(`${input.server.hostname} was not ready within ${input.timeoutSeconds} s`, 'ServerNotReady');
    }
    await Context.current().sleep(delay);
  }
}

function tail(output: string): string {
  return output.trimEnd().split('\n').slice(-20).join('\n');
}

export async function runTaskserv(input: ServerInput & { taskserv: TaskservManifest; kind: TaskservStep | 'install-and-check' }): Promise<TaskservRun> {
  const { taskserv, kind, server } = input;
  const steps: TaskservStep[] = kind === 'install-and-check' ? ['install', 'check'] : [kind];
  const scripts = steps.map((step) => {
    const content = taskserv.scripts[step];
    if (content === undefined) throw nonRetryable(`taskserv ${taskserv.name} has no ${step}.sh`, 'TaskservConfigError');
    return { step, content, file: path.join(input.settings.catalog, taskserv.name, `${step}.sh`) };
  });
  const env = { ...taskserv.parameters, INFRA: input.settings.infra, SERVER: server.hostname, TASKSERV: taskserv.name };
  const startedAt = Date.now();
  const result = await withHeartbeat(() => providerFor(server.provider).run(context(input), taskserv.name, scripts, env, Context.current().cancellationSignal));
  const output = tail(result.output);
  if (result.exitCode !== 0) {
    throw nonRetryable(`${result.failedStep ?? steps[0]} of taskserv ${taskserv.name} on ${server.hostname} failed (exit ${result.exitCode}):\n${output}`, 'TaskservFailed');
  }
  log.info(`${steps.join(' and ')} of ${taskserv.name} on ${server.hostname} done`, { server: server.hostname, taskserv: taskserv.name, steps, durationMs: Date.now() - startedAt });
  return { taskserv: taskserv.name, steps, exitCode: 0, output, startedAt, durationMs: Date.now() - startedAt };
}

/**
 * Creates the infra's Docker network before its servers are created in parallel: Docker
 * creates same-named networks twice when asked at the same moment.
 */
export async function prepareInfra({ settings, servers }: { settings: SettingsContext; servers: ServerSpec[] }): Promise<string[]> {
  const networks = new Map<string, ServerSpec>();
  for (const server of servers.filter((s) => s.provider === 'docker')) networks.set(server.network ?? `${settings.infra}-net`, server);
  try {
    for (const server of networks.values()) await ensureNetwork({ settings, server });
  } catch (err) {
    if (err instanceof ServiceConfigError) throw nonRetryable(err.message, 'ServerConfigError');
    throw err;
  }
  return [...networks.keys()];
}

export async function deleteServer(input: ServerInput): Promise<{ deleted: boolean }> {
  let result: { deleted: boolean };
  try {
    result = await withHeartbeat(() => providerFor(input.server.provider).delete(context(input)));
  } catch (err) {
    if (err instanceof ServiceConfigError) throw nonRetryable(`${input.server.hostname}: ${err.message}`, 'ServerConfigError');
    throw err;
  }
  if (input.server.provider === 'docker') await removeNetworkIfUnused(context(input));
  return { deleted: result.deleted };
}
