/**
 * The config file's part in the commands' options (config/user-config.ts): an option a command
 * left at its default takes the value of its environment variable, else of the config file.
 * Flags always win. `--address` and `--namespace` take only the file's value here: the SDK reads
 * TEMPORAL_ADDRESS and TEMPORAL_NAMESPACE (and profiles) itself, and they win over the file.
 */
import type { Command } from 'commander';
import type { Env } from '../config/registry.js';
import { loadUserConfig, resolveConfig, type ConfigKey, type ConfigValue, type UserConfig } from '../config/user-config.js';

const OPTIONS: Array<{ option: string; key: ConfigKey; value: (v: ConfigValue) => unknown }> = [
  { option: 'address', key: 'temporal.address', value: String },
  { option: 'namespace', key: 'temporal.namespace', value: String },
  { option: 'taskQueue', key: 'temporal.task_queue', value: String },
  { option: 'logLevel', key: 'logging.level', value: (v) => String(v).toUpperCase() },
  { option: 'maxActivities', key: 'execution.max_parallel_tasks', value: Number },
];

export function applyConfigDefaults(action: Command, env: Env): void {
  let config: UserConfig | undefined;
  for (const { option, key, value } of OPTIONS) {
    if (!action.options.some((o) => o.attributeName() === option)) continue;
    const source = action.getOptionValueSource(option);
    if (source !== undefined && source !== 'default') continue;
    config ??= loadUserConfig(env);
    const resolved = resolveConfig(key, env, config);
    if (resolved.value === undefined) continue;
    if ((option === 'address' || option === 'namespace') && resolved.origin !== 'config file') continue;
    action.setOptionValueWithSource(option, value(resolved.value), resolved.origin === 'environment' ? 'env' : 'config');
  }
}
