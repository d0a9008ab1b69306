/** Every workflow the worker registers. */
export { planStartup, planQuery } from './plan.js';
export { platformRestart, platformStart, platformStop, progressQuery } from './platform.js';
export { pauseSignal, restartNowUpdate, resumeSignal, serviceSupervisor, stopSupervisingSignal, supervisorStateQuery } from './supervisor.js';
export { clusterCreate, serverCreate, serverCreateProgressQuery, serverDelete, serverProgressQuery, serverProvision, taskservCreate } from './servers.js';
export { cleanupSignal, reapTestEnvironmentsWorkflow, runUpdate, startSignal, testEnvironment, testenvStateQuery } from './testenv.js';
