/** `provisioning test ...` as a user and CI run it: bad input exits 2 and creates nothing; quick, env and topology work end to end. */
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { dockerClient } from '../../src/docker/client.js';
import { cli, scratchDir } from '../support/cli.js';
import { dockerAvailable } from '../support/docker.js';
import { testClient, uniqueId, withWorker } from '../support/temporal.js';
import { envResources, exampleCatalog, forceRemove, untilRemoved } from '../support/testenv.js';

let dir: string;
let cleanup: () => Promise<void>;
const ids: string[] = [];

beforeAll(async () => {
  ({ dir, cleanup } = await scratchDir());
  // A catalog with a taskserv whose test fails, next to the examples.
  await cp(exampleCatalog, path.join(dir, 'catalog'), { recursive: true });
  await mkdir(path.join(dir, 'catalog/flaky'), { recursive: true });
  await writeFile(path.join(dir, 'catalog/flaky/taskserv.toml'), 'name = "flaky"\nversion = "1"\ndependencies = ["base"]\n');
  await writeFile(path.join(dir, 'catalog/flaky/install.sh'), 'echo installed\n');
  await writeFile(path.join(dir, 'catalog/flaky/check.sh'), 'true\n');
  await writeFile(path.join(dir, 'catalog/flaky/test.sh'), 'echo "expected 42, got 41" >&2\nexit 7\n');
});
afterAll(async () => {
  for (const id of ids) await forceRemove(id);
  await cleanup();
});

async function file(name: string, body: string): Promise<string> {
  const target = path.join(dir, `${uniqueId('f')}-${name}`);
  await writeFile(target, body);
  return target;
}

function freshId(): string {
  const id = uniqueId('cli');
  ids.push(id);
  return id;
}

/** Nothing was created: no container, no network, no workflow. */
async function nothingCreated(id: string): Promise<void> {
  expect(await envResources(id)).toEqual({ containers: [], networks: [] });
  const { client, close } = await testClient();
  try {
    await expect(client.workflow.getHandle(`testenv/${id}`).describe()).rejects.toThrow(/not found/i);
  } finally {
    await close();
  }
}

const NOWHERE = ['--address', '127.0.0.1:1'];

