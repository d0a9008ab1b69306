/** The production-shape Temporal's prerequisites, when missing, are usage errors that say to run set-up. */
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/config/errors.js';
import { serverBinaries, TEMPORAL_SERVER_VERSION } from '../../src/temporal/server-binaries.js';
import { scratchDir } from '../support/cli.js';

describe('the cluster harness prerequisites', () => {
  it('a user cache without the built Temporal server is a usage error naming what is missing and the fix', async () => {
    const { dir, cleanup } = await scratchDir();
    try {
      let error: unknown;
      try {
        serverBinaries({ XDG_CACHE_HOME: dir });
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(UsageError);
      expect((error as Error).message).toContain(`the Temporal server ${TEMPORAL_SERVER_VERSION} is not built (missing ${dir}/provisioning/temporal-server/${TEMPORAL_SERVER_VERSION}/bin/temporal-server`);
      expect((error as UsageError).fix).toContain('run "npm run setup"');
    } finally {
      await cleanup();
    }
  });
});
