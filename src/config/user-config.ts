/**
 * The user's config file, `<home>/config.toml`: defaults for what the commands otherwise take
 * only from flags and the environment. Precedence: flag > environment > config file > default.
 *
 *   registry = "/srv/platform/services.toml"
 *   catalog = "/srv/platform/taskservs"
 *   [temporal]
 *   address = "temporal.internal:7233"
 *   namespace = "platform"
 *   task_queue = "provisioning"
 *   [logging]
 *   level = "info"
 *   [execution]
 *   max_parallel_tasks = 50
 *
 * Every key is validated when it is read and when it is set; an unknown key or a bad value is a
 * ConfigError (the file, the key, the problem, the fix: exit 2) naming the valid keys.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'smol-toml';
import { ConfigError, UsageError, type ConfigProblem } from './errors.js';
import { provisioningHome } from './home.js';
import { parseTomlText, type Env } from './registry.js';
import { closest } from './suggest.js';
import { WORKER_DEFAULTS } from '../model/worker-defaults.js';

type Kind = 'file' | 'dir' | 'address' | 'name' | 'level' | 'count' | 'url' | 'format';

interface KeySpec {
  kind: Kind;
  /** The environment variable that overrides the file. */
  env: string;
  /** The flag that overrides both, and the commands that take it. */
  flag: string;
  /** The default when nothing sets it, in words. */
  fallback: string;
  description: string;
}

export const CONFIG_KEYS = {
  registry: { kind: 'file', env: 'PROVISIONING_REGISTRY', flag: '--registry', fallback: './provisioning/services.toml, else <home>/services.toml', description: 'the service registry file' },
  catalog: { kind: 'dir', env: 'PROVISIONING_CATALOG', flag: '--catalog', fallback: 'the shipped examples/taskservs', description: 'the taskserv catalog directory (test environments, taskserv list)' },
  'temporal.address': { kind: 'address', env: 'TEMPORAL_ADDRESS', flag: '--address', fallback: 'a Temporal profile\'s address, else localhost:7233', description: 'the Temporal frontend, host:port' },
  'temporal.namespace': { kind: 'name', env: 'TEMPORAL_NAMESPACE', flag: '--namespace', fallback: 'a Temporal profile\'s namespace, else default', description: 'the Temporal namespace' },
  'temporal.task_queue': { kind: 'name', env: 'PROVISIONING_TASK_QUEUE', flag: '--task-queue', fallback: 'provisioning', description: 'the task queue the workers poll and the commands start work on' },
  'logging.level': { kind: 'level', env: 'PROVISIONING_LOG_LEVEL', flag: '--log-level (worker, dev)', fallback: 'warn', description: 'the worker\'s log level: trace, debug, info, warn or error' },
  'execution.max_parallel_tasks': { kind: 'count', env: 'PROVISIONING_MAX_PARALLEL_TASKS', flag: '--max-activities (worker)', fallback: String(WORKER_DEFAULTS.maxActivities), description: 'activities a worker runs at once, per queue' },
  'alerts.webhook': { kind: 'url', env: 'PROVISIONING_ALERT_WEBHOOK', flag: 'no flag', fallback: 'none (the registry\'s [alerts] webhooks only)', description: 'a webhook every supervisor alerts, besides the registry\'s [alerts] webhooks (http or https URL)' },
  'alerts.format': { kind: 'format', env: 'PROVISIONING_ALERT_FORMAT', flag: 'no flag', fallback: 'json', description: 'the body alerts.webhook gets: json (the alert) or slack (an incoming-webhook message)' },
} as const satisfies Record<string, KeySpec>;

export type ConfigKey = keyof typeof CONFIG_KEYS;
export const CONFIG_KEY_NAMES = Object.keys(CONFIG_KEYS) as ConfigKey[];
export type ConfigValue = string | number;
export type Origin = 'environment' | 'config file' | 'default';

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error'];
const NAME = /^[A-Za-z0-9][A-Za-z0-9._@/-]{0,254}$/;

export function configFile(env: Env): string {
  return path.join(provisioningHome(env), 'config.toml');
}

/**
 * A value as `config show` and `config set` print it: a webhook URL (whose path is often its
 * secret, as Slack's) as scheme and host only; `config get` prints it whole.
 */
