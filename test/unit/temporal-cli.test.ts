import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/config/errors.js';
import { cachedCliPath, findLocalTemporalCli } from '../../src/temporal/cli-binary.js';
import { scratchDir } from '../support/cli.js';

describe('Temporal CLI resolution', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  /** A stand-in binary that answers --version as the real one does (or prints `says`). */
  const exe = async (file: string, says = 'temporal version 9.9.9-test (Server 0, UI 0)') => {
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, `#!/bin/sh\necho '${says}'\n`);
    await chmod(file, 0o755);
  };
  beforeAll(async () => {
    ({ dir, cleanup } = await scratchDir());
    await exe(path.join(dir, 'explicit/temporal'));
    await exe(path.join(dir, 'onpath/temporal'));
    await exe(path.join(dir, 'cache/provisioning/bin/temporal'));
    await exe(path.join(dir, 'broken-cache/provisioning/bin/temporal'), 'Segmentation fault');
    await writeFile(path.join(dir, 'not-executable'), '');
  });
  afterAll(() => cleanup());

  it('prefers TEMPORAL_CLI_PATH, then PATH, then the user cache, and reports the version', async () => {
    const cache = path.join(dir, 'cache');
    const onPath = path.join(dir, 'onpath');
    const version = 'temporal version 9.9.9-test (Server 0, UI 0)';
    expect(await findLocalTemporalCli({ TEMPORAL_CLI_PATH: path.join(dir, 'explicit/temporal'), PATH: onPath, XDG_CACHE_HOME: cache })).toEqual({
      path: path.join(dir, 'explicit/temporal'),
      source: 'TEMPORAL_CLI_PATH',
      version,
    });
    expect(await findLocalTemporalCli({ PATH: onPath, XDG_CACHE_HOME: cache })).toEqual({ path: path.join(onPath, 'temporal'), source: 'PATH', version });
    expect(await findLocalTemporalCli({ PATH: '', XDG_CACHE_HOME: cache })).toEqual({ path: path.join(cache, 'provisioning/bin/temporal'), source: 'cache', version });
    expect(await findLocalTemporalCli({ PATH: '', XDG_CACHE_HOME: path.join(dir, 'empty') })).toBeUndefined();
  });

  it('keeps the cache per user: PROVISIONING_HOME does not move it, XDG_CACHE_HOME or HOME do', () => {
    expect(cachedCliPath({ HOME: '/home/u', PROVISIONING_HOME: '/tmp/elsewhere' })).toBe('/home/u/.cache/provisioning/bin/temporal');
    expect(cachedCliPath({ HOME: '/home/u', XDG_CACHE_HOME: '/var/cache/u' })).toBe('/var/cache/u/provisioning/bin/temporal');
  });

  it('refuses a TEMPORAL_CLI_PATH that is not an executable file, naming it and the fix', async () => {
    const bad = path.join(dir, 'not-executable');
    const error = await findLocalTemporalCli({ TEMPORAL_CLI_PATH: bad }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toContain(`TEMPORAL_CLI_PATH=${bad} is not an executable file`);
    expect((error as Error).message).toContain('fix: point TEMPORAL_CLI_PATH at the temporal binary');
  });

  it('refuses a cached file that is not a working Temporal CLI, and says to remove it and install again', async () => {
    const cache = path.join(dir, 'broken-cache');
    const error = await findLocalTemporalCli({ PATH: '', XDG_CACHE_HOME: cache }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toContain(`the cached ${path.join(cache, 'provisioning/bin/temporal')} is not a working Temporal CLI`);
    expect((error as Error).message).toContain('"Segmentation fault"');
    expect((error as Error).message).toContain(`fix: remove ${path.join(cache, 'provisioning/bin/temporal')} and run "npm run setup"`);
  });
});
