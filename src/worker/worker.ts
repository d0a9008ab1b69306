/**
 * The worker: one process that registers the project's workflows and activities on a
 * task queue. Used by `provisioning worker`, `provisioning dev` and the tests.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker, type LogLevel, type NativeConnection, type WorkflowBundleOption } from '@temporalio/worker';
import * as activities from '../activities/index.js';

export const DEFAULT_TASK_QUEUE = 'provisioning';

export const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'] as const;

/** Sets the SDK's log level for this process; call before the first connection or worker. */
export function installWorkerLogging(level: LogLevel): void {
  Runtime.install({ logger: new DefaultLogger(level) });
}

/** The workflows entry point: TypeScript sources in a checkout under tsx/vitest, compiled JS in dist/. */
export function workflowsPath(): string {
  for (const ext of ['.ts', '.js']) {
    const candidate = fileURLToPath(new URL(`../workflows/index${ext}`, import.meta.url));
    if (existsSync(candidate)) return candidate;
  }
  throw new Error('workflow sources not found next to the worker module');
}

/** Sources use NodeNext `.js` specifiers; let webpack find the `.ts` file behind them. */
function resolveTsExtensions(config: Parameters<NonNullable<Parameters<typeof bundleWorkflowCode>[0]['webpackConfigHook']>>[0]) {
  config.resolve = { ...config.resolve, extensionAlias: { '.js': ['.ts', '.js'] } };
  return config;
}

/** Bundles the workflow code once; tests share one bundle between many workers. */
export async function bundleWorkflows(): Promise<{ code: string }> {
  return bundleWorkflowCode({ workflowsPath: workflowsPath(), webpackConfigHook: resolveTsExtensions, logger: new DefaultLogger('WARN') });
}

export interface ProvisioningWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue?: string;
  /** A prebuilt bundle; bundled from source when absent. */
  workflowBundle?: WorkflowBundleOption;
}

export async function createWorker(options: ProvisioningWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue ?? DEFAULT_TASK_QUEUE,
    activities,
    ...(options.workflowBundle
      ? { workflowBundle: options.workflowBundle }
      : { workflowsPath: workflowsPath(), bundlerOptions: { webpackConfigHook: resolveTsExtensions } }),
  });
}
