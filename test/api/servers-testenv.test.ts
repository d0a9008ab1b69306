/**
 * The client API from a program, against the real dev server and a real Docker engine:
 * servers (plan, create, taskserv create, delete), test environments (plan, create, follow,
 * run, cleanup, quick) and workflows (status, list, cancel), with their typed errors.
 */
import { cp, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BusyError, errorKind, FailedError, NotFoundError, UnavailableError, UsageError } from '../../src/api/errors.js';
import { createServers, createTaskserv, deleteServers } from '../../src/api/servers.js';
import { cleanupEnvironment, createEnvironment, environmentStatus, findEnvironment, followEnvironment, planEnvironment, quickTest, runTests } from '../../src/api/testenv/index.js';
import { cancelWorkflow, listWorkflows, workflowStatus } from '../../src/api/workflows.js';
import { loadSettings } from '../../src/config/settings.js';
import { loadEnvCatalog } from '../../src/config/testenv.js';
import { dockerClient } from '../../src/docker/client.js';
import { serverWorkflowId } from '../../src/model/ids.js';
import type { EnvState } from '../../src/model/testenv.js';
import { scratchDir } from '../support/cli.js';
import { envResources, forceRemove } from '../support/testenv.js';
import { testClient, uniqueId, withWorker } from '../support/temporal.js';

const examples = path.resolve(import.meta.dirname, '../../examples/taskservs');
let dir: string;
let cleanup: () => Promise<void>;
const infras: string[] = [];
const envs: string[] = [];

beforeAll(async () => {
  ({ dir, cleanup } = await scratchDir());
  await cp(examples, path.join(dir, 'taskservs'), { recursive: true });
  await mkdir(path.join(dir, 'taskservs/broken'), { recursive: true });
  await writeFile(path.join(dir, 'taskservs/broken/taskserv.toml'), 'name = "broken"\nversion = "1"\n');
  await writeFile(path.join(dir, 'taskservs/broken/install.sh'), 'echo no disk left >&2; exit 4\n');
  await writeFile(path.join(dir, 'taskservs/broken/check.sh'), 'true\n');
  await mkdir(path.join(dir, 'taskservs/slow'), { recursive: true });
  await writeFile(path.join(dir, 'taskservs/slow/taskserv.toml'), 'name = "slow"\nversion = "1"\n');
  await writeFile(path.join(dir, 'taskservs/slow/install.sh'), 'sleep 30\n');
  await writeFile(path.join(dir, 'taskservs/slow/check.sh'), 'true\n');
});
afterAll(async () => {
  const docker = dockerClient();
  for (const infra of infras) {
    for (const c of await docker.listContainers({ all: true, filters: { label: [`provisioning.infra=${infra}`] } })) await docker.getContainer(c.Id).remove({ force: true });
    for (const n of await docker.listNetworks({ filters: { label: [`provisioning.infra=${infra}`] } })) await docker.getNetwork(n.Id).remove();
  }
  for (const id of envs) await forceRemove(id);
  await cleanup();
});

async function settingsOf(servers: string) {
  const infra = uniqueId('infra');
  infras.push(infra);
  const file = path.join(dir, `${infra}.yaml`);
  await writeFile(file, `infra: ${infra}\ncatalog: taskservs\nservers:\n${servers}`);
  return loadSettings(file, {});
}

