/**
 * `workflow submit FILE` as a user runs it: request files in the REST API's bodies, checked
 * before anything starts (exit 2, the file and key named), then run as the operation's own
 * command on the dev server with a worker: a platform start and stop of real processes, a
 * server create and a test environment in real containers.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { dockerClient } from '../../src/docker/client.js';
import { TESTENV_LABEL } from '../../src/model/labels.js';
import { cli, scratchIn } from '../support/cli.js';
import { dockerAvailable } from '../support/docker.js';
import { runningServices, testPlatform } from '../support/services.js';
import { uniqueId, withWorker } from '../support/temporal.js';

const root = path.resolve(import.meta.dirname, '../..');
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!().catch(() => undefined);
});

const scratch = () => scratchIn(cleanups);

async function request(dir: string, name: string, body: unknown): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, typeof body === 'string' ? body : JSON.stringify(body));
  return file;
}

describe('workflow submit: bad request files exit 2 before anything starts', () => {
  // Nothing listens at 127.0.0.1:1: a request that got as far as connecting would exit 1, not 2.
  const nowhere = ['--address', '127.0.0.1:1'];

  it.each([
    { name: 'an unknown operation, with the closest one', body: { operation: 'server-creat', settings: 's.yaml' }, expected: ['operation: "server-creat" is not an operation', 'did you mean server-create? use one of server-create, cluster-create, taskserv-create, test-environment, platform-start, platform-stop, platform-restart, platform-update'] },
    { name: 'no operation', body: { settings: 's.yaml' }, expected: ['operation: missing'] },
    { name: 'a misspelt key (strict, not ignored)', body: { operation: 'server-create', settings: 's.yaml', check: true }, expected: ['check: unknown key "check"'] },
    { name: 'a server name that is not a DNS label', body: { operation: 'server-create', settings: 's.yaml', servers: ['Web_01'] }, expected: ['servers[0]: lowercase letters, digits and "-"'] },
    { name: 'a taskserv create without its server', body: { operation: 'taskserv-create', settings: 's.yaml', taskserv: 'redis' }, expected: ['server: '] },
    { name: 'a platform start with a bad grace', body: { operation: 'platform-start', grace: -1 }, expected: ['grace: '] },
    { name: 'invalid YAML', body: 'operation: [\n', file: 'bad.yaml', expected: ['invalid YAML'] },
  ])('$name', async ({ body, expected, file }) => {
    const dir = await scratch();
    const source = await request(dir, file ?? 'request.json', body);
    const r = await cli(['workflow', 'submit', source, ...nowhere]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(`invalid request ${source}`);
    for (const text of expected) expect(r.stderr).toContain(text);
  });

  it('a missing file, and a test environment whose config is wrong, named in the user\'s file', async () => {
    const dir = await scratch();
    const missing = await cli(['workflow', 'submit', path.join(dir, 'none.json'), ...nowhere]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`${path.join(dir, 'none.json')}: file not found`);
    const env = await request(dir, 'env.json', { operation: 'test-environment', config: { type: 'single_taskserv', taskserv: 'webservr' } });
    const r = await cli(['workflow', 'submit', env, ...nowhere]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`invalid test environment request ${env}`);
    expect(r.stderr).toContain('config.taskserv');
  });
});

describe('workflow submit runs the operation as its own command', () => {
  it('platform-start, platform-update and platform-stop request files start, roll and stop real processes', async () => {
    const platform = await testPlatform([{ name: 'db' }, { name: 'api', deps: ['db'] }]);
    cleanups.push(() => platform.cleanup());
    const registry = path.join(platform.home, 'services.toml');
    await writeFile(registry, platform.toml);
    const dir = await scratch();
    const name = uniqueId('sub');
    await withWorker(async (taskQueue) => {
      const common = ['--registry', registry, '--address', inject('temporalAddress'), '--task-queue', taskQueue];
      const env = { PATH: process.env.PATH, PROVISIONING_HOME: platform.home };
      const start = await request(dir, 'start.toml', `operation = "platform-start"\nservices = ["api"]\nplatform = "${name}"\n`);
      const started = await cli(['workflow', 'submit', start, '--json', ...common], { env });
      expect(started.code, started.stderr).toBe(0);
      expect(started.stderr).toContain(`platform-start from ${start}: provisioning platform start api --platform ${name} --json --registry ${registry}`);
      const result = JSON.parse(started.stdout) as { ok: boolean; services: Array<{ name: string; state: string }> };
      expect(result.ok).toBe(true);
      expect(result.services.map((s) => [s.name, s.state]).sort()).toEqual([['api', 'started'], ['db', 'started']]);
      const before = await runningServices(platform.home);
      expect([...before.keys()].sort()).toEqual(['api', 'db']);
      const update = await request(dir, 'update.json', { operation: 'platform-update', services: ['db'], platform: name });
      const updated = await cli(['workflow', 'submit', update, ...common], { env });
      expect(updated.code, updated.stderr).toBe(0);
      expect(updated.stderr).toContain(`platform-update from ${update}: provisioning platform update db --platform ${name}`);
      const after = await runningServices(platform.home);
      expect(after.get('db')).not.toEqual(before.get('db'));
      expect(after.get('api')).toEqual(before.get('api'));
      const stop = await request(dir, 'stop.yaml', `operation: platform-stop\nplatform: ${name}\n`);
      const stopped = await cli(['workflow', 'submit', stop, ...common], { env });
      expect(stopped.code, stopped.stderr).toBe(0);
      expect((await runningServices(platform.home)).size).toBe(0);
    }, { host: 'submit-host' });
  }, 120_000);

  it.runIf(dockerAvailable)('server-create (settings inline and by path) and test-environment request files make real containers', async () => {
    const dir = await scratch();
    const infra = uniqueId('subinfra');
    const settings = { infra, catalog: path.join(root, 'examples/taskservs'), servers: [{ hostname: 'web-01', taskservs: ['webserver'] }] };
    let envId = '';
    cleanups.push(async () => {
      const docker = dockerClient();
      for (const c of await docker.listContainers({ all: true, filters: { label: [`${TESTENV_LABEL}=${envId}`] } })) await docker.getContainer(c.Id).remove({ force: true });
      for (const n of await docker.listNetworks({ filters: { label: [`${TESTENV_LABEL}=${envId}`] } })) await docker.getNetwork(n.Id).remove();
      for (const c of await docker.listContainers({ all: true, filters: { label: [`provisioning.infra=${infra}`] } })) await docker.getContainer(c.Id).remove({ force: true });
      for (const n of await docker.listNetworks({ filters: { label: [`provisioning.infra=${infra}`] } })) await docker.getNetwork(n.Id).remove();
    });
    await withWorker(async (taskQueue) => {
      const common = ['--address', inject('temporalAddress'), '--task-queue', taskQueue];
      const env = { PATH: process.env.PATH, PROVISIONING_HOME: dir };
      const plan = await cli(['workflow', 'submit', await request(dir, 'plan.json', { operation: 'server-create', settings, check_mode: true }), '--json', ...common], { env });
      expect(plan.code, plan.stderr).toBe(0);
      expect((JSON.parse(plan.stdout) as { plan: { servers: Array<{ hostname: string; exists: boolean }> } }).plan.servers).toEqual([expect.objectContaining({ hostname: 'web-01', exists: false })]);
      await writeFile(path.join(dir, 'settings.json'), JSON.stringify(settings));
      const created = await cli(['workflow', 'submit', await request(dir, 'create.json', { operation: 'server-create', settings: 'settings.json', infra }), ...common], { env });
      expect(created.code, created.stderr).toBe(0);
      expect(created.stdout).toContain('Done: 1/1 servers ready');
      expect((await dockerClient().listContainers({ filters: { label: [`provisioning.infra=${infra}`] } })).length).toBe(1);
      const deleted = await cli(['server', 'delete', '--settings', path.join(dir, 'settings.json'), ...common], { env });
      expect(deleted.code, deleted.stderr).toBe(0);

      const id = (envId = uniqueId('subenv').slice(0, 30));
      const envFile = await request(dir, 'env.json', { operation: 'test-environment', id, infra, config: { type: 'single_taskserv', taskserv: 'webserver' }, auto_cleanup: false });
      const made = await cli(['workflow', 'submit', envFile, '--json', ...common], { env });
      expect(made.code, made.stderr).toBe(0);
      expect(JSON.parse(made.stdout)).toMatchObject({ id });
      const cleaned = await cli(['test', 'env', 'cleanup', id, ...common], { env });
      expect(cleaned.code, cleaned.stderr).toBe(0);
      expect(await dockerClient().listContainers({ all: true, filters: { label: [`${TESTENV_LABEL}=${id}`] } })).toEqual([]);
    });
  }, 180_000);
});
