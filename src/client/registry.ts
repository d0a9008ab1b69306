/** Loads the registry a command names (--registry, PROVISIONING_REGISTRY, ./provisioning, home). */
import { findRegistry } from '../config/discovery.js';
import { loadRegistry } from '../config/registry.js';
import type { Registry } from '../config/registry-schema.js';
import type { Io } from './io.js';

export { assertServices } from '../api/validate.js';

export async function registryFor(io: Io, flag: string | undefined): Promise<Registry> {
  const location = findRegistry({ ...(flag ? { flag } : {}), env: io.env, cwd: io.cwd });
  return loadRegistry(location.file, io.env);
}
