/**
 * A Temporal server that does not know the project's search attributes (any server but the
 * dev server the project starts): the CLI says how to fix it, and a worker registers them.
 */
import { Connection } from '@temporalio/client';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { ensureSearchAttributes } from '../../src/temporal/search-attributes.js';
import { findLocalTemporalCli } from '../../src/temporal/cli-binary.js';
import { freePort } from '../../src/util/net.js';
import { cli, scratchDir, service, writeRegistry } from '../support/cli.js';

describe('search attributes on a server that lacks them', () => {
  it('make the CLI explain the fix, and are registered once by ensureSearchAttributes', async () => {
    const port = await freePort();
    const server = execa((await findLocalTemporalCli())!.path, ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--headless', '--log-level', 'error'], { reject: false });
    const { dir, cleanup } = await scratchDir();
    try {
      let connection: Connection | undefined;
      for (let i = 0; i < 100 && !connection; i++) {
        connection = await Connection.connect({ address: `127.0.0.1:${port}`, connectTimeout: 500 })
          .then(async (c) => (await c.workflowService.describeNamespace({ namespace: 'default' }), c))
          .catch(async () => (await new Promise((r) => setTimeout(r, 200)), undefined));
      }
      const registry = await writeRegistry(dir, service('db'));
      const refused = await cli(['platform', 'start', 'db', '--registry', registry, '--address', `127.0.0.1:${port}`, '--no-wait'], { env: { PROVISIONING_HOME: dir, PATH: process.env.PATH } });
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('does not know this project\'s search attributes');
      expect(refused.stderr).toContain('temporal operator search-attribute create --namespace default --name ProvisioningOperation --type Keyword --name ProvisioningTargets --type KeywordList');

      expect(await ensureSearchAttributes(connection!, 'default')).toEqual(['ProvisioningOperation', 'ProvisioningTargets']);
      expect(await ensureSearchAttributes(connection!, 'default')).toEqual([]);
      const accepted = await cli(['platform', 'start', 'db', '--registry', registry, '--address', `127.0.0.1:${port}`, '--no-wait', '--json'], { env: { PROVISIONING_HOME: dir, PATH: process.env.PATH } });
      expect(accepted.code).toBe(0);
      expect(JSON.parse(accepted.stdout)).toMatchObject({ workflowId: 'platform/default' });
      await connection!.close();
    } finally {
      server.kill('SIGTERM');
      await server;
      await cleanup();
    }
  });
});
