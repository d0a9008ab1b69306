/**
 * The workflow bundle: built once by `npm run build` (dist/workflow-bundle.js), so a worker
 * started from dist/ loads it without webpack; bundled from source otherwise.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';

/** Where `npm run build` writes the bundle: next to dist/worker/, i.e. dist/workflow-bundle.js. */
export const PREBUILT_BUNDLE = fileURLToPath(new URL('../workflow-bundle.js', import.meta.url));
/** The same workflows with the OpenTelemetry workflow interceptors, for workers that trace. */
export const PREBUILT_TRACED_BUNDLE = fileURLToPath(new URL('../workflow-bundle-traced.js', import.meta.url));

const require = createRequire(import.meta.url);
/** The Temporal OpenTelemetry plugin's workflow interceptors (spans inside workflows, context to activities). */
export const OTEL_WORKFLOW_INTERCEPTORS = (): string => require.resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors');

/** True when this module runs compiled from dist/ (not from the TypeScript sources). */
const compiled = import.meta.url.endsWith('.js');

/**
 * The bundle to load: $PROVISIONING_WORKFLOW_BUNDLE when set (one bundle built once for many
 * worker processes, as the tests and benchmarks do), else this build's prebuilt one when
 * running from dist/.
 */
export function prebuiltBundle(env: NodeJS.ProcessEnv = process.env, { traced = false }: { traced?: boolean } = {}): { codePath: string } | undefined {
  const given = traced ? undefined : env.PROVISIONING_WORKFLOW_BUNDLE;
  if (given) {
    if (!existsSync(given)) throw new Error(`PROVISIONING_WORKFLOW_BUNDLE=${given}: no such file; unset it, or build one (npm run build writes dist/workflow-bundle.js)`);
    return { codePath: given };
  }
  // A tracing worker needs the interceptors inside the bundle: the traced one, or bundling from source.
  const prebuilt = traced ? PREBUILT_TRACED_BUNDLE : PREBUILT_BUNDLE;
  return compiled && existsSync(prebuilt) ? { codePath: prebuilt } : undefined;
}

/** The workflows entry point: TypeScript sources in a checkout under tsx/vitest, compiled JS in dist/. */
export function workflowsPath(): string {
  for (const ext of ['.ts', '.js']) {
    const candidate = fileURLToPath(new URL(`../workflows/index${ext}`, import.meta.url));
    if (existsSync(candidate)) return candidate;
  }
  throw new Error('workflow sources not found next to the worker module');
}

type WebpackConfig = Parameters<NonNullable<Parameters<typeof bundleWorkflowCode>[0]['webpackConfigHook']>>[0];

/** Sources use NodeNext `.js` specifiers; let webpack find the `.ts` file behind them. */
export function resolveTsExtensions(config: WebpackConfig): WebpackConfig {
  config.resolve = { ...config.resolve, extensionAlias: { '.js': ['.ts', '.js'] } };
  return config;
}

/** Bundles the workflow code once; tests share one bundle between many workers. */
export async function bundleWorkflows({ traced = false }: { traced?: boolean } = {}): Promise<{ code: string }> {
  return bundleWorkflowCode({
    workflowsPath: workflowsPath(),
    webpackConfigHook: resolveTsExtensions,
    logger: new DefaultLogger('WARN'),
    ...(traced ? { workflowInterceptorModules: [OTEL_WORKFLOW_INTERCEPTORS()] } : {}),
  });
}
