/**
 * Server create under stress: cancel then re-run, a worker killed half-way, cluster role
 * order, and the services the "server" operation requires.
 */
import { cp, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { afterEach, describe, expect, it } from 'vitest';
import { loadSettings } from '../../src/config/settings.js';
import type { Settings } from '../../src/config/settings-schema.js';
import { dockerClient } from '../../src/docker/client.js';
import { clusterCreate, serverCreate } from '../../src/workflows/index.js';
import type { ServerCreateProgress, ServerProgress } from '../../src/model/servers.js';
import { scratchDir } from '../support/cli.js';
import { dockerAvailable } from '../support/docker.js';
import { runningServices, testPlatform } from '../support/services.js';
import { testClient, uniqueId, withWorker } from '../support/temporal.js';
import { workerProcess } from '../support/worker-process.js';

const root = path.resolve(import.meta.dirname, '../..');
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!().catch(() => undefined);
});

async function infra(servers: string): Promise<Settings> {
  const { dir, cleanup } = await scratchDir();
  cleanups.push(cleanup);
  await cp(path.join(root, 'examples/taskservs'), path.join(dir, 'taskservs'), { recursive: true });
  await mkdir(path.join(dir, 'taskservs/slow'));
  await writeFile(path.join(dir, 'taskservs/slow/taskserv.toml'), 'name = "slow"\nversion = "1"\ndependencies = ["base"]\n');
  await writeFile(path.join(dir, 'taskservs/slow/install.sh'), 'sleep 2\necho slow installed\n');
  await writeFile(path.join(dir, 'taskservs/slow/check.sh'), 'true\n');
  const name = uniqueId('infra');
  await writeFile(path.join(dir, 'settings.yaml'), `infra: ${name}\ncatalog: taskservs\nservers:\n${servers}`);
  cleanups.push(async () => {
    const docker = dockerClient();
    for (const c of await docker.listContainers({ all: true, filters: { label: [`provisioning.infra=${name}`] } })) await docker.getContainer(c.Id).remove({ force: true });
    for (const n of await docker.listNetworks({ filters: { label: [`provisioning.infra=${name}`] } })) await docker.getNetwork(n.Id).remove();
  });
  return loadSettings(path.join(dir, 'settings.yaml'));
}

async function containers(infraName: string): Promise<string[]> {
  return (await dockerClient().listContainers({ all: true, filters: { label: [`provisioning.infra=${infraName}`] } })).map((c) => c.Names[0]!.slice(1)).sort();
}

