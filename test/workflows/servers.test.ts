/**
 * Server create on the real dev server and Docker engine: parallel servers, taskservs in
 * dependency order, check mode, idempotent re-runs, failures, rollback, the command provider.
 */
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadSettings } from '../../src/config/settings.js';
import type { Settings } from '../../src/config/settings-schema.js';
import { BASE_IMAGE } from '../../src/docker/base-image.js';
import { dockerClient } from '../../src/docker/client.js';
import { platformStart, serverCreate, serverDelete, taskservCreate } from '../../src/workflows/index.js';
import type { ServerCreateResult } from '../../src/model/servers.js';
import { scratchDir } from '../support/cli.js';
import { testPlatform } from '../support/services.js';
import { dockerAvailable } from '../support/docker.js';
import { expectReplays, testClient, uniqueId, withWorker } from '../support/temporal.js';

const examples = path.resolve(import.meta.dirname, '../../examples/taskservs');
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!().catch(() => undefined);
});

/** A settings file of its own infra, on a copy of the example catalog plus a taskserv that fails. */
async function infra(servers: string, extra = ''): Promise<Settings> {
  const { dir, cleanup } = await scratchDir();
  cleanups.push(cleanup);
  await cp(examples, path.join(dir, 'taskservs'), { recursive: true });
  await mkdir(path.join(dir, 'taskservs/broken'));
  await writeFile(path.join(dir, 'taskservs/broken/taskserv.toml'), 'name = "broken"\nversion = "0.1"\ndependencies = ["base"]\n');
  await writeFile(path.join(dir, 'taskservs/broken/install.sh'), 'echo "unpacking broken"\necho "E: Unable to locate package broken" >&2\nexit 100\n');
  await writeFile(path.join(dir, 'taskservs/broken/check.sh'), 'true\n');
  // Its output forges the failure marker of another step; the real marker carries a nonce.
  await mkdir(path.join(dir, 'taskservs/forger'));
  await writeFile(path.join(dir, 'taskservs/forger/taskserv.toml'), 'name = "forger"\nversion = "1"\n');
  await writeFile(path.join(dir, 'taskservs/forger/install.sh'), 'echo "@@provisioning:failed:check:9"\necho "real failure"\nexit 3\n');
  await writeFile(path.join(dir, 'taskservs/forger/check.sh'), 'true\n');
  // A second of work, so servers created in parallel visibly overlap whatever the machine's load.
  await mkdir(path.join(dir, 'taskservs/pause'));
  await writeFile(path.join(dir, 'taskservs/pause/taskserv.toml'), 'name = "pause"\nversion = "1"\n');
  await writeFile(path.join(dir, 'taskservs/pause/install.sh'), 'sleep 1\n');
  await writeFile(path.join(dir, 'taskservs/pause/check.sh'), 'true\n');
  const name = uniqueId('infra');
  await writeFile(path.join(dir, 'settings.yaml'), `infra: ${name}\ncatalog: taskservs\n${extra}\nservers:\n${servers}`);
  const settings = await loadSettings(path.join(dir, 'settings.yaml'));
  cleanups.push(async () => {
    const docker = dockerClient();
    for (const c of await docker.listContainers({ all: true, filters: { label: [`provisioning.infra=${name}`] } })) await docker.getContainer(c.Id).remove({ force: true });
    for (const n of await docker.listNetworks({ filters: { label: [`provisioning.infra=${name}`] } })) await docker.getNetwork(n.Id).remove();
  });
  return settings;
}

async function containersOf(infraName: string): Promise<string[]> {
  const list = await dockerClient().listContainers({ all: true, filters: { label: [`provisioning.infra=${infraName}`] } });
  return list.map((c) => c.Names[0]!.slice(1)).sort();
}

async function create(settings: Settings, extra: Partial<Parameters<typeof serverCreate>[0]> = {}): Promise<ServerCreateResult> {
  const { client, close } = await testClient();
  try {
    const workflowId = uniqueId('server-create');
    const result = await withWorker((taskQueue) => client.workflow.execute(serverCreate, { taskQueue, workflowId, args: [{ settings, ...extra }] }));
    await expectReplays(client, workflowId);
    return result;
  } finally {
    await close();
  }
}

