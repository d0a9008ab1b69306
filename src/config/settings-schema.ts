/**
 * The infrastructure settings file (the seeds' settings.yaml): the infra, its servers with
 * provider, plan, image, network and taskservs, where the taskserv catalog is, and what to do
 * when a server fails. Pure (zod only); the validated snapshot is what workflows receive.
 */
import { z } from 'zod';
import { addProblem, dnsLabel, positiveInt, safeName, strict } from './fields.js';

export const PROVIDERS = ['docker', 'command'] as const;
export type ProviderName = (typeof PROVIDERS)[number];

const plan = strict({
  cpu_millicores: positiveInt(),
  memory_mb: positiveInt().refine((mb) => mb >= 6, { error: 'Docker needs at least 6 MB of memory' }),
});

/** argv templates: {infra}, {server}, {settings} and {taskserv} are replaced; no shell. */
const argvTemplate = z.array(z.string()).min(1);

const commandProvider = strict({
  create: argvTemplate,
  delete: argvTemplate,
  exists: argvTemplate,
  exec: argvTemplate,
  /** Exit code of `exists` that means "exists" (default 0). */
  exists_exit_code: z.number().int().min(0).max(255).default(0),
});

const server = strict({
  hostname: dnsLabel('server hostname'),
  provider: z.enum(PROVIDERS).default('docker'),
  plan: plan.prefault({ cpu_millicores: 1000, memory_mb: 256 }),
  image: z.string().min(1).default('provisioning-base:busybox'),
  /** Docker network name; default: the infra's network, <infra>-net. */
  network: safeName('network name').optional(),
  taskservs: z.array(dnsLabel('taskserv name')).default([]),
  /** Role in a cluster definition: control planes are created before workers. */
  role: z.enum(['control-plane', 'worker', 'standalone']).default('standalone'),
});

const IPV4_CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

export function parseCidr(cidr: string): { base: number; bits: number } | undefined {
  const m = IPV4_CIDR.exec(cidr);
  if (!m) return undefined;
  const octets = m.slice(1, 5).map(Number);
  const bits = Number(m[5]);
  if (octets.some((o) => o > 255) || bits < 8 || bits > 30) return undefined;
  const base = octets.reduce((acc, o) => acc * 256 + o, 0);
  const mask = bits === 0 ? 0 : 2 ** 32 - 2 ** (32 - bits);
  return { base: Math.floor(base / 2 ** (32 - bits)) * 2 ** (32 - bits), bits: mask ? bits : 0 };
}

/** An IPv4 address, as a number, in dotted form. */
export function formatIpv4(address: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(address / 2 ** s) % 256).join('.');
}

export function cidrsOverlap(a: string, b: string): boolean {
  const x = parseCidr(a);
  const y = parseCidr(b);
  if (!x || !y) return false;
  const size = (c: { bits: number }) => 2 ** (32 - c.bits);
  return x.base < y.base + size(y) && y.base < x.base + size(x);
}

const network = strict({
  subnet: z.string().superRefine((text, ctx) => {
    if (!parseCidr(text)) addProblem(ctx, `subnet "${text}" is not an IPv4 CIDR from /8 to /30`, 'write it like 172.30.0.0/24');
  }),
});

export const settingsSchema = strict({
  infra: dnsLabel('infra name'),
  /** Path of the taskserv catalog, relative to the settings file. */
  catalog: z.string().min(1).default('taskservs'),
  on_failure: z.enum(['leave', 'rollback']).default('leave'),
  /** How many servers are created at once. */
  parallelism: positiveInt().default(4),
  network: network.optional(),
  providers: strict({ command: commandProvider.optional() }).prefault({}),
  servers: z.array(server).min(1),
}).superRefine((s, ctx) => {
  const seen = new Map<string, number>();
  s.servers.forEach((srv, i) => {
    const first = seen.get(srv.hostname);
    if (first !== undefined) addProblem(ctx, `hostname "${srv.hostname}" is used by servers[${first}] too`, 'give every server its own hostname', ['servers', i, 'hostname']);
    seen.set(srv.hostname, i);
    if (srv.provider === 'command' && !s.providers.command) {
      addProblem(ctx, 'provider "command" has no commands', 'add providers.command with create, delete, exists and exec argv templates', ['servers', i, 'provider']);
    }
  });
});

export type SettingsInput = z.output<typeof settingsSchema>;
export type ServerSpec = SettingsInput['servers'][number];
export type CommandProviderSpec = z.output<typeof commandProvider>;

export interface TaskservManifest {
  name: string;
  version: string;
  description: string;
  dependencies: string[];
  conflicts: string[];
  parameters: Record<string, string>;
  /** "offline": runs on the local base image; "internet": needs a Debian/Ubuntu image with network. */
  requires: 'offline' | 'internet';
  /** Script contents, keyed by kind (install, check, test). */
  scripts: { install: string; check: string; test?: string };
}

/** A validated settings snapshot with its catalog: plain JSON for workflows. */
export interface Settings extends SettingsInput {
  /** Absolute path of the settings file. */
  source: string;
  catalog: string;
  taskservs: Record<string, TaskservManifest>;
}
