/**
 * Traces: with OTEL_EXPORTER_OTLP_ENDPOINT pointing at an in-process OTLP/HTTP collector, one
 * `provisioning test quick` (a CLI process) and the worker (another process) export one trace:
 * the CLI command's span is the root, and the workflow's and every activity's spans descend
 * from it. Without the variable nothing is exported.
 */
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { dockerAvailable } from '../support/docker.js';
import { uniqueId } from '../support/temporal.js';
import { envResources, forceRemove } from '../support/testenv.js';
import { workerProcess } from '../support/worker-process.js';
import { apiServer } from '../http/api-server.js';

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  service: string;
}

const bin = path.resolve(import.meta.dirname, '../../bin/provisioning.js');
const spans: OtlpSpan[] = [];
let collector: Server;
let endpoint: string;
const kills: Array<() => Promise<unknown>> = [];
const taskQueue = uniqueId('traced');
const ids: string[] = [];

beforeAll(async () => {
  // The OTLP/HTTP JSON encoding the exporters send to <endpoint>/v1/traces.
  collector = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      if (req.url === '/v1/traces') {
        const doc = JSON.parse(body) as { resourceSpans: Array<{ resource: { attributes: Array<{ key: string; value: { stringValue?: string } }> }; scopeSpans: Array<{ spans: OtlpSpan[] }> }> };
        for (const rs of doc.resourceSpans) {
          const service = rs.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue ?? '';
          for (const ss of rs.scopeSpans) for (const s of ss.spans) spans.push({ traceId: s.traceId, spanId: s.spanId, ...(s.parentSpanId ? { parentSpanId: s.parentSpanId } : {}), name: s.name, service });
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(collector.address() as { port: number }).port}`;
  await workerProcess(taskQueue, (k) => kills.push(k), ['--host', 'traced-host'], { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint });
}, 180_000);

afterAll(async () => {
  for (const kill of kills) await kill();
  for (const id of ids) await forceRemove(id);
  await new Promise((r) => collector?.close(r));
});

const quick = (id: string, env: Record<string, string>) =>
  execa('node', [bin, 'test', 'quick', 'base', '--id', id, '--json', '--address', inject('temporalAddress'), '--task-queue', taskQueue], { env: { PROVISIONING_FROM_SOURCE: '1', ...env }, reject: false });

async function until(done: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; spans: ${spans.map((s) => s.name).join(', ')}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe.runIf(dockerAvailable)('traces (OTEL_EXPORTER_OTLP_ENDPOINT)', () => {
  it('make one test quick one trace: the CLI command, the workflow, every activity', async () => {
    const id = uniqueId('tq');
    ids.push(id);
    const run = await quick(id, { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(await envResources(id)).toEqual({ containers: [], networks: [] });

    const roots = () => spans.filter((s) => s.name === 'provisioning test quick' && !s.parentSpanId);
    await until(() => roots().length === 1, 'the CLI span');
    const root = roots()[0]!;
    expect(root.service).toBe('provisioning-cli');
    const inTrace = () => spans.filter((s) => s.traceId === root.traceId);
    // The worker exports in batches: wait until the environment's removal has arrived.
    await until(() => inTrace().some((s) => s.name === 'RunActivity:removeEnvironment'), 'the last activity span');

    const byId = new Map(inTrace().map((s) => [s.spanId, s]));
    const descends = (s: OtlpSpan): boolean => {
      for (let at: OtlpSpan | undefined = s; at; at = at.parentSpanId ? byId.get(at.parentSpanId) : undefined) if (at === root) return true;
      return false;
    };
    const workflow = inTrace().filter((s) => s.name === 'RunWorkflow:testEnvironment');
    expect(workflow.length).toBeGreaterThanOrEqual(1);
    expect(workflow.every(descends)).toBe(true);
    const activities = inTrace().filter((s) => s.name.startsWith('RunActivity:'));
    expect(activities.map((s) => s.name)).toEqual(expect.arrayContaining(['RunActivity:createEnvNetwork', 'RunActivity:removeEnvironment']));
    for (const a of activities) expect(descends(a), a.name).toBe(true);
    expect(new Set(activities.map((a) => a.service))).toEqual(new Set(['provisioning-worker']));
    // Nothing of this run landed in another trace.
    expect(spans.filter((s) => s.traceId !== root.traceId && s.name.startsWith('RunActivity:'))).toEqual([]);

    // Without the variable the CLI exports nothing (its workflow, on this traced worker, starts a trace of its own).
    const untracedId = uniqueId('tq');
    ids.push(untracedId);
    const untraced = await quick(untracedId, {});
    expect(untraced.exitCode, untraced.stderr).toBe(0);
    await until(() => spans.filter((s) => s.name === 'RunActivity:removeEnvironment').length === 2, 'the second run\'s spans');
    expect(spans.filter((s) => s.service === 'provisioning-cli').map((s) => s.spanId)).toEqual(spans.filter((s) => s.traceId === root.traceId && s.service === 'provisioning-cli').map((s) => s.spanId));
  }, 120_000);

  it('make one REST request one trace: the request, the workflow it starts, its activities', async () => {
    const api = await apiServer(['--task-queue', taskQueue], { env: { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint } });
    try {
      const created = await api.fetch('/test/environments/create', { json: { config: { type: 'single_taskserv', taskserv: 'base' }, auto_cleanup: false } });
      expect(created.status).toBe(201);
      const { id } = (await created.json()) as { id: string };
      ids.push(id);
      expect((await api.fetch(`/test/environments/${id}`, { method: 'DELETE' })).status).toBe(200);
    } finally {
      await api.stop(); // flushes its spans
    }
    const request = spans.find((s) => s.name === 'POST /test/environments/create' && s.service === 'provisioning-api');
    expect(request?.parentSpanId).toBeUndefined();
    // The workflow's spans are exported by the worker's batch processor, after (or before) the activities': wait for all of them.
    const wanted = ['RunWorkflow:testEnvironment', 'RunActivity:createEnvNetwork', 'RunActivity:removeEnvironment'];
    await until(() => wanted.every((name) => spans.some((s) => s.traceId === request!.traceId && s.name === name)), 'the environment\'s spans under the request');
    const inTrace = spans.filter((s) => s.traceId === request!.traceId);
    expect(inTrace.map((s) => s.name)).toEqual(expect.arrayContaining(wanted));
  }, 120_000);
});
