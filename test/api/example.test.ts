/** The README's program (examples/api/start-platform.ts) runs as written, against the real dev server. */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { startAndStop } from '../../examples/api/start-platform.js';
import { runningServices, testPlatform, type TestPlatform } from '../support/services.js';
import { uniqueId, withWorker } from '../support/temporal.js';

const platforms: TestPlatform[] = [];
afterEach(async () => {
  while (platforms.length > 0) await platforms.pop()!.cleanup();
});

describe('the client API example', () => {
  it('starts the services with progress lines, stops them, and reports a failing service by name', async () => {
    const ok = await testPlatform([{ name: 'db', delay: 1.2, startup: 'auto_start = true' }, { name: 'web', deps: ['db'], delay: 1.2, startup: 'auto_start = true' }]);
    const bad = await testPlatform([{ name: 'broken', script: 'exit 3', startTimeout: 5, startup: 'auto_start = true' }]);
    platforms.push(ok, bad);
    await withWorker(async (taskQueue) => {
      for (const [p, expected] of [[ok, true], [bad, false]] as const) {
        const file = path.join(p.home, 'services.toml');
        await writeFile(file, p.toml);
        const lines: string[] = [];
        const passed = await startAndStop(file, { address: inject('temporalAddress'), taskQueue, platform: uniqueId('example'), home: p.home, log: (l) => lines.push(l) });
        expect(passed).toBe(expected);
        if (expected) {
          expect(lines[0]).toMatch(/^started platform\/example-[0-9a-f]+ \(run [0-9a-f-]+\): http:\/\/localhost:8233\/namespaces\/default\/workflows\//);
          expect(lines).toContain('up: db, web');
          expect(lines.at(-1)).toBe('stopped');
          expect(lines.some((l) => /db=(starting|waiting-healthy|started)/.test(l))).toBe(true);
        } else {
          expect(lines.at(-1)).toMatch(/^failed: broken: broken: failed/);
        }
        expect((await runningServices(p.home)).size).toBe(0);
      }
    });
  });
});
