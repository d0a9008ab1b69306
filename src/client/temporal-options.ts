/** Connection options shared by every command that talks to Temporal. */
import { Option, type Command } from 'commander';
import { DEFAULT_TASK_QUEUE } from '../worker/worker.js';
import { connectClient, connectSettings, type ConnectSettings } from '../temporal/connection.js';
import type { Client } from '@temporalio/client';
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

export async function connect(io: Io, opts: TemporalOptions): Promise<Connected> {
  const settings = connectSettings({
    ...(opts.address ? { address: opts.address } : {}),
    ...(opts.namespace ? { namespace: opts.namespace } : {}),
    ...(opts.profile ? { profile: opts.profile } : {}),
  });
  let client: Client;
  try {
    client = await connectClient(settings);
    await client.connection.workflowService.describeNamespace({ namespace: settings.namespace });
  } catch (err) {
    throw new Error(
      `cannot reach Temporal at ${settings.address} (namespace ${settings.namespace}): ${(err as Error).message.split('\n')[0]}. Start a local one with "provisioning dev", or set TEMPORAL_ADDRESS.`,
    );
  }
  void io;
  return { client, settings, close: () => client.connection.close() };
}

/** The Web UI page of a workflow: $PROVISIONING_UI_URL, or the dev server's UI next to a local address. */
export function webUiLink(env: Io['env'], settings: ConnectSettings, workflowId: string, runId?: string): string | undefined {
  let base = env.PROVISIONING_UI_URL;
  if (!base) {
    const [host, port] = settings.address.split(':');
    if (host && ['localhost', '127.0.0.1'].includes(host) && port) base = `http://${host}:${Number(port) + 1000}`;
  }
  if (!base) return undefined;
  return `${base.replace(/\/$/, '')}/namespaces/${encodeURIComponent(settings.namespace)}/workflows/${encodeURIComponent(workflowId)}${runId ? `/${runId}` : ''}`;
}
