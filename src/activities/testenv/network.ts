/** The environment network: the plan's subnet, or the first free /24 of the pool. */
import { Context } from '@temporalio/activity';
import { cidrsOverlap, formatIpv4, parseCidr } from '../../config/settings-schema.js';
import { networkName } from '../../config/testenv-schema.js';
import { dockerClient as docker, isNotFound } from '../../docker/client.js';
import { findOrCreate } from '../../docker/resources.js';
import { withHeartbeat } from '../platform.js';
import { borrowNetwork, settings } from './netpool.js';
import { assertOurs, failure, ownerLabels, undoIfCancelled } from './ownership.js';
import type { CreateNetworkInput, EnvNetwork } from '../../model/testenv.js';

/** The /24s of the subnet pool (checked by networkSettings), from slot `start` round. */
function* poolSubnets(pool: string, start: number): Generator<string> {
  const p = parseCidr(pool)!;
  const count = 2 ** (24 - p.bits);
  for (let i = 0; i < count; i++) {
    const base = p.base + ((start + i) % count) * 256;
    yield `${formatIpv4(base)}/24`;
  }
}

function hash(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619) >>> 0;
  return h;
}

async function usedSubnets(): Promise<string[]> {
  const networks = await docker().listNetworks();
  return networks.flatMap((n) => (n.IPAM?.Config ?? []).map((c) => c.Subnet).filter((s): s is string => Boolean(s)));
}

async function inspectNetwork(name: string): Promise<{ network: EnvNetwork; labels: Record<string, string>; attached: number } | undefined> {
  try {
    const info = (await docker().getNetwork(name).inspect()) as { IPAM?: { Config?: Array<{ Subnet?: string; Gateway?: string }> }; Labels?: Record<string, string>; Containers?: Record<string, unknown> };
    const config = (info.IPAM?.Config ?? [])[0];
    return { network: { name, subnet: config?.Subnet ?? '', ...(config?.Gateway ? { gateway: config.Gateway } : {}) }, labels: info.Labels ?? {}, attached: Object.keys(info.Containers ?? {}).length };
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** Creates the environment's network: the plan's subnet, or the first free /24 of the pool. */
export async function createEnvNetwork(input: CreateNetworkInput): Promise<EnvNetwork> {
  return withHeartbeat(() => makeNetwork(input));
}

async function makeNetwork({ plan, expiresAt }: CreateNetworkInput): Promise<EnvNetwork> {
  const name = networkName(plan.id);
  const labels = await ownerLabels({ id: plan.id, ...(expiresAt ? { expiresAt } : {}) });
  const start = hash(plan.id);
  // A retry finds what the first attempt got: a network of its own (below), or a claim on a pooled one.
  const retry = Context.current().info.attempt > 1;
  const own = retry || plan.network.subnet ? await inspectNetwork(name) : undefined;
  if (!own && !plan.network.subnet) {
    const pooled = await borrowNetwork(plan.id, labels, inspectNetwork, (poolName, poolLabels) => createOnFreeSubnet(bridge(poolName, poolLabels), start), start, retry);
    if (pooled) return pooled;
  }
  const create = bridge(name, labels, true);
  return findOrCreate({
    find: async () => own ?? (await inspectNetwork(name)),
    adopt: (found) => {
      assertOurs('network', name, found.labels);
      return found.network;
    },
    create: async () => {
      if (!plan.network.subnet) return createOnFreeSubnet(create, start);
      try {
        return await create(plan.network.subnet);
      } catch (err) {
        if (/overlap/i.test((err as Error).message)) throw failure(`subnet ${plan.network.subnet} overlaps an existing Docker network; choose another or leave it out to get a free one`);
        throw err;
      }
    },
  });
}

/** Creates bridge network `name` on a subnet; `undoOnCancel`: removed again when the activity was cancelled meanwhile. */
function bridge(name: string, labels: Record<string, string>, undoOnCancel = false): (subnet: string) => Promise<EnvNetwork> {
  return async (subnet) => {
    const made = await docker().createNetwork({ Name: name, Driver: 'bridge', CheckDuplicate: true, Labels: labels, IPAM: { Driver: 'default', Config: [{ Subnet: subnet }] } });
    if (undoOnCancel) await undoIfCancelled(() => made.remove());
    return (await inspectNetwork(name))!.network;
  };
}

/** `create` on the first free /24 of the subnet pool, trying from slot `start`. */
async function createOnFreeSubnet(create: (subnet: string) => Promise<EnvNetwork>, start: number): Promise<EnvNetwork> {
  const poolCidr = settings().subnetPool;
  const used = await usedSubnets();
  for (const subnet of poolSubnets(poolCidr, start)) {
    if (used.some((u) => cidrsOverlap(u, subnet))) continue;
    try {
      return await create(subnet);
    } catch (err) {
      // Another environment took it between the listing and the create: try the next one.
      if (/overlap/i.test((err as Error).message)) continue;
      throw err;
    }
  }
  throw failure(`no free /24 is left in the pool ${poolCidr}; clean up environments ("provisioning test env reap") or set PROVISIONING_TESTENV_POOL`, 'TestEnvPoolExhausted');
}

// ---------------------------------------------------------------------------------------------
// Containers
