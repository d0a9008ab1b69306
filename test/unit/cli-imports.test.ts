/**
 * What each part of the CLI loads, read from the sources' import statements: `--help` needs
 * no SDK, dockerode, execa or zod; no command but `worker` and `dev` can reach
 * @temporalio/worker (webpack and the native bridge), even through its lazy imports.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const src = path.resolve(import.meta.dirname, '../../src');
const STATIC = /^\s*(?:import|export)\s+(?!type\b)[^'";]*?from\s+'([^']+)'/gm;
const SIDE_EFFECT = /^\s*import\s+'([^']+)'/gm;
const DYNAMIC = /\bimport\(\s*'([^']+)'\s*\)/g;

/** Packages and project files reachable from `entry`, following static imports and, with `lazy`, import() too. */
function reachable(entry: string, lazy: boolean): Set<string> {
  const seen = new Set<string>();
  const stack = [entry];
  while (stack.length > 0) {
    const file = stack.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    if (!file.startsWith('/')) continue; // a package: not followed
    const text = readFileSync(file, 'utf8');
    const specs = [...text.matchAll(STATIC), ...text.matchAll(SIDE_EFFECT), ...(lazy ? text.matchAll(DYNAMIC) : [])].map((m) => m[1]!);
    for (const spec of specs) {
      if (spec.startsWith('node:')) continue;
      if (!spec.startsWith('.')) {
        stack.push(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
        continue;
      }
      const ts = path.resolve(path.dirname(file), spec).replace(/\.js$/, '.ts');
      if (existsSync(ts)) stack.push(ts);
    }
  }
  return seen;
}

const packages = (set: Set<string>) => [...set].filter((s) => !s.startsWith('/')).sort();

describe('what the CLI loads', () => {
  it('--help and the command table load only commander and the error types', () => {
    expect(packages(reachable(path.join(src, 'client/cli.ts'), false))).toEqual(['commander']);
  });

  it.each(['platform', 'services', 'server', 'testenv', 'workflow', 'temporal-cli'])('%s commands never reach @temporalio/worker, even lazily', (command) => {
    const all = reachable(path.join(src, `client/commands/${command}.ts`), true);
    expect(all.has('@temporalio/worker')).toBe(false);
  });

  it('services and platform load no SDK, dockerode or execa before an action needs them', () => {
    for (const command of ['services', 'platform']) {
      const eager = packages(reachable(path.join(src, `client/commands/${command}.ts`), false));
      expect(eager.filter((p) => p.startsWith('@temporalio/') || p === 'dockerode' || p === 'execa'), command).toEqual([]);
    }
  });

  it('the check itself sees the worker where it is', () => {
    expect(reachable(path.join(src, 'client/commands/dev.ts'), true).has('@temporalio/worker')).toBe(true);
  });
});
