/** Runs the CLI in-process with captured output, and writes throwaway registry files. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../../src/client/cli.js';
import type { Env } from '../../src/config/registry.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function cli(argv: string[], options: { env?: Env; cwd?: string } = {}): Promise<CliResult> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, {
    out: (t) => out.push(t),
    err: (t) => err.push(t),
    env: options.env ?? { HOME: '/home/test', PATH: process.env.PATH },
    cwd: options.cwd ?? process.cwd(),
    isTTY: false,
  });
  return { code, stdout: out.join('\n'), stderr: err.join('\n') };
}

/** A scratch directory removed by the returned cleanup. */
export async function scratchDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'provisioning-cli-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** A scratch directory whose removal is queued on `cleanups` (a test file's afterEach list). */
export async function scratchIn(cleanups: Array<() => Promise<unknown>>): Promise<string> {
  const { dir, cleanup } = await scratchDir();
  cleanups.push(cleanup);
  return dir;
}

export async function writeRegistry(dir: string, toml: string, name = 'services.toml'): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, toml);
  return file;
}

/** A minimal valid service table; `extra` lines are appended inside [services.<name>]. */
export function service(name: string, extra = '', mode = '[services.NAME.deployment]\nmode = "remote"\n[services.NAME.deployment.remote]\nendpoint = "https://example.test"'): string {
  return `[services.${name}]\n${extra}\n${mode.replaceAll('NAME', name)}\n`;
}
