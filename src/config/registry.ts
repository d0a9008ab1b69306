/**
 * Loads a service registry: TOML -> ${VAR} expansion -> schema -> graph checks.
 * Every problem found is reported at once, each with its key path and fix.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseToml, TomlError } from 'smol-toml';
import { checkGraph } from '../graph/index.js';
import { ConfigError, formatKeyPath, type ConfigProblem } from './errors.js';
import { DNS_LABEL_FIX, dnsLabelProblem } from './fields.js';
import { expandVariables } from './expand.js';
import { zodProblems } from './issues.js';
import { registryNodes } from './registry-nodes.js';
import { registrySchema, type Registry, type ServiceDefinition } from './registry-schema.js';
import { suggestionFix } from './suggest.js';

export type Env = Readonly<Record<string, string | undefined>>;

/** Reads and parses a TOML file; a missing file or bad syntax is a ConfigError. */
export async function readTomlFile(file: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(file, [
      {
        path: '',
        problem: code === 'ENOENT' ? 'file not found' : `cannot read file (${code ?? String(err)})`,
        fix: code === 'ENOENT' ? `check the path, or create the ${what}` : 'check the file permissions',
      },
    ], what);
  }
  return parseTomlText(text, file, what);
}

export function parseTomlText(text: string, file: string, what: string): unknown {
  try {
    return parseToml(text);
  } catch (err) {
    if (err instanceof TomlError) {
      const reason = err.message.split('\n')[0]!.replace(/^Invalid TOML document: /, '');
      throw new ConfigError(file, [
        { path: `line ${err.line}, column ${err.column}`, problem: `invalid TOML: ${reason}`, fix: 'fix the TOML syntax at that position' },
      ], what);
    }
    throw err;
  }
}

/** `${REGISTRY_DIR}` is the folder of the registry file, so a registry can name files beside it. */
export async function loadRegistry(file: string, env: Env = process.env): Promise<Registry> {
  const absolute = path.resolve(file);
  const raw = await readTomlFile(absolute, 'registry');
  return parseRegistry(raw, absolute, { REGISTRY_DIR: path.dirname(absolute), ...env });
}

/** Validates a parsed registry tree. `source` names the file in errors and in the snapshot. */
export function parseRegistry(raw: unknown, source: string, env: Env = process.env): Registry {
  const expanded = expandVariables(raw, env);
  const early = [...expanded.problems, ...nameProblems(expanded.value)];
  const parsed = registrySchema.safeParse(expanded.value, { reportInput: true });
  if (!parsed.success) throw new ConfigError(source, [...early, ...zodProblems(parsed.error)], 'registry');

  const services: Record<string, ServiceDefinition> = {};
  for (const [key, def] of Object.entries(parsed.data.services)) {
    const service: ServiceDefinition = { ...def, name: key };
    if (service.deployment.docker && !service.deployment.docker.container_name) {
      service.deployment.docker.container_name = `provisioning-${key}`;
    }
    if (service.deployment.remote && service.deployment.remote.tls_enabled === undefined) {
      service.deployment.remote.tls_enabled = service.deployment.remote.endpoint.startsWith('https:');
    }
    services[key] = service;
  }
  const problems = [...early, ...graphProblems(services)];
  if (problems.length > 0) throw new ConfigError(source, problems, 'registry');
  return { source, services, ...(parsed.data.alerts && parsed.data.alerts.webhooks.length > 0 ? { alerts: parsed.data.alerts } : {}) };
}

/** Service names, name keys and self-conflicts, checked on the raw tree so they are reported with schema problems. */
function nameProblems(tree: unknown): ConfigProblem[] {
  const services = (tree as { services?: unknown } | null)?.services;
  if (services === null || typeof services !== 'object' || Array.isArray(services)) return [];
  const problems: ConfigProblem[] = [];
  for (const [key, def] of Object.entries(services as Record<string, unknown>)) {
    const at = formatKeyPath(['services', key]);
    const nameProblem = dnsLabelProblem(key);
    if (nameProblem) problems.push({ path: at, problem: `service ${nameProblem}`, fix: DNS_LABEL_FIX });
    const { name, conflicts } = (def ?? {}) as { name?: unknown; conflicts?: unknown };
    if (typeof name === 'string' && name !== key) {
      problems.push({ path: `${at}.name`, problem: `name "${name}" differs from the table name "${key}"`, fix: `set name = "${key}" or remove the name key` });
    }
    if (Array.isArray(conflicts)) {
      conflicts.forEach((c, i) => {
        if (c === key) problems.push({ path: `${at}.conflicts[${i}]`, problem: `${key} conflicts with itself`, fix: `remove "${key}" from its conflicts` });
      });
    }
  }
  return problems;
}

function graphProblems(services: Record<string, ServiceDefinition>): ConfigProblem[] {
  const names = Object.keys(services);
  return checkGraph(registryNodes({ services })).map((p): ConfigProblem => {
    switch (p.kind) {
      case 'missing-dependency':
        return {
          path: `services.${p.service}.dependencies[${p.index}]`,
          problem: `${p.service} depends on "${p.dependency}", which is not in the registry`,
          fix: `${suggestionFix(p.dependency, names, 'service')} Or add [services.${p.dependency}] to the registry.`,
        };
      case 'self-dependency':
        return {
          path: `services.${p.service}.dependencies[${p.index}]`,
          problem: `${p.service} depends on itself`,
          fix: `remove "${p.service}" from its own dependencies`,
        };
      case 'duplicate-dependency':
        return {
          path: `services.${p.service}.dependencies[${p.index}]`,
          problem: `${p.service} lists "${p.dependency}" twice`,
          fix: 'remove the duplicate',
        };
      case 'cycle':
        return {
          path: `services.${p.service}.dependencies`,
          problem: `dependency cycle: ${p.cycle.join(' -> ')}`,
          fix: 'remove one of these dependencies so the services can start in some order',
        };
    }
  });
}
