/** `provisioning server|taskserv|workflow ...` as a user runs them: bad settings exit 2 and create nothing. */
import { cp, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { dockerClient } from '../../src/docker/client.js';
import { cli, scratchDir } from '../support/cli.js';
import { dockerAvailable } from '../support/docker.js';
import { uniqueId, withWorker } from '../support/temporal.js';

const examples = path.resolve(import.meta.dirname, '../../examples/taskservs');
let dir: string;
let cleanup: () => Promise<void>;
const infras: string[] = [];

beforeAll(async () => {
  ({ dir, cleanup } = await scratchDir());
  await cp(examples, path.join(dir, 'taskservs'), { recursive: true });
  await mkdir(path.join(dir, 'cyclic/a'), { recursive: true });
  await mkdir(path.join(dir, 'cyclic/b'), { recursive: true });
  for (const [name, dep] of [['a', 'b'], ['b', 'a']] as const) {
    await writeFile(path.join(dir, `cyclic/${name}/taskserv.toml`), `name = "${name}"\nversion = "1"\ndependencies = ["${dep}"]\n`);
    await writeFile(path.join(dir, `cyclic/${name}/install.sh`), 'true\n');
    await writeFile(path.join(dir, `cyclic/${name}/check.sh`), 'true\n');
  }
});
afterAll(async () => {
  const docker = dockerClient();
  for (const infra of infras) {
    for (const c of await docker.listContainers({ all: true, filters: { label: [`provisioning.infra=${infra}`] } })) await docker.getContainer(c.Id).remove({ force: true });
    for (const n of await docker.listNetworks({ filters: { label: [`provisioning.infra=${infra}`] } })) await docker.getNetwork(n.Id).remove();
  }
  await cleanup();
});

async function settingsFile(body: string, name = `${uniqueId('s')}.yaml`): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, body);
  return file;
}

const bad: Array<{ name: string; body: string; path: string; problem: string }> = [
  { name: 'settings without servers', body: 'infra: demo\ncatalog: taskservs\n', path: 'servers', problem: 'missing required field' },
  { name: 'an unknown provider', body: 'infra: demo\ncatalog: taskservs\nservers:\n  - hostname: web-01\n    provider: aws\n', path: 'servers[0].provider', problem: 'the string "aws" is not allowed' },
  { name: 'a taskserv not in the catalog', body: 'infra: demo\ncatalog: taskservs\nservers:\n  - hostname: web-01\n    taskservs: [webservr]\n', path: 'servers[0].taskservs[0]', problem: 'taskserv "webservr" is not in the catalog' },
  { name: 'a server name that is not a DNS label', body: 'infra: demo\ncatalog: taskservs\nservers:\n  - hostname: Web_01\n', path: 'servers[0].hostname', problem: 'server hostname "Web_01" is not a DNS label' },
  { name: 'a plan with zero CPU', body: 'infra: demo\ncatalog: taskservs\nservers:\n  - hostname: web-01\n    plan: { cpu_millicores: 0, memory_mb: 64 }\n', path: 'servers[0].plan.cpu_millicores', problem: 'must be greater than 0 (got 0)' },
  { name: 'a plan with negative memory', body: 'infra: demo\ncatalog: taskservs\nservers:\n  - hostname: web-01\n    plan: { cpu_millicores: 100, memory_mb: -64 }\n', path: 'servers[0].plan.memory_mb', problem: 'must be greater than 0 (got -64)' },
  { name: 'invalid YAML', body: 'infra: demo\nservers: [\n', path: 'line ', problem: 'invalid YAML' },
  { name: 'an invalid subnet', body: 'infra: demo\ncatalog: taskservs\nnetwork: { subnet: 10.0.0.0/33 }\nservers:\n  - hostname: web-01\n', path: 'network.subnet', problem: 'subnet "10.0.0.0/33" is not an IPv4 CIDR' },
];

