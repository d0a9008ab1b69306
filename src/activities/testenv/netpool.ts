/**
 * The pool of environment networks. Creating and removing a bridge network are the Docker
 * engine's slowest steps for an environment (~0.3 s of daemon time each, one at a time: 20
 * environments at once spent 5 s on them), so an environment without a subnet of its own
 * borrows a network of the pool instead, and gives it back when it is removed.
 *
 * - A pool network is `provisioning-netpool-<pool>-<k>` (k < the pool size), labelled
 *   provisioning.managed=true, provisioning.netpool=network and the pool's name, on a free /24
 *   of the subnet pool.
 * - It belongs to one environment at a time. The claim is a container that is never started,
 *   `<network>.claim`: Docker creates a name once, so two environments that race for a
 *   network meet on it and one moves on. The claim carries the environment's owner
 *   labels, so the environment's removal (which removes its claim after its nodes) gives the
 *   network back, and the reaper frees the claims of closed workflows like any of their
 *   containers.
 * - An idle network (no claim) is removed by the reaper (of a worker of the same pool name),
 *   under a claim of its own, so a pool grows with a burst of environments and is gone again
 *   after it.
 * Isolation is as with a network per environment: while an environment runs, its network
 * holds only its containers. Fewer network creates also mean fewer of the engine's re-inserts
 * of its isolation rule (README: the caveat of Docker's isolation).
 */
import { NETPOOL_PREFIX, networkSettings, type NetworkSettings } from '../../config/netpool.js';
import { BASE_IMAGE, ensureBaseImage } from '../../docker/base-image.js';
import { dockerClient as docker, isConflict, isNotFound } from '../../docker/client.js';
import { MANAGED_LABEL, NETPOOL_LABEL, NETPOOL_NAME_LABEL, NETPOOL_NETWORK_LABEL, RUN_LABEL, TESTENV_LABEL } from '../../model/labels.js';
import type { EnvNetwork } from '../../model/testenv.js';
import { failure, undoIfCancelled } from './ownership.js';

/** A reaper's claim older than this was left by a reaper that died half-way. */
const STALE_REAPER_CLAIM_MS = 5 * 60 * 1000;

/** The worker's network settings; a bad value fails the environment with the variable, the problem and the fix (`provisioning worker` refuses it at start). */
export function settings(): NetworkSettings {
  try {
    return networkSettings();
  } catch (err) {
    throw failure((err as Error).message);
  }
}

export const poolNetworkName = (pool: string, k: number) => `${NETPOOL_PREFIX}${pool}-${k}`;
const claimName = (network: string) => `${network}.claim`;

/** A network by name: what the environment is told, its labels, and how many containers are on it. */
export type Inspect = (name: string) => Promise<{ network: EnvNetwork; labels: Record<string, string>; attached: number } | undefined>;
/** Creates a bridge network of that name and labels on a free subnet. */
export type CreateOnFreeSubnet = (name: string, labels: Record<string, string>) => Promise<EnvNetwork>;

/** Creates the claim container of `network`; false when another one holds it. */
async function claim(network: string, labels: Record<string, string>): Promise<boolean> {
  try {
    await docker().createContainer({ name: claimName(network), Image: BASE_IMAGE, Entrypoint: ['true'], Labels: { ...labels, [MANAGED_LABEL]: 'true', [NETPOOL_LABEL]: 'claim', [NETPOOL_NETWORK_LABEL]: network }, HostConfig: { NetworkMode: 'none' } });
    return true;
  } catch (err) {
    if (isConflict(err)) return false;
    throw err;
  }
}

async function unclaim(network: string): Promise<void> {
  await docker()
    .getContainer(claimName(network))
    .remove({ force: true })
    .catch((err: unknown) => {
      if (!isNotFound(err)) throw err;
    });
}

/** Known once per process: the base image, which claims are made from, is there (a claim whose image went missing fails, and the activity's retry looks again). */
let baseImageReady = false;

/**
 * A network of the pool for environment `id` (owner `labels`, as its containers carry), or
 * undefined when the pool is off or every one of its networks is taken. A `retry` of the same
 * run finds the network it claimed before.
 */
