/**
 * The docker-compose.yaml users get, with its default images: valid for Compose, every image
 * version pinned, every port on 127.0.0.1, no secret in it, and the namespace job registering
 * exactly the search attributes the code defines.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { SEARCH_ATTRIBUTES } from '../../src/model/search-attributes.js';
import { composeCommand, composeFile, repoRoot } from '../support/compose.js';

interface Service {
  image: string;
  environment?: Record<string, string | null>;
  ports?: Array<string | { host_ip?: string; published?: string | number; target: number }>;
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
}

async function defaultConfig(): Promise<{ services: Record<string, Service> }> {
  const [cmd, ...args] = await composeCommand();
  // Only PATH and HOME: no image variable of the caller's leaks in.
  const r = await execa(cmd, [...args, '-f', composeFile, 'config'], { cwd: repoRoot, env: { PATH: process.env.PATH, HOME: process.env.HOME }, extendEnv: false, reject: false });
  expect(r.exitCode, r.stderr).toBe(0);
  return parse(r.stdout) as { services: Record<string, Service> };
}

describe('docker-compose.yaml', () => {
  it('is valid and pins every image version by default (the Temporal ones as package.json does)', async () => {
    const { services } = await defaultConfig();
    const pkg = JSON.parse(await readFile(path.join(repoRoot, 'package.json'), 'utf8')) as { config: { temporalServer: string; temporalUi: string } };
    const server = pkg.config.temporalServer.replace(/^v/, '');
    expect(Object.fromEntries(Object.entries(services).map(([name, s]) => [name, s.image]))).toEqual({
      postgresql: 'postgres:16',
      'temporal-schema': `temporalio/admin-tools:${server}`,
      temporal: `temporalio/server:${server}`,
      'temporal-namespace': `temporalio/admin-tools:${server}`,
      'temporal-ui': `temporalio/ui:${pkg.config.temporalUi.replace(/^v/, '')}`,
      worker: 'provisioning:latest',
      api: 'provisioning:latest',
    });
  });

  it('starts in order: schema after a healthy database, the server after the schema job, workers and API after the namespace job', async () => {
    const { services } = await defaultConfig();
    expect(services['temporal-schema']!.depends_on).toEqual({ postgresql: { condition: 'service_healthy' } });
    expect(services.temporal!.depends_on).toEqual({ 'temporal-schema': { condition: 'service_completed_successfully' } });
    expect(services['temporal-namespace']!.depends_on).toEqual({ temporal: { condition: 'service_healthy' } });
    for (const s of ['worker', 'api']) expect(services[s]!.depends_on).toEqual({ 'temporal-namespace': { condition: 'service_completed_successfully' } });
    for (const s of ['postgresql', 'temporal', 'temporal-ui', 'worker', 'api']) expect(services[s]!.healthcheck?.test, s).toBeDefined();
    expect(services.worker!.healthcheck!.test).toEqual(['CMD', 'provisioning', 'worker', '--check']);
  });

  it('publishes ports on 127.0.0.1 only and holds no secret', async () => {
    const { services } = await defaultConfig();
    const published = Object.entries(services).flatMap(([name, s]) => (s.ports ?? []).map((p) => ({ name, ip: typeof p === 'string' ? p.split(':')[0] : p.host_ip })));
    expect(published.map((p) => p.name).sort()).toEqual(['api', 'temporal', 'temporal-ui']);
    for (const p of published) expect(p.ip, p.name).toBe('127.0.0.1');
    for (const [name, s] of Object.entries(services)) {
      for (const key of Object.keys(s.environment ?? {})) if (/PASSWORD|PWD|TOKEN|SECRET|API_KEY/.test(key)) expect(key, `${name}: ${key}`).toMatch(/_FILE$/);
    }
    const text = await readFile(composeFile, 'utf8');
    expect(text).not.toMatch(/(PASSWORD|TOKEN)[A-Z_]*:\s*["']?(?!\/run\/secrets)[A-Za-z0-9]{6,}/);
  });

  it('has the namespace job register exactly the search attributes of src/model/search-attributes.ts', async () => {
    const script = await readFile(path.join(repoRoot, 'deploy/compose/scripts/create-namespace.sh'), 'utf8');
    const registered = [...script.matchAll(/^register (\S+) (\S+)$/gm)].map((m) => [m[1], m[2]]);
    const cliType: Record<string, string> = { KEYWORD: 'Keyword', KEYWORD_LIST: 'KeywordList' };
    expect(registered).toEqual(SEARCH_ATTRIBUTES.map((k) => [k.name, cliType[k.type]]));
  });
});

describe('deploy/grafana/provisioning-dashboard.json', () => {
  it('charts only the project metrics that src/model/metrics.ts and the REST API define', async () => {
    const { METRIC } = await import('../../src/model/metrics.js');
    const dashboard = JSON.parse(await readFile(path.join(repoRoot, 'deploy/grafana/provisioning-dashboard.json'), 'utf8')) as { panels: Array<{ targets: Array<{ expr: string }> }> };
    const used = new Set(dashboard.panels.flatMap((p) => p.targets.flatMap((t) => [...t.expr.matchAll(/\bprovisioning_[a-z_]+/g)].map((m) => m[0]))));
    const known = new Set([...Object.values(METRIC).flatMap((n) => [n, `${n}_total`, `${n}_bucket`]), 'provisioning_api_requests_total', 'provisioning_api_request_duration_seconds_bucket']);
    expect([...used].filter((n) => !known.has(n))).toEqual([]);
    // Every project metric is on the dashboard.
    for (const n of Object.values(METRIC)) expect([...used].some((u) => u.startsWith(n)), n).toBe(true);
  });
});
