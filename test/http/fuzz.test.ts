/**
 * Property-based fuzzing of the REST API from its own OpenAPI document: schemathesis (PyPI,
 * installed by `npm run setup` into the user cache) generates requests for every operation
 * (25 per operation, seed 1) against `provisioning api` in its own process, and checks that none answers 5xx, every
 * status code is documented and every response matches its schema.
 */
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dockerClient } from '../../src/docker/client.js';
import { scratchDir } from '../support/cli.js';
import { withWorker } from '../support/temporal.js';
import { apiServer, TOKEN } from './api-server.js';

const version = (JSON.parse(readFileSync(path.resolve(import.meta.dirname, '../../package.json'), 'utf8')) as { config: { schemathesis: string } }).config.schemathesis;
const cache = path.join(process.env.XDG_CACHE_HOME || path.join(process.env.HOME || os.homedir(), '.cache'), 'provisioning');
const schemathesis = path.join(cache, 'schemathesis', version);

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await scratchDir()));
afterAll(async () => {
  // Whatever a generated request managed to create is removed again.
  const docker = dockerClient();
  for (const c of await docker.listContainers({ all: true, filters: { label: ['provisioning.managed=true', 'provisioning.testenv'] } })) {
    if (c.Labels['provisioning.workflow']?.startsWith('testenv/')) await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
  }
  await cleanup();
});

describe('the REST API under schemathesis', () => {
  it('answers every generated request with a documented status and a body that matches its schema, never 5xx', async () => {
    expect(existsSync(path.join(schemathesis, '.provisioning-setup')), `schemathesis ${version} is not in ${schemathesis}; run "npm run setup"`).toBe(true);
    await withWorker(async (taskQueue) => {
      // An empty settings root: no generated settings path can name a real file.
      const api = await apiServer(['--task-queue', taskQueue, '--settings-root', dir, '--rate-limit', '1000000']);
      try {
        const spec = path.join(dir, 'openapi.json');
        const doc = await (await api.fetch('/openapi.json')).text();
        await writeFile(spec, doc);
        // Every operation of the document, and those the exclusions below leave to the fuzzer.
        const operations = Object.entries((JSON.parse(doc) as { paths: Record<string, Record<string, unknown>> }).paths).flatMap(([p, methods]) => Object.keys(methods).map((m) => [p, m.toUpperCase()] as const));
        const selected = operations.filter(([p, m]) => m !== 'DELETE' && p !== '/test/environments/{id}/run');
        const run = await execa('python3', ['-m', 'schemathesis.cli', 'run', spec, '--url', api.url, '-H', `Authorization: Bearer ${TOKEN}`, '--checks', 'not_a_server_error,response_schema_conformance,status_code_conformance', '-n', '25', '--seed', '1', '--phases', 'examples,fuzzing', '--workers', '2', '--no-color',
          // The suite runs two test files at once on two cores: allow slow answers, and do not fail on
          // Hypothesis's own data-generation health checks (they time the generator, not the API).
          '--request-timeout', '60', '--suppress-health-check', 'filter_too_much,too_slow',
          // The dev server is shared with the rest of the suite, and the fuzzer finds live ids through
          // GET /test/environments: it must not remove other tests' environments or run commands in
          // them. Those two operations are covered by rest-api.test.ts instead.
          '--exclude-method', 'DELETE', '--exclude-path', '/test/environments/{id}/run'], {
          env: { PYTHONPATH: schemathesis },
          reject: false,
          all: true,
          timeout: 600_000,
        });
        const summary = /(\d+) generated, (\d+) passed/.exec(run.all ?? '');
        expect(run.exitCode, run.all).toBe(0);
        expect(summary, run.all).not.toBeNull();
        expect(Number(summary![1])).toBeGreaterThan(150);
        expect(summary![2]).toBe(summary![1]);
        console.info(`schemathesis: ${summary![0]}, ${/Tested: \d+/.exec(run.all ?? '')?.[0] ?? ''}`);
        expect(run.all).toContain(`Selected: ${selected.length}/${operations.length}`);
        // An operation whose every generated input is filtered out (Hypothesis could not satisfy its
        // patterns in the budget) counts as not tested; nearly all must be.
        expect(Number(/Tested: (\d+)/.exec(run.all ?? '')?.[1])).toBeGreaterThanOrEqual(13);
      } finally {
        await api.stop();
      }
    });
  }, 700_000);
});
