/** What exists on the Docker engine, read by labels: the servers of an infra. No Temporal needed. */
import { dockerClient } from '../docker/client.js';
import { INFRA_LABEL, SERVER_LABEL } from '../model/labels.js';

export interface ServerContainer {
  hostname: string;
  container: string;
  state: string;
  image: string;
}

export async function listServers(infra: string): Promise<ServerContainer[]> {
  const containers = await dockerClient().listContainers({ all: true, filters: { label: [`${INFRA_LABEL}=${infra}`] } });
  return containers
    .map((c) => ({ hostname: c.Labels[SERVER_LABEL] ?? '', container: c.Names[0]?.slice(1) ?? '', state: c.State, image: c.Image }))
    .sort((a, b) => a.hostname.localeCompare(b.hostname));
}
