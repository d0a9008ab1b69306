// @ts-check
import { builtinModules } from 'node:module';
import tseslint from 'typescript-eslint';

/** Workflow code runs in Temporal's deterministic sandbox: no Node built-ins, no I/O libraries. */
const nodeBuiltins = builtinModules.flatMap((m) => [m, `${m}/*`, `node:${m}`, `node:${m}/*`]);
const ioModules = [
  'dockerode',
  'execa',
  'smol-toml',
  '@temporalio/client',
  '@temporalio/worker',
  '@temporalio/activity',
  '@temporalio/testing',
  '@temporalio/envconfig',
];
const effectfulProjectModules = ['**/client/**', '**/api/**', '**/worker/**', '**/docker/**', '**/health/**', '**/temporal/**', '**/util/**', '**/config/registry.js', '**/config/discovery.js', '**/config/home.js', '**/config/request-file.js'];

/**
 * The layers, top to bottom: data flows down (front ends -> client API -> worker -> workflows
 * -> activities -> Docker, health, Temporal adapters -> util -> the pure config, graph and
 * model). A file may import its own layer and those below it, never one above.
 */
const LAYERS = [
  ['client', 'http'],
  ['api'],
  ['worker'],
  ['workflows'],
  ['activities'],
  ['docker', 'health', 'temporal'],
  ['util'],
  ['config', 'graph', 'model'],
];
const layerOf = (dir) => LAYERS.findIndex((l) => l.includes(dir));
/** Import patterns of every layer above `dir`'s. */
function above(dir) {
  return LAYERS.slice(0, layerOf(dir)).flat().map((d) => `**/${d}/**`);
}
function layerPattern(dir) {
  const higher = above(dir);
  return higher.length === 0 ? [] : [{ group: higher, message: `src/${dir}/ may import only its own layer and those below it (${LAYERS.slice(layerOf(dir)).flat().join(', ')}); see eslint.config.js LAYERS.` }];
}
const PURE_CONFIG = ['src/config/{registry-schema,registry-nodes,fields,ports,suggest,errors,expand,issues}.ts'];

const layerBlocks = LAYERS.flat()
  .filter((dir) => layerPattern(dir).length > 0)
  .map((dir) => ({
    files: [`src/${dir}/**/*.ts`],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns: layerPattern(dir) }] },
  }));

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'scratch/**'] },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
    },
  },
  // The layer order; the blocks after this one add to it for workflow code and the model.
  ...layerBlocks,
  {
    // Workflow code and every pure module it may import.
    files: ['src/workflows/**/*.ts', 'src/graph/**/*.ts', 'src/model/**/*.ts', ...PURE_CONFIG],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [...nodeBuiltins, ...ioModules].map((name) => ({
            name,
            message: 'Workflow code must be deterministic: no Node built-ins or I/O modules (use an activity).',
          })),
          patterns: [
            {
              group: ['**/activities/**', '**/activities'],
              allowTypeImports: true,
              message: 'Workflows reach activities only through proxyActivities; use `import type`.',
            },
            {
              group: effectfulProjectModules,
              message: 'Workflow code may import only pure project modules (graph, config schemas, common).',
            },
            { group: ['**/api/**', '**/client/**', '**/http/**', '**/worker/**'], message: 'src/workflows/ is below the front ends, the client API and the worker.' },
          ],
        },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Math', property: 'random', message: 'Non-deterministic in workflows; use uuid4() from @temporalio/workflow.' },
        { object: 'Date', property: 'now', message: 'Use workflow time deliberately (workflowInfo()) or let an activity measure.' },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'setTimeout', message: 'Use sleep() from @temporalio/workflow.' },
        { name: 'setInterval', message: 'Use sleep() from @temporalio/workflow in a loop.' },
        { name: 'process', message: 'No process access in workflow code.' },
      ],
    },
  },
  {
    // The pure graph and config modules: deterministic, and below every other layer (not even types from above).
    files: ['src/graph/**/*.ts', ...PURE_CONFIG],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [...nodeBuiltins, ...ioModules].map((name) => ({ name, message: 'Workflow code must be deterministic: no Node built-ins or I/O modules (use an activity).' })),
          patterns: layerPattern('graph'),
        },
      ],
    },
  },
  {
    // The model is the bottom layer's vocabulary: nothing above it (workflows, activities, front ends).
    files: ['src/model/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [...nodeBuiltins, ...ioModules].map((name) => ({ name, message: 'The model is pure: no Node built-ins or I/O modules.' })),
          patterns: [
            {
              group: [...above('model'), '**/activities'],
              message: 'src/model/ is below every other layer: it may import only graph/ and types of the pure config schemas.',
            },
            { group: ['**/config/**'], allowTypeImports: true, message: 'src/model/ may take only types from config/ (the zod schemas).' },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
);