describe('taskserv list', () => {
  it('lists the shipped catalog without flags, as test env does; --catalog and $PROVISIONING_CATALOG choose another', async () => {
    const shipped = await cli(['taskserv', 'list', '--json']);
    expect(shipped.code, shipped.stderr).toBe(0);
    const names = (r: { stdout: string }) => (JSON.parse(r.stdout) as { taskservs: Array<{ name: string }> }).taskservs.map((t) => t.name);
    expect(names(shipped)).toEqual(expect.arrayContaining(['base', 'webserver', 'kvstore']));
    const solo = path.join(dir, 'solo-catalog');
    await mkdir(path.join(solo, 'solo'), { recursive: true });
    await writeFile(path.join(solo, 'solo/taskserv.toml'), 'name = "solo"\nversion = "1"\n');
    for (const script of ['install.sh', 'check.sh']) await writeFile(path.join(solo, 'solo', script), 'true\n');
    const fromEnv = await cli(['taskserv', 'list', '--json'], { env: { HOME: dir, PROVISIONING_CATALOG: solo } });
    expect(names(fromEnv)).toEqual(['solo']);
    const fromFlag = await cli(['taskserv', 'list', '--json', '--catalog', solo]);
    expect(names(fromFlag)).toEqual(['solo']);
  });
});

