/**
 * The docker CLI baselines of the test-environment benchmark: bash scripts a competent person
 * would write for the same environments. Same network, container names, hostnames, aliases,
 * limits, labels, image, taskserv scripts (read with "$(cat …)"), environment and order as the
 * workflow: control planes first, the other nodes in parallel (`&` … `wait`), tests on every
 * node in parallel, then `docker rm -f` and `docker network rm`. One `docker exec` per step,
 * as typical scripts do. The script prints "@@ <mark> $EPOCHREALTIME" at each phase boundary
 * (bash 5, no fork), so its time splits into the same phases as the workflow's.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import type { EnvironmentPlan, EnvNode } from '../../src/config/testenv-schema.js';
import { PHASES, stepEnv, testOf, waves, type Breakdown, type MethodRun } from './testenv-common.js';

const q = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

function labels(plan: EnvironmentPlan, node?: EnvNode): string {
  return [`provisioning.managed=true`, `provisioning.testenv=${plan.id}`, ...(node ? [`provisioning.node=${node.name}`] : [])].map((l) => `--label ${l}`).join(' ');
}

function exec(plan: EnvironmentPlan, node: EnvNode, taskserv: string, kind: 'install' | 'check' | 'test'): string {
  const env = Object.entries(stepEnv(plan, node, taskserv)).map(([k, v]) => `-e ${k}=${q(v)}`).join(' ');
  return `docker exec ${env} ${node.container} sh -c "$(cat ${q(path.join(plan.catalog, taskserv, `${kind}.sh`))})" ${taskserv} >/dev/null`;
}

function run(plan: EnvironmentPlan, node: EnvNode): string {
  const cpus = (node.resources.cpu_millicores / 1000).toString();
  return `docker run -d --name ${node.container} --hostname ${node.name} --network ${plan.network.name} --network-alias ${node.name} --cpus ${cpus} --memory ${node.resources.memory_mb}m ${labels(plan, node)} ${node.image} tail -f /dev/null >/dev/null`;
}

function installSteps(plan: EnvironmentPlan, node: EnvNode): string[] {
  return node.order.flatMap((t) => [exec(plan, node, t, 'install'), exec(plan, node, t, 'check')]);
}

function testSteps(plan: EnvironmentPlan, node: EnvNode): string[] {
  return node.order.map((t) => exec(plan, node, t, testOf(plan, t).kind));
}

/** `parallel name cmd…`-style helper: run each body in the background, then wait for every one (failing if any failed). */
function together(bodies: string[]): string[] {
  if (bodies.length === 1) return [bodies[0]!];
  return ['pids=()', ...bodies.map((b) => `{ ${b}; } & pids+=($!)`), 'for p in "${pids[@]}"; do wait "$p"; done'];
}

const fn = (name: string, steps: string[]) => `${name}() {\n  ${steps.join('\n  ')}\n}`;

/** The cluster script: network, containers, installs by wave, tests, removal. */
export function clusterScript(plan: EnvironmentPlan): { text: string; execs: number } {
  const nodeIndex = (n: EnvNode) => plan.nodes.indexOf(n);
  const containers = plan.nodes.map((n) => n.container).join(' ');
  const lines = [
    '#!/bin/bash',
    'set -euo pipefail',
    'mark() { echo "@@ $1 $EPOCHREALTIME"; }',
    `cleanup() { docker rm -f ${containers} >/dev/null 2>&1 || true; docker network rm ${plan.network.name} >/dev/null 2>&1 || true; }`,
    'trap cleanup ERR INT TERM',
    ...plan.nodes.map((n, i) => fn(`install_${i}`, installSteps(plan, n))),
    ...plan.nodes.map((n, i) => fn(`test_${i}`, testSteps(plan, n))),
    'mark start',
    `docker network create ${labels(plan)} ${plan.network.name} >/dev/null`,
    'mark network',
    ...together(plan.nodes.map((n) => run(plan, n))),
    'mark containers',
    ...waves(plan.nodes).flatMap((wave) => together(wave.map((n) => `install_${nodeIndex(n)}`))),
    'mark install',
    ...together(plan.nodes.map((n) => `test_${nodeIndex(n)}`)),
    'mark run',
    `docker rm -f ${containers} >/dev/null`,
    `docker network rm ${plan.network.name} >/dev/null`,
    'mark cleanup',
  ];
  const execs = plan.nodes.reduce((sum, n) => sum + installSteps(plan, n).length + testSteps(plan, n).length, 0);
  return { text: `${lines.join('\n')}\n`, execs };
}

