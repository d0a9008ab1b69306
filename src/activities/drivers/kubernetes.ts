/**
 * Kubernetes services: `kubectl apply -f MANIFESTS` or `helm upgrade --install` in the
 * namespace, readiness from `kubectl rollout status` bounded by the start timeout, and
 * delete (or helm uninstall) on stop. All through execa with argv.
 */
import { exec } from '../../util/exec.js';
import type { KubernetesDeployment, ServiceDefinition } from '../../config/registry-schema.js';
import { which } from '../../util/which.js';
import { ServiceConfigError, type ServiceDriver } from './types.js';

/** The argv of each step, separate so it can be read and checked without a cluster. */
export function kubernetesCommands(spec: KubernetesDeployment, timeoutSeconds: number) {
  const ns = ['-n', spec.namespace];
  const chart = spec.helm_chart;
  const release = chart?.release_name ?? spec.deployment_name;
  return {
    apply: chart
      ? ['helm', 'upgrade', '--install', release, chart.chart, ...ns, ...(chart.version ? ['--version', chart.version] : []), ...(chart.repo ? ['--repo', chart.repo] : []), ...(chart.values_file ? ['-f', chart.values_file] : [])]
      : ['kubectl', 'apply', ...ns, '-f', spec.manifests_path!],
    rollout: ['kubectl', 'rollout', 'status', `deployment/${spec.deployment_name}`, ...ns, `--timeout=${Math.ceil(timeoutSeconds)}s`],
    status: ['kubectl', 'get', 'deployment', spec.deployment_name, ...ns, '-o', 'jsonpath={.status.readyReplicas}/{.status.replicas}'],
    remove: chart ? ['helm', 'uninstall', release, ...ns] : ['kubectl', 'delete', ...ns, '-f', spec.manifests_path!, '--ignore-not-found'],
    logs: (lines: number) => ['kubectl', 'logs', `deployment/${spec.deployment_name}`, ...ns, '--tail', String(lines)],
  };
}

async function run(argv: string[], timeoutSeconds = 120) {
  const [program, ...args] = argv as [string, ...string[]];
  if (!which(program)) throw new ServiceConfigError(`${program} is not installed (not on PATH)`);
  const result = await exec(program, args, { reject: false, timeout: timeoutSeconds * 1000 });
  return result;
}

async function runOk(argv: string[], timeoutSeconds = 120): Promise<string> {
  const result = await run(argv, timeoutSeconds);
  if (result.exitCode !== 0) throw new Error(`${argv.slice(0, 3).join(' ')} failed (exit ${result.exitCode}): ${(result.stderr || result.stdout).trim().split('\n').slice(-3).join(' | ')}`);
  return result.stdout;
}

const commands = (service: ServiceDefinition) => kubernetesCommands(service.deployment.kubernetes!, service.startup.start_timeout);

export const kubernetesDriver: ServiceDriver = {
  async status(service) {
    const result = await run(commands(service).status, 30);
    if (result.exitCode !== 0) return { running: false, detail: 'no deployment' };
    const [ready, wanted] = result.stdout.split('/').map((n) => Number(n || 0)) as [number, number];
    return { running: ready > 0, detail: `${ready}/${wanted} replicas ready` };
  },

  async start(service, ctx) {
    const before = await this.status(service, ctx);
    if (before.running) return { alreadyRunning: true, startedAt: Date.now() };
    const startedAt = Date.now();
    await runOk(commands(service).apply, service.startup.start_timeout + 60);
    return { alreadyRunning: false, startedAt };
  },

  async waitReady(service, _ctx, timeoutSeconds) {
    await runOk(kubernetesCommands(service.deployment.kubernetes!, timeoutSeconds).rollout, timeoutSeconds + 10);
  },

  async stop(service, ctx) {
    const before = await this.status(service, ctx);
    await runOk(commands(service).remove);
    return { wasRunning: before.running, how: service.deployment.kubernetes!.helm_chart ? 'helm uninstall' : 'kubectl delete' };
  },

  async logs(service, _ctx, lines) {
    return (await runOk(commands(service).logs(lines), 30)).split('\n').filter(Boolean);
  },
};
