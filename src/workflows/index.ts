/** Every workflow the worker registers. */
export { planStartup, planQuery } from './plan.js';
export { platformRestart, platformStart, platformStop } from './platform.js';
export { platformUpdate } from './platform-update.js';
export { serviceSupervisor } from './supervisor.js';
export { clusterCreate, serverCreate, serverDelete, serverProvision, taskservCreate } from './servers.js';
export { reapTestEnvironmentsWorkflow, testEnvironment } from './testenv.js';
