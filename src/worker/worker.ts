/**
 * The worker: one process that registers the project's workflows and activities on a
 * task queue. Used by `provisioning worker`, `provisioning dev` and the tests.
 */
import { DefaultLogger, NativeConnection, Runtime, Worker, type LogLevel, type WorkflowBundleOption } from '@temporalio/worker';
import * as activities from '../activities/index.js';
import { DEFAULT_TASK_QUEUE } from '../model/worker-defaults.js';
import type { ConnectSettings } from '../temporal/connection.js';
import { prebuiltBundle, resolveTsExtensions, workflowsPath } from './bundle.js';

/** Sets the SDK's log level for this process; call before the first connection or worker. */
export function installWorkerLogging(level: LogLevel): void {
  Runtime.install({ logger: new DefaultLogger(level) });
}

export async function connectWorker(settings: ConnectSettings): Promise<NativeConnection> {
  return NativeConnection.connect(settings.connectionOptions);
}

export interface ProvisioningWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue?: string;
  /** A bundle to use; else the build's prebuilt one, else bundled from source. */
  workflowBundle?: WorkflowBundleOption;
}

export async function createWorker(options: ProvisioningWorkerOptions): Promise<Worker> {
  const bundle = options.workflowBundle ?? prebuiltBundle();
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue ?? DEFAULT_TASK_QUEUE,
    activities,
    ...(bundle ? { workflowBundle: bundle } : { workflowsPath: workflowsPath(), bundlerOptions: { webpackConfigHook: resolveTsExtensions } }),
  });
}
