/**
 * The kubernetes driver's argv, read without a cluster (none can run on these machines):
 * what kubectl and helm would be asked to do, always as argv, never a shell string.
 */
import { describe, expect, it } from 'vitest';
import { kubernetesCommands } from '../../src/activities/drivers/kubernetes.js';

describe('kubernetes commands', () => {
  it('apply manifests, wait for the rollout within the start timeout, delete on stop', () => {
    const c = kubernetesCommands({ namespace: 'provisioning', deployment_name: 'orchestrator', manifests_path: '/k8s/orchestrator/' }, 30);
    expect(c.apply).toEqual(['kubectl', 'apply', '-n', 'provisioning', '-f', '/k8s/orchestrator/']);
    expect(c.rollout).toEqual(['kubectl', 'rollout', 'status', 'deployment/orchestrator', '-n', 'provisioning', '--timeout=30s']);
    expect(c.remove).toEqual(['kubectl', 'delete', '-n', 'provisioning', '-f', '/k8s/orchestrator/', '--ignore-not-found']);
    expect(c.logs(20)).toEqual(['kubectl', 'logs', 'deployment/orchestrator', '-n', 'provisioning', '--tail', '20']);
  });

  it('install a helm chart with its version, repo and values, and uninstall it on stop', () => {
    const c = kubernetesCommands(
      { namespace: 'db', deployment_name: 'pg', helm_chart: { chart: 'postgresql', release_name: 'pg-main', version: '15.2.0', repo: 'https://charts.example', values_file: '/v.yaml' } },
      60,
    );
    expect(c.apply).toEqual(['helm', 'upgrade', '--install', 'pg-main', 'postgresql', '-n', 'db', '--version', '15.2.0', '--repo', 'https://charts.example', '-f', '/v.yaml']);
    expect(c.remove).toEqual(['helm', 'uninstall', 'pg-main', '-n', 'db']);
  });
});
