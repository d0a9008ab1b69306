/**
 * The worker's Prometheus endpoint (`provisioning worker --metrics-listen`, a real process),
 * scraped after a platform start, a restart by the supervisor, a server create and a failed
 * test environment: the project's counters and histograms moved by exactly what happened, and
 * the SDK's own metrics are there too. Parsed with a Prometheus text-format parser.
 */
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { planEnvironment } from '../../src/api/testenv/index.js';
import { loadSettings } from '../../src/config/settings.js';
import { loadEnvCatalog } from '../../src/config/testenv.js';
import { dockerClient } from '../../src/docker/client.js';
import { supervisorId } from '../../src/model/ids.js';
import type { PlatformResult } from '../../src/model/platform.js';
import type { ServerCreateResult } from '../../src/model/servers.js';
import type { SupervisorState } from '../../src/model/supervisor.js';
import { scratchDir } from '../support/cli.js';
import { freePort } from '../../src/util/net.js';
import { dockerAvailable } from '../support/docker.js';
import { testPlatform, type TestPlatform } from '../support/services.js';
import { testClient, uniqueId } from '../support/temporal.js';
import { forceRemove } from '../support/testenv.js';
import { parseExposition, sumOf, familyNames, type Exposition } from '../support/prometheus.js';
import { workerProcess } from '../support/worker-process.js';

const kills: Array<() => Promise<unknown>> = [];
let client: Client;
let close: () => Promise<void>;
let platform: TestPlatform;
let scratch: Awaited<ReturnType<typeof scratchDir>>;
let port: number;
const taskQueue = uniqueId('metrics');
const host = 'metrics-host';
const envIds: string[] = [];
let infra = '';

beforeAll(async () => {
  ({ client, close } = await testClient());
  scratch = await scratchDir();
  port = await freePort();
  await workerProcess(taskQueue, (k) => kills.push(k), ['--metrics-listen', `127.0.0.1:${port}`, '--host', host], { PROVISIONING_WORKFLOW_BUNDLE: inject('workflowBundlePath'), PROVISIONING_HOME: scratch.dir });
}, 120_000);

afterAll(async () => {
  for (const kill of kills) await kill();
  await platform?.cleanup();
  for (const id of envIds) await forceRemove(id);
  const docker = dockerClient();
  if (infra) {
    for (const c of await docker.listContainers({ all: true, filters: { label: [`provisioning.infra=${infra}`] } })) await docker.getContainer(c.Id).remove({ force: true });
    for (const n of await docker.listNetworks({ filters: { label: [`provisioning.infra=${infra}`] } })) await docker.getNetwork(n.Id).remove();
  }
  await close?.();
  await scratch?.cleanup();
}, 60_000);

async function scrape(): Promise<Exposition> {
  const response = await fetch(`http://127.0.0.1:${port}/metrics`);
  expect(response.status).toBe(200);
  return parseExposition(await response.text());
}

/** A counter's or gauge's value summed over the series whose labels include `labels`; a histogram's observations (its _count). */
function total(e: Exposition, name: string, labels: Record<string, string> = {}): number {
  return sumOf(e, e.types.get(name) === 'histogram' ? `${name}_count` : name, labels);
}

