/**
 * Loading for test environments: topology templates (the shipped config/test-topologies.toml,
 * then <home>/test-topologies.toml, then --topologies FILE; a later template of the same name
 * wins), the taskserv catalog to use, and request files. Problems name file, key and fix.
 */
import { access } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError } from './errors.js';
import { provisioningHome } from './home.js';
import { zodProblems } from './issues.js';
import { readTomlFile, type Env } from './registry.js';
import { loadCatalog } from './settings.js';
import type { TaskservManifest } from './settings-schema.js';
import { configured } from './user-config.js';
import { packageRoot } from './shipped.js';
import { environmentRequestSchema, planEnvironment, templatesFileSchema, type EnvironmentPlan, type EnvironmentRequest, type TopologyTemplate } from './testenv-schema.js';

export const SHIPPED_TOPOLOGIES = path.join(packageRoot, 'config', 'test-topologies.toml');
export const SHIPPED_CATALOG = path.join(packageRoot, 'examples', 'taskservs');

async function exists(file: string): Promise<boolean> {
  return access(file).then(() => true, () => false);
}

export async function loadTemplateFile(file: string): Promise<Record<string, TopologyTemplate>> {
  const raw = await readTomlFile(file, 'topology templates');
  const parsed = templatesFileSchema.safeParse(raw, { reportInput: true });
  if (!parsed.success) throw new ConfigError(file, zodProblems(parsed.error), 'topology templates');
  return Object.fromEntries(Object.entries(parsed.data).map(([name, t]) => [name, { ...t, name, source: file }]));
}

/** The templates: shipped, then the user's, then an explicit file. */
export async function loadTopologies(options: { file?: string; env?: Env; cwd?: string } = {}): Promise<Record<string, TopologyTemplate>> {
  const env = options.env ?? process.env;
  const files = [SHIPPED_TOPOLOGIES];
  const user = path.join(provisioningHome(env), 'test-topologies.toml');
  if (await exists(user)) files.push(user);
  if (options.file) files.push(path.resolve(options.cwd ?? process.cwd(), options.file));
  const merged: Record<string, TopologyTemplate> = {};
  for (const file of files) Object.assign(merged, await loadTemplateFile(file));
  return merged;
}

/** The catalog directory: --catalog, then $PROVISIONING_CATALOG, then `catalog` of the config file, then the shipped examples/taskservs. */
export function catalogDir(flag: string | undefined, env: Env, cwd: string): string {
  const chosen = flag ?? (env.PROVISIONING_CATALOG || undefined);
  if (chosen) return path.resolve(cwd, chosen);
  const fromConfig = configured('catalog', env);
  return fromConfig !== undefined ? String(fromConfig) : SHIPPED_CATALOG;
}

export interface LoadedCatalog {
  dir: string;
  taskservs: Record<string, TaskservManifest>;
}

export async function loadEnvCatalog(flag: string | undefined, env: Env, cwd: string): Promise<LoadedCatalog> {
  const dir = catalogDir(flag, env, cwd);
  return { dir, taskservs: await loadCatalog(dir) };
}

/**
 * Validates a request (from a file, the CLI or a script) and resolves it against the
 * catalog. `source` names where it came from in error messages.
 */
export function planFromRequest(id: string, raw: unknown, catalog: LoadedCatalog, source: string): { plan: EnvironmentPlan; request: EnvironmentRequest } {
  const parsed = environmentRequestSchema.safeParse(raw, { reportInput: true });
  if (!parsed.success) throw new ConfigError(source, zodProblems(parsed.error), 'test environment request');
  const result = planEnvironment(id, parsed.data, catalog);
  if (!result.plan) throw new ConfigError(source, result.problems, 'test environment request');
  return { plan: result.plan, request: parsed.data };
}
