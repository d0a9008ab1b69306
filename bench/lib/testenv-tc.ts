/**
 * The testcontainers-node baseline of the test-environment benchmark: GenericContainer and
 * Network with the Ryuk reaper off, the same image, names, hostnames, aliases, limits, labels,
 * taskserv scripts, environment and order as the workflow. Containers start together, installs
 * go control planes first then the other nodes in parallel, one container.exec per step (as a
 * typical test does), tests on every node in parallel, then container.stop() (stop + remove)
 * and network.stop().
 *
 * testcontainers reads TESTCONTAINERS_RYUK_DISABLED when it first looks for its reaper, so
 * the module is imported lazily, after the variable is set.
 */
import type { EnvironmentPlan, EnvNode } from '../../src/config/testenv-schema.js';
import { PHASES, stepEnv, testOf, waves, type Breakdown, type MethodRun } from './testenv-common.js';

process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';
const tc = await import('testcontainers');

type Started = Awaited<ReturnType<InstanceType<typeof tc.GenericContainer>['start']>>;

async function step(container: Started, plan: EnvironmentPlan, node: EnvNode, taskserv: string, kind: 'install' | 'check' | 'test'): Promise<void> {
  const scripts = plan.taskservs[taskserv]!.scripts;
  const script = kind === 'test' ? scripts.test! : scripts[kind];
  const result = await container.exec(['sh', '-c', script, taskserv], { env: stepEnv(plan, node, taskserv) });
  if (result.exitCode !== 0) throw new Error(`${kind} of ${taskserv} on ${node.name} failed (exit ${result.exitCode}): ${result.output.trim().split('\n').slice(-5).join('\n')}`);
}

/** Creates, installs, tests and removes one environment; the caller's sweep removes what a failure leaves. */
export async function runClusterTestcontainers(plan: EnvironmentPlan): Promise<MethodRun> {
  const marks: Record<string, number> = {};
  const mark = (m: string) => (marks[m] = performance.now());
  const t0 = performance.now();
  mark('start');
  const network = await new tc.Network({ nextUuid: () => plan.network.name }).start();
  mark('network');
  const containers = new Map<string, Started>();
  try {
    await Promise.all(
      plan.nodes.map(async (n) => {
        const started = await new tc.GenericContainer(n.image)
          .withName(n.container)
          .withHostname(n.name)
          .withNetwork(network)
          .withNetworkAliases(n.name)
          .withResourcesQuota({ cpu: n.resources.cpu_millicores / 1000, memory: n.resources.memory_mb / 1024 })
          .withLabels({ 'provisioning.managed': 'true', 'provisioning.testenv': plan.id, 'provisioning.node': n.name })
          .withCommand(['tail', '-f', '/dev/null'])
          .start();
        containers.set(n.name, started);
      }),
    );
    mark('containers');
    for (const wave of waves(plan.nodes)) {
      await Promise.all(
        wave.map(async (n) => {
          for (const t of n.order) {
            await step(containers.get(n.name)!, plan, n, t, 'install');
            await step(containers.get(n.name)!, plan, n, t, 'check');
          }
        }),
      );
    }
    mark('install');
    await Promise.all(
      plan.nodes.map(async (n) => {
        for (const t of n.order) await step(containers.get(n.name)!, plan, n, t, testOf(plan, t).kind);
      }),
    );
    mark('run');
  } finally {
    await Promise.all([...containers.values()].map((c) => c.stop()));
    await network.stop();
    mark('cleanup');
  }
  const seconds = (performance.now() - t0) / 1000;
  const breakdown = { other: 0 } as Breakdown;
  let previous = marks.start!;
  for (const phase of PHASES) {
    breakdown[phase] = marks[phase]! - previous;
    previous = marks[phase]!;
  }
  breakdown.other = seconds * 1000 - (marks.cleanup! - marks.start!);
  const execs = plan.nodes.reduce((sum, n) => sum + n.order.length * 3, 0);
  return { seconds, breakdown, execs };
}
