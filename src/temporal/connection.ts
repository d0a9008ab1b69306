/**
 * Where to reach Temporal: the standard TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE /
 * TEMPORAL_API_KEY / TLS variables and envconfig profiles, with CLI flags on top.
 */
import type { Client } from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { tracing } from './tracing.js';

export interface ConnectionOverrides {
  address?: string;
  namespace?: string;
  profile?: string;
}

export interface ConnectSettings {
  address: string;
  namespace: string;
  connectionOptions: ReturnType<typeof loadClientConnectConfig>['connectionOptions'];
}

export const DEFAULT_ADDRESS = 'localhost:7233';

export function connectSettings(overrides: ConnectionOverrides = {}): ConnectSettings {
  const loaded = loadClientConnectConfig(overrides.profile ? { profile: overrides.profile } : {});
  const address = overrides.address ?? loaded.connectionOptions.address ?? DEFAULT_ADDRESS;
  return {
    address,
    namespace: overrides.namespace ?? loaded.namespace ?? 'default',
    connectionOptions: { ...loaded.connectionOptions, address },
  };
}

export async function connectClient(settings: ConnectSettings, { connectTimeoutMs }: { connectTimeoutMs?: number } = {}): Promise<Client> {
  // Loaded here, not at the top: settings alone (and a failed reachability check) need no SDK.
  const { Client, Connection } = await import('@temporalio/client');
  const connection = await Connection.connect({ ...settings.connectionOptions, ...(connectTimeoutMs ? { connectTimeout: connectTimeoutMs } : {}) });
  // With OTEL_EXPORTER_OTLP_ENDPOINT set, workflow starts carry the caller's trace.
  const traced = await tracing('provisioning');
  return new Client({ connection, namespace: settings.namespace, ...(traced ? { plugins: [traced.plugin] } : {}) });
}
