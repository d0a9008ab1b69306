/**
 * Shared parts of the test-environment benchmark: the plans every method follows (from the
 * shipped web_3node template and catalog, so the taskservs, their order, limits and scripts
 * are the same for all), the environment each step gets, ids, statistics, phase breakdowns,
 * and removal of whatever a run left behind (by label and by name).
 */
import { randomBytes } from 'node:crypto';
import { execa } from 'execa';
import { loadEnvCatalog, loadTopologies, planFromRequest, type LoadedCatalog } from '../../src/config/testenv.js';
import type { EnvironmentPlan, EnvNode } from '../../src/config/testenv-schema.js';
import { dockerClient } from '../../src/docker/client.js';

export const TEMPLATE = 'web_3node';
export const QUICK_TASKSERV = 'webserver';

/** Every id of one benchmark process starts with this, so a final sweep finds all of them. */
export const BENCH_PREFIX = `bx${randomBytes(3).toString('hex')}`;
let counter = 0;
/** A fresh environment id (a DNS label, as ENV_ID wants): <prefix>-<method>-<n>. */
export function freshId(method: string): string {
  counter += 1;
  return `${BENCH_PREFIX}-${method}-${counter}`;
}

export async function benchCatalog(): Promise<LoadedCatalog> {
  return loadEnvCatalog(undefined, process.env, process.cwd());
}

/** The cluster request of the issue, built from the shipped template's nodes. */
export async function clusterRequest(): Promise<unknown> {
  const template = (await loadTopologies())[TEMPLATE];
  if (!template) throw new Error(`topology template ${TEMPLATE} is missing from config/test-topologies.toml`);
  return {
    config: { type: 'cluster_topology', cluster_type: template.cluster_type, topology: { nodes: template.nodes } },
    auto_cleanup: true,
  };
}

export const quickRequest = { config: { type: 'single_taskserv', taskserv: QUICK_TASKSERV }, auto_cleanup: true };

export function planFor(id: string, request: unknown, catalog: LoadedCatalog): EnvironmentPlan {
  return planFromRequest(id, request, catalog, 'bench').plan;
}

/** Control planes first, then the rest together (the workflow's installWaves). */
export function waves(nodes: readonly EnvNode[]): EnvNode[][] {
  const first = nodes.filter((n) => n.role === 'control-plane');
  const rest = nodes.filter((n) => n.role !== 'control-plane');
  return [first, rest].filter((w) => w.length > 0);
}

/** What the workflow's activities export to every step on a node, plus the taskserv's parameters. */
export function stepEnv(plan: EnvironmentPlan, node: EnvNode, taskserv: string): Record<string, string> {
  return {
    ENV_ID: plan.id,
    NODE: node.name,
    NODES: plan.nodes.map((n) => n.name).join(' '),
    SERVER: node.name,
    INFRA: `testenv-${plan.id}`,
    ...plan.taskservs[taskserv]!.parameters,
    TASKSERV: taskserv,
  };
}

/** A taskserv's test: test.sh, or check.sh when it has none (as runEnvTests). */
export function testOf(plan: EnvironmentPlan, taskserv: string): { label: string; kind: 'test' | 'check' } {
  return plan.taskservs[taskserv]!.scripts.test !== undefined ? { label: taskserv, kind: 'test' } : { label: `${taskserv}:check`, kind: 'check' };
}

export const PHASES = ['network', 'containers', 'install', 'run', 'cleanup'] as const;
export type Phase = (typeof PHASES)[number];
/** Milliseconds per phase; `other` is what falls outside them (process start, submission, result delivery). */
export type Breakdown = Record<Phase | 'other', number>;

export interface MethodRun {
  seconds: number;
  breakdown: Breakdown;
  /** Docker engine calls that ran something in a container (exec create+start). */
  execs: number;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

/** Nearest-rank percentile. */
export function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

export function medianBreakdown(runs: readonly Breakdown[]): Breakdown {
  return Object.fromEntries([...PHASES, 'other'].map((k) => [k, median(runs.map((r) => r[k as Phase | 'other']))])) as Breakdown;
}

/**
 * Removes every container and network of this benchmark process: labelled provisioning.testenv
 * with one of its ids, or named testenv-<one of its ids>... (testcontainers' networks carry no
 * labels of ours). Returns what it removed.
 */
export async function removeBenchResources(prefix = BENCH_PREFIX): Promise<{ containers: number; networks: number }> {
  const docker = dockerClient();
  const mine = (labels: Record<string, string> | undefined, name: string) => (labels?.['provisioning.testenv'] ?? '').startsWith(prefix) || name.startsWith(`testenv-${prefix}`);
  const containers = (await docker.listContainers({ all: true })).filter((c) => mine(c.Labels, (c.Names[0] ?? '').replace(/^\//, '')));
  await Promise.all(containers.map((c) => docker.getContainer(c.Id).remove({ force: true, v: true }).catch(() => undefined)));
  const networks = (await docker.listNetworks()).filter((n) => mine(n.Labels, n.Name));
  for (const n of networks) {
    for (let attempt = 0; attempt < 20; attempt++) {
      try {
        await docker.getNetwork(n.Id).remove();
        break;
      } catch (err) {
        if ((err as { statusCode?: number }).statusCode === 404) break;
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  }
  return { containers: containers.length, networks: networks.length };
}

/**
 * What is still there of this benchmark process, asked the way a person would check:
 * `docker ps -a --filter label=provisioning.managed=true`, `docker network ls --filter
 * label=provisioning.managed=true`, by name for testcontainers' unlabelled networks, and the
 * networks of the bench's own network pool.
 */
export async function leftovers(prefix = BENCH_PREFIX): Promise<string[]> {
  const lines = async (args: string[]) => (await execa('docker', args)).stdout.split('\n').filter(Boolean);
  const [labelled, named, networks, networksByName, pooled] = await Promise.all([
    lines(['ps', '-a', '--filter', 'label=provisioning.managed=true', '--format', '{{.Names}} {{.Label "provisioning.testenv"}}']),
    lines(['ps', '-a', '--filter', `name=testenv-${prefix}`, '--format', '{{.Names}} -']),
    lines(['network', 'ls', '--filter', 'label=provisioning.managed=true', '--format', '{{.Name}} {{.Label "provisioning.testenv"}}']),
    lines(['network', 'ls', '--filter', `name=testenv-${prefix}`, '--format', '{{.Name}} -']),
    lines(['network', 'ls', '--filter', `label=provisioning.netpool.name=bench-${prefix}`, '--format', '{{.Name}}']),
  ]);
  const mine = (line: string) => {
    const [name = '', id = ''] = line.split(' ');
    return id.startsWith(prefix) || name.startsWith(`testenv-${prefix}`);
  };
  return [
    ...new Set([...labelled, ...named].filter(mine).map((l) => `container ${l.split(' ')[0]}`)),
    ...new Set([...networks, ...networksByName].filter(mine).map((l) => `network ${l.split(' ')[0]}`)),
    ...pooled.map((name) => `network ${name} (the bench's network pool)`),
  ];
}
