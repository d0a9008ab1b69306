/**
 * `provisioning platform analyze` on a start whose slowest chain is known by construction, and
 * the Web UI's view of the same run: its summary and plan (user metadata) and its current
 * details, which end with the same chain.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import type { StartAnalysis } from '../../src/api/platform-analyze.js';
import { chainMarkdown } from '../../src/model/runbook.js';
import { cli } from '../support/cli.js';
import { testPlatform, type TestPlatform } from '../support/services.js';
import { testClient, uniqueId, withWorker } from '../support/temporal.js';

let platform: TestPlatform | undefined;
afterAll(async () => platform?.cleanup());

describe('platform analyze', () => {
  it('prints the critical chain of a finished start, and the Web UI shows the same chain, its summary and its plan', async () => {
    // db (1 s) is slower than cache (0.2 s), so api waits for db last; web waits for api; tool is off the chain.
    platform = await testPlatform([
      { name: 'db', delay: 1 },
      { name: 'cache', delay: 0.2 },
      { name: 'api', deps: ['db', 'cache'], delay: 0.5 },
      { name: 'web', deps: ['api'], delay: 0.3 },
      { name: 'tool', deps: ['cache'], delay: 0.1 },
    ]);
    const file = path.join(platform.home, 'services.toml');
    await writeFile(file, platform.toml);
    const name = uniqueId('p');
    const env = { PROVISIONING_HOME: platform.home, PATH: process.env.PATH };
    await withWorker(async (taskQueue) => {
      const at = ['--address', inject('temporalAddress'), '--task-queue', taskQueue, '--platform', name];
      const started = await cli(['platform', 'start', 'web', 'tool', '--registry', file, ...at], { env });
      expect(started.code, started.stdout + started.stderr).toBe(0);

      const json = await cli(['platform', 'analyze', '--json', ...at], { env });
      expect(json.code, json.stderr).toBe(0);
      const analysis = JSON.parse(json.stdout) as StartAnalysis;
      expect(analysis).toMatchObject({ workflowId: `platform/${name}`, type: 'platformStart', started: 5 });
      const links = analysis.chain.links;
      expect(links.map((l) => l.name)).toEqual(['db', 'api', 'web']);
      expect(links.map((l) => l.after)).toEqual([undefined, 'db', 'api']);
      // Each one's spawn to healthy is at least its built-in delay; the chain only moves forward.
      expect(links.map((l) => l.durationMs >= { db: 1000, api: 500, web: 300 }[l.name]!)).toEqual([true, true, true]);
      for (const [i, l] of links.entries()) {
        expect(l.waitMs).toBeGreaterThanOrEqual(0);
        if (i > 0) expect(l.offsetMs).toBeGreaterThan(links[i - 1]!.offsetMs);
      }
      expect(analysis.chain.totalMs).toBe(links.at(-1)!.offsetMs);
      expect(analysis.chain.lowerBoundMs).toBeGreaterThanOrEqual(1800);
      expect(analysis.chain.lowerBoundMs).toBeLessThanOrEqual(analysis.chain.totalMs);

      const text = await cli(['platform', 'analyze', analysis.runId, ...at], { env });
      expect(text.code, text.stderr).toBe(0);
      const [first, second, third] = text.stdout.split('\n').filter((l) => /@\d/.test(l));
      expect(first).toMatch(/^web @\d+\.\d{3}s \+\d+\.\d{3}s \(\d+\.\d{3}s after api\)$/);
      expect(second).toMatch(/^└─api @/);
      expect(third).toMatch(/^  └─db @.*after the start\)$/);
      expect(text.stdout).toContain(`lower bound ${(analysis.chain.lowerBoundMs / 1000).toFixed(3)}s`);

      // The Web UI reads the same run: summary and plan given at start, current details kept by the workflow.
      const { client, close } = await testClient();
      try {
        const handle = client.workflow.getHandle(`platform/${name}`, analysis.runId);
        const description = await handle.describe();
        expect(await description.staticSummary()).toBe(`start 5 services: cache, db, api, tool, web (platform ${name})`);
        const plan = await description.staticDetails();
        expect(plan).toContain('| 3 | api | binary | db, cache |');
        const metadata = await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
        expect(metadata.currentDetails).toContain('**Now:** done — 5/5 done');
        expect(metadata.currentDetails).toContain(chainMarkdown(analysis.chain));
      } finally {
        await close();
      }
    });
  });

  it('says which run it could not find (exit 2)', async () => {
    const r = await cli(['platform', 'analyze', 'platform/none-such', '--address', inject('temporalAddress')], { env: { PATH: process.env.PATH } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no finished platform start or restart has workflow id platform/none-such');
    expect(r.stderr).toContain('fix: give the workflow id or run id of a completed start');
  });
});