export async function borrowNetwork(id: string, labels: Record<string, string>, inspect: Inspect, createOnFreeSubnet: CreateOnFreeSubnet, start: number, retry: boolean): Promise<EnvNetwork | undefined> {
  const { netpoolSize: size, netpoolName: pool } = settings();
  if (size === 0) return undefined;
  if (retry) {
    const mine = await docker().listContainers({ all: true, filters: { label: [`${TESTENV_LABEL}=${id}`, `${RUN_LABEL}=${labels[RUN_LABEL]}`, `${NETPOOL_LABEL}=claim`] } });
    for (const c of mine) {
      const found = await inspect(c.Labels[NETPOOL_NETWORK_LABEL] ?? '');
      if (found) return { ...found.network, pooled: true };
    }
  }
  // The claim container is made from the base image; without it (no busybox here) the environment gets a network of its own.
  baseImageReady ||= await ensureBaseImage(docker()).then(() => true, () => false);
  if (!baseImageReady) return undefined;
  const existing = new Set((await docker().listNetworks({ filters: { label: [`${NETPOOL_LABEL}=network`, `${NETPOOL_NAME_LABEL}=${pool}`] } })).map((n) => n.Name));
  const slots = Array.from({ length: size }, (_, i) => poolNetworkName(pool, (start + i) % size));
  // Networks that exist first (no create at all), then a new one in a free slot.
  for (const name of [...slots.filter((s) => existing.has(s)), ...slots.filter((s) => !existing.has(s))]) {
    let claimed: boolean;
    try {
      claimed = await claim(name, labels);
    } catch (err) {
      if (isNotFound(err)) baseImageReady = false; // the base image was removed meanwhile
      throw err;
    }
    if (!claimed) continue;
    try {
      const found = await inspect(name);
      // A network of that name that is not the pool's is left alone; so is one that still has
      // containers on it (its claim was removed under it, by a `docker container prune`, or
      // before the last of its nodes was gone): the pool never puts two environments together.
      const network = found ? (found.labels[NETPOOL_LABEL] === 'network' && found.attached === 0 ? found.network : undefined) : await createOnFreeSubnet(name, { [MANAGED_LABEL]: 'true', [NETPOOL_LABEL]: 'network', [NETPOOL_NAME_LABEL]: pool });
      if (!network) {
        await unclaim(name);
        continue;
      }
      await undoIfCancelled(() => unclaim(name));
      return { ...network, pooled: true };
    } catch (err) {
      await unclaim(name).catch(() => undefined);
      throw err;
    }
  }
  return undefined;
}

/**
 * Removes the idle networks (no claim) of this worker's pool, each under a claim of the
 * reaper's own so that no environment borrows it meanwhile; also the claims of reapers that
 * died half-way. Returns how many networks it removed. A network that Docker refuses to remove
 * (a container still on it) is kept.
 */
export async function removeIdlePoolNetworks(): Promise<number> {
  const [networks, claims] = await Promise.all([
    docker().listNetworks({ filters: { label: [`${NETPOOL_LABEL}=network`, `${NETPOOL_NAME_LABEL}=${settings().netpoolName}`] } }),
    docker().listContainers({ all: true, filters: { label: [`${NETPOOL_LABEL}=claim`] } }),
  ]);
  for (const c of claims) {
    if (!c.Labels[TESTENV_LABEL] && Date.now() - c.Created * 1000 > STALE_REAPER_CLAIM_MS) await unclaim(c.Labels[NETPOOL_NETWORK_LABEL] ?? '');
  }
  const held = new Set(claims.map((c) => c.Labels[NETPOOL_NETWORK_LABEL]));
  let removed = 0;
  for (const n of networks) {
    if (held.has(n.Name) || !(await claim(n.Name, {}))) continue;
    try {
      await docker().getNetwork(n.Id).remove();
      removed += 1;
    } catch (err) {
      if (!isNotFound(err) && !/active endpoints|in use/i.test((err as Error).message)) throw err;
    } finally {
      await unclaim(n.Name);
    }
  }
  return removed;
}
