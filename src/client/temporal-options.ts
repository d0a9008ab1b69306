/** Connection options shared by every command that talks to Temporal. */
import { Option, type Command } from 'commander';
import type { Client } from '@temporalio/client';
import { DEFAULT_TASK_QUEUE } from '../model/worker-defaults.js';
import { workflowPage, type ApiContext } from '../api/context.js';
import type { ConnectSettings } from '../temporal/connection.js';
import { devUiUrl } from '../temporal/dev-state.js';
import type { Io } from './io.js';

export interface TemporalOptions {
  address?: string;
  namespace?: string;
  profile?: string;
  taskQueue: string;
}

export function addTemporalOptions(command: Command): Command {
  return command
    .addOption(new Option('--address <host:port>', 'Temporal frontend (default: $TEMPORAL_ADDRESS, profile, localhost:7233)'))
    .addOption(new Option('--namespace <name>', 'Temporal namespace (default: $TEMPORAL_NAMESPACE, profile, "default")'))
    .addOption(new Option('--profile <name>', 'envconfig profile of the Temporal config file'))
    .addOption(new Option('--task-queue <name>', 'task queue of the workers').default(DEFAULT_TASK_QUEUE));
}

export interface Connected {
  client: Client;
  settings: ConnectSettings;
  close: () => Promise<void>;
}

/**
 * Connects and checks the namespace answers. `quick` is for optional extras (supervision
 * state beside a local status): give up after a second instead of the SDK's 10 s.
 */
export async function connect(io: Io, opts: TemporalOptions, { quick = false }: { quick?: boolean } = {}): Promise<Connected> {
  // The SDK loads only for commands that talk to Temporal.
  const { connectClient, connectSettings } = await import('../temporal/connection.js');
  const settings = connectSettings({
    ...(opts.address ? { address: opts.address } : {}),
    ...(opts.namespace ? { namespace: opts.namespace } : {}),
    ...(opts.profile ? { profile: opts.profile } : {}),
  });
  let client: Client;
  try {
    // Nothing listening is known in a millisecond; the SDK would retry for its connect timeout.
    if (quick) await tcpReachable(settings.address, 500);
    client = await connectClient(settings, quick ? { connectTimeoutMs: 1_000 } : {});
    await client.connection.workflowService.describeNamespace({ namespace: settings.namespace });
  } catch (err) {
    throw new Error(
      `cannot reach Temporal at ${settings.address} (namespace ${settings.namespace}): ${(err as Error).message.split('\n')[0]}. Start a local one with "provisioning dev", or set TEMPORAL_ADDRESS.`,
    );
  }
  void io;
  return { client, settings, close: () => client.connection.close() };
}

/** Resolves when a TCP connection to host:port opens within `timeoutMs`; rejects otherwise. */
async function tcpReachable(address: string, timeoutMs: number): Promise<void> {
  const { connect: tcpConnect } = await import('node:net');
  const colon = address.lastIndexOf(':');
  const host = address.slice(0, colon).replace(/^\[|\]$/g, '');
  const port = Number(address.slice(colon + 1));
  await new Promise<void>((resolve, reject) => {
    const socket = tcpConnect({ host, port, timeout: timeoutMs });
    socket.once('connect', () => {
      socket.destroy();
      resolve();
    });
    socket.once('timeout', () => {
      socket.destroy();
      reject(new Error(`no answer from ${address} within ${timeoutMs} ms`));
    });
    socket.once('error', (err) => reject(err));
  });
}

/** The Web UI's base URL: $TEMPORAL_UI_URL (or $PROVISIONING_UI_URL), else that of the `provisioning dev` serving this address. */
export function webUiBase(env: Io['env'], settings: ConnectSettings): string | undefined {
  return env.TEMPORAL_UI_URL || env.PROVISIONING_UI_URL || devUiUrl(env, settings.address);
}

/** The Web UI page of a workflow; no link when the UI is unknown. */
export function webUiLink(env: Io['env'], settings: ConnectSettings, workflowId: string, runId?: string): string | undefined {
  const base = webUiBase(env, settings);
  return base ? workflowPage(base, settings.namespace, workflowId, runId) : undefined;
}

/** The client API's context for a connection the CLI made. */
export function apiContext(io: Io, connected: Connected, opts: TemporalOptions): ApiContext {
  return apiContextFor(io, connected.client, connected.settings, opts);
}

/** Runs `fn` with the client API's context over a fresh connection, and closes it. */
export async function withApi<T>(io: Io, opts: TemporalOptions, fn: (ctx: ApiContext) => Promise<T>): Promise<T> {
  const connected = await connect(io, opts);
  try {
    return await fn(apiContext(io, connected, opts));
  } finally {
    await connected.close();
  }
}

/** The client API's context for a client made from `settings` (a long-lived server's connection). */
export function apiContextFor(io: Io, client: Client, settings: ConnectSettings, opts: TemporalOptions): ApiContext {
  const webUi = webUiBase(io.env, settings);
  return { client, taskQueue: opts.taskQueue, ...(webUi ? { webUi } : {}) };
}