export function displayValue(key: ConfigKey, value: ConfigValue | undefined): ConfigValue | undefined {
  if (value === undefined || CONFIG_KEYS[key].kind !== 'url') return value;
  try {
    const url = new URL(String(value));
    return `${url.protocol}//${url.host}/… (provisioning config get ${key} prints it)`;
  } catch {
    return '…';
  }
}

export function isConfigKey(key: string): key is ConfigKey {
  return Object.hasOwn(CONFIG_KEYS, key);
}

/** The refusal of a key that is not one: the valid keys, and the closest one. */
export function unknownKeyFix(key: string): string {
  const near = closest(key, CONFIG_KEY_NAMES);
  return `${near ? `did you mean ${near}? ` : ''}valid keys: ${CONFIG_KEY_NAMES.join(', ')}`;
}

/**
 * A value checked for its key: the value to store, or the problem and fix. Paths are made
 * absolute against `base` (the working directory for `config set`, the file's folder in the file).
 */
export function checkValue(key: ConfigKey, raw: unknown, base: string): { value: ConfigValue } | { problem: string; fix: string } {
  const spec: KeySpec = CONFIG_KEYS[key];
  const text = typeof raw === 'string' ? raw.trim() : typeof raw === 'number' ? String(raw) : undefined;
  if (text === undefined || text === '') return { problem: `expected ${spec.kind === 'count' ? 'a whole number' : 'a non-empty string'}, got ${raw === '' ? 'an empty string' : typeof raw}`, fix: `set ${key} to ${spec.description}` };
  switch (spec.kind) {
    case 'file':
    case 'dir': {
      const absolute = path.resolve(base, text);
      let stat;
      try {
        stat = statSync(absolute);
      } catch {
        return { problem: `${absolute} does not exist`, fix: `create it first, or give the path of ${spec.description}` };
      }
      if (spec.kind === 'file' && !stat.isFile()) return { problem: `${absolute} is not a file`, fix: `give the path of ${spec.description}` };
      if (spec.kind === 'dir' && !stat.isDirectory()) return { problem: `${absolute} is not a directory`, fix: `give the path of ${spec.description}` };
      return { value: absolute };
    }
    case 'address': {
      const colon = text.lastIndexOf(':');
      const port = Number(text.slice(colon + 1));
      if (colon <= 0 || !Number.isInteger(port) || port < 1 || port > 65535) return { problem: `"${text}" is not host:port`, fix: 'give the frontend as host:port, e.g. localhost:7233' };
      return { value: text };
    }
    case 'name':
      if (!NAME.test(text)) return { problem: `"${text}" is not a valid name`, fix: 'use letters, digits and . _ - @ / (at most 255), starting with a letter or digit' };
      return { value: text };
    case 'level':
      if (!LEVELS.includes(text.toLowerCase())) return { problem: `"${text}" is not a log level`, fix: `use one of ${LEVELS.join(', ')}` };
      return { value: text.toLowerCase() };
    case 'url': {
      let url: URL | undefined;
      try {
        url = new URL(text);
      } catch {
        url = undefined;
      }
      if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) return { problem: 'not an http or https URL', fix: 'give the webhook\'s full URL, e.g. https://hooks.slack.com/services/...' };
      return { value: text };
    }
    case 'format':
      if (text !== 'json' && text !== 'slack') return { problem: `"${text}" is not an alert format`, fix: 'use json or slack' };
      return { value: text };
    case 'count': {
      const n = Number(text);
      if (!Number.isInteger(n) || n < 1 || n > 10_000) return { problem: `"${text}" is not a whole number from 1 to 10000`, fix: 'give the number of activities a worker runs at once, e.g. 50' };
      return { value: n };
    }
  }
}

export interface UserConfig {
  file: string;
  exists: boolean;
  values: Partial<Record<ConfigKey, ConfigValue>>;
}

/** The flat `a.b` keys of a parsed file, with their values. */
function flatten(tree: Record<string, unknown>, prefix = ''): Array<[string, unknown]> {
  return Object.entries(tree).flatMap(([k, v]): Array<[string, unknown]> =>
    v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Date) ? flatten(v as Record<string, unknown>, `${prefix}${k}.`) : [[`${prefix}${k}`, v]],
  );
}

