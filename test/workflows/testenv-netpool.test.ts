/**
 * The pool of environment networks on the real dev server and Docker engine. The tests use a
 * pool of their own name and size (the worker runs in this process and reads them from its
 * environment), so other test files' environments and reapers never touch it.
 */
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dockerClient } from '../../src/docker/client.js';
import { NETPOOL_LABEL, NETPOOL_NAME_LABEL } from '../../src/model/labels.js';
import type { EnvState, ReapResult, RunResult } from '../../src/model/testenv.js';
import { dockerAvailable } from '../support/docker.js';
import { testClient, uniqueId, withWorker } from '../support/temporal.js';
import { envResources, forceRemove, phase, planFor, startEnv, waitFor } from '../support/testenv.js';

const pool = uniqueId('np').toLowerCase();
const ids: string[] = [];
let client: Client;
let closeClient: () => Promise<void>;
const saved = { size: process.env.PROVISIONING_TESTENV_NETPOOL, name: process.env.PROVISIONING_TESTENV_NETPOOL_NAME };

beforeAll(async () => {
  ({ client, close: closeClient } = await testClient());
  process.env.PROVISIONING_TESTENV_NETPOOL = '2';
  process.env.PROVISIONING_TESTENV_NETPOOL_NAME = pool;
});
afterAll(async () => {
  for (const id of ids) await forceRemove(id);
  for (const n of await poolNetworks()) await dockerClient().getNetwork(n.id).remove().catch(() => undefined);
  for (const [key, value] of [['PROVISIONING_TESTENV_NETPOOL', saved.size], ['PROVISIONING_TESTENV_NETPOOL_NAME', saved.name]] as const) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  await closeClient();
});

/** This test pool's networks: name and id. */
async function poolNetworks(): Promise<Array<{ name: string; id: string }>> {
  const found = await dockerClient().listNetworks({ filters: { label: [`${NETPOOL_LABEL}=network`, `${NETPOOL_NAME_LABEL}=${pool}`] } });
  return found.map((n) => ({ name: n.Name, id: n.Id })).sort((a, b) => a.name.localeCompare(b.name));
}

async function env() {
  const p = await planFor({ config: { type: 'single_taskserv', taskserv: 'webserver', resources: { memory_mb: 48 } } });
  ids.push(p.id);
  return p;
}

const run = (handle: Awaited<ReturnType<typeof startEnv>>) => handle.executeUpdate<RunResult, [object]>('run', { args: [{}] });

async function cleanedUp(handle: Awaited<ReturnType<typeof startEnv>>): Promise<EnvState> {
  await handle.signal('cleanup');
  return (await handle.result()) as EnvState;
}

describe.runIf(dockerAvailable)('the pool of environment networks', () => {
  it('environments borrow networks of the pool one each, the one past its size gets its own, and a later one reuses a returned network', async () => {
    const [a, b, c] = [await env(), await env(), await env()];
    await withWorker(async (taskQueue) => {
      const [ha, hb] = await Promise.all([startEnv(client, taskQueue, a), startEnv(client, taskQueue, b)]);
      const [sa, sb] = await Promise.all([waitFor(ha, phase('ready')), waitFor(hb, phase('ready'))]);
      expect([sa.network, sb.network].map((n) => [n.pooled, n.name.startsWith(`provisioning-netpool-${pool}-`)])).toEqual([
        [true, true],
        [true, true],
      ]);
      expect(sa.network.name).not.toBe(sb.network.name);
      expect(sa.network.subnet).not.toBe(sb.network.subnet);
      // While an environment holds a network, the network is its alone: its node, nobody else's.
      const onNetwork = (await dockerClient().getNetwork(sa.network.name).inspect()) as { Containers: Record<string, { Name: string }> };
      expect(Object.values(onNetwork.Containers).map((x) => x.Name)).toEqual([a.nodes[0]!.container]);
      expect((await run(ha)).passed).toBe(true);

      // The pool (size 2) is taken: the third environment gets a network of its own, as without a pool.
      const hc = await startEnv(client, taskQueue, c);
      const sc = await waitFor(hc, phase('ready'));
      expect(sc.network).toMatchObject({ name: `testenv-${c.id}` });
      expect(sc.network.pooled).toBeUndefined();
      expect((await envResources(c.id)).networks).toEqual([`testenv-${c.id}`]);

      const before = await poolNetworks();
      expect(before.map((n) => n.name).sort()).toEqual([sa.network.name, sb.network.name].sort());
      const removed = await Promise.all([cleanedUp(ha), cleanedUp(hb), cleanedUp(hc)]);
      // Removal counts the network given back, as it counts one removed.
      expect(removed.map((s) => s.removed)).toEqual([
        { containers: 1, networks: 1 },
        { containers: 1, networks: 1 },
        { containers: 1, networks: 1 },
      ]);
      for (const p of [a, b, c]) expect(await envResources(p.id)).toEqual({ containers: [], networks: [] });
      // Given back, not removed: the same networks (same ids) wait for the next environment.
      expect(await poolNetworks()).toEqual(before);

      const d = await env();
      const hd = await startEnv(client, taskQueue, d);
      const sd = await waitFor(hd, phase('ready'));
      expect(before.map((n) => n.name)).toContain(sd.network.name);
      expect((await run(hd)).passed).toBe(true);
      await cleanedUp(hd);
      expect(await poolNetworks()).toEqual(before);
    });
  });

  it('a pool network that still has containers on it is never lent, even when its claim was removed under it (docker container prune)', async () => {
    const [a, b] = [await env(), await env()];
    await withWorker(async (taskQueue) => {
      const ha = await startEnv(client, taskQueue, a);
      const sa = await waitFor(ha, phase('ready'));
      expect(sa.network.pooled).toBe(true);
      // What a prune of stopped containers does: the claim goes, the environment's node stays on the network.
      await dockerClient().getContainer(`${sa.network.name}.claim`).remove({ force: true });
      const hb = await startEnv(client, taskQueue, b);
      const sb = await waitFor(hb, phase('ready'));
      expect(sb.network.name).not.toBe(sa.network.name);
      const onNetwork = (await dockerClient().getNetwork(sa.network.name).inspect()) as { Containers: Record<string, { Name: string }> };
      expect(Object.values(onNetwork.Containers).map((x) => x.Name)).toEqual([a.nodes[0]!.container]);
      await Promise.all([cleanedUp(ha), cleanedUp(hb)]);
    });
    // The pool's networks are idle again: the next test's reaper removes them.
  });

  it('the reaper removes the idle networks of its pool and keeps the ones an environment holds', async () => {
    const [a, b] = [await env(), await env()];
    await withWorker(async (taskQueue) => {
      const [ha, hb] = await Promise.all([startEnv(client, taskQueue, a), startEnv(client, taskQueue, b)]);
      const [sa] = await Promise.all([waitFor(ha, phase('ready')), waitFor(hb, phase('ready'))]);
      await cleanedUp(hb);
      const reaped = (await client.workflow.execute('reapTestEnvironmentsWorkflow', { taskQueue, workflowId: `testenv-reaper/test-${pool}` })) as ReapResult;
      expect(reaped.idlePoolNetworks).toBe(1);
      expect((await poolNetworks()).map((n) => n.name)).toEqual([sa.network.name]);
      expect((await run(ha)).passed).toBe(true);
      await cleanedUp(ha);
      const again = (await client.workflow.execute('reapTestEnvironmentsWorkflow', { taskQueue, workflowId: `testenv-reaper/test-${pool}-2` })) as ReapResult;
      expect(again.idlePoolNetworks).toBe(1);
      expect(await poolNetworks()).toEqual([]);
    });
  });
});
