/**
 * Loads infrastructure settings (YAML) and their taskserv catalog: a directory per
 * taskserv with taskserv.toml (name, version, dependencies, conflicts, parameters, requires)
 * and install.sh, check.sh and an optional test.sh. Problems are reported like the
 * registry's: file, key path, what is wrong, how to fix it.
 */
import { readdir, readFile, realpath } from 'node:fs/promises';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { checkGraph } from '../graph/index.js';
import { ConfigError, type ConfigProblem } from './errors.js';
import { expandVariables } from './expand.js';
import { dnsLabel, strict } from './fields.js';
import { zodProblems } from './issues.js';
import { readTomlFile, type Env } from './registry.js';
import { settingsSchema, type Settings, type TaskservManifest } from './settings-schema.js';
import { suggestionFix } from './suggest.js';

const manifestSchema = strict({
  name: dnsLabel('taskserv name'),
  version: z.string().min(1),
  description: z.string().default(''),
  dependencies: z.array(dnsLabel('taskserv name')).default([]),
  conflicts: z.array(dnsLabel('taskserv name')).default([]),
  /** Passed to the scripts as environment variables: names are shell variable names. */
  parameters: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'parameter names are environment variable names: letters, digits and "_", not starting with a digit' }), z.string()).default({}),
  requires: z.enum(['offline', 'internet']).default('offline'),
});

async function readText(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(file, [{ path: '', problem: code === 'ENOENT' ? 'file not found' : `cannot read file (${code})`, fix: `check the path of the ${what}` }], what);
  }
}

export function parseYamlText(text: string, file: string, what: string): unknown {
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      file,
      doc.errors.map((e) => ({
        path: e.linePos ? `line ${e.linePos[0].line}, column ${e.linePos[0].col}` : '',
        problem: `invalid YAML: ${e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`,
        fix: 'fix the YAML syntax at that position',
      })),
      what,
    );
  }
  return doc.toJS();
}

/** Loads every taskserv of a catalog directory. */
export async function loadCatalog(dir: string): Promise<Record<string, TaskservManifest>> {
  let entries: string[];
  try {
    entries = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name).sort();
  } catch {
    throw new ConfigError(dir, [{ path: '', problem: 'taskserv catalog directory not found', fix: 'set catalog: in the settings to the folder that holds one directory per taskserv' }], 'catalog');
  }
  const catalog: Record<string, TaskservManifest> = {};
  const problems: Array<{ file: string; problem: ConfigProblem }> = [];
  for (const name of entries) {
    const manifestFile = path.join(dir, name, 'taskserv.toml');
    const raw = await readTomlFile(manifestFile, 'taskserv manifest');
    const parsed = manifestSchema.safeParse(raw, { reportInput: true });
    if (!parsed.success) throw new ConfigError(manifestFile, zodProblems(parsed.error), 'taskserv manifest');
    if (parsed.data.name !== name) {
      problems.push({ file: manifestFile, problem: { path: 'name', problem: `name "${parsed.data.name}" differs from its directory "${name}"`, fix: `set name = "${name}"` } });
    }
    const script = async (kind: string, required: boolean) => {
      const file = path.join(dir, name, `${kind}.sh`);
      try {
        return await readFile(file, 'utf8');
      } catch {
        if (required) problems.push({ file, problem: { path: '', problem: `${kind}.sh is missing`, fix: `add ${kind}.sh to ${path.join(dir, name)}` } });
        return undefined;
      }
    };
    const [install, check, test] = await Promise.all([script('install', true), script('check', true), script('test', false)]);
    catalog[name] = { ...parsed.data, scripts: { install: install ?? '', check: check ?? '', ...(test !== undefined ? { test } : {}) } };
  }
  if (problems.length > 0) throw new ConfigError(problems[0]!.file, problems.map((p) => p.problem), 'taskserv catalog');
  const graph = checkGraph(Object.values(catalog).map((t) => ({ name: t.name, dependencies: t.dependencies })));
  if (graph.length > 0) {
    throw new ConfigError(
      dir,
      graph.map((p) => ({
        path: p.kind === 'cycle' ? `${p.service}/taskserv.toml: dependencies` : `${p.service}/taskserv.toml: dependencies`,
        problem: p.kind === 'missing-dependency' ? `${p.service} depends on "${p.dependency}", which is not in the catalog` : p.message,
        fix: p.kind === 'missing-dependency' ? suggestionFix(p.dependency, Object.keys(catalog), 'taskserv') : 'remove one of these dependencies',
      })),
      'taskserv catalog',
    );
  }
  return catalog;
}

export async function loadSettings(file: string, env: Env = process.env, options: { root?: string } = {}): Promise<Settings> {
  const source = path.resolve(file);
  const raw = parseYamlText(await readText(source, 'settings'), source, 'settings');
  return parseSettings(raw, source, path.dirname(source), env, options);
}

/**
 * Settings from an object (a file's content, or a request body's inline document): `baseDir`
 * is where relative paths (the catalog) resolve; with `root`, a catalog outside it is refused
 * before anything is read.
 */
export async function parseSettings(raw: unknown, source: string, baseDir: string, env: Env = process.env, { root }: { root?: string } = {}): Promise<Settings> {
  const expanded = expandVariables(raw, { SETTINGS_DIR: baseDir, ...env });
  const parsed = settingsSchema.safeParse(expanded.value, { reportInput: true });
  if (!parsed.success || expanded.problems.length > 0) {
    throw new ConfigError(source, [...expanded.problems, ...(parsed.success ? [] : zodProblems(parsed.error))], 'settings');
  }
  const catalogDir = path.resolve(baseDir, parsed.data.catalog);
  if (root !== undefined && !(await insideRoot(root, catalogDir))) {
    throw new ConfigError(source, [{ path: 'catalog', problem: `${parsed.data.catalog} is outside the settings root ${root}`, fix: 'use a catalog inside the settings root' }], 'settings');
  }
  const taskservs = await loadCatalog(catalogDir);
  const problems: ConfigProblem[] = [];
  parsed.data.servers.forEach((server, i) =>
    server.taskservs.forEach((t, j) => {
      if (!taskservs[t]) {
        problems.push({ path: `servers[${i}].taskservs[${j}]`, problem: `taskserv "${t}" is not in the catalog ${catalogDir}`, fix: suggestionFix(t, Object.keys(taskservs), 'taskserv') });
      }
    }),
  );
  if (problems.length > 0) throw new ConfigError(source, problems, 'settings');
  return { ...parsed.data, source, catalog: catalogDir, taskservs };
}

/**
 * Whether `target` (after following symlinks, as far as it exists) lies inside `root`: what an
 * HTTP front end checks before it reads a path a request names.
 */
export async function insideRoot(root: string, target: string): Promise<boolean> {
  const realRoot = await realpath(root);
  let existing = path.resolve(target);
  const rest: string[] = [];
  for (;;) {
    try {
      existing = await realpath(existing);
      break;
    } catch {
      const parent = path.dirname(existing);
      if (parent === existing) return false;
      rest.unshift(path.basename(existing));
      existing = parent;
    }
  }
  const resolved = path.join(existing, ...rest);
  return resolved === realRoot || resolved.startsWith(realRoot + path.sep);
}
