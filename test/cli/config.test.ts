/**
 * `config get|set|show|unset` and `validate config` as a user runs them, against a real
 * <home>/config.toml: values checked on the way in, the file's keys checked on the way out, and
 * flag > environment > config file > default seen in what the commands do (the registry a
 * command reads, the catalog, and a real worker process's address, task queue, log level and
 * slots).
 */
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { parse } from 'smol-toml';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { watchOutput } from '../../src/util/process.js';
import { cli, scratchDir, service, writeRegistry } from '../support/cli.js';
import { uniqueId } from '../support/temporal.js';

const root = path.resolve(import.meta.dirname, '../..');
const examples = path.join(root, 'examples/services.toml');
const bin = path.join(root, 'bin/provisioning.js');

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!().catch(() => undefined);
});

async function home(): Promise<{ dir: string; env: Record<string, string>; file: string }> {
  const { dir, cleanup } = await scratchDir();
  cleanups.push(cleanup);
  return { dir, env: { HOME: '/home/test', PATH: process.env.PATH!, PROVISIONING_HOME: dir }, file: path.join(dir, 'config.toml') };
}

interface Shown {
  file: string;
  exists: boolean;
  keys: Array<{ key: string; value?: string | number; origin: string; from: string }>;
}
const origins = (shown: Shown) => Object.fromEntries(shown.keys.map((k) => [k.key, [k.value, k.origin]]));

