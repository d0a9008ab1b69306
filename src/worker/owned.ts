/**
 * Gauges of what the project owns on this worker's Docker engine right now — containers and
 * networks labelled provisioning.managed=true — read every `intervalMs` while metrics are on.
 * A Docker engine that does not answer leaves the last values (and says nothing: /health and
 * the activities report that).
 */
import { Runtime } from '@temporalio/worker';
import { dockerClient } from '../docker/client.js';
import { MANAGED_LABEL } from '../model/labels.js';
import { METRIC } from '../model/metrics.js';

export function watchOwnedResources(intervalMs = 15_000): () => void {
  const meter = Runtime.instance().metricMeter;
  const containers = meter.createGauge(METRIC.ownedContainers, 'int', 'containers', 'containers labelled provisioning.managed=true on this engine');
  const networks = meter.createGauge(METRIC.ownedNetworks, 'int', 'networks', 'networks labelled provisioning.managed=true on this engine');
  const filters = { label: [`${MANAGED_LABEL}=true`] };
  const read = async () => {
    const docker = dockerClient();
    const [cs, ns] = await Promise.all([docker.listContainers({ all: true, filters }), docker.listNetworks({ filters })]);
    containers.set(cs.length);
    networks.set(ns.length);
  };
  const tick = () => void read().catch(() => undefined);
  tick();
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