describe('client API: servers', () => {
  it('plans, creates with progress, installs a taskserv, refuses a busy infra, and deletes', async () => {
    const settings = await settingsOf('  - hostname: web-01\n    taskservs: [webserver]\n');
    const { client, close } = await testClient();
    try {
      await withWorker(async (taskQueue) => {
        const ctx = { client, taskQueue };
        const plan = await (await createServers(ctx, { settings, check: true })).result();
        expect(plan.plan?.servers).toEqual([expect.objectContaining({ hostname: 'web-01', exists: false, taskservOrder: ['base', 'webserver'] })]);

        const run = await createServers(ctx, { settings });
        const busy = await createServers(ctx, { settings }).catch((e: unknown) => e);
        expect(busy).toBeInstanceOf(BusyError);
        expect((busy as BusyError).holder).toMatchObject({ workflowId: `server-create/${settings.infra}`, runId: run.runId, type: 'serverCreate' });
        const states = new Set<string>();
        for await (const view of run.progress({ intervalMs: 50 })) for (const s of view.servers) states.add(s.detail?.state ?? s.state);
        const result = await run.result();
        expect(result.servers.map((s) => [s.hostname, s.state])).toEqual([['web-01', 'ready']]);
        expect(['creating', 'waiting-ready', 'installing'].some((s) => states.has(s))).toBe(true);
        // The Web UI's view: summary and plan at start, the child's own summary, current details kept up to date.
        const parent = await client.workflow.getHandle(`server-create/${settings.infra}`, run.runId).describe();
        expect(await parent.staticSummary()).toBe(`create 1 server of infra ${settings.infra}: web-01`);
        expect(await parent.staticDetails()).toContain('| web-01 | docker | base → webserver |');
        const child = client.workflow.getHandle(serverWorkflowId(settings.infra, 'web-01'));
        expect(await (await child.describe()).staticSummary()).toBe('server web-01 (docker): base → webserver');
        expect((await child.query<{ currentDetails: string }>('__temporal_workflow_metadata')).currentDetails).toContain('**Now:** web-01 ready');

        const installed = await createTaskserv(ctx, { settings, server: 'web-01', taskserv: 'jobrunner' });
        expect(installed.taskservs.map((t) => [t.name, t.state])).toEqual(expect.arrayContaining([['jobrunner', 'checked']]));
        const unknown = await createTaskserv(ctx, { settings, server: 'web-01', taskserv: 'jobrunnr' }).catch((e: unknown) => e);
        expect(errorKind(unknown)).toBe('bad-input');
        expect((unknown as Error).message).toContain('jobrunner');

        expect(await deleteServers(ctx, { settings })).toEqual([{ hostname: 'web-01', deleted: true }]);
        expect(await dockerClient().listContainers({ all: true, filters: { label: [`provisioning.infra=${settings.infra}`] } })).toEqual([]);
      });
    } finally {
      await close();
    }
  });

  it('names the server whose taskserv failed first, in a FailedError with the whole result; an unknown server is bad input', async () => {
    const settings = await settingsOf('  - hostname: ok-01\n    taskservs: [webserver]\n  - hostname: bad-01\n    taskservs: [broken]\n');
    const { client, close } = await testClient();
    try {
      await withWorker(async (taskQueue) => {
        const ctx = { client, taskQueue };
        const unknown = await createServers(ctx, { settings, servers: ['bad-1'] }).catch((e: unknown) => e);
        expect(unknown).toBeInstanceOf(UsageError);
        expect((unknown as Error).message).toMatch(/server "bad-1" is not in .*\n  fix: .*bad-01/);
        await expect(client.workflow.getHandle(`server-create/${settings.infra}`).describe()).rejects.toThrow(/not found/i);

        const err = await (await createServers(ctx, { settings })).result().catch((e: unknown) => e);
        expect(err).toBeInstanceOf(FailedError);
        const failed = err as FailedError<{ servers: Array<{ hostname: string; state: string }> }>;
        expect(failed.failing).toBe('bad-01');
        expect(failed.message).toMatch(/^bad-01: failed: .*no disk left/s);
        expect(failed.result?.servers.map((s) => [s.hostname, s.state])).toEqual([['ok-01', 'ready'], ['bad-01', 'failed']]);
        await deleteServers(ctx, { settings });
      });
    } finally {
      await close();
    }
  });
});

