import type { DeploymentMode, ServiceDefinition } from '../../config/registry-schema.js';
import { binaryDriver } from './binary.js';
import { composeDriver } from './compose.js';
import { dockerDriver } from './docker.js';
import { kubernetesDriver } from './kubernetes.js';
import { remoteDriver } from './remote.js';
import type { ServiceDriver } from './types.js';

const DRIVERS: Record<DeploymentMode, ServiceDriver> = {
  binary: binaryDriver,
  docker: dockerDriver,
  'docker-compose': composeDriver,
  kubernetes: kubernetesDriver,
  remote: remoteDriver,
};

export function driverFor(service: ServiceDefinition): ServiceDriver {
  return DRIVERS[service.deployment.mode];
}

export * from './types.js';
