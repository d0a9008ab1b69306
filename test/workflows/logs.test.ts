/**
 * `provisioning worker --log-level INFO --log-format json` (a real process): the workflows and
 * activities of a platform start log through the SDK's loggers, one JSON object per line, with
 * the service as an attribute next to the SDK's own (workflowType, activityType, ...).
 */
import { afterAll, describe, expect, inject, it } from 'vitest';
import type { PlatformResult } from '../../src/model/platform.js';
import { watchOutput } from '../../src/util/process.js';
import { testPlatform, type TestPlatform } from '../support/services.js';
import { testClient, uniqueId } from '../support/temporal.js';
import { workerProcess } from '../support/worker-process.js';

const kills: Array<() => Promise<unknown>> = [];
let platform: TestPlatform | undefined;
afterAll(async () => {
  for (const kill of kills) await kill();
  await platform?.cleanup();
});

describe('worker logs', () => {
  it('are JSON lines with the service as an attribute, from workflows and activities', async () => {
    const taskQueue = uniqueId('logs');
    const { process: child } = await workerProcess(taskQueue, (k) => kills.push(k), ['--log-level', 'INFO', '--log-format', 'json'], { PROVISIONING_WORKFLOW_BUNDLE: inject('workflowBundlePath') });
    const output = watchOutput(child);
    platform = await testPlatform([{ name: 'db' }, { name: 'api', deps: ['db'] }]);
    const { client, close } = await testClient();
    try {
      const handle = await client.workflow.start('platformStart', { taskQueue, workflowId: uniqueId('logs-start'), args: [{ registry: platform.registry, home: platform.home, services: ['api'], platform: uniqueId('p') }] });
      expect(((await handle.result()) as PlatformResult).ok).toBe(true);
      await output.until('"message":"api healthy after', 'the api healthy log line', 10_000);
      const lines = output
        .output()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      const healthy = lines.find((l) => typeof l.message === 'string' && l.message.startsWith('api healthy after'));
      expect(healthy).toMatchObject({ level: 'INFO', service: 'api', mode: 'binary', workflowType: 'platformStart', workflowId: handle.workflowId, taskQueue });
      expect(typeof healthy!.pid).toBe('number');
      const spawned = lines.find((l) => l.message === 'db spawned');
      expect(spawned).toMatchObject({ level: 'INFO', service: 'db', activityType: 'startServiceHealthy', workflowId: handle.workflowId });
      expect(new Date(String(spawned!.time)).getTime()).toBeGreaterThan(0);
    } finally {
      await close();
    }
  });
});
