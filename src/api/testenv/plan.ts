/**
 * A test environment's plan: the request validated and resolved against the catalog, then
 * checked against the Docker engine (CPUs, images, subnet, disk limits). Nothing is created.
 */
import { randomBytes } from 'node:crypto';
import type Docker from 'dockerode';
import { UsageError } from '../../config/errors.js';
import { DEFAULT_SUBNET_POOL, NETPOOL_PREFIX } from '../../config/netpool.js';
import { DEFAULT_BASE_IMAGE, ENV_ID, type EnvironmentPlan } from '../../config/testenv-schema.js';
import { planFromRequest, type LoadedCatalog } from '../../config/testenv.js';
import { dockerClient, imagePresent, overlappingNetwork, pingDocker } from '../../docker/client.js';

export interface PlanRequest {
  /** The seeds' request: { config: { type, ... }, auto_start, auto_cleanup, ttl, infra }. */
  request: unknown;
  catalog: LoadedCatalog;
  /** Environment id; generated from `subject` when absent. */
  id?: string;
  /** What the environment tests (a taskserv, server or cluster type), for generated ids. */
  subject: string;
  /** Where the request came from, for errors: a file, "command line", "request body". */
  source?: string;
}

export interface CheckedPlan {
  plan: EnvironmentPlan;
  /** Things a person should know that did not stop the plan (no engine here to check against). */
  notes: string[];
}

export function environmentId(id: string | undefined, subject: string): string {
  if (id !== undefined) {
    if (!ENV_ID.test(id)) throw new UsageError(`--id "${id}" is not a valid environment id`, 'use lowercase letters, digits and "-", at most 40 characters, starting and ending with a letter or digit');
    return id;
  }
  return `${subject.slice(0, 24).replace(/-+$/, '')}-${randomBytes(3).toString('hex')}`;
}

/** Checks the engine can do what the plan asks before anything is created: images, subnet, disk limits. */
async function preflight(plan: EnvironmentPlan, docker: Docker): Promise<string[]> {
  const ping = await pingDocker(docker);
  if (!ping.ok) {
    // The workers may run next to an engine this machine cannot see (a CI job that only submits):
    // their activities check the same things, and a failure there is cleaned up.
    return [`no Docker engine answers here (${ping.error}); images, subnet and limits are checked by the worker instead`];
  }
  const info = (await docker.info()) as { NCPU?: number; Driver?: string; DriverStatus?: Array<[string, string]> };
  const { NCPU } = info;
  for (const n of plan.nodes) {
    if (NCPU && n.resources.cpu_millicores > NCPU * 1000) {
      throw new UsageError(`node ${n.name} asks for ${n.resources.cpu_millicores} millicores, but the Docker engine has ${NCPU} CPUs (${NCPU * 1000} millicores)`, `ask for at most ${NCPU * 1000} millicores (--cpu, or resources.cpu_millicores)`);
    }
  }
  for (const image of new Set(plan.nodes.map((n) => n.image))) {
    if (image === DEFAULT_BASE_IMAGE) continue;
    if (!(await imagePresent(docker, image))) {
      const users = plan.nodes.filter((n) => n.image === image).map((n) => n.name).join(', ');
      throw new UsageError(`base image "${image}" (nodes ${users}) is not present locally`, `pull or build it first (docker pull ${image}), or pass --base-image ${DEFAULT_BASE_IMAGE}`);
    }
  }
  const taken = plan.network.subnet ? await overlappingNetwork(docker, plan.network.subnet) : undefined;
  if (taken) {
    const fix = taken.name.startsWith(NETPOOL_PREFIX)
      ? `that is a network of the test environments' pool, cut from ${DEFAULT_SUBNET_POOL} (PROVISIONING_TESTENV_POOL): choose a subnet outside it, leave it out to get a free one, or remove idle pool networks with "provisioning test env reap"`
      : 'choose a subnet no other network uses, or leave it out to get a free one';
    throw new UsageError(`subnet ${plan.network.subnet} overlaps Docker network "${taken.name}" (${taken.subnet})`, fix);
  }
  if (plan.nodes.some((n) => n.resources.disk_mb !== undefined)) {
    const backing = info.DriverStatus?.find(([k]) => k === 'Backing Filesystem')?.[1];
    const supported = ['devicemapper', 'btrfs', 'zfs', 'windowsfilter'].includes(info.Driver ?? '') || (info.Driver === 'overlay2' && backing === 'xfs');
    if (!supported) {
      throw new UsageError(`disk limits (disk_mb / --disk) are not supported by this Docker engine: storage driver ${info.Driver}${backing ? ` on ${backing}` : ''}`, 'leave disk_mb out, or use overlay2 on xfs with pquota (or devicemapper, btrfs, zfs)');
    }
  }
  return [];
}

/** The request validated, planned against the catalog and checked against the engine. */
export async function planEnvironment(input: PlanRequest): Promise<CheckedPlan> {
  const id = environmentId(input.id, input.subject);
  const { plan } = planFromRequest(id, input.request, input.catalog, input.source ?? 'request');
  return { plan, notes: await preflight(plan, dockerClient()) };
}
