/** Loads the registry a command names (--registry, PROVISIONING_REGISTRY, ./provisioning, home). */
import { UsageError } from '../config/errors.js';
import { findRegistry } from '../config/discovery.js';
import { loadRegistry } from '../config/registry.js';
import type { Registry } from '../config/registry-schema.js';
import { suggestionFix } from '../config/suggest.js';
import type { Io } from './io.js';

export async function registryFor(io: Io, flag: string | undefined): Promise<Registry> {
  const location = findRegistry({ ...(flag ? { flag } : {}), env: io.env, cwd: io.cwd });
  return loadRegistry(location.file, io.env);
}

/** Every name must be a service of the registry; otherwise a usage error with the closest name. */
export function assertServices(registry: Registry, names: readonly string[]): void {
  const known = Object.keys(registry.services);
  for (const name of names) {
    if (!registry.services[name]) {
      throw new UsageError(`unknown service "${name}" (not in ${registry.source})`, suggestionFix(name, known, 'service'));
    }
  }
}
