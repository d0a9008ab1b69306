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

export type TaskservStep = 'install' | 'check' | 'test';

export interface TaskservRun {
  taskserv: string;
  /** The steps this run performed: a fresh install is checked in the same run. */
  steps: TaskservStep[];
  exitCode: number;
  /** The last lines of its output. */
  output: string;
  startedAt: number;
  durationMs: number;
}

/**
 * On docker a fresh install, its record and its check are one `exec` (each exec is a round
 * trip through the engine); the markers in the output say which step failed.
 */
const INSTALL_AND_CHECK = [
  'sh -c "$1" "$2" || { s=$?; echo "@@provisioning:failed:install:$s"; exit $s; }',
  'mkdir -p "$4" && touch "$4/$2"',
  'sh -c "$3" "$2" || { s=$?; echo "@@provisioning:failed:check:$s"; exit $s; }',
].join('\n');

function tail(output: string): string {
  return output.replace(/^@@provisioning:.*$/gm, '').trimEnd().split('\n').filter((l, i, a) => l !== '' || i < a.length - 1).slice(-20).join('\n');
}

export async function runTaskserv(input: ServerInput & { taskserv: TaskservManifest; kind: TaskservStep | 'install-and-check' }): Promise<TaskservRun> {
  const { taskserv, kind, server } = input;
  const steps: TaskservStep[] = kind === 'install-and-check' ? ['install', 'check'] : [kind];
  for (const step of steps) {
    if (taskserv.scripts[step] === undefined) throw nonRetryable(`taskserv ${taskserv.name} has no ${step}.sh`, 'TaskservConfigError');
  }
  const provider = providerFor(server.provider);
  const env = { ...taskserv.parameters, INFRA: input.settings.infra, SERVER: server.hostname, TASKSERV: taskserv.name };
  const file = (step: TaskservStep) => path.join(input.settings.catalog, taskserv.name, `${step}.sh`);
  const startedAt = Date.now();
  const result = await withHeartbeat(async () => {
    if (kind === 'install-and-check' && server.provider === 'docker') {
      const run = await execIn(serverName(context(input)), ['sh', '-c', INSTALL_AND_CHECK, 'provision', taskserv.scripts.install, taskserv.name, taskserv.scripts.check, MARKERS], env);
      const failed = /^@@provisioning:failed:(install|check):/m.exec(run.output)?.[1] as TaskservStep | undefined;
      return { ...run, failedStep: failed ?? 'install' };
    }
    // Elsewhere each step is its own command, in order, stopping at the first failure.
    let output = '';
    for (const step of steps) {
      const run = await provider.exec(context(input), { content: taskserv.scripts[step]!, file: file(step), taskserv: taskserv.name }, env);
      output += (output && !output.endsWith('\n') ? '\n' : '') + run.output;
      if (run.exitCode !== 0) return { exitCode: run.exitCode, output, failedStep: step };
    }
    return { exitCode: 0, output, failedStep: steps[0]! };
  });
  const output = tail(result.output);
  if (result.exitCode !== 0) {
    throw nonRetryable(`${result.failedStep} of taskserv ${taskserv.name} on ${server.hostname} failed (exit ${result.exitCode}):\n${output}`, 'TaskservFailed');
  }
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
  const result = await withHeartbeat(() => providerFor(input.server.provider).delete(context(input)));
  if (input.server.provider === 'docker') await removeNetworkIfUnused(context(input));
  return { deleted: result.deleted };
}