describe('test commands reject bad input with exit code 2 and create nothing', () => {
  const cases: Array<{ name: string; argv: (id: string) => string[] | Promise<string[]>; expected: RegExp[] }> = [
    {
      name: 'an unknown environment type',
      argv: async (id) => ['test', 'env', 'create', '--id', id, '--file', await file('req.json', JSON.stringify({ config: { type: 'vm', taskserv: 'base' } }))],
      expected: [/req\.json: config\.type: unknown environment type "vm"/, /fix: set type to one of: single_taskserv, server_simulation, cluster_topology/],
    },
    {
      name: 'an unknown key in a request, with the closest one',
      argv: async (id) => ['test', 'env', 'create', '--id', id, '--file', await file('req.json', JSON.stringify({ config: { type: 'single_taskserv', taskserv: 'base' }, auto_clean: true }))],
      expected: [/auto_clean: unknown key "auto_clean"/, /did you mean "auto_cleanup"/],
    },
    {
      name: 'an unknown taskserv, with the closest one',
      argv: (id) => ['test', 'quick', 'webservr', '--id', id],
      expected: [/command line: config\.taskserv: taskserv "webservr" is not in the catalog/, /did you mean "webserver"/],
    },
    {
      name: 'an unknown template',
      argv: (id) => ['test', 'env', 'cluster', 'web', '--topology', 'web_3nodes', '--id', id],
      expected: [/unknown topology template "web_3nodes"/, /did you mean "web_3node"/],
    },
    {
      name: 'a topology with duplicate node names',
      argv: async (id) => ['test', 'env', 'cluster', 'web', '--id', id, '--file', await file('topo.toml', '[[nodes]]\nname = "n1"\ntaskservs = ["base"]\n[[nodes]]\nname = "n1"\ntaskservs = ["base"]\n')],
      expected: [/topo\.toml: config\.topology\.nodes\[1\]\.name: node name "n1" is used by nodes\[0\] too/],
    },
    {
      name: 'a topology without nodes',
      argv: async (id) => ['test', 'env', 'cluster', 'web', '--id', id, '--file', await file('topo.yaml', 'nodes: []\n')],
      expected: [/topo\.yaml: config\.topology\.nodes: a topology needs at least one node/],
    },
    {
      name: 'zero CPU in a request file',
      argv: async (id) => ['test', 'env', 'create', '--id', id, '--file', await file('req.yaml', 'config:\n  type: server_simulation\n  server_name: s1\n  taskservs: [base]\n  resources: { cpu_millicores: 0, memory_mb: 64 }\n')],
      expected: [/config\.resources\.cpu_millicores: must be greater than 0 \(got 0\)/],
    },
    {
      name: 'negative memory on a node',
      argv: async (id) => ['test', 'env', 'cluster', 'web', '--id', id, '--file', await file('topo.json', JSON.stringify({ nodes: [{ name: 'n1', taskservs: ['base'], resources: { memory_mb: -64 } }] }))],
      expected: [/config\.topology\.nodes\[0\]\.resources\.memory_mb: must be greater than 0 \(got -64\)/],
    },
    {
      name: 'zero CPU on the command line',
      argv: (id) => ['test', 'env', 'single', 'base', '--cpu', '0', '--id', id],
      expected: [/"0" is not a positive whole number/],
    },
    {
      name: 'memory below what Docker allows',
      argv: (id) => ['test', 'env', 'single', 'base', '--memory', '4', '--id', id],
      expected: [/config\.resources\.memory_mb: Docker needs at least 6 MB of memory per container/],
    },
    {
      name: 'an invalid subnet',
      argv: (id) => ['test', 'env', 'cluster', 'web', '--topology', 'web_3node', '--subnet', '10.0.0.0/33', '--id', id],
      expected: [/config\.topology\.network\.subnet: subnet "10\.0\.0\.0\/33" is not an IPv4 CIDR/],
    },
    {
      name: 'a subnet too small for the nodes',
      argv: (id) => ['test', 'env', 'cluster', 'web', '--topology', 'web_3node', '--subnet', '10.9.9.0/30', '--id', id],
      expected: [/config\.topology\.network\.subnet: subnet 10\.9\.9\.0\/30 has room for 1 containers, not 3/],
    },
    {
      name: 'a subnet with host bits set',
      argv: (id) => ['test', 'env', 'cluster', 'web', '--topology', 'web_3node', '--subnet', '10.9.9.5/24', '--id', id],
      expected: [/subnet "10\.9\.9\.5\/24" has host bits set/, /fix: write the network address: 10\.9\.9\.0\/24/],
    },
    {
      name: 'a ttl longer than 30 days',
      argv: (id) => ['test', 'env', 'single', 'base', '--ttl', '99999d', '--id', id],
      expected: [/ttl 8639913600 is longer than 30 days/],
    },
    {
      name: 'an invalid ttl',
      argv: (id) => ['test', 'env', 'single', 'base', '--ttl', 'soon', '--id', id],
      expected: [/--ttl "soon" is not a duration/],
    },
    {
      name: 'an invalid environment id',
      argv: () => ['test', 'env', 'single', 'base', '--id', 'Bad_Id'],
      expected: [/--id "Bad_Id" is not a valid environment id/],
    },
    {
      name: 'a subcommand that does not exist',
      argv: () => ['test', 'env', 'vm', 'base'],
      expected: [/unknown command 'vm'/],
    },
  ];
  it.each(cases)('$name', async ({ argv, expected }) => {
    const id = freshId();
    const result = await cli([...(await argv(id)), ...NOWHERE]);
    expect(result.code, result.stderr).toBe(2);
    for (const e of expected) expect(result.stderr).toMatch(e);
    await nothingCreated(id);
  });

  it.runIf(dockerAvailable)('more CPU than the engine has', async () => {
    const { NCPU } = (await dockerClient().info()) as { NCPU: number };
    const id = freshId();
    const result = await cli(['test', 'env', 'single', 'base', '--cpu', String(NCPU * 1000 + 1), '--id', id, ...NOWHERE]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`node base asks for ${NCPU * 1000 + 1} millicores, but the Docker engine has ${NCPU} CPUs`);
    await nothingCreated(id);
  });

  it.runIf(dockerAvailable)('a base image that does not exist locally', async () => {
    const id = freshId();
    const result = await cli(['test', 'quick', 'base', '--base-image', 'provisioning-no-such-image:1', '--id', id, ...NOWHERE]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('base image "provisioning-no-such-image:1" (nodes base) is not present locally');
    expect(result.stderr).toContain('fix: pull or build it first');
    await nothingCreated(id);
  });

  it.runIf(dockerAvailable)('a subnet that overlaps another Docker network', async () => {
    const other = await dockerClient().createNetwork({ Name: uniqueId('provisioning-test-net'), IPAM: { Driver: 'default', Config: [{ Subnet: '10.198.4.0/24' }] }, Labels: { 'provisioning.managed': 'true' } });
    try {
      const id = freshId();
      const result = await cli(['test', 'env', 'cluster', 'web', '--topology', 'web_3node', '--subnet', '10.198.4.128/25', '--id', id, ...NOWHERE]);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/subnet 10\.198\.4\.128\/25 overlaps Docker network "provisioning-test-net-[a-f0-9]+" \(10\.198\.4\.0\/24\)/);
      await nothingCreated(id);
    } finally {
      await other.remove();
    }
  });

  it.runIf(dockerAvailable)('a subnet that overlaps a network of the environment pool says how to free it', async () => {
    const name = `provisioning-netpool-${uniqueId('t').toLowerCase()}-0`;
    const pooled = await dockerClient().createNetwork({ Name: name, IPAM: { Driver: 'default', Config: [{ Subnet: '10.198.5.0/24' }] }, Labels: { 'provisioning.managed': 'true', 'provisioning.netpool': 'network' } });
    try {
      const id = freshId();
      const result = await cli(['test', 'env', 'cluster', 'web', '--topology', 'web_3node', '--subnet', '10.198.5.0/24', '--id', id, ...NOWHERE]);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(`subnet 10.198.5.0/24 overlaps Docker network "${name}" (10.198.5.0/24)`);
      expect(result.stderr).toContain('fix: that is a network of the test environments\' pool, cut from 10.213.0.0/16 (PROVISIONING_TESTENV_POOL): choose a subnet outside it, leave it out to get a free one, or remove idle pool networks with "provisioning test env reap"');
      await nothingCreated(id);
    } finally {
      await pooled.remove();
    }
  });

  it.runIf(dockerAvailable)('a disk limit the storage driver cannot enforce', async () => {
    const info = (await dockerClient().info()) as { Driver: string; DriverStatus: Array<[string, string]> };
    const backing = info.DriverStatus.find(([k]) => k === 'Backing Filesystem')?.[1];
    const id = freshId();
    const result = await cli(['test', 'env', 'single', 'base', '--disk', '100', '--id', id, ...NOWHERE]);
    if (info.Driver === 'overlay2' && backing !== 'xfs') {
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(`disk limits (disk_mb / --disk) are not supported by this Docker engine: storage driver overlay2 on ${backing}`);
      await nothingCreated(id);
    } else {
      // An engine that can limit disks gets past the check and fails only at the unreachable Temporal.
      expect(result.code).toBe(1);
    }
  });

  it.runIf(dockerAvailable)('running, or reading logs of, an environment that does not exist', async () => {
    const run = await cli(['test', 'env', 'run', 'no-such-env', '--address', inject('temporalAddress')]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('no test environment "no-such-env"');
    const logs = await cli(['test', 'env', 'logs', 'no-such-env']);
    expect(logs.code).toBe(2);
    expect(logs.stderr).toContain('test environment "no-such-env" has no containers: it does not exist or was cleaned up');
  });
});

describe.runIf(dockerAvailable)('test quick', () => {
  it('passes, writes JUnit and JSON, and removes the environment', async () => {
    const id = freshId();
    const junit = path.join(dir, `${id}.xml`);
    await withWorker(async (taskQueue) => {
      const result = await cli(['test', 'quick', 'kvstore', '--id', id, '--memory', '48', '--junit', junit, '--json', '--address', inject('temporalAddress'), '--task-queue', taskQueue]);
      expect(result.code, result.stderr).toBe(0);
      const out = JSON.parse(result.stdout) as { passed: boolean; tests: Array<{ node: string; name: string; passed: boolean }>; removed: { containers: number; networks: number } };
      expect(out.passed).toBe(true);
      expect(out.tests.map((t) => t.name)).toEqual(['base:check', 'kvstore']);
      expect(out.removed).toEqual({ containers: 1, networks: 1 });
      const xml = await readFile(junit, 'utf8');
      expect(xml).toContain(`<testsuites name="testenv.${id}" tests="2" failures="0" errors="0">`);
      expect(xml).toContain('name="kvstore"');
    });
    expect(await envResources(id)).toEqual({ containers: [], networks: [] });
  });

  it('exits 1 when a test fails, with the failure and its output in JUnit', async () => {
    const id = freshId();
    const junit = path.join(dir, `${id}.xml`);
    await withWorker(async (taskQueue) => {
      const result = await cli(['test', 'quick', 'flaky', '--catalog', path.join(dir, 'catalog'), '--id', id, '--junit', junit, '--address', inject('temporalAddress'), '--task-queue', taskQueue]);
      expect(result.code).toBe(1);
      expect(result.stdout).toContain('❌ flaky flaky');
      expect(result.stdout).toContain('expected 42, got 41');
      expect(result.stdout).toContain('Failed: 1/2 tests passed');
      const xml = await readFile(junit, 'utf8');
      expect(xml).toContain('<failure message="exit code 7" type="exit">expected 42, got 41</failure>');
    });
    expect(await envResources(id)).toEqual({ containers: [], networks: [] });
  });
});

describe.runIf(dockerAvailable)('test env', () => {
  it('single: create, list, status, run a command, logs, cleanup; then run and logs say it was cleaned up', async () => {
    const id = freshId();
    await withWorker(async (taskQueue) => {
      const t = ['--address', inject('temporalAddress'), '--task-queue', taskQueue];
      const created = await cli(['test', 'env', 'single', 'webserver', '--id', id, '--cpu', '300', '--memory', '40', ...t]);
      expect(created.code, created.stderr).toBe(0);
      expect(created.stdout).toContain(`Environment ${id} (single_taskserv webserver): ready`);
      expect(created.stdout).toContain(`provisioning test env run ${id}`);

      const listed = await cli(['test', 'env', 'list', '--json', ...t]);
      expect((JSON.parse(listed.stdout) as { environments: Array<{ id: string; phase: string }> }).environments).toContainEqual(expect.objectContaining({ id, phase: 'ready' }));

      const status = await cli(['test', 'env', 'status', id, '--json', ...t]);
      expect(JSON.parse(status.stdout)).toMatchObject({ status: 'RUNNING', phase: 'ready', nodes: [{ name: 'webserver', resources: { cpu_millicores: 300, memory_mb: 40 } }] });

      const ran = await cli(['test', 'env', 'run', id, '--json', ...t, '--', 'sh', '-c', 'hostname; wget -q -O - http://127.0.0.1/']);
      expect(ran.code).toBe(0);
      expect((JSON.parse(ran.stdout) as { tests: Array<{ output: string }> }).tests[0]!.output).toBe('webserver\nhello from webserver');

      const badNode = await cli(['test', 'env', 'run', id, '--node', 'webservr', ...t]);
      expect(badNode.code).toBe(2);
      expect(badNode.stderr).toContain('did you mean "webserver"?');

      let logs = '';
      for (let i = 0; i < 30 && !logs.includes('hello from webserver'); i++) {
        if (i > 0) await new Promise((r) => setTimeout(r, 100));
        logs = (await cli(['test', 'env', 'logs', id])).stdout;
      }
      expect(logs).toContain(`==> webserver (testenv-${id}-webserver) <==`);
      expect(logs).toContain('==> install:webserver');
      expect(logs).toContain('hello from webserver');

      const cleaned = await cli(['test', 'env', 'cleanup', id, ...t]);
      expect(cleaned.stdout).toBe(`Environment ${id} removed: 1 containers, 1 networks.`);
      expect(await envResources(id)).toEqual({ containers: [], networks: [] });

      const again = await cli(['test', 'env', 'run', id, ...t]);
      expect(again.code).toBe(2);
      expect(again.stderr).toContain(`test environment "${id}" was cleaned up (workflow completed)`);
      const gone = await cli(['test', 'env', 'logs', id]);
      expect(gone.code).toBe(2);
      const twice = await cli(['test', 'env', 'cleanup', id, ...t]);
      expect(twice.code).toBe(0);
      expect(twice.stdout).toContain('already cleaned up');
    });
  });

  it('cluster from a template in the home folder that overrides a shipped one', async () => {
    const id = freshId();
    const home = path.join(dir, 'home');
    await mkdir(home, { recursive: true });
    await writeFile(path.join(home, 'test-topologies.toml'), '[web_3node]\ndescription = "two nodes only"\ncluster_type = "web"\n[[web_3node.nodes]]\nname = "a1"\nrole = "controlplane"\ntaskservs = ["webserver"]\nresources = { memory_mb = 32 }\n[[web_3node.nodes]]\nname = "a2"\nrole = "worker"\ntaskservs = ["webserver", "webclient"]\nresources = { memory_mb = 32 }\n');
    const env = { PATH: process.env.PATH, PROVISIONING_HOME: home };
    const shown = await cli(['test', 'topology', 'show', 'web_3node'], { env });
    expect(shown.stdout).toContain('web_3node: two nodes only');
    expect(shown.stdout).toMatch(/a1\s+control-plane\s+webserver/);
    const list = await cli(['test', 'topology', 'list', '--json'], { env });
    expect((JSON.parse(list.stdout) as { templates: Array<{ name: string }> }).templates.map((t) => t.name)).toEqual(expect.arrayContaining(['kubernetes_3node', 'kubernetes_single', 'etcd_cluster', 'containerd_test', 'postgres_redis', 'web_3node', 'kv_jobs']));
    await withWorker(async (taskQueue) => {
      const t = ['--address', inject('temporalAddress'), '--task-queue', taskQueue];
      const created = await cli(['test', 'env', 'cluster', 'web', '--topology', 'web_3node', '--id', id, '--auto-cleanup', '--json', ...t], { env });
      expect(created.code, created.stderr).toBe(0);
      expect((JSON.parse(created.stdout) as { nodes: Array<{ name: string; state: string }> }).nodes.map((n) => [n.name, n.state])).toEqual([['a1', 'ready'], ['a2', 'ready']]);
      const ran = await cli(['test', 'env', 'run', id, '--node', 'a2', ...t], { env });
      expect(ran.code).toBe(0);
      expect(ran.stdout).toContain('✅ a2 webclient');
      expect(ran.stdout).not.toContain(' a1 ');
      // auto_cleanup removes it after the run: on the worker, so while the worker runs.
      expect(await untilRemoved(id)).toEqual({ containers: [], networks: [] });
    });
  });

  it('cleanup of a terminated environment removes what it left; reap removes leftovers; reap --schedule installs the schedule', async () => {
    const [a, b] = [freshId(), freshId()];
    await withWorker(async (taskQueue) => {
      const t = ['--address', inject('temporalAddress'), '--task-queue', taskQueue];
      for (const id of [a, b]) expect((await cli(['test', 'env', 'single', 'base', '--id', id, '--memory', '32', ...t])).code).toBe(0);
      const { client, close } = await testClient();
      try {
        for (const id of [a, b]) await client.workflow.getHandle(`testenv/${id}`).terminate('simulating a lost environment');
      } finally {
        await close();
      }
      expect((await envResources(a)).containers).toHaveLength(1);
      const cleaned = await cli(['test', 'env', 'cleanup', a, ...t]);
      expect(cleaned.code).toBe(0);
      // (Another test file's reaper may get there first; then cleanup finds nothing left.)
      expect(cleaned.stdout).toMatch(new RegExp(`Environment ${a} (\\(workflow terminated\\) left 1 containers and 1 networks; removed 1 containers, 1 networks\\.|is already cleaned up)`));
      expect(await envResources(a)).toEqual({ containers: [], networks: [] });

      const result = await cli(['test', 'env', 'reap', '--json', ...t]);
      expect(result.code).toBe(0);
      expect(await envResources(b)).toEqual({ containers: [], networks: [] });
      const reaped = JSON.parse(result.stdout) as { checked: number; reaped: Array<{ id: string; status: string }> };
      // Another test file's reaper may have removed it first; when this one did, it says why.
      const mine = reaped.reaped.find((r) => r.id === b);
      if (mine) expect(mine.status).toBe('TERMINATED');
      const scheduled = await cli(['test', 'env', 'reap', '--schedule', '--every', '7m', '--address', inject('temporalAddress'), '--task-queue', taskQueue]);
      expect(scheduled.stdout).toMatch(/Schedule testenv-reaper (created|updated): reaps every 7m/);
      const temporal = await testClient();
      try {
        const described = await temporal.client.schedule.getHandle('testenv-reaper').describe();
        expect(described.action).toMatchObject({ type: 'startWorkflow', workflowType: 'reapTestEnvironmentsWorkflow', taskQueue });
        await temporal.client.schedule.getHandle('testenv-reaper').delete();
      } finally {
        await temporal.close();
      }
    });
  });
});

describe.runIf(dockerAvailable)('test env logs --follow', () => {
  it('streams new lines of every node, prefixed with the node, until Ctrl-C', async () => {
    const id = freshId();
    await withWorker(async (taskQueue) => {
      const t = ['--address', inject('temporalAddress'), '--task-queue', taskQueue];
      expect((await cli(['test', 'env', 'single', 'kvstore', '--id', id, '--memory', '32', ...t])).code).toBe(0);
      const child = execa('node', [path.resolve(import.meta.dirname, '../../bin/provisioning.js'), 'test', 'env', 'logs', id, '--follow'], { env: { PROVISIONING_FROM_SOURCE: '1' }, reject: false, all: true });
      let text = '';
      child.all.on('data', (chunk: Buffer) => (text += chunk.toString()));
      const until = async (needle: string) => {
        for (let i = 0; i < 300 && !text.includes(needle); i++) await new Promise((r) => setTimeout(r, 100));
        expect(text).toContain(needle);
      };
      await until('kvstore | <== check:kvstore: exit 0');
      // A run after the follow began shows up in the stream.
      expect((await cli(['test', 'env', 'run', id, ...t, '--', 'echo', 'marker-after-follow'])).code).toBe(0);
      await until('kvstore | marker-after-follow');
      child.kill('SIGINT');
      expect((await child).exitCode).toBe(0);
      expect((await cli(['test', 'env', 'cleanup', id, ...t])).code).toBe(0);
    });
  });
});

describe.runIf(dockerAvailable)('the shipped example requests and topology', () => {
  const examples = path.resolve(import.meta.dirname, '../../examples/testenv');
  it.each(['single-webserver.json', 'web-server.yaml', 'web-cluster.json'])('test env create --file %s comes up, passes its tests and is removed', async (name) => {
    const id = freshId();
    await withWorker(async (taskQueue) => {
      const t = ['--address', inject('temporalAddress'), '--task-queue', taskQueue];
      // web-cluster.json pins 10.214.77.0/24, outside Docker's default pools (172.17-31.x, where
      // networks without a subnet land) and the environment pool: only this test uses it.
      const created = await cli(['test', 'env', 'create', '--file', path.join(examples, name), '--id', id, '--json', ...t]);
      expect(created.code, created.stderr).toBe(0);
      expect((JSON.parse(created.stdout) as { phase: string }).phase).toBe('ready');
      const ran = await cli(['test', 'env', 'run', id, '--json', ...t]);
      expect(ran.code, ran.stdout).toBe(0);
      await cli(['test', 'env', 'cleanup', id, ...t]);
      expect(await untilRemoved(id)).toEqual({ containers: [], networks: [] });
    });
  });

  it('test env cluster --file examples/testenv/topology.toml installs the control plane first', async () => {
    const id = freshId();
    await withWorker(async (taskQueue) => {
      const t = ['--address', inject('temporalAddress'), '--task-queue', taskQueue];
      const created = await cli(['test', 'env', 'cluster', 'kv', '--file', path.join(examples, 'topology.toml'), '--id', id, '--auto-cleanup', '--json', ...t]);
      expect(created.code, created.stderr).toBe(0);
      const state = JSON.parse(created.stdout) as { nodes: Array<{ name: string; installStartedAt: number; readyAt: number }> };
      const [kv, jobs] = ['kv-01', 'jobs-01'].map((n) => state.nodes.find((x) => x.name === n)!);
      expect(jobs!.installStartedAt).toBeGreaterThanOrEqual(kv!.readyAt);
      expect((await cli(['test', 'env', 'run', id, ...t])).code).toBe(0);
      // auto_cleanup removes it after the run: on the worker, so while the worker runs.
      expect(await untilRemoved(id)).toEqual({ containers: [], networks: [] });
    });
  });
});
