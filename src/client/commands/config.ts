/** `provisioning config get|set|show|unset` (the config file) and `provisioning validate config`. */
import type { Command } from 'commander';
import { findRegistry } from '../../config/discovery.js';
import { ConfigError, UsageError } from '../../config/errors.js';
import { loadRegistry } from '../../config/registry.js';
import { loadCatalog } from '../../config/settings.js';
import { catalogDir, loadTopologies } from '../../config/testenv.js';
import { CONFIG_KEYS, CONFIG_KEY_NAMES, configFile, displayValue, isConfigKey, loadUserConfig, resolveConfig, setConfig, unknownKeyFix, unsetConfig } from '../../config/user-config.js';
import { printJson, type Io } from '../io.js';
import { renderTable } from '../render/table.js';
import { REGISTRY_HELP } from './platform.js';

const KEYS_HELP = `\nKeys (flag > environment > config file > default):\n${CONFIG_KEY_NAMES.map((k) => `  ${k.padEnd(30)} ${CONFIG_KEYS[k].description} ($${CONFIG_KEYS[k].env}, ${CONFIG_KEYS[k].flag}; default: ${CONFIG_KEYS[k].fallback})`).join('\n')}`;

export function registerConfigCommand(program: Command, io: Io): void {
  const config = program
    .command('config')
    .description('show and change the defaults in <home>/config.toml')
    .addHelpText('after', `\nThe file is <home>/config.toml (<home> is $PROVISIONING_HOME, else ~/.provisioning).\n${KEYS_HELP}\n\nExamples:\n  provisioning config set logging.level debug\n  provisioning config set execution.max_parallel_tasks 50\n  provisioning config set registry examples/services.toml\n  provisioning config show --origin\n  provisioning config unset temporal.address`);

  config
    .command('show')
    .description('print every key with its value; --origin also says where each value comes from')
    .option('--origin', 'add the origin (environment, config file, default) and the variable or file')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExamples:\n  provisioning config show\n  provisioning config show --origin\n  provisioning config show --json | jq \'.keys[] | select(.origin == "config file")\'')
    .action((opts: { origin?: boolean; json?: boolean }) => {
      const file = loadUserConfig(io.env);
      const rows = CONFIG_KEY_NAMES.map((key) => resolveConfig(key, io.env, file, io.cwd)).map((r) => ({ ...r, value: displayValue(r.key, r.value) }));
      if (opts.json) return printJson(io, { file: file.file, exists: file.exists, keys: rows });
      const show = (v: string | number | undefined) => (v === undefined ? '-' : String(v));
      const table = opts.origin
        ? renderTable(['KEY', 'VALUE', 'ORIGIN', 'FROM'], rows.map((r) => [r.key, show(r.value), r.origin, r.origin === 'environment' ? `$${r.from}` : r.from]))
        : renderTable(['KEY', 'VALUE'], rows.map((r) => [r.key, r.value === undefined ? `- (default: ${r.from})` : String(r.value)]));
      io.out(`Config file: ${file.file}${file.exists ? '' : ' (not created yet: provisioning config set KEY VALUE)'}\n${table}`);
    });

  config
    .command('get')
    .argument('<key>', `one of ${CONFIG_KEY_NAMES.join(', ')}`)
    .description('print the value of a key (the environment\'s, else the config file\'s); exit 1 when neither sets it')
    .option('--json', 'print JSON: key, value, origin, from')
    .addHelpText('after', '\nExamples:\n  provisioning config get temporal.address\n  provisioning config get logging.level --json')
    .action((key: string, opts: { json?: boolean }) => {
      if (!isConfigKey(key)) throw new UsageError(`unknown config key "${key}"`, unknownKeyFix(key));
      const resolved = resolveConfig(key, io.env, undefined, io.cwd);
      if (opts.json) printJson(io, resolved);
      else if (resolved.value !== undefined) io.out(String(resolved.value));
      else io.err(`${key} is not set (default: ${resolved.from})`);
      if (resolved.value === undefined) io.exitCode = 1;
    });

  config
    .command('set')
    .argument('<key>', `one of ${CONFIG_KEY_NAMES.join(', ')}`)
    .argument('<value>', 'the value; paths are stored absolute')
    .description('check a value and store it in the config file (nothing is written when the key or value is bad)')
    .addHelpText('after', '\nExamples:\n  provisioning config set logging.level debug\n  provisioning config set execution.max_parallel_tasks 50\n  provisioning config set temporal.address temporal.internal:7233\n  provisioning config set registry ./provisioning/services.toml')
    .action((key: string, value: string) => {
      const stored = setConfig(io.env, key, value, io.cwd);
      io.out(`${key} = ${isConfigKey(key) ? displayValue(key, stored.value) : stored.value} (in ${stored.file})`);
      const variable = isConfigKey(key) ? CONFIG_KEYS[key].env : undefined;
      if (variable && io.env[variable]) io.err(`note: $${variable} is set (${isConfigKey(key) ? displayValue(key, io.env[variable]) : io.env[variable]}) and wins over the config file`);
    });

  config
    .command('unset')
    .argument('<key>', `one of ${CONFIG_KEY_NAMES.join(', ')}`)
    .description('remove a key from the config file: the command\'s default applies again')
    .addHelpText('after', '\nExamples:\n  provisioning config unset temporal.address')
    .action((key: string) => {
      const { file, removed } = unsetConfig(io.env, key);
      io.out(removed ? `${key} removed (from ${file})` : `${key} was not set in ${file}`);
    });
}

