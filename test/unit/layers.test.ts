/**
 * The layer order the lint enforces (eslint.config.js LAYERS): an import from a higher layer is
 * refused in every layer, and imports downward and within a layer pass. Linted as the CI lint
 * does, through ESLint's own API, on sources placed in each layer.
 */
import path from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const LAYERS = [['client', 'http'], ['api'], ['worker'], ['workflows'], ['activities'], ['docker', 'health', 'temporal'], ['util'], ['config', 'graph', 'model']];
const eslint = new ESLint({
  cwd: root,
  ruleFilter: ({ ruleId }) => ruleId === '@typescript-eslint/no-restricted-imports',
  overrideConfig: { languageOptions: { parserOptions: { projectService: false } } },
});

async function refused(fromDir: string, toDir: string): Promise<boolean> {
  const [result] = await eslint.lintText(`import { x } from '../${toDir}/some-module.js';\nexport const y = x;\n`, { filePath: path.join(root, `src/${fromDir}/layer-probe.ts`) });
  return result!.messages.some((m) => m.ruleId === '@typescript-eslint/no-restricted-imports');
}

describe('the layer order', () => {
  const pairs = LAYERS.flatMap((layer, i) => layer.flatMap((from) => LAYERS.flatMap((other, j) => other.filter((to) => to !== from).map((to) => ({ from, to, upward: j < i })))));

  it.each(pairs.filter((p) => p.upward))('src/$from/ may not import src/$to/ (a higher layer)', async ({ from, to }) => {
    expect(await refused(from, to)).toBe(true);
  });

  // Downward imports that the layering allows (the pure bottom and workflow code have stricter rules of their own).
  it.each([
    { from: 'client', to: 'api' },
    { from: 'api', to: 'docker' },
    { from: 'api', to: 'activities' },
    { from: 'worker', to: 'activities' },
    { from: 'activities', to: 'docker' },
    { from: 'activities', to: 'health' },
    { from: 'docker', to: 'model' },
    { from: 'health', to: 'util' },
    { from: 'model', to: 'graph' },
    { from: 'config', to: 'graph' },
  ])('src/$from/ may import src/$to/', async ({ from, to }) => {
    expect(await refused(from, to)).toBe(false);
  });
});
