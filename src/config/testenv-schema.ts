/**
 * Test environments: the request (the seeds' shapes: single_taskserv, server_simulation,
 * cluster_topology), topology templates, and the resolved plan a workflow receives (nodes
 * with image, limits and taskserv order, container and network names). Pure: zod only.
 */
import { z } from 'zod';
import { startupOrder } from '../graph/order.js';
import type { ConfigProblem } from './errors.js';
import { addProblem, dnsLabel, positiveInt, strict } from './fields.js';
import { formatIpv4, parseCidr, type TaskservManifest } from './settings-schema.js';
import { suggestionFix } from './suggest.js';
import { testenvWorkflowId } from '../model/ids.js';

export const DEFAULT_BASE_IMAGE = 'provisioning-base:busybox';
/** Docker refuses a memory limit below 6 MB. */
export const MIN_MEMORY_MB = 6;
export const DEFAULT_RESOURCES = { cpu_millicores: 1000, memory_mb: 256 } as const;
export const DEFAULT_TTL_SECONDS = 2 * 60 * 60;
/** The longest an environment may live: 30 days. */
export const MAX_TTL_SECONDS = 30 * 24 * 60 * 60;
export const ENVIRONMENT_TYPES = ['single_taskserv', 'server_simulation', 'cluster_topology'] as const;
export type EnvironmentType = (typeof ENVIRONMENT_TYPES)[number];

export const resourcesSchema = strict({
  cpu_millicores: positiveInt(),
  memory_mb: positiveInt().refine((mb) => mb >= MIN_MEMORY_MB, { error: `Docker needs at least ${MIN_MEMORY_MB} MB of memory per container` }),
  /** Root filesystem size; only storage drivers with quota support (overlay2 on xfs with pquota, devicemapper, btrfs, zfs) accept it. */
  disk_mb: positiveInt().optional(),
}).partial({ cpu_millicores: true, memory_mb: true });
export type ResourcesInput = z.output<typeof resourcesSchema>;
export interface Resources {
  cpu_millicores: number;
  memory_mb: number;
  disk_mb?: number;
}

const image = z.string().min(1).regex(/^[A-Za-z0-9][A-Za-z0-9_.\-/:@]*$/, { error: 'not an image reference' });

/** The seeds write "controlplane"; servers write "control-plane". Both mean the node is set up first. */
export const ROLES = ['control-plane', 'controlplane', 'worker', 'member', 'standalone'] as const;
const role = z.enum(ROLES).default('standalone').transform((r) => (r === 'controlplane' ? 'control-plane' : r));

const subnet = z.string().superRefine((text, ctx) => {
  const cidr = parseCidr(text);
  if (!cidr) return addProblem(ctx, `subnet "${text}" is not an IPv4 CIDR from /8 to /30`, 'write it like 172.30.0.0/24, or leave it out to get a free one');
  if (text.split('/')[0] !== formatIpv4(cidr.base)) addProblem(ctx, `subnet "${text}" has host bits set`, `write the network address: ${formatIpv4(cidr.base)}/${cidr.bits}`);
});

/** Addresses a subnet leaves for containers: minus network, broadcast and the gateway. */
export function usableAddresses(text: string): number {
  const cidr = parseCidr(text);
  return cidr ? 2 ** (32 - cidr.bits) - 3 : 0;
}

export const nodeSchema = strict({
  name: dnsLabel('node name'),
  role,
  taskservs: z.array(dnsLabel('taskserv name')).default([]),
  resources: resourcesSchema.optional(),
  base_image: image.optional(),
});

/** Node names are hostnames and network aliases: each one once; the subnet must hold every node. */
function uniqueNodeNames(t: { nodes: Array<{ name: string }>; network?: { subnet: string } | undefined }, ctx: z.RefinementCtx): void {
  if (t.network && parseCidr(t.network.subnet) && usableAddresses(t.network.subnet) < t.nodes.length) {
    addProblem(ctx, `subnet ${t.network.subnet} has room for ${usableAddresses(t.network.subnet)} containers, not ${t.nodes.length}`, 'choose a larger subnet (a /24 holds 253), or leave it out to get a free one', ['network', 'subnet']);
  }
  const seen = new Map<string, number>();
  t.nodes.forEach((n, i) => {
    const first = seen.get(n.name);
    if (first !== undefined) addProblem(ctx, `node name "${n.name}" is used by nodes[${first}] too`, 'give every node its own name (it is the hostname and network alias)', ['nodes', i, 'name']);
    seen.set(n.name, i);
  });
}