async function untilInstalling(client: import('@temporalio/client').Client, workflowId: string): Promise<void> {
  for (;;) {
    const view = await client.workflow.getHandle(workflowId).query<ServerCreateProgress>('serverCreateProgress').catch(() => undefined);
    for (const s of view?.servers ?? []) {
      const p = await client.workflow.getHandle(s.workflowId).query<ServerProgress>('serverProgress').catch(() => undefined);
      if (p?.taskservs.some((t) => t.name === 'slow' && t.state === 'installing')) return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.runIf(dockerAvailable)('server create durability', () => {
  it('leaves a cancelled create in a state that a re-run completes', async () => {
    const settings = await infra('  - hostname: a-01\n    taskservs: [slow]\n  - hostname: b-01\n    taskservs: [slow]\n');
    const { client, close } = await testClient();
    cleanups.push(close);
    await withWorker(async (taskQueue) => {
      const workflowId = uniqueId('create-cancel');
      const handle = await client.workflow.start(serverCreate, { taskQueue, workflowId, args: [{ settings }] });
      await untilInstalling(client, workflowId);
      await handle.cancel();
      const error = await handle.result().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WorkflowFailedError);
      const again = await client.workflow.execute(serverCreate, { taskQueue, workflowId: uniqueId('create-again'), args: [{ settings }] });
      expect(again.ok).toBe(true);
      expect(again.servers.map((s) => [s.hostname, s.state, s.created])).toEqual([
        ['a-01', 'ready', false],
        ['b-01', 'ready', false],
      ]);
    });
    expect(await containers(settings.infra)).toEqual([`${settings.infra}-a-01`, `${settings.infra}-b-01`]);
  });

  it('does not duplicate a server when the worker is killed half-way', async () => {
    const settings = await infra('  - hostname: a-01\n    taskservs: [slow]\n  - hostname: b-01\n    taskservs: [slow]\n  - hostname: c-01\n    taskservs: [slow]\n');
    const taskQueue = uniqueId('create-crash');
    const worker = () => workerProcess(taskQueue, (kill) => cleanups.push(kill));
    const { client, close } = await testClient();
    cleanups.push(close);
    const first = await worker();
    const workflowId = uniqueId('create-crash');
    const handle = await client.workflow.start(serverCreate, { taskQueue, workflowId, args: [{ settings }] });
    await untilInstalling(client, workflowId);
    first.process.kill('SIGKILL');
    await first.process;
    await worker();
    const result = await handle.result();
    expect(result.ok).toBe(true);
    expect(await containers(settings.infra)).toEqual(['a-01', 'b-01', 'c-01'].map((h) => `${settings.infra}-${h}`));
  });

  it('creates a cluster\'s control-plane nodes before its workers', async () => {
    const settings = await infra('  - hostname: w-01\n    role: worker\n    taskservs: [base]\n  - hostname: cp-01\n    role: control-plane\n    taskservs: [slow]\n  - hostname: w-02\n    role: worker\n    taskservs: [base]\n');
    const { client, close } = await testClient();
    cleanups.push(close);
    const result = await withWorker((taskQueue) => client.workflow.execute(clusterCreate, { taskQueue, workflowId: uniqueId('cluster'), args: [{ settings }] }));
    expect(result.ok).toBe(true);
    const by = Object.fromEntries(result.servers.map((s) => [s.hostname, s]));
    const cpDone = by['cp-01']!.taskservs.at(-1)!.startedAt! + by['cp-01']!.taskservs.at(-1)!.installMs!;
    for (const w of ['w-01', 'w-02']) expect(by[w]!.taskservs[0]!.startedAt!).toBeGreaterThanOrEqual(cpDone);
  });
});

describe.runIf(dockerAvailable)('services the "server" operation requires', () => {
  it('are started through the platform workflow when auto_start, and named when not', async () => {
    const platform = await testPlatform([{ name: 'orchestrator' }]);
    cleanups.push(() => platform.cleanup());
    const orchestrator = platform.registry.services.orchestrator!;
    orchestrator.required_for = ['server'];
    const settings = await infra('  - hostname: a-01\n    taskservs: [base]\n');
    const { client, close } = await testClient();
    cleanups.push(close);
    await withWorker(async (taskQueue) => {
      const args = { settings, registry: platform.registry, home: platform.home, platform: uniqueId('p') };
      const refused = await client.workflow.execute(serverCreate, { taskQueue, workflowId: uniqueId('create'), args: [args] }).catch((e: unknown) => e);
      expect((refused as WorkflowFailedError).cause?.message).toBe(
        'the "server" operation requires orchestrator, which is not running and not auto_start; start it with "provisioning platform start orchestrator"',
      );
      expect(await containers(settings.infra)).toEqual([]);

      orchestrator.startup.auto_start = true;
      const plan = await client.workflow.execute(serverCreate, { taskQueue, workflowId: uniqueId('plan'), args: [{ ...args, checkMode: true }] });
      expect(plan.plan?.requiredServices).toEqual([{ name: 'orchestrator', running: false, autoStart: true }]);
      const created = await client.workflow.execute(serverCreate, { taskQueue, workflowId: uniqueId('create'), args: [args] });
      expect(created.ok).toBe(true);
      expect([...(await runningServices(platform.home)).keys()]).toEqual(['orchestrator']);
    });
  });
});
