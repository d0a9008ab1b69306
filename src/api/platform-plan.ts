/** Decisions about a platform operation that need no Temporal: the SDK is not loaded for them. */
import type { Registry } from '../config/registry-schema.js';

/** Why a start would do nothing (no service named and none auto_start), or undefined. */
export function nothingToStart(registry: Registry, services: readonly string[] = []): { why: string; fix: string } | undefined {
  if (services.length > 0 || Object.values(registry.services).some((s) => s.startup.auto_start)) return undefined;
  return {
    why: `no service in ${registry.source} has startup.auto_start = true, and no service was named`,
    fix: `name the services to start (provisioning platform start ${Object.keys(registry.services).slice(0, 2).join(' ') || '<service>'}), or set startup.auto_start = true on those that should start by default`,
  };
}