/** Nodes and network: a request's topology, and the body of a template. */
const topologyFields = {
  nodes: z.array(nodeSchema).min(1, { error: 'a topology needs at least one node' }),
  network: strict({ subnet }).optional(),
};

export const topologySchema = strict(topologyFields).superRefine(uniqueNodeNames);

const singleTaskserv = strict({
  type: z.literal('single_taskserv'),
  taskserv: dnsLabel('taskserv name'),
  base_image: image.optional(),
  resources: resourcesSchema.optional(),
});

const serverSimulation = strict({
  type: z.literal('server_simulation'),
  server_name: dnsLabel('server name'),
  taskservs: z.array(dnsLabel('taskserv name')).min(1, { error: 'a server simulation needs at least one taskserv' }),
  base_image: image.optional(),
  resources: resourcesSchema.optional(),
});

const clusterTopology = strict({
  type: z.literal('cluster_topology'),
  cluster_type: dnsLabel('cluster type'),
  topology: topologySchema,
  base_image: image.optional(),
});

/** The type is checked first, so an unknown type gets one clear problem instead of three. */
const config = z
  .object({ type: z.unknown() })
  .passthrough()
  .superRefine((value, ctx) => {
    if (!ENVIRONMENT_TYPES.includes(value.type as EnvironmentType)) {
      addProblem(ctx, value.type === undefined ? 'missing environment type' : `unknown environment type ${JSON.stringify(value.type)}`, `set type to one of: ${ENVIRONMENT_TYPES.join(', ')}`, ['type']);
    }
  })
  .pipe(z.discriminatedUnion('type', [singleTaskserv, serverSimulation, clusterTopology]));

/** A duration: seconds, or a string like "90s", "30m", "2h". */
export function parseDuration(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value > 0 ? value : undefined;
  const m = /^(\d+(?:\.\d+)?)\s*(s|m|h|d)?$/.exec(value.trim());
  if (!m) return undefined;
  const seconds = Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[(m[2] ?? 's') as 's' | 'm' | 'h' | 'd'];
  return seconds > 0 ? seconds : undefined;
}

const ttl = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const seconds = parseDuration(v);
  if (seconds === undefined) {
    addProblem(ctx, `ttl ${JSON.stringify(v)} is not a positive duration`, 'write seconds (7200) or a duration like "30m" or "2h"');
    return z.NEVER;
  }
  if (seconds > MAX_TTL_SECONDS) {
    addProblem(ctx, `ttl ${JSON.stringify(v)} is longer than 30 days`, 'choose a ttl of at most 30d; clean up with "provisioning test env cleanup" earlier if you are done');
    return z.NEVER;
  }
  return seconds;
});

export const environmentRequestSchema = strict({
  config,
  /** Infra the environment belongs to; a label only. */
  infra: dnsLabel('infra name').optional(),
  auto_start: z.boolean().default(true),
  auto_cleanup: z.boolean().default(false),
  ttl: ttl.optional(),
});
export type EnvironmentRequest = z.output<typeof environmentRequestSchema>;

export const templateSchema = strict({
  description: z.string().default(''),
  cluster_type: dnsLabel('cluster type'),
  base_image: image.optional(),
  ...topologyFields,
}).superRefine(uniqueNodeNames);
export type TopologyTemplate = z.output<typeof templateSchema> & { name: string; source: string };

export const templatesFileSchema = z.record(dnsLabelKey(), templateSchema);

function dnsLabelKey() {
  return z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, { error: 'template names use lowercase letters, digits, "_" and "-"' });
}

/** One container of an environment, resolved. */
export interface EnvNode {
  name: string;
  role: 'control-plane' | 'worker' | 'member' | 'standalone';
  container: string;
  image: string;
  resources: Resources;
  /** The node's taskservs and their dependencies, dependencies first. */
  order: string[];
}

