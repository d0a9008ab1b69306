/**
 * Server activities: find, create, wait for and delete a server through its provider, and
 * run a taskserv's install, check or test script on it. Installs are recorded on the server
 * (/var/lib/provisioning/taskservs/<name>), so a re-run skips what is installed.
 */
import path from 'node:path';
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { ServerSpec, Settings, TaskservManifest } from '../config/settings-schema.js';
import { ServiceConfigError } from './drivers/types.js';
import { withHeartbeat } from './platform.js';
import { ensureNetwork, execIn, removeNetworkIfUnused } from './providers/docker.js';
import { providerFor, serverName, type ServerContext } from './providers/index.js';

export type SettingsContext = Pick<Settings, 'infra' | 'source' | 'network' | 'providers' | 'catalog'>;

export interface ServerInput {
  settings: SettingsContext;
  server: ServerSpec;
}

const MARKERS = '/var/lib/provisioning/taskservs';

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

/**
 * Waits until the server answers, and returns the taskservs recorded on it. On docker one
 * `exec` does both: every exec costs a round trip through the engine.
 */
export async function waitServerReady(input: ServerInput & { timeoutSeconds: number }): Promise<{ waitedMs: number; installed: string[] }> {
  const began = Date.now();
  const provider = providerFor(input.server.provider);
  for (let delay = 25; ; delay = Math.min(delay * 2, 1000)) {
    Context.current().heartbeat();
    if (input.server.provider === 'docker') {
      const listed = await execIn(serverName(context(input)), ['sh', '-c', 'ls -1 "$1" 2>/dev/null; true', 'ls', MARKERS]).catch(() => undefined);
      if (listed?.exitCode === 0) return { waitedMs: Date.now() - began, installed: listed.output.split('\n').filter(Boolean).sort() };
    } else if (await provider.ready(context(input))) {
      return { waitedMs: Date.now() - began, installed: [] };
    }
    if (Date.now() - began > input.timeoutSeconds * 1000) {
      throw nonRetryable(`${input.server.hostname} was not ready within ${input.timeoutSeconds} s`, 'ServerNotReady');
    }
    await Context.current().sleep(delay);
  }
}

export interface TaskservRun {
  taskserv: string;
  kind: 'install' | 'check' | 'test';
  exitCode: number;
  /** The last lines of its output. */
  output: string;
  startedAt: number;
  durationMs: number;
}

export async function runTaskserv(input: ServerInput & { taskserv: TaskservManifest; kind: 'install' | 'check' | 'test' }): Promise<TaskservRun> {
  const { taskserv, kind, server } = input;
  const content = taskserv.scripts[kind];
  if (content === undefined) throw nonRetryable(`taskserv ${taskserv.name} has no ${kind}.sh`, 'TaskservConfigError');
  const provider = providerFor(server.provider);
  const env = { ...taskserv.parameters, INFRA: input.settings.infra, SERVER: server.hostname, TASKSERV: taskserv.name };
  const startedAt = Date.now();
  // On docker an install records itself in the same exec, once the script has succeeded.
  const recordInstall = kind === 'install' && server.provider === 'docker';
  const result = await withHeartbeat(() =>
    recordInstall
      ? execIn(serverName(context(input)), ['sh', '-c', 'sh -c "$1" "$2" && mkdir -p "$3" && touch "$3/$2"', 'install', content, taskserv.name, MARKERS], env)
      : provider.exec(context(input), { content, file: path.join(input.settings.catalog, taskserv.name, `${kind}.sh`), taskserv: taskserv.name }, env),
  );
  const output = result.output.trimEnd().split('\n').slice(-20).join('\n');
  if (result.exitCode !== 0) {
    throw nonRetryable(`${kind} of taskserv ${taskserv.name} on ${server.hostname} failed (exit ${result.exitCode}):\n${output}`, 'TaskservFailed');
  }
  return { taskserv: taskserv.name, kind, exitCode: result.exitCode, output, startedAt, durationMs: Date.now() - startedAt };
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
  const result = await withHeartbeat(() => providerFor(input.server.provider).delete(context(input)));
  if (input.server.provider === 'docker') await removeNetworkIfUnused(context(input));
  return { deleted: result.deleted };
}
