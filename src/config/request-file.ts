/** Reads a request or topology file: TOML, YAML or JSON by its extension; errors name the file. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError } from './errors.js';
import { parseTomlText } from './registry.js';
import { parseYamlText } from './settings.js';

export async function readRequestFile(cwd: string, file: string, what = 'topology'): Promise<{ source: string; value: unknown }> {
  const source = path.resolve(cwd, file);
  let text: string;
  try {
    text = await readFile(source, 'utf8');
  } catch {
    throw new ConfigError(source, [{ path: '', problem: 'file not found', fix: `check the path of the ${what} file` }], what);
  }
  const ext = path.extname(source).toLowerCase();
  if (ext === '.json') {
    try {
      return { source, value: JSON.parse(text) };
    } catch (err) {
      throw new ConfigError(source, [{ path: '', problem: `invalid JSON: ${(err as Error).message}`, fix: 'fix the JSON syntax' }], what);
    }
  }
  return { source, value: ext === '.yaml' || ext === '.yml' ? parseYamlText(text, source, what) : parseTomlText(text, source, what) };
}