export interface EnvironmentPlan {
  id: string;
  workflowId: string;
  type: EnvironmentType;
  /** The taskserv, server name or cluster type the environment is about. */
  subject: string;
  infra?: string;
  network: { name: string; subnet?: string };
  nodes: EnvNode[];
  autoStart: boolean;
  autoCleanup: boolean;
  ttlSeconds: number;
  /** Directory of the catalog the taskservs came from (for messages). */
  catalog: string;
  /** The manifests of the taskservs the nodes install. */
  taskservs: Record<string, TaskservManifest>;
}

export const ENV_ID = /^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$/;


export function containerName(id: string, node: string): string {
  return `testenv-${id}-${node}`;
}

export function networkName(id: string): string {
  return `testenv-${id}`;
}

/**
 * Resolves a validated request against the catalog: nodes with image, resources and
 * taskserv order. Returns the problems (unknown taskservs, conflicts) instead of a plan.
 */
export function planEnvironment(
  id: string,
  request: EnvironmentRequest,
  catalog: { dir: string; taskservs: Record<string, TaskservManifest> },
): { plan: EnvironmentPlan; problems: [] } | { plan?: undefined; problems: ConfigProblem[] } {
  const c = request.config;
  const problems: ConfigProblem[] = [];
  const known = Object.keys(catalog.taskservs);
  const nodes: Array<{ name: string; role: EnvNode['role']; taskservs: string[]; resources?: ResourcesInput; image?: string; path: string }> =
    c.type === 'single_taskserv'
      ? [{ name: c.taskserv, role: 'standalone', taskservs: [c.taskserv], ...(c.resources ? { resources: c.resources } : {}), path: 'config.taskserv' }]
      : c.type === 'server_simulation'
        ? [{ name: c.server_name, role: 'standalone', taskservs: c.taskservs, ...(c.resources ? { resources: c.resources } : {}), path: 'config.taskservs' }]
        : c.topology.nodes.map((n, i) => ({ name: n.name, role: n.role, taskservs: n.taskservs, ...(n.resources ? { resources: n.resources } : {}), ...(n.base_image ? { image: n.base_image } : {}), path: `config.topology.nodes[${i}].taskservs` }));
  for (const node of nodes) {
    node.taskservs.forEach((t, j) => {
      if (!catalog.taskservs[t]) {
        const at = c.type === 'single_taskserv' ? node.path : `${node.path}[${j}]`;
        problems.push({ path: at, problem: `taskserv "${t}" is not in the catalog ${catalog.dir}`, fix: suggestionFix(t, known, 'taskserv') });
      }
    });
  }
  if (problems.length > 0) return { problems };
  const graph = Object.values(catalog.taskservs).map((t) => ({ name: t.name, dependencies: t.dependencies }));
  const resolved: EnvNode[] = nodes.map((n) => ({
    name: n.name,
    role: n.role,
    container: containerName(id, n.name),
    image: n.image ?? c.base_image ?? DEFAULT_BASE_IMAGE,
    resources: { ...DEFAULT_RESOURCES, ...(n.resources ?? {}) },
    order: n.taskservs.length > 0 ? startupOrder(graph, n.taskservs) : [],
  }));
  for (const node of resolved) {
    for (const t of node.order) {
      for (const other of catalog.taskservs[t]!.conflicts) {
        if (node.order.includes(other)) {
          problems.push({ path: nodes.find((n) => n.name === node.name)!.path, problem: `taskservs "${t}" and "${other}" conflict and cannot share node ${node.name}`, fix: `put ${other} on another node, or leave one of them out` });
        }
      }
    }
  }
  if (problems.length > 0) return { problems };
  const used = new Set(resolved.flatMap((n) => n.order));
  return {
    problems: [],
    plan: {
      id,
      workflowId: testenvWorkflowId(id),
      type: c.type,
      subject: c.type === 'single_taskserv' ? c.taskserv : c.type === 'server_simulation' ? c.server_name : c.cluster_type,
      ...(request.infra ? { infra: request.infra } : {}),
      network: { name: networkName(id), ...(c.type === 'cluster_topology' && c.topology.network ? { subnet: c.topology.network.subnet } : {}) },
      nodes: resolved,
      autoStart: request.auto_start,
      autoCleanup: request.auto_cleanup,
      ttlSeconds: request.ttl ?? DEFAULT_TTL_SECONDS,
      catalog: catalog.dir,
      taskservs: Object.fromEntries([...used].sort().map((t) => [t, catalog.taskservs[t]!])),
    },
  };
}
