/** `monitoring install-dashboards` as a user runs it: the files Grafana's file provisioning reads, and nothing lost. */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { parse } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { cli, scratchIn } from '../support/cli.js';

const root = path.resolve(import.meta.dirname, '../..');
const shipped = path.join(root, 'deploy/grafana/provisioning-dashboard.json');

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!().catch(() => undefined);
});

const scratch = () => scratchIn(cleanups);

interface Installed {
  dir: string;
  files: Array<{ file: string; state: string }>;
}

describe('monitoring install-dashboards', () => {
  it('writes the shipped dashboard and a provider that loads the folder; a second run changes nothing', async () => {
    const dir = path.join(await scratch(), 'grafana');
    const first = await cli(['monitoring', 'install-dashboards', '--dir', dir, '--json']);
    expect(first.code).toBe(0);
    const installed = JSON.parse(first.stdout) as Installed;
    expect(installed.files).toEqual([
      { file: path.join(dir, 'provisioning-dashboard.json'), state: 'written' },
      { file: path.join(dir, 'provisioning-dashboards.yaml'), state: 'written' },
    ]);
    expect(await readFile(path.join(dir, 'provisioning-dashboard.json'), 'utf8')).toBe(await readFile(shipped, 'utf8'));
    const provider = parse(await readFile(path.join(dir, 'provisioning-dashboards.yaml'), 'utf8')) as { apiVersion: number; providers: Array<{ type: string; folder: string; options: { path: string } }> };
    expect(provider).toEqual({ apiVersion: 1, providers: [expect.objectContaining({ type: 'file', folder: 'provisioning', options: { path: dir } })] });
    const again = JSON.parse((await cli(['monitoring', 'install-dashboards', '--dir', dir, '--json'])).stdout) as Installed;
    expect(again.files.map((f) => f.state)).toEqual(['unchanged', 'unchanged']);
  });

  it('leaves a file with other content alone (exit 2, nothing written) unless --force', async () => {
    const dir = await scratch();
    const mine = path.join(dir, 'provisioning-dashboard.json');
    await writeFile(mine, '{"title": "mine"}');
    const refused = await cli(['monitoring', 'install-dashboards', '--dir', dir]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`${mine} exists with other content; nothing was written`);
    expect(refused.stderr).toContain('fix: pass --force to replace');
    expect(await readFile(mine, 'utf8')).toBe('{"title": "mine"}');
    await expect(readFile(path.join(dir, 'provisioning-dashboards.yaml'))).rejects.toThrow(/ENOENT/);
    const forced = JSON.parse((await cli(['monitoring', 'install-dashboards', '--dir', dir, '--force', '--json'])).stdout) as Installed;
    expect(forced.files.map((f) => f.state)).toEqual(['replaced', 'written']);
    expect(await readFile(mine, 'utf8')).toBe(await readFile(shipped, 'utf8'));
  });

  it('refuses a --dir that is a file, and no --dir, with exit 2', async () => {
    const file = path.join(await scratch(), 'a-file');
    await writeFile(file, '');
    const notDir = await cli(['monitoring', 'install-dashboards', '--dir', file]);
    expect(notDir.code).toBe(2);
    expect(notDir.stderr).toContain(`--dir ${file} is not a directory`);
    const missing = await cli(['monitoring', 'install-dashboards']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("required option '--dir <dir>' not specified");
  });

  it('finds the shipped dashboards from the built CLI too (bin/provisioning.js runs dist/)', async () => {
    const dir = await scratch();
    const built = await execa('node', [path.join(root, 'bin/provisioning.js'), 'monitoring', 'install-dashboards', '--dir', dir, '--json'], { reject: false, env: { PROVISIONING_FROM_SOURCE: '' } });
    expect(built.exitCode, built.stderr).toBe(0);
    expect(await readFile(path.join(dir, 'provisioning-dashboard.json'), 'utf8')).toBe(await readFile(shipped, 'utf8'));
  });
});