describe('config', () => {
  it('set, get, show --origin and unset keep <home>/config.toml, a TOML file with the seeds\' tables', async () => {
    const { env, file } = await home();
    expect((await cli(['config', 'set', 'logging.level', 'DEBUG'], { env })).stdout).toBe(`logging.level = debug (in ${file})`);
    expect((await cli(['config', 'set', 'execution.max_parallel_tasks', '50'], { env })).code).toBe(0);
    expect((await cli(['config', 'set', 'registry', 'examples/services.toml'], { env, cwd: root })).stdout).toBe(`registry = ${examples} (in ${file})`);
    expect(parse(await readFile(file, 'utf8'))).toEqual({ registry: examples, logging: { level: 'debug' }, execution: { max_parallel_tasks: 50 } });

    expect(await cli(['config', 'get', 'logging.level'], { env })).toMatchObject({ code: 0, stdout: 'debug' });
    const unset = await cli(['config', 'get', 'temporal.task_queue'], { env });
    expect(unset).toMatchObject({ code: 1, stdout: '', stderr: 'temporal.task_queue is not set (default: provisioning)' });

    const shown = JSON.parse((await cli(['config', 'show', '--origin', '--json'], { env: { ...env, PROVISIONING_LOG_LEVEL: 'error' } })).stdout) as Shown;
    expect(shown.file).toBe(file);
    expect(origins(shown)).toMatchObject({
      'logging.level': ['error', 'environment'],
      'execution.max_parallel_tasks': [50, 'config file'],
      registry: [examples, 'config file'],
      'temporal.task_queue': [undefined, 'default'],
    });
    const table = (await cli(['config', 'show', '--origin'], { env })).stdout.split('\n');
    expect(table[0]).toBe(`Config file: ${file}`);
    expect(table.find((l) => l.startsWith('logging.level'))).toMatch(/^logging\.level\s+debug\s+config file\s+/);

    expect((await cli(['config', 'unset', 'logging.level'], { env })).stdout).toBe(`logging.level removed (from ${file})`);
    expect((await cli(['config', 'unset', 'logging.level'], { env })).stdout).toBe(`logging.level was not set in ${file}`);
    expect(parse(await readFile(file, 'utf8'))).toEqual({ registry: examples, execution: { max_parallel_tasks: 50 } });
  });

  it('refuses unknown keys and bad values with the valid keys or the fix, exit 2, and writes nothing', async () => {
    const { env, file } = await home();
    const unknown = await cli(['config', 'set', 'execution.max_paralel_tasks', '5'], { env });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown config key "execution.max_paralel_tasks"');
    expect(unknown.stderr).toContain('did you mean execution.max_parallel_tasks? valid keys: registry, catalog, temporal.address, temporal.namespace, temporal.task_queue, logging.level, execution.max_parallel_tasks');
    const bad: Array<[string, string, string]> = [
      ['logging.level', 'loud', '"loud" is not a log level'],
      ['execution.max_parallel_tasks', '0', '"0" is not a whole number from 1 to 10000'],
      ['execution.max_parallel_tasks', 'many', '"many" is not a whole number'],
      ['temporal.address', 'nowhere', '"nowhere" is not host:port'],
      ['temporal.task_queue', 'my queue', '"my queue" is not a valid name'],
      ['registry', '/no/such/services.toml', '/no/such/services.toml does not exist'],
      ['catalog', examples, `${examples} is not a directory`],
    ];
    for (const [key, value, problem] of bad) {
      const r = await cli(['config', 'set', key, value], { env });
      expect(r.code, `${key} ${value}`).toBe(2);
      expect(r.stderr).toContain(`error: ${key}: ${problem}`);
      expect(r.stderr).toContain('fix: ');
    }
    expect((await cli(['config', 'get', 'nope'], { env })).code).toBe(2);
    expect((await cli(['config', 'unset', 'nope'], { env })).code).toBe(2);
    await expect(readFile(file)).rejects.toThrow(/ENOENT/);
    const invalidEnv = await cli(['config', 'show'], { env: { ...env, PROVISIONING_MAX_PARALLEL_TASKS: '-3' } });
    expect(invalidEnv.code).toBe(2);
    expect(invalidEnv.stderr).toContain('$PROVISIONING_MAX_PARALLEL_TASKS: "-3" is not a whole number');
  });

  it('an invalid config file stops the commands that read it, naming the file, each key and the fix; validate config lists everything', async () => {
    const { env, file } = await home();
    await writeFile(file, 'registry = "missing.toml"\n[logging]\nlevel = "loud"\nformat = "json"\n');
    const r = await cli(['services', 'list'], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`invalid config file ${file}: 3 problems`);
    expect(r.stderr).toContain(`${file}: logging.format: unknown key`);
    expect(r.stderr).toContain(`${file}: logging.level: "loud" is not a log level`);
    expect(r.stderr).toContain(`${file}: registry: ${path.join(path.dirname(file), 'missing.toml')} does not exist`);
    const validated = await cli(['validate', 'config', '--json'], { env });
    expect(validated.code).toBe(2);
    const report = JSON.parse(validated.stdout) as { valid: boolean; checks: Array<{ what: string; ok: boolean; detail: string }> };
    expect(report.valid).toBe(false);
    expect(report.checks.map((c) => [c.what, c.ok])).toEqual([
      ['config file', false],
      ['registry', false],
      ['taskserv catalog', false],
      ['topology templates', true],
    ]);
    await writeFile(file, '[temporal\naddress = 1\n');
    const syntax = await cli(['config', 'show'], { env });
    expect(syntax.code).toBe(2);
    expect(syntax.stderr).toMatch(new RegExp(`${file.replaceAll('.', '\\.')}: line \\d+, column \\d+: invalid TOML`));
  });

  it('validate config passes a good set-up and names a broken registry with its key path', async () => {
    const { dir, env } = await home();
    expect((await cli(['config', 'set', 'registry', examples], { env })).code).toBe(0);
    const good = await cli(['validate', 'config'], { env });
    expect(good.code).toBe(0);
    expect(good.stdout).toContain(`✓ registry: ${examples} (config file)\n  7 services`);
    expect(good.stdout).toContain('✓ taskserv catalog: ');
    const broken = await writeRegistry(dir, service('api', 'dependencies = ["nowhere"]'));
    const bad = await cli(['validate', 'config', '--registry', broken], { env });
    expect(bad.code).toBe(2);
    expect(bad.stdout).toContain(`✗ registry: ${broken} (--registry)`);
    expect(bad.stdout).toContain('nowhere');
  });

  it('flag > environment > config file > default for the registry and the catalog', async () => {
    const { dir, env } = await home();
    const other = await writeRegistry(dir, service('only-here'), 'other.toml');
    const catalog = path.join(dir, 'catalog');
    await mkdir(catalog);
    await cp(path.join(root, 'examples/taskservs/redis'), path.join(catalog, 'redis'), { recursive: true });
    expect((await cli(['config', 'set', 'registry', examples], { env })).code).toBe(0);
    expect((await cli(['config', 'set', 'catalog', catalog], { env })).code).toBe(0);
    const names = async (argv: string[], e: Record<string, string>) => (JSON.parse((await cli([...argv, '--json'], { env: e })).stdout) as { services?: Array<{ name: string }>; taskservs?: Array<{ name: string }> });
    expect((await names(['services', 'list'], env)).services).toHaveLength(7);
    expect((await names(['services', 'list'], { ...env, PROVISIONING_REGISTRY: other })).services!.map((s) => s.name)).toEqual(['only-here']);
    expect((await names(['services', 'list', '--registry', examples], { ...env, PROVISIONING_REGISTRY: other })).services).toHaveLength(7);
    expect((await names(['taskserv', 'list'], env)).taskservs!.map((t) => t.name)).toEqual(['redis']);
    expect((await names(['taskserv', 'list', '--catalog', path.join(root, 'examples/taskservs')], env)).taskservs!.length).toBeGreaterThan(1);
    expect((await cli(['config', 'unset', 'registry'], { env })).code).toBe(0);
    const none = await cli(['services', 'list'], { env, cwd: dir });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('provisioning config set registry FILE');
  });

  it('a real worker takes its address, task queue, log level and slots from the config file, under the environment and the flags', async () => {
    const { env } = await home();
    const taskQueue = uniqueId('cfg');
    for (const [key, value] of [['temporal.address', inject('temporalAddress')], ['temporal.task_queue', taskQueue], ['logging.level', 'info'], ['execution.max_parallel_tasks', '7']]) {
      expect((await cli(['config', 'set', key!, value!], { env })).code).toBe(0);
    }
    const worker = async (args: string[], extra: Record<string, string> = {}) => {
      const child = execa('node', [bin, 'worker', ...args], { env: { ...env, PROVISIONING_FROM_SOURCE: '1', ...extra }, extendEnv: false, reject: false, all: true });
      cleanups.push(async () => {
        child.kill('SIGKILL');
        await child;
      });
      const watched = watchOutput(child);
      await watched.until('Worker polling', 'provisioning worker', 60_000);
      child.kill('SIGTERM');
      await child;
      return watched.output().split('\n').find((l) => l.startsWith('Worker polling'))!;
    };
    const fromFile = await worker([]);
    expect(fromFile).toContain(`task queues "${taskQueue}" and "${taskQueue}@`);
    expect(fromFile).toContain('7 activities at once per queue, log level INFO) at ' + inject('temporalAddress'));
    const fromEnv = await worker([], { PROVISIONING_MAX_PARALLEL_TASKS: '9', PROVISIONING_TASK_QUEUE: `${taskQueue}-env` });
    expect(fromEnv).toContain(`task queues "${taskQueue}-env"`);
    expect(fromEnv).toContain('9 activities at once per queue');
    const fromFlags = await worker(['--max-activities', '3', '--task-queue', `${taskQueue}-flag`, '--log-level', 'error'], { PROVISIONING_MAX_PARALLEL_TASKS: '9' });
    expect(fromFlags).toContain(`task queues "${taskQueue}-flag"`);
    expect(fromFlags).toContain('3 activities at once per queue, log level ERROR');
  }, 180_000);
});
