/** Loads the registry a command names (--registry, PROVISIONING_REGISTRY, ./provisioning, home). */
import { findRegistry } from '../config/discovery.js';
import { loadRegistry } from '../config/registry.js';
import type { Registry } from '../config/registry-schema.js';
import type { Io } from './io.js';
import { loadUserConfig, resolveConfig } from '../config/user-config.js';
import { ALERT_EVENTS, type AlertTarget } from '../model/alerts.js';

export { assertServices } from '../api/validate.js';

/** The registry a command acts on, with the webhook of the config file (alerts.webhook) added to its [alerts]. */
export async function registryFor(io: Io, flag: string | undefined): Promise<Registry> {
  const location = findRegistry({ ...(flag ? { flag } : {}), env: io.env, cwd: io.cwd });
  const registry = await loadRegistry(location.file, io.env);
  const config = loadUserConfig(io.env);
  const url = resolveConfig('alerts.webhook', io.env, config, io.cwd).value;
  if (url === undefined) return registry;
  const format = resolveConfig('alerts.format', io.env, config, io.cwd).value === 'slack' ? 'slack' : 'json';
  const webhook: AlertTarget = { url: String(url), format, events: [...ALERT_EVENTS], attempts: 8 };
  return { ...registry, alerts: { webhooks: [...(registry.alerts?.webhooks ?? []), webhook] } };
}
