/**
 * The worker's settings for test-environment networks, from its environment: the pool of
 * networks environments borrow (its size and name) and the subnets they are cut from. Read
 * by the activities, and checked by `provisioning worker` at start, so a bad value is a usage
 * error there (exit 2) rather than a failed environment later.
 */
import { parseCidr } from './settings-schema.js';
import { UsageError } from './errors.js';

/** Networks in the pool at most, unless PROVISIONING_TESTENV_NETPOOL says otherwise (0: off). */
export const DEFAULT_NETPOOL_SIZE = 32;
/** Where free subnets for environments come from, one /24 each. */
export const DEFAULT_SUBNET_POOL = '10.213.0.0/16';

/** Networks of the pool are `<prefix><pool name>-<k>`. */
export const NETPOOL_PREFIX = 'provisioning-netpool-';

export interface NetworkSettings {
  netpoolSize: number;
  /** Workers that share an engine share a pool of the same name; another name keeps a pool of its own. */
  netpoolName: string;
  subnetPool: string;
}

export function networkSettings(env: NodeJS.ProcessEnv = process.env): NetworkSettings {
  const size = env.PROVISIONING_TESTENV_NETPOOL;
  const netpoolSize = size === undefined || size === '' ? DEFAULT_NETPOOL_SIZE : Number(size);
  if (!Number.isInteger(netpoolSize) || netpoolSize < 0 || netpoolSize > 1000) {
    throw new UsageError(`PROVISIONING_TESTENV_NETPOOL=${size} is not a whole number from 0 to 1000`, 'set it to the networks the pool may keep (default 32; 0 turns the pool off)');
  }
  const netpoolName = env.PROVISIONING_TESTENV_NETPOOL_NAME || 'default';
  if (!/^[a-z0-9][a-z0-9-]{0,29}$/.test(netpoolName)) {
    throw new UsageError(`PROVISIONING_TESTENV_NETPOOL_NAME=${netpoolName} is not a pool name`, 'use up to 30 lower-case letters, digits and "-", starting with a letter or digit');
  }
  const subnetPool = env.PROVISIONING_TESTENV_POOL || DEFAULT_SUBNET_POOL;
  const cidr = parseCidr(subnetPool);
  if (!cidr || cidr.bits > 24) throw new UsageError(`PROVISIONING_TESTENV_POOL=${subnetPool} is not an IPv4 CIDR of /24 or larger`, `write a network like ${DEFAULT_SUBNET_POOL}`);
  return { netpoolSize, netpoolName, subnetPool };
}
