/** The Docker engine connection: dockerode, honouring DOCKER_HOST. */
import Docker from 'dockerode';
import { cidrsOverlap } from '../config/settings-schema.js';
import { within } from '../util/within.js';

let shared: Docker | undefined;

/** The one engine connection of the process, made on first use. */
export function dockerClient(): Docker {
  return (shared ??= new Docker());
}

/** Where dockerode connects, for messages. */
export function dockerEndpoint(env = process.env): string {
  return env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
}

export type DockerPing = { ok: true } | { ok: false; error: string };

export async function pingDocker(docker: Docker = dockerClient(), timeoutMs = 3_000): Promise<DockerPing> {
  const ping = docker.ping().then(
    (): DockerPing => ({ ok: true }),
    (err: Error): DockerPing => ({ ok: false, error: err.message }),
  );
  return within(ping, timeoutMs, (): DockerPing => ({ ok: false, error: `no answer within ${timeoutMs} ms` }));
}

const statusCode = (err: unknown) => (err as { statusCode?: number } | undefined)?.statusCode;

/** The engine answered 404: no such container, network or image. */
export function isNotFound(err: unknown): boolean {
  return statusCode(err) === 404;
}

/** The engine answered 409: the name is taken (a concurrent or earlier create made it). */
export function isConflict(err: unknown): boolean {
  return statusCode(err) === 409;
}

/** The engine answered 304: nothing to do (a stop of a stopped container). */
export function isNotModified(err: unknown): boolean {
  return statusCode(err) === 304;
}

export async function imagePresent(docker: Docker, image: string): Promise<boolean> {
  try {
    await docker.getImage(image).inspect();
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

/** A container by name or id, or undefined when there is none. */
export async function inspectContainer(docker: Docker, name: string): Promise<Docker.ContainerInspectInfo | undefined> {
  try {
    return await docker.getContainer(name).inspect();
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** The first Docker network (not one `skip` excuses) with a subnet that overlaps `subnet`. */
export async function overlappingNetwork(docker: Docker, subnet: string, skip: (network: Docker.NetworkInspectInfo) => boolean = () => false): Promise<{ name: string; subnet: string } | undefined> {
  for (const n of await docker.listNetworks()) {
    if (skip(n)) continue;
    const hit = (n.IPAM?.Config ?? []).find((c) => c.Subnet && cidrsOverlap(subnet, c.Subnet));
    if (hit?.Subnet) return { name: n.Name, subnet: hit.Subnet };
  }
  return undefined;
}
