import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRegistry } from '../../src/config/registry.js';
import { planQuery, planStartup } from '../../src/workflows/index.js';
import { testClient, uniqueId, withWorker } from '../support/temporal.js';

const examples = path.resolve(import.meta.dirname, '../../examples');

describe('planStartup workflow on the real dev server', () => {
  it('computes the startup order through the graph module and returns it through a query', async () => {
    const registry = await loadRegistry(path.join(examples, 'services.toml'), { HOME: '/home/test' });
    const { client, close } = await testClient();
    try {
      await withWorker(async (taskQueue) => {
        const handle = await client.workflow.start(planStartup, {
          taskQueue,
          workflowId: uniqueId('plan'),
          args: [{ registry, services: ['api-gateway'] }],
        });
        const result = await handle.result();
        const queried = await handle.query(planQuery);
        expect(queried).toEqual(result);
        expect(queried?.order).toEqual(['orchestrator', 'control-center', 'mcp-server', 'api-gateway']);
        expect(queried?.levels).toEqual([['orchestrator'], ['control-center', 'mcp-server'], ['api-gateway']]);
      });
    } finally {
      await close();
    }
  });

  it('fails without retrying when a requested service is unknown', async () => {
    const registry = await loadRegistry(path.join(examples, 'services.toml'), { HOME: '/home/test' });
    const { client, close } = await testClient();
    try {
      await withWorker(async (taskQueue) => {
        const run = client.workflow.execute(planStartup, {
          taskQueue,
          workflowId: uniqueId('plan-unknown'),
          args: [{ registry, services: ['no-such-service'] }],
        });
        await expect(run).rejects.toMatchObject({ cause: { message: 'unknown service: no-such-service', type: 'UnknownNodeError' } });
      });
    } finally {
      await close();
    }
  });
});