interface Check {
  what: string;
  source: string;
  ok: boolean;
  detail: string;
}

async function check(what: string, source: string, run: () => Promise<string> | string): Promise<Check> {
  try {
    return { what, source, ok: true, detail: await run() };
  } catch (err) {
    if (err instanceof ConfigError || err instanceof UsageError) return { what, source, ok: false, detail: err.message };
    throw err;
  }
}

export function registerValidateCommand(program: Command, io: Io): void {
  const validate = program.command('validate').description('check configuration without starting anything');
  validate
    .command('config')
    .description('check the config file, the registry, the taskserv catalog and the topology templates in one go')
    .option('--registry <file>', REGISTRY_HELP)
    .option('--catalog <dir>', 'taskserv catalog (default: $PROVISIONING_CATALOG, the config file\'s catalog, the shipped one)')
    .option('--topologies <file>', 'a topology templates file to check besides the shipped one and <home>/test-topologies.toml')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExit codes: 0 all valid, 2 something is invalid (each problem names its file, key and fix).\n\nExamples:\n  provisioning validate config\n  provisioning validate config --registry examples/services.toml --json')
    .action(async (opts: { registry?: string; catalog?: string; topologies?: string; json?: boolean }) => {
      const checks: Check[] = [];
      checks.push(await check('config file', configFile(io.env), () => {
        const file = loadUserConfig(io.env);
        return file.exists ? `${Object.keys(file.values).length} keys set` : 'none (every key at its default)';
      }));
      const configOk = checks[0]!.ok;
      let registry: Check;
      if (!configOk && !opts.registry && !io.env.PROVISIONING_REGISTRY) {
        registry = { what: 'registry', source: '-', ok: false, detail: 'not checked: the config file, which may name it, is invalid' };
      } else try {
        const location = findRegistry({ ...(opts.registry ? { flag: opts.registry } : {}), env: io.env, cwd: io.cwd });
        registry = await check('registry', `${location.file} (${location.source})`, async () => `${Object.keys((await loadRegistry(location.file, io.env)).services).length} services`);
      } catch (err) {
        const notFound = err instanceof UsageError && err.message.startsWith('no service registry found');
        if (!(err instanceof ConfigError || err instanceof UsageError)) throw err;
        registry = { what: 'registry', source: notFound ? 'none found' : '-', ok: notFound, detail: notFound ? 'no registry configured or found: skipped (pass --registry FILE to check one)' : err.message };
      }
      checks.push(registry);
      if (configOk || opts.catalog || io.env.PROVISIONING_CATALOG) {
        const dir = catalogDir(opts.catalog, io.env, io.cwd);
        checks.push(await check('taskserv catalog', dir, async () => `${Object.keys(await loadCatalog(dir)).length} taskservs`));
      } else {
        checks.push({ what: 'taskserv catalog', source: '-', ok: false, detail: 'not checked: the config file, which may name it, is invalid' });
      }
      checks.push(await check('topology templates', opts.topologies ? `shipped, <home>, ${opts.topologies}` : 'shipped and <home>/test-topologies.toml', async () => `${Object.keys(await loadTopologies({ ...(opts.topologies ? { file: opts.topologies } : {}), env: io.env, cwd: io.cwd })).length} templates`));
      const invalid = checks.filter((c) => !c.ok);
      if (opts.json) printJson(io, { valid: invalid.length === 0, checks });
      else io.out(checks.map((c) => `${c.ok ? '✓' : '✗'} ${c.what}: ${c.source}\n  ${c.detail.replaceAll('\n', '\n  ')}`).join('\n'));
      if (invalid.length > 0) {
        if (!opts.json) io.err(`${invalid.length} of ${checks.length} invalid: ${invalid.map((c) => c.what).join(', ')}`);
        io.exitCode = 2;
      }
    });
}