describe('client API: test environments and workflows', () => {
  it('plans, creates and follows an environment, runs a passing and a failing command, and cleans it up', async () => {
    const { client, close } = await testClient();
    const catalog = await loadEnvCatalog(examples, {}, dir);
    try {
      await withWorker(async (taskQueue) => {
        const ctx = { client, taskQueue };
        const { plan } = await planEnvironment({ request: { config: { type: 'single_taskserv', taskserv: 'webserver', resources: { memory_mb: 64 } } }, catalog, subject: 'api' });
        envs.push(plan.id);
        const env = await createEnvironment(ctx, plan);
        const seqs: number[] = [];
        let last: EnvState | undefined;
        for await (const state of followEnvironment(env, (s) => s.phase === 'ready')) {
          seqs.push(state.seq ?? 0);
          last = state;
        }
        // Snapshots in the order the workflow made them, ending where the follow was asked to stop.
        expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
        expect(last?.phase).toBe('ready');
        expect(last?.nodes[0]?.taskservs.map((t) => [t.name, t.state])).toEqual([['base', 'installed'], ['webserver', 'installed']]);
        const described = await client.workflow.getHandle(plan.workflowId).describe();
        expect(await described.staticSummary()).toBe('test env webserver (1 node, single taskserv)');
        expect(await described.staticDetails()).toMatch(/\| webserver \| standalone \| \d+m CPU, 64 MB \| base → webserver \|/);
        expect((await client.workflow.getHandle(plan.workflowId).query<{ currentDetails: string }>('__temporal_workflow_metadata')).currentDetails).toMatch(/^\*\*Now:\*\* ready/);

        const passed = await runTests(ctx, plan.id, { command: ['true'] });
        expect(passed.passed).toBe(true);
        const err = await runTests(ctx, plan.id, { command: ['sh', '-c', 'echo broken; exit 3'] }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(FailedError);
        const failed = err as FailedError<{ tests: Array<{ exitCode: number; output: string }> }>;
        expect(failed.failing).toBe(plan.nodes[0]!.name);
        expect(failed.message).toMatch(new RegExp(`^${plan.nodes[0]!.name}: .* failed \\(exit 3\\)`));
        expect(failed.result?.tests[0]?.exitCode).toBe(3);
        expect(failed.result?.tests[0]?.output).toContain('broken');
        const noNode = await runTests(ctx, plan.id, { nodes: ['nope'] }).catch((e: unknown) => e);
        expect(errorKind(noNode)).toBe('bad-input');

        const removed = await cleanupEnvironment(ctx, plan.id);
        expect(removed).toEqual({ id: plan.id, removed: { containers: 1, networks: 1 } });
        expect(await envResources(plan.id)).toEqual({ containers: [], networks: [] });
        expect((await environmentStatus(ctx, plan.id)).state?.phase).toBe('cleaned');
        const closed = await runTests(ctx, plan.id).catch((e: unknown) => e);
        expect(errorKind(closed)).toBe('bad-input');
        expect((closed as Error).message).toContain('was cleaned up');
        const taken = await createEnvironment(ctx, plan).catch((e: unknown) => e);
        expect(errorKind(taken)).toBe('bad-input');
        expect((taken as Error).message).toContain(`environment id "${plan.id}" is taken`);
      });
    } finally {
      await close();
    }
  });

  it('a quick test that is aborted cancels its environment and removes it', async () => {
    const { client, close } = await testClient();
    const catalog = await loadEnvCatalog(examples, {}, dir);
    try {
      await withWorker(async (taskQueue) => {
        const { plan } = await planEnvironment({ request: { config: { type: 'single_taskserv', taskserv: 'kvstore' }, auto_cleanup: true }, catalog, subject: 'quick' });
        envs.push(plan.id);
        const abort = new AbortController();
        const run = await quickTest({ client, taskQueue }, plan, { signal: abort.signal });
        for await (const state of run.progress()) if (state.nodes.some((n) => n.state !== 'pending')) break;
        abort.abort();
        const result = await run.result();
        expect(result.passed).toBe(false);
        expect(result.error).toBe('interrupted: the environment was cancelled and removed');
        expect(await envResources(plan.id)).toEqual({ containers: [], networks: [] });
      });
    } finally {
      await close();
    }
  });

  it('unknown ids are NotFoundErrors; bad filters are bad input; a running workflow can be cancelled once', async () => {
    const { client, close } = await testClient();
    try {
      const ctx = { client, taskQueue: uniqueId('nobody') };
      const missingEnv = await findEnvironment(ctx, 'no-such-env-1').catch((e: unknown) => e);
      expect(missingEnv).toBeInstanceOf(NotFoundError);
      expect((missingEnv as Error).message).toContain('no test environment "no-such-env-1"');
      const missingWorkflow = await workflowStatus(ctx, 'server-create/no-such-infra').catch((e: unknown) => e);
      expect(errorKind(missingWorkflow)).toBe('not-found');
      const badFilter = await listWorkflows(ctx, { operation: 'Server Create' }).catch((e: unknown) => e);
      expect(errorKind(badFilter)).toBe('bad-input');

      // An environment whose task queue no worker polls: its state is unknown (not an error), and
      // work that needs the worker is refused at once instead of waiting for one.
      const { plan: orphan } = await planEnvironment({ request: { config: { type: 'single_taskserv', taskserv: 'webserver' } }, catalog: await loadEnvCatalog(examples, {}, dir), subject: 'orphan' });
      await createEnvironment(ctx, orphan);
      try {
        const unknown = await environmentStatus(ctx, orphan.id);
        expect(unknown.status).toBe('RUNNING');
        expect(unknown.state).toBeUndefined();
        const refused = await runTests(ctx, orphan.id).catch((e: unknown) => e);
        expect(refused).toBeInstanceOf(UnavailableError);
        expect(errorKind(refused)).toBe('unavailable');
        expect((refused as Error).message).toContain(`no worker polls the task queue "${ctx.taskQueue}" of environment ${orphan.id}`);
      } finally {
        await client.workflow.getHandle(orphan.workflowId).terminate('test over');
      }

      const settings = await settingsOf('  - hostname: slow-01\n    taskservs: [slow]\n');
      await withWorker(async (taskQueue) => {
        const working = { client, taskQueue };
        const run = await createServers(working, { settings });
        for await (const view of run.progress({ intervalMs: 50 })) if (view.servers[0]?.detail?.state === 'installing') break;
        expect(await cancelWorkflow(working, run.workflowId)).toEqual({ workflowId: run.workflowId, runId: run.runId });
        const err = await run.result().catch((e: unknown) => e);
        expect(err).toBeInstanceOf(FailedError);
        expect((err as Error).message).toMatch(/^serverCreate failed: /);
        expect((await workflowStatus(working, run.workflowId)).status).toBe('CANCELLED');
        const again = await cancelWorkflow(working, run.workflowId).catch((e: unknown) => e);
        expect(errorKind(again)).toBe('bad-input');
        expect((again as Error).message).toContain('is not running (CANCELLED)');
      });
      expect((await listWorkflows(ctx, { operation: 'server-create', limit: 500 })).query).toBe('ProvisioningOperation = "server-create"');
    } finally {
      await close();
    }
  });
});
