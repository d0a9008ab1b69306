import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/config/errors.js';
import { cachedCliPath, findLocalTemporalCli } from '../../src/temporal/cli-binary.js';
import { scratchDir } from '../support/cli.js';

describe('Temporal CLI resolution', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  const exe = async (file: string) => {
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, '#!/bin/sh\n');
    await chmod(file, 0o755);
  };
  beforeAll(async () => {
    ({ dir, cleanup } = await scratchDir());
    await exe(path.join(dir, 'explicit/temporal'));
    await exe(path.join(dir, 'onpath/temporal'));
    await exe(path.join(dir, 'home/bin/temporal'));
    await writeFile(path.join(dir, 'not-executable'), '');
  });
  afterAll(() => cleanup());

  it('prefers TEMPORAL_CLI_PATH, then PATH, then the project cache', () => {
    const home = path.join(dir, 'home');
    const onPath = path.join(dir, 'onpath');
    expect(findLocalTemporalCli({ TEMPORAL_CLI_PATH: path.join(dir, 'explicit/temporal'), PATH: onPath, PROVISIONING_HOME: home })).toEqual({
      path: path.join(dir, 'explicit/temporal'),
      source: 'TEMPORAL_CLI_PATH',
    });
    expect(findLocalTemporalCli({ PATH: onPath, PROVISIONING_HOME: home })).toEqual({ path: path.join(onPath, 'temporal'), source: 'PATH' });
    expect(findLocalTemporalCli({ PATH: '', PROVISIONING_HOME: home })).toEqual({ path: cachedCliPath({ PROVISIONING_HOME: home }), source: 'cache' });
    expect(findLocalTemporalCli({ PATH: '', PROVISIONING_HOME: path.join(dir, 'empty') })).toBeUndefined();
  });

  it('refuses a TEMPORAL_CLI_PATH that is not an executable file, naming it', () => {
    const bad = path.join(dir, 'not-executable');
    expect(() => findLocalTemporalCli({ TEMPORAL_CLI_PATH: bad })).toThrow(UsageError);
    expect(() => findLocalTemporalCli({ TEMPORAL_CLI_PATH: bad })).toThrow(`TEMPORAL_CLI_PATH=${bad} is not an executable file`);
  });
});
