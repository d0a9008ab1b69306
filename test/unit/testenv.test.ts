/** Pure parts of test environments: request validation, planning, durations, templates, JUnit, the live log demuxer. */
import { describe, expect, it } from 'vitest';
import { renderJunit } from '../../src/client/render/junit.js';
import { loadCatalog } from '../../src/config/settings.js';
import { environmentRequestSchema, parseDuration, planEnvironment } from '../../src/config/testenv-schema.js';
import { loadTopologies } from '../../src/config/testenv.js';
import { DockerFrames } from '../../src/docker/logs.js';
import { exampleCatalog } from '../support/testenv.js';

const catalog = { dir: exampleCatalog, taskservs: await loadCatalog(exampleCatalog) };

describe('environment requests', () => {
  it('accepts the seeds\' three shapes, with defaults for auto_start, auto_cleanup, ttl and resources', () => {
    const single = environmentRequestSchema.parse({ config: { type: 'single_taskserv', taskserv: 'kubernetes', base_image: 'ubuntu:22.04', resources: { cpu_millicores: 2000, memory_mb: 4096 } }, auto_start: true, auto_cleanup: false });
    expect(single.config).toMatchObject({ type: 'single_taskserv', base_image: 'ubuntu:22.04' });
    const cluster = environmentRequestSchema.parse({ config: { type: 'cluster_topology', cluster_type: 'kubernetes', topology: { nodes: [{ name: 'cp-01', role: 'controlplane', taskservs: ['etcd'] }], network: { subnet: '172.30.0.0/16' } } }, ttl: '30m' });
    expect(cluster).toMatchObject({ auto_start: true, auto_cleanup: false, ttl: 1800 });
    expect(cluster.config.type === 'cluster_topology' && cluster.config.topology.nodes[0]!.role).toBe('control-plane');
  });

  it('plans nodes with dependency order, defaults, container names and only the manifests used', () => {
    const request = environmentRequestSchema.parse({ config: { type: 'server_simulation', server_name: 'web-01', taskservs: ['jobrunner'] } });
    const { plan } = planEnvironment('e1', request, catalog);
    expect(plan).toMatchObject({ id: 'e1', workflowId: 'testenv/e1', network: { name: 'testenv-e1' }, ttlSeconds: 7200 });
    expect(plan!.nodes).toEqual([expect.objectContaining({ name: 'web-01', container: 'testenv-e1-web-01', image: 'provisioning-base:busybox', resources: { cpu_millicores: 1000, memory_mb: 256 }, order: ['base', 'kvstore', 'jobrunner'] })]);
    expect(Object.keys(plan!.taskservs)).toEqual(['base', 'jobrunner', 'kvstore']);
  });

  it('reports every unknown taskserv with its key path and the closest name', () => {
    const request = environmentRequestSchema.parse({ config: { type: 'cluster_topology', cluster_type: 'x', topology: { nodes: [{ name: 'a', taskservs: ['base', 'kvstor'] }, { name: 'b', taskservs: ['webserve'] }] } } });
    const { problems } = planEnvironment('e1', request, catalog);
    expect(problems.map((p) => p.path)).toEqual(['config.topology.nodes[0].taskservs[1]', 'config.topology.nodes[1].taskservs[0]']);
    expect(problems[0]!.fix).toContain('did you mean "kvstore"?');
    expect(problems[1]!.fix).toContain('did you mean "webserver"?');
  });

  it('rejects taskservs that conflict on one node', () => {
    const taskservs = { ...catalog.taskservs, kvstore: { ...catalog.taskservs['kvstore']!, conflicts: ['webserver'] } };
    const request = environmentRequestSchema.parse({ config: { type: 'server_simulation', server_name: 's', taskservs: ['kvstore', 'webserver'] } });
    expect(planEnvironment('e1', request, { dir: 'x', taskservs }).problems[0]?.problem).toBe('taskservs "kvstore" and "webserver" conflict and cannot share node s');
  });

  it.each([
    [{ config: { type: 'single_taskserv', taskserv: 'base', resources: { memory_mb: 5 } } }, 'config.resources.memory_mb'],
    [{ config: { type: 'single_taskserv', taskserv: 'base', resources: { cpu_millicores: -1 } } }, 'config.resources.cpu_millicores'],
    [{ config: { type: 'single_taskserv', taskserv: 'base' }, ttl: 0 }, 'ttl'],
    [{ config: { type: 'server_simulation', server_name: 's', taskservs: [] } }, 'config.taskservs'],
    [{ config: { type: 'cluster_topology', cluster_type: 'x', topology: { nodes: [{ name: 'A' }] } } }, 'config.topology.nodes.0.name'],
    [{ config: { taskserv: 'base' } }, 'config.type'],
  ])('rejects %j at %s', (request, at) => {
    const parsed = environmentRequestSchema.safeParse(request);
    expect(parsed.success).toBe(false);
    expect(parsed.error!.issues.map((i) => i.path.join('.'))).toContain(at);
  });
});

