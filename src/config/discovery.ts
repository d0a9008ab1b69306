/**
 * Finds the registry file: --registry FILE, then PROVISIONING_REGISTRY, then `registry` of the
 * config file (<home>/config.toml), then ./provisioning/services.toml, then <home>/services.toml.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, UsageError } from './errors.js';
import { provisioningHome } from './home.js';
import type { Env } from './registry.js';
import { configured } from './user-config.js';

export interface RegistryLocation {
  file: string;
  /** Where the choice came from, for messages. */
  source: '--registry' | 'PROVISIONING_REGISTRY' | 'config file' | 'working directory' | 'home';
}

export function findRegistry(options: { flag?: string; env?: Env; cwd?: string } = {}): RegistryLocation {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  if (options.flag) return mustExist(path.resolve(cwd, options.flag), '--registry');
  if (env.PROVISIONING_REGISTRY) return mustExist(path.resolve(cwd, env.PROVISIONING_REGISTRY), 'PROVISIONING_REGISTRY');
  const fromConfig = configured('registry', env);
  if (fromConfig !== undefined) return mustExist(String(fromConfig), 'config file');
  const local = path.join(cwd, 'provisioning', 'services.toml');
  if (existsSync(local)) return { file: local, source: 'working directory' };
  const home = path.join(provisioningHome(env), 'services.toml');
  if (existsSync(home)) return { file: home, source: 'home' };
  throw new UsageError(
    `no service registry found (looked for --registry, $PROVISIONING_REGISTRY, registry in the config file, ${local} and ${home})`,
    'pass --registry FILE (for example --registry examples/services.toml), set PROVISIONING_REGISTRY, or run: provisioning config set registry FILE',
  );
}

function mustExist(file: string, source: RegistryLocation['source']): RegistryLocation {
  if (!existsSync(file)) {
    throw new ConfigError(file, [{ path: '', problem: `file not found (given by ${source})`, fix: 'check the path' }], 'registry');
  }
  return { file, source };
}