describe.runIf(dockerAvailable)('serverCreate', () => {
  it('waits for a platform that is busy with another operation before it starts the required services, instead of failing', async () => {
    const platform = await testPlatform([{ name: 'registry-db', delay: 2.5, extra: 'required_for = ["server"]', startup: 'auto_start = true' }]);
    cleanups.push(() => platform.cleanup());
    const settings = await infra('  - hostname: web-01\n    taskservs: [webserver]\n');
    const name = uniqueId('busy');
    const { client, close } = await testClient();
    try {
      await withWorker(async (taskQueue) => {
        // A platform start of the same service holds platform/<name> while the create begins.
        const holder = await client.workflow.start(platformStart, { taskQueue, workflowId: `platform/${name}`, args: [{ registry: platform.registry, home: platform.home, services: ['registry-db'], platform: name }] });
        const workflowId = uniqueId('server-create');
        const result = await client.workflow.execute(serverCreate, { taskQueue, workflowId, args: [{ settings, registry: platform.registry, home: platform.home, platform: name }] });
        expect(result.ok).toBe(true);
        expect((await holder.result()).services.map((s) => s.state)).toEqual(['started']);
        const events = (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
        // It found the platform busy, waited, and then its own start found the service running.
        expect(events.some((e) => e.startChildWorkflowExecutionFailedEventAttributes)).toBe(true);
        expect(events.some((e) => e.timerStartedEventAttributes)).toBe(true);
        expect(events.some((e) => e.markerRecordedEventAttributes)).toBe(true);
        await expectReplays(client, workflowId);
      });
    } finally {
      await close();
    }
  });

  it('creates three servers in parallel and installs their taskservs in dependency order; a re-run changes nothing', async () => {
    const settings = await infra('  - hostname: web-01\n    taskservs: [webserver, pause]\n  - hostname: jobs-01\n    taskservs: [jobrunner, pause]\n  - hostname: all-01\n    taskservs: [jobrunner, webserver, pause]\n    plan: { cpu_millicores: 300, memory_mb: 48 }\n');
    const result = await create(settings);
    expect(result.ok).toBe(true);
    const by = Object.fromEntries(result.servers.map((s) => [s.hostname, s]));
    // Dependencies first; among taskservs ready together, by name.
    expect(by['web-01']!.order).toEqual(['base', 'pause', 'webserver']);
    expect(by['jobs-01']!.order).toEqual(['base', 'kvstore', 'jobrunner', 'pause']);
    expect(by['all-01']!.order).toEqual(['base', 'kvstore', 'jobrunner', 'pause', 'webserver']);
    for (const server of result.servers) {
      expect(server).toMatchObject({ state: 'ready', created: true });
      expect(server.taskservs.every((t) => t.state === 'checked')).toBe(true);
      const started = server.taskservs.map((t) => t.startedAt!);
      expect([...started].sort((a, b) => a - b)).toEqual(started);
    }
    // In parallel: every server had started installing before any finished.
    const firsts = result.servers.map((s) => s.taskservs[0]!.startedAt!);
    const lasts = result.servers.map((s) => s.taskservs.at(-1)!.startedAt! + s.taskservs.at(-1)!.installMs!);
    expect(Math.max(...firsts)).toBeLessThan(Math.min(...lasts));
    expect(await containersOf(settings.infra)).toEqual([`${settings.infra}-all-01`, `${settings.infra}-jobs-01`, `${settings.infra}-web-01`]);
    const info = await dockerClient().getContainer(`${settings.infra}-all-01`).inspect();
    expect(info.HostConfig).toMatchObject({ Memory: 48 * 1024 * 1024, NanoCpus: 300_000_000 });
    expect(info.Config.Labels).toMatchObject({ 'provisioning.managed': 'true', 'provisioning.infra': settings.infra });

    const again = await create(settings);
    expect(again.ok).toBe(true);
    expect(again.servers.every((s) => s.created === false && s.taskservs.every((t) => t.state === 'checked' && t.installMs === undefined))).toBe(true);
    expect(await containersOf(settings.infra)).toHaveLength(3);
  });

  it('check mode returns the plan and creates nothing', async () => {
    const settings = await infra('  - hostname: web-01\n    taskservs: [webserver]\n  - hostname: jobs-01\n    taskservs: [jobrunner]\n');
    const result = await create(settings, { checkMode: true });
    expect(result.plan?.servers).toEqual([
      { hostname: 'web-01', provider: 'docker', exists: false, taskservOrder: ['base', 'webserver'] },
      { hostname: 'jobs-01', provider: 'docker', exists: false, taskservOrder: ['base', 'kvstore', 'jobrunner'] },
    ]);
    expect(await containersOf(settings.infra)).toEqual([]);
    expect(await dockerClient().listNetworks({ filters: { label: [`provisioning.infra=${settings.infra}`] } })).toEqual([]);
  });

  it('fails the server whose taskserv fails, naming it with its output, while the others finish; rollback deletes it', async () => {
    const settings = await infra('  - hostname: good-01\n    taskservs: [kvstore]\n  - hostname: bad-01\n    taskservs: [broken]\n', 'on_failure: rollback');
    const result = await create(settings);
    expect(result.ok).toBe(false);
    const by = Object.fromEntries(result.servers.map((s) => [s.hostname, s]));
    expect(by['good-01']!.state).toBe('ready');
    expect(by['bad-01']!.state).toBe('rolled-back');
    expect(by['bad-01']!.error).toContain('install of taskserv broken on bad-01 failed (exit 100)');
    expect(by['bad-01']!.error).toContain('E: Unable to locate package broken');
    expect(by['bad-01']!.taskservs.map((t) => [t.name, t.state])).toEqual([
      ['base', 'checked'],
      ['broken', 'failed'],
    ]);
    expect(await containersOf(settings.infra)).toEqual([`${settings.infra}-good-01`]);
  });

  it('names the step that really failed when a script prints a failure marker of its own, and keeps that line', async () => {
    const settings = await infra('  - hostname: f-01\n    taskservs: [forger]\n');
    const result = await create(settings);
    const server = result.servers[0]!;
    expect(server.state).toBe('failed');
    expect(server.error).toContain('install of taskserv forger on f-01 failed (exit 3)');
    expect(server.error).toContain('@@provisioning:failed:check:9');
    expect(server.error).toContain('real failure');
  });

  it('never adopts or deletes a container of the server\'s name that is not ours, and says so', async () => {
    const settings = await infra('  - hostname: web-01\n    taskservs: [base]\n');
    const foreign = await dockerClient().createContainer({ name: `${settings.infra}-web-01`, Image: BASE_IMAGE, Cmd: ['sleep', '600'] });
    cleanups.push(() => foreign.remove({ force: true }));
    const result = await create(settings);
    expect(result.ok).toBe(false);
    expect(result.servers[0]!.error).toContain(`container ${settings.infra}-web-01 already exists and is not server web-01 of infra ${settings.infra}`);
    expect((await foreign.inspect()).State.Running).toBe(false);
    const { client, close } = await testClient();
    try {
      const deleted = withWorker((taskQueue) => client.workflow.execute(serverDelete, { taskQueue, workflowId: uniqueId('server-delete'), args: [{ settings }] }));
      let cause: unknown = await deleted.then(() => undefined, (err: unknown) => err);
      while (cause instanceof Error && cause.cause) cause = cause.cause;
      expect((cause as Error).message).toContain(`container ${settings.infra}-web-01 already exists and is not server web-01`);
    } finally {
      await close();
    }
    expect((await foreign.inspect()).Name).toBe(`/${settings.infra}-web-01`);
  });

  it('installs one taskserv and its missing dependencies on an existing server, and deletes servers', async () => {
    const settings = await infra('  - hostname: box-01\n    taskservs: [base]\n');
    expect((await create(settings)).ok).toBe(true);
    const { client, close } = await testClient();
    try {
      await withWorker(async (taskQueue) => {
        const added = await client.workflow.execute(taskservCreate, { taskQueue, workflowId: uniqueId('taskserv'), args: [{ settings, hostname: 'box-01', taskserv: 'jobrunner' }] });
        expect(added.taskservs.map((t) => [t.name, t.state])).toEqual([
          ['base', 'checked'],
          ['kvstore', 'checked'],
          ['jobrunner', 'checked'],
        ]);
        expect(added.taskservs[0]!.installMs).toBeUndefined();
        const deleted = await client.workflow.execute(serverDelete, { taskQueue, workflowId: uniqueId('delete'), args: [{ settings }] });
        expect(deleted).toEqual([{ hostname: 'box-01', deleted: true }]);
      });
    } finally {
      await close();
    }
    expect(await containersOf(settings.infra)).toEqual([]);
  });
});

describe('the command provider', () => {
  it('runs exactly the argv it was configured with, and keeps the output', async () => {
    const { dir, cleanup } = await scratchDir();
    cleanups.push(cleanup);
    const log = path.join(dir, 'calls.log');
    const recorder = path.join(dir, 'record.sh');
    await writeFile(recorder, `#!/bin/sh\nfor a in "$@"; do printf '[%s]' "$a" >> ${log}; done\necho >> ${log}\necho "recorded $1"\n[ "$1" = exists ] && [ ! -f ${dir}/created ] && exit 1\n[ "$1" = create ] && touch ${dir}/created\nexit 0\n`, { mode: 0o755 });
    const providers = `providers:\n  command:\n    create: ["${recorder}", "create", "{infra}", "{server}", "{settings}"]\n    delete: ["${recorder}", "delete", "{server}"]\n    exists: ["${recorder}", "exists", "{server}"]\n    exec: ["${recorder}", "exec", "{server}", "{taskserv}", "{script}", "with space; rm -rf /"]\n`;
    const settings = await infra('  - hostname: vm-01\n    provider: command\n    taskservs: [base]\n', providers);
    const result = await create(settings);
    expect(result.ok).toBe(true);
    const calls = (await readFile(log, 'utf8')).trim().split('\n');
    expect(calls).toContain(`[create][${settings.infra}][vm-01][${settings.source}]`);
    expect(calls).toContain(`[exec][vm-01][base][${path.join(settings.catalog, 'base/install.sh')}][with space; rm -rf /]`);
    expect(calls).toContain(`[exec][vm-01][base][${path.join(settings.catalog, 'base/check.sh')}][with space; rm -rf /]`);
    expect(result.servers[0]!.taskservs[0]!.output).toBe('recorded exec\nrecorded exec');
  });
});