async function until<T>(read: () => Promise<T>, done: (v: T) => boolean, what: string, timeoutMs = 60_000, explain?: () => Promise<string>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await read().catch(() => undefined);
    if (v !== undefined && done(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${explain ? `; last scrape:\n${await explain()}` : ''}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe.runIf(dockerAvailable)('worker metrics (--metrics-listen)', () => {
  it('count a platform start, a supervisor restart, a server create and a failed test environment exactly', async () => {
    const before = await scrape();
    expect(familyNames(before).some((n) => n.startsWith('temporal_'))).toBe(true); // the SDK's own
    expect(total(before, 'provisioning_services_started_total')).toBe(0);

    // A platform start of two services; api is supervised with restart on failure.
    platform = await testPlatform([{ name: 'db' }, { name: 'api', deps: ['db'], startup: 'restart_on_failure = true' }]);
    const name = uniqueId('p');
    const start = await client.workflow.start('platformStart', { taskQueue, workflowId: uniqueId('metrics-start'), args: [{ registry: platform.registry, home: platform.home, services: ['api'], platform: name }] });
    const result = (await start.result()) as PlatformResult;
    expect(result.ok).toBe(true);

    // The supervisor restarts api once after its process is killed.
    const supervisor = client.workflow.getHandle(supervisorId(name, 'api'));
    await until(() => supervisor.query<SupervisorState>('supervisorState'), (s) => s.status === 'healthy' && s.checks.length > 0, 'supervision of api');
    process.kill(-result.services.find((s) => s.name === 'api')!.pid!, 'SIGKILL');
    const restarted = await until(() => supervisor.query<SupervisorState>('supervisorState'), (s) => s.restarts === 1 && s.status === 'healthy', 'api restarted');
    await supervisor.signal('stopSupervising');

    // A server create of one docker server with two taskservs.
    infra = uniqueId('minfra');
    await cp(path.resolve(import.meta.dirname, '../../examples/taskservs'), path.join(scratch.dir, 'taskservs'), { recursive: true });
    await writeFile(path.join(scratch.dir, `${infra}.yaml`), `infra: ${infra}\ncatalog: taskservs\nservers:\n  - hostname: web-01\n    taskservs: [webserver]\n`);
    const settings = await loadSettings(path.join(scratch.dir, `${infra}.yaml`), {});
    const created: unknown = await client.workflow.execute('serverCreate', { taskQueue, workflowId: uniqueId('metrics-server'), args: [{ settings, servers: [] }] });
    expect((created as ServerCreateResult).ok).toBe(true);

    // A test environment whose only taskserv fails to install.
    await mkdir(path.join(scratch.dir, 'taskservs/broken'), { recursive: true });
    await writeFile(path.join(scratch.dir, 'taskservs/broken/taskserv.toml'), 'name = "broken"\nversion = "1"\n');
    await writeFile(path.join(scratch.dir, 'taskservs/broken/install.sh'), 'echo no disk left >&2; exit 4\n');
    await writeFile(path.join(scratch.dir, 'taskservs/broken/check.sh'), 'true\n');
    const catalog = await loadEnvCatalog(path.join(scratch.dir, 'taskservs'), {}, scratch.dir);
    const { plan } = await planEnvironment({ request: { config: { type: 'single_taskserv', taskserv: 'broken' } }, catalog, subject: 'metrics' });
    envIds.push(plan.id);
    const env = await client.workflow.start('testEnvironment', { taskQueue, workflowId: plan.workflowId, args: [{ plan }] });
    await expect(env.result()).rejects.toThrow();

    const after = await until(scrape, (f) => total(f, 'provisioning_testenvs_failed_total') >= 1 && total(f, 'provisioning_servers_created_total') >= 1, 'the counters to be exported', 60_000, async () => {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      return text.split('\n').filter((l) => l.includes('provisioning_')).join('\n');
    });
    expect(total(after, 'provisioning_services_started_total', { service: 'db', mode: 'binary' })).toBe(1);
    expect(total(after, 'provisioning_services_started_total', { service: 'api', mode: 'binary' })).toBe(1);
    expect(total(after, 'provisioning_services_started_total')).toBe(2);
    expect(total(after, 'provisioning_service_time_to_healthy', { service: 'api' })).toBe(1);
    expect(total(after, 'provisioning_service_time_to_healthy')).toBe(2);
    expect(total(after, 'provisioning_services_failed_total')).toBe(0);
    expect(total(after, 'provisioning_services_restarted_total', { service: 'api', result: 'ok' })).toBe(restarted.restarts);
    expect(total(after, 'provisioning_health_checks_total', { service: 'api' })).toBeGreaterThanOrEqual(restarted.checks.length);
    expect(total(after, 'provisioning_health_checks_total', { service: 'api', result: 'healthy' })).toBeGreaterThanOrEqual(1);
    expect(total(after, 'provisioning_servers_created_total', { provider: 'docker' })).toBe(1);
    expect(total(after, 'provisioning_taskserv_installs_total', { taskserv: 'base', result: 'installed' })).toBe(1);
    expect(total(after, 'provisioning_taskserv_installs_total', { taskserv: 'webserver', result: 'installed' })).toBe(1);
    expect(total(after, 'provisioning_taskserv_installs_total', { result: 'failed' })).toBe(0);
    expect(total(after, 'provisioning_testenvs_failed_total', { type: 'single_taskserv' })).toBe(1);
    expect(total(after, 'provisioning_testenvs_created_total')).toBe(0);
    expect(total(after, 'provisioning_testenvs_passed_total')).toBe(0);
    // The SDK's metrics the shipped dashboard charts are there.
    const dashboard = await readFile(path.resolve(import.meta.dirname, '../../deploy/grafana/provisioning-dashboard.json'), 'utf8');
    const sdkNames = [...new Set([...dashboard.matchAll(/\b(temporal_[a-z_]+?)(?:_bucket)?\b/g)].map((m) => m[1]!))];
    expect(sdkNames.length).toBeGreaterThanOrEqual(4);
    for (const n of sdkNames) expect(familyNames(after), n).toContain(n);
    // The server's container is owned right now (the gauge is read every 15 s).
    await until(scrape, (f) => total(f, 'provisioning_owned_containers') >= 1, 'the owned-containers gauge', 30_000);
  }, 180_000);
});
