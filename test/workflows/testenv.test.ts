/** The test-environment workflow on the real dev server and Docker engine. */
import { afterAll, describe, expect, it } from 'vitest';
import { dockerClient } from '../../src/docker/client.js';
import type { EnvState, RunRequest, RunResult } from '../../src/workflows/testenv-model.js';
import { dockerAvailable } from '../support/docker.js';
import { testClient, withWorker } from '../support/temporal.js';
import { envResources, forceRemove, phase, planFor, startEnv, waitFor } from '../support/testenv.js';

const ids: string[] = [];
afterAll(async () => {
  for (const id of ids) await forceRemove(id);
});

describe.runIf(dockerAvailable)('test environments', () => {
  it('a single-taskserv environment installs its taskserv with dependencies, with the requested limits, runs its tests and cleans up', async () => {
    const plan = await planFor({ config: { type: 'single_taskserv', taskserv: 'webserver', resources: { cpu_millicores: 500, memory_mb: 96 } } });
    ids.push(plan.id);
    const { client, close } = await testClient();
    try {
      await withWorker(async (taskQueue) => {
        const handle = await startEnv(client, taskQueue, plan);
        const ready = await waitFor(handle, phase('ready'), 'ready');
        expect(ready.nodes[0]!.taskservs.map((t) => [t.name, t.state])).toEqual([['base', 'installed'], ['webserver', 'installed']]);
        const info = await dockerClient().getContainer(plan.nodes[0]!.container).inspect();
        expect(info.HostConfig.NanoCpus).toBe(500_000_000);
        expect(info.HostConfig.Memory).toBe(96 * 1024 * 1024);
        expect(info.Config.Hostname).toBe('webserver');
        expect(info.Config.Labels['provisioning.managed']).toBe('true');
        const run = await handle.executeUpdate<RunResult, [RunRequest]>('run', { args: [{}] });
        expect(run.tests.map((t) => [t.node, t.name, t.passed])).toEqual([['webserver', 'base:check', true], ['webserver', 'webserver', true]]);
        await handle.signal('cleanup');
        const final = (await handle.result()) as EnvState;
        expect(final.phase).toBe('cleaned');
        expect(await envResources(plan.id)).toEqual({ containers: [], networks: [] });
      });
    } finally {
      await close();
    }
  });
});
