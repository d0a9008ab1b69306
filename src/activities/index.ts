/** Every activity the worker registers. */
export { checkPrerequisites } from './prerequisites.js';
export { preflight } from './preflight.js';
export { serviceStatuses, startService, startServiceHealthy, stopService, stopServices, waitHealthy } from './platform.js';
export { endSupervisor, endSupervisors, watchService } from './supervision.js';
export { deliverAlert } from './alerts.js';
export { createServer, deleteServer, prepareInfra, runTaskserv, serverExists, waitServerReady } from './servers.js';
export { createEnvNetwork, createEnvNode, installEnvNode, reapTestEnvironments, removeEnvironment, runEnvTests, startEnvNodes } from './testenv.js';
