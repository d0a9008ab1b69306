/**
 * Test-environment activities: an isolated network per environment (a given subnet, or a
 * free /24 from a pool), one container per node with hostname, alias, limits and labels,
 * taskserv installs and test runs inside the containers, removal by label, and the reaper
 * that removes what belongs to closed workflows.
 *
 * Every node's PID 1 follows /var/log/provisioning/node.log, and every step run here
 * appends its output there, so `docker logs` of a node is its install and test log.
 */
export { createEnvNetwork } from './testenv/network.js';
export { createEnvNode, installEnvNode, runEnvTests, startEnvNodes } from './testenv/nodes.js';
export { reapTestEnvironments, removeEnvironment } from './testenv/cleanup.js';