describe('durations', () => {
  it.each([[7200, 7200], ['90s', 90], ['30m', 1800], ['2h', 7200], ['1d', 86400], ['1.5h', 5400]] as const)('%s is %i seconds', (text, seconds) => {
    expect(parseDuration(text)).toBe(seconds);
  });
  it.each(['', 'soon', '-5m', '0', '2 weeks'])('"%s" is not a duration', (text) => expect(parseDuration(text)).toBeUndefined());
});

describe('topology templates', () => {
  it('ships the seeds\' five templates and offline ones whose taskservs are all in the catalog', async () => {
    const templates = await loadTopologies({ env: { HOME: '/nonexistent' } });
    expect(Object.keys(templates)).toEqual(expect.arrayContaining(['kubernetes_3node', 'kubernetes_single', 'etcd_cluster', 'containerd_test', 'postgres_redis', 'web_3node', 'kv_jobs', 'web_kv']));
    expect(templates['kubernetes_3node']!.nodes.map((n) => n.role)).toEqual(['control-plane', 'worker', 'worker']);
    expect(templates['etcd_cluster']!.nodes).toHaveLength(3);
    for (const t of Object.values(templates)) {
      for (const n of t.nodes) for (const ts of n.taskservs) expect(catalog.taskservs[ts], `${t.name}: ${ts}`).toBeDefined();
      const offline = t.nodes.every((n) => n.taskservs.every((ts) => catalog.taskservs[ts]!.requires === 'offline'));
      expect(offline, t.name).toBe(t.base_image === undefined);
    }
  });
});

describe('JUnit', () => {
  it('has a suite per node, failures with their output, escaped', () => {
    const xml = renderJunit({
      name: 'testenv.e1',
      tests: [
        { node: 'a', name: 'web<1>', exitCode: 0, passed: true, durationMs: 1500, output: 'ok & "fine"' },
        { node: 'b', name: 'kv', exitCode: 2, passed: false, durationMs: 20, output: 'bad \u0007 <thing>' },
      ],
    });
    expect(xml).toContain('<testsuites name="testenv.e1" tests="2" failures="1" errors="0">');
    expect(xml).toContain('<testcase classname="testenv.e1.a" name="web&lt;1&gt;" time="1.500">');
    expect(xml).toContain('<system-out>ok &amp; &quot;fine&quot;</system-out>');
    expect(xml).toContain('<failure message="exit code 2" type="exit">bad  &lt;thing&gt;</failure>');
  });
  it('reports a setup failure as an error', () => {
    expect(renderJunit({ name: 'testenv.e2', tests: [], setupError: 'install failed' })).toContain('<error message="the environment could not be set up" type="setup">install failed</error>');
  });
});

describe('DockerFrames', () => {
  it('joins frames and characters split across chunks', () => {
    const frame = (kind: number, text: Buffer) => Buffer.concat([Buffer.from([kind, 0, 0, 0]), Buffer.from([0, 0, 0, text.length].map((v, i) => (i === 3 ? v : 0))), text]);
    const whole = Buffer.concat([frame(1, Buffer.from('héllo ')), frame(2, Buffer.from('wörld\n'))]);
    const frames = new DockerFrames();
    let out = '';
    for (let i = 0; i < whole.length; i += 3) out += frames.push(whole.subarray(i, i + 3));
    expect(out).toBe('héllo wörld\n');
  });
});

describe('subnets and ttl limits', () => {
  it('a subnet must hold every node and be a network address', () => {
    const nodes = [{ name: 'a' }, { name: 'b' }];
    const small = environmentRequestSchema.safeParse({ config: { type: 'cluster_topology', cluster_type: 'x', topology: { nodes, network: { subnet: '10.1.1.0/30' } } } });
    expect(small.error?.issues.map((i) => i.message)).toEqual(['subnet 10.1.1.0/30 has room for 1 containers, not 2']);
    const hostBits = environmentRequestSchema.safeParse({ config: { type: 'cluster_topology', cluster_type: 'x', topology: { nodes, network: { subnet: '10.1.1.1/29' } } } });
    expect(hostBits.error?.issues.map((i) => i.message)).toEqual(['subnet "10.1.1.1/29" has host bits set']);
    expect(environmentRequestSchema.safeParse({ config: { type: 'cluster_topology', cluster_type: 'x', topology: { nodes, network: { subnet: '10.1.1.0/29' } } } }).success).toBe(true);
  });
  it('a ttl is at most 30 days', () => {
    expect(environmentRequestSchema.safeParse({ config: { type: 'single_taskserv', taskserv: 'base' }, ttl: '30d' }).success).toBe(true);
    expect(environmentRequestSchema.safeParse({ config: { type: 'single_taskserv', taskserv: 'base' }, ttl: '31d' }).error?.issues[0]?.message).toBe('ttl "31d" is longer than 30 days');
  });
});