describe('server create rejects bad settings with exit code 2 and creates nothing', () => {
  it.each(bad)('$name', async ({ body, path: keyPath, problem }) => {
    const file = await settingsFile(body);
    const result = await cli(['server', 'create', '--settings', file, '--address', '127.0.0.1:1']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${file}: ${keyPath}`);
    expect(result.stderr).toContain(problem);
    expect(result.stderr).toContain('fix:');
  });

  it('a taskserv dependency cycle in the catalog', async () => {
    const file = await settingsFile('infra: demo\ncatalog: cyclic\nservers:\n  - hostname: web-01\n    taskservs: [a]\n');
    const result = await cli(['server', 'create', '--settings', file, '--address', '127.0.0.1:1']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/dependency cycle: (a -> b -> a|b -> a -> b)/);
  });

  it('a server that is not in the settings, with the closest name', async () => {
    const file = await settingsFile('infra: demo\ncatalog: taskservs\nservers:\n  - hostname: web-01\n');
    const result = await cli(['server', 'create', 'web-1', '--settings', file, '--address', '127.0.0.1:1']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('did you mean "web-01"?');
  });

  it.runIf(dockerAvailable)('an infra subnet that overlaps another Docker network', async () => {
    const other = await dockerClient().createNetwork({ Name: uniqueId('provisioning-test-net'), IPAM: { Driver: 'default', Config: [{ Subnet: '10.197.0.0/16' }] }, Labels: { 'provisioning.managed': 'true' } });
    try {
      const infra = uniqueId('infra');
      const file = await settingsFile(`infra: ${infra}\ncatalog: taskservs\nnetwork: { subnet: 10.197.7.0/24 }\nservers:\n  - hostname: web-01\n`);
      const result = await cli(['server', 'create', '--settings', file, '--address', '127.0.0.1:1']);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('network.subnet 10.197.7.0/24 overlaps Docker network');
      expect(await dockerClient().listContainers({ all: true, filters: { label: [`provisioning.infra=${infra}`] } })).toEqual([]);
    } finally {
      await other.remove();
    }
  });
});

describe.runIf(dockerAvailable)('server create, list and delete from the command line', () => {
  it('plans, creates, lists, finds the workflow, and deletes', async () => {
    const infra = uniqueId('infra');
    infras.push(infra);
    const file = await settingsFile(`infra: ${infra}\ncatalog: taskservs\nservers:\n  - hostname: web-01\n    taskservs: [webserver]\n  - hostname: kv-01\n    taskservs: [kvstore]\n`);
    await withWorker(async (taskQueue) => {
      const common = ['--settings', file, '--address', inject('temporalAddress'), '--task-queue', taskQueue];
      const env = { PATH: process.env.PATH, PROVISIONING_HOME: dir };
      const plan = await cli(['server', 'create', '--check', '--json', ...common], { env });
      expect(plan.code).toBe(0);
      expect((JSON.parse(plan.stdout) as { plan: { servers: Array<{ hostname: string; exists: boolean; taskservOrder: string[] }> } }).plan.servers).toEqual([
        expect.objectContaining({ hostname: 'web-01', exists: false, taskservOrder: ['base', 'webserver'] }),
        expect.objectContaining({ hostname: 'kv-01', exists: false, taskservOrder: ['base', 'kvstore'] }),
      ]);

      const created = await cli(['server', 'create', ...common], { env });
      expect(created.code).toBe(0);
      expect(created.stdout).toContain('✅ web-01: ready [base:checked webserver:checked]');
      expect(created.stdout).toContain('Done: 2/2 servers ready');

      const listed = await cli(['server', 'list', '--infra', infra, '--json'], { env });
      expect((JSON.parse(listed.stdout) as { servers: Array<{ hostname: string; state: string }> }).servers).toEqual([
        expect.objectContaining({ hostname: 'kv-01', state: 'running' }),
        expect.objectContaining({ hostname: 'web-01', state: 'running' }),
      ]);

      const status = await cli(['workflow', 'status', `server-create/${infra}`, '--json', '--address', inject('temporalAddress')], { env });
      expect(JSON.parse(status.stdout)).toMatchObject({ status: 'COMPLETED', operation: 'server-create', result: { ok: true } });
      for (let i = 0; i < 20; i++) {
        const listedWorkflows = await cli(['workflow', 'list', '--operation', 'server-create', '--json', '--address', inject('temporalAddress')], { env });
        if ((JSON.parse(listedWorkflows.stdout) as { workflows: Array<{ workflowId: string }> }).workflows.some((w) => w.workflowId === `server-create/${infra}`)) break;
        if (i === 19) throw new Error('server-create workflow never listed');
        await new Promise((r) => setTimeout(r, 250));
      }

      const deleted = await cli(['server', 'delete', ...common], { env });
      expect(deleted.stdout).toBe('🗑 web-01: deleted\n🗑 kv-01: deleted');
      expect(await dockerClient().listContainers({ all: true, filters: { label: [`provisioning.infra=${infra}`] } })).toEqual([]);
    });
  });

  it('cancels a running server create, and workflow status says so', async () => {
    const infra = uniqueId('infra');
    infras.push(infra);
    await mkdir(path.join(dir, 'taskservs/slow'), { recursive: true });
    await writeFile(path.join(dir, 'taskservs/slow/taskserv.toml'), 'name = "slow"\nversion = "1"\n');
    await writeFile(path.join(dir, 'taskservs/slow/install.sh'), 'sleep 30\n');
    await writeFile(path.join(dir, 'taskservs/slow/check.sh'), 'true\n');
    const file = await settingsFile(`infra: ${infra}\ncatalog: taskservs\nservers:\n  - hostname: slow-01\n    taskservs: [slow]\n`);
    await withWorker(async (taskQueue) => {
      const address = ['--address', inject('temporalAddress')];
      const submitted = await cli(['server', 'create', '--settings', file, '--task-queue', taskQueue, '--no-wait', ...address]);
      expect(submitted.code).toBe(0);
      const cancelled = await cli(['workflow', 'cancel', `server-create/${infra}`, ...address]);
      expect(cancelled.code).toBe(0);
      expect(cancelled.stdout).toMatch(new RegExp(`^Cancellation requested for server-create/${infra}`));
      for (let i = 0; ; i++) {
        const status = JSON.parse((await cli(['workflow', 'status', `server-create/${infra}`, '--json', ...address])).stdout) as { status: string };
        if (status.status === 'CANCELLED') break;
        if (i > 100) throw new Error(`still ${status.status}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      const again = await cli(['workflow', 'cancel', `server-create/${infra}`, ...address]);
      expect(again.code).toBe(2);
      expect(again.stderr).toContain('is not running (CANCELLED)');
    });
  });

  it('refuses to cancel a workflow that does not exist (exit 2)', async () => {
    const result = await cli(['workflow', 'cancel', 'server-create/no-such-infra', '--address', inject('temporalAddress')]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('no workflow with id "server-create/no-such-infra"');
  });
});
