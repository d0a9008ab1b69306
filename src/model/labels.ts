/**
 * The Docker labels on everything the project creates: how a container, network or image is
 * found again (by the reaper, by cleanup, by status) and how ownership is decided. One place.
 */
export const MANAGED_LABEL = 'provisioning.managed';
/** Platform services (mode docker). */
export const SERVICE_LABEL = 'provisioning.service';
export const HOME_LABEL = 'provisioning.home';
/** Servers of an infra. */
export const INFRA_LABEL = 'provisioning.infra';
export const SERVER_LABEL = 'provisioning.server';
/** Test environments: the environment, its node, and the workflow run that owns it. */
export const TESTENV_LABEL = 'provisioning.testenv';
export const NODE_LABEL = 'provisioning.node';
export const WORKFLOW_LABEL = 'provisioning.workflow';
export const RUN_LABEL = 'provisioning.run';
export const NAMESPACE_LABEL = 'provisioning.namespace';
export const CLUSTER_LABEL = 'provisioning.temporal-cluster';
export const EXPIRES_LABEL = 'provisioning.expires-at';
/** The pool of environment networks: `network` on a pool network, `claim` on the container that holds one for an environment. */
export const NETPOOL_LABEL = 'provisioning.netpool';
/** On a pool network: the pool's name. */
export const NETPOOL_NAME_LABEL = 'provisioning.netpool.name';
/** On a claim: the pool network it holds. */
export const NETPOOL_NETWORK_LABEL = 'provisioning.netpool.network';
/** The locally built base image. */
export const IMAGE_LABEL = 'provisioning.image';