/** Reads and checks `<home>/config.toml`; a missing file is an empty config. */
export function loadUserConfig(env: Env): UserConfig {
  const file = configFile(env);
  if (!existsSync(file)) return { file, exists: false, values: {} };
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, [{ path: '', problem: `cannot read file (${(err as NodeJS.ErrnoException).code ?? String(err)})`, fix: 'check the file permissions' }], 'config file');
  }
  const tree = parseTomlText(text, file, 'config file') as Record<string, unknown>;
  const problems: ConfigProblem[] = [];
  const values: UserConfig['values'] = {};
  for (const [key, raw] of flatten(tree)) {
    if (!isConfigKey(key)) {
      problems.push({ path: key, problem: 'unknown key', fix: unknownKeyFix(key) });
      continue;
    }
    const checked = checkValue(key, raw, path.dirname(file));
    if ('value' in checked) values[key] = checked.value;
    else problems.push({ path: key, problem: checked.problem, fix: checked.fix });
  }
  if (problems.length > 0) throw new ConfigError(file, problems, 'config file');
  return { file, exists: true, values };
}

export interface Resolved {
  key: ConfigKey;
  value: ConfigValue | undefined;
  origin: Origin;
  /** The variable or the file it came from; for a default, the default in words. */
  from: string;
}

/** A key's value from the environment, else the config file, else undefined (the command's default). */
export function resolveConfig(key: ConfigKey, env: Env, config: UserConfig = loadUserConfig(env), cwd = process.cwd()): Resolved {
  const spec: KeySpec = CONFIG_KEYS[key];
  const fromEnv = env[spec.env];
  if (fromEnv !== undefined && fromEnv !== '') {
    const checked = checkValue(key, fromEnv, cwd);
    if (!('value' in checked)) throw new UsageError(`$${spec.env}: ${checked.problem}`, checked.fix);
    return { key, value: checked.value, origin: 'environment', from: spec.env };
  }
  const stored = config.values[key];
  if (stored !== undefined) return { key, value: stored, origin: 'config file', from: config.file };
  return { key, value: undefined, origin: 'default', from: spec.fallback };
}

/** A key's value from the config file alone (the environment is read by whoever reads it today). */
export function configured(key: ConfigKey, env: Env): ConfigValue | undefined {
  return loadUserConfig(env).values[key];
}

function writeConfig(file: string, values: UserConfig['values']): void {
  const tree: Record<string, unknown> = {};
  for (const key of CONFIG_KEY_NAMES) {
    const value = values[key];
    if (value === undefined) continue;
    const parts = key.split('.');
    let node = tree;
    for (const part of parts.slice(0, -1)) node = (node[part] ??= {}) as Record<string, unknown>;
    node[parts.at(-1)!] = value;
  }
  mkdirSync(path.dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, `# provisioning config (provisioning config show --origin; README "The config file")\n${stringify(tree)}\n`);
  renameSync(temp, file);
}

function mustBeKey(key: string): asserts key is ConfigKey {
  if (!isConfigKey(key)) throw new UsageError(`unknown config key "${key}"`, unknownKeyFix(key));
}

/** Checks and stores one key; returns the stored value. Nothing is written when the key or value is bad. */
export function setConfig(env: Env, key: string, raw: string, cwd: string): { file: string; value: ConfigValue } {
  mustBeKey(key);
  const checked = checkValue(key, raw, cwd);
  if (!('value' in checked)) throw new UsageError(`${key}: ${checked.problem}`, checked.fix);
  const config = loadUserConfig(env);
  writeConfig(config.file, { ...config.values, [key]: checked.value });
  return { file: config.file, value: checked.value };
}

/** Removes one key; returns whether it was set. */
export function unsetConfig(env: Env, key: string): { file: string; removed: boolean } {
  mustBeKey(key);
  const config = loadUserConfig(env);
  if (config.values[key] === undefined) return { file: config.file, removed: false };
  const { [key]: _removed, ...rest } = config.values;
  writeConfig(config.file, rest);
  return { file: config.file, removed: true };
}