/** Runs a script, returning wall time and the "@@ mark epoch-seconds" lines it printed. */
async function runScript(file: string): Promise<{ seconds: number; marks: Array<{ mark: string; at: number }> }> {
  const t0 = performance.now();
  const result = await execa('bash', [file], { reject: false });
  const seconds = (performance.now() - t0) / 1000;
  if (result.exitCode !== 0) throw new Error(`${path.basename(file)} failed (exit ${result.exitCode}):\n${result.stderr.split('\n').slice(-15).join('\n')}`);
  const marks = result.stdout.split('\n').flatMap((line) => {
    const m = /^@@ (\S+) (\d+(?:\.\d+)?)$/.exec(line.trim());
    return m ? [{ mark: m[1]!, at: Number(m[2]) * 1000 }] : [];
  });
  return { seconds, marks };
}

export async function runClusterScript(plan: EnvironmentPlan, dir: string): Promise<MethodRun> {
  const { text, execs } = clusterScript(plan);
  const file = path.join(dir, `${plan.id}.sh`);
  await writeFile(file, text);
  const { seconds, marks } = await runScript(file);
  const at = (m: string) => marks.find((x) => x.mark === m)?.at ?? NaN;
  const breakdown = { other: 0 } as Breakdown;
  let previous = at('start');
  for (const phase of PHASES) {
    breakdown[phase] = at(phase) - previous;
    previous = at(phase);
  }
  breakdown.other = seconds * 1000 - (at('cleanup') - at('start'));
  return { seconds, breakdown, execs };
}

/** One single-taskserv environment as a background subshell: network, run, installs and checks, tests, removal. */
function quickBody(plan: EnvironmentPlan, index: number): string {
  const node = plan.nodes[0]!;
  const mark = (m: string) => `echo "@@ ${m}-${index} $EPOCHREALTIME"`;
  return [
    mark('start'),
    `docker network create ${labels(plan)} ${plan.network.name} >/dev/null`,
    mark('network'),
    run(plan, node),
    mark('containers'),
    ...installSteps(plan, node),
    mark('install'),
    ...testSteps(plan, node),
    mark('run'),
    `docker rm -f ${node.container} >/dev/null`,
    `docker network rm ${plan.network.name} >/dev/null`,
    mark('cleanup'),
  ].join(' && \\\n  ');
}

export interface ConcurrentRun {
  seconds: number;
  /** Each environment's own start-to-removed time, seconds, and its phases. */
  latencies: number[];
  breakdowns: Breakdown[];
  execs: number;
}

/** N single-taskserv environments at once: N background subshells, then `wait` for each. */
export async function runQuickScript(plans: EnvironmentPlan[], dir: string): Promise<ConcurrentRun> {
  const lines = [
    '#!/bin/bash',
    'set -uo pipefail',
    'pids=()',
    ...plans.map((p, i) => `( ${quickBody(p, i)} ) & pids+=($!)`),
    'failed=0',
    'for p in "${pids[@]}"; do wait "$p" || failed=$((failed + 1)); done',
    '[ "$failed" -eq 0 ] || { echo "$failed environments failed" >&2; exit 1; }',
  ];
  const file = path.join(dir, `${plans[0]!.id}-x${plans.length}.sh`);
  await writeFile(file, `${lines.join('\n')}\n`);
  const { seconds, marks } = await runScript(file);
  const at = (m: string, i: number) => marks.find((x) => x.mark === `${m}-${i}`)?.at ?? NaN;
  const breakdowns = plans.map((_, i) => {
    const b = { other: 0 } as Breakdown;
    let previous = at('start', i);
    for (const phase of PHASES) {
      b[phase] = at(phase, i) - previous;
      previous = at(phase, i);
    }
    return b;
  });
  const latencies = plans.map((_, i) => (at('cleanup', i) - at('start', i)) / 1000);
  const node = plans[0]!.nodes[0]!;
  return { seconds, latencies, breakdowns, execs: plans.length * (installSteps(plans[0]!, node).length + testSteps(plans[0]!, node).length) };
}
