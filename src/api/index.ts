/**
 * The typed client API: what the CLI (and any program) uses to start, follow and steer the
 * project's workflows. Each call takes a validated input and an ApiContext (a Temporal client,
 * the workers' task queue, optionally the Web UI's address); it returns typed results and
 * async iterators of progress, never prints and never exits. Errors are typed: UsageError or
 * ConfigError (bad input), NotFoundError, BusyError (naming the run that holds the key),
 * FailedError (naming the failing service, server, node or test first).
 */
export * from './context.js';
export * from './errors.js';
export * from './platform.js';
export * from './services.js';
export * from './servers.js';
export * from './workflows.js';
export * from './workers.js';
export * from './testenv/index.js';
export { localHealth, localStatus, platformStatus, readiness, requiredFor, validateServices, withSupervision, type LocalHealth, type LocalStatus, type SupervisedStatus } from './local.js';
export { listServers, type ServerContainer } from './inventory.js';
export type { Run } from './run.js';
// What a program needs to build the inputs: the loaders that validate files.
export { loadRegistry } from '../config/registry.js';
export { loadSettings } from '../config/settings.js';
export { loadEnvCatalog } from '../config/testenv.js';
export { connectClient, connectSettings } from '../temporal/connection.js';
