/**
 * `npm run setup` where it cannot install: it names what is missing and the exact commands
 * to run by hand, exits 2, and installs nothing. Real processes: the script itself, run
 * with a PATH that has no apt-get, and as an unprivileged user.
 */
import { mkdir, symlink } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { which } from '../../src/util/which.js';
import { scratchDir } from '../support/cli.js';

const root = path.resolve(import.meta.dirname, '../..');
const setup = path.join(root, 'scripts/setup.mjs');

describe('npm run setup', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => ({ dir, cleanup } = await scratchDir()));
  afterAll(() => cleanup());

  it('on a machine without apt-get: names the missing packages, says what to do, exit 2', async () => {
    // A PATH with node and bash only: no apt-get, no dpkg-query, no docker.
    const bin = path.join(dir, 'bin');
    await mkdir(bin);
    for (const tool of ['node', 'bash']) await symlink(which(tool)!, path.join(bin, tool));
    const result = await execa(process.execPath, [setup], {
      env: { PATH: bin, HOME: dir, DOCKER_HOST: `unix://${dir}/no-docker.sock` },
      extendEnv: false,
      reject: false,
    });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/^setup: missing docker\.io, .*busybox-static.* and there is no apt-get here \(not Debian or Ubuntu\?\)$/m);
    expect(result.stderr).toContain('fix: install the equivalents with this system\'s package manager');
    expect(result.stdout).not.toMatch(/installing|installed/);
  });

  it('as a user without root or sudo: prints the apt-get command to run by hand, exit 2', async () => {
    // /usr/sbin (dockerd) is off PATH and DOCKER_HOST answers nothing, so the engine counts as missing.
    const home = path.join(dir, 'nobody');
    await mkdir(home, { mode: 0o777 });
    const result = await execa('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, setup], {
      env: { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: home, DOCKER_HOST: `unix://${home}/no-docker.sock` },
      extendEnv: false,
      reject: false,
    });
    expect(result.exitCode, result.stderr).toBe(2);
    expect(result.stderr).toContain('setup: missing docker.io: installing them needs root, and this user is not root and has no password-less sudo');
    expect(result.stderr).toContain('fix: run by hand: sudo apt-get update && sudo apt-get install -y --no-install-recommends docker.io');
    expect(result.stderr).toContain('then run "npm run setup" again');
  });

  it('rejects an unknown argument with exit 2 and explains itself with --help', async () => {
    const bad = await execa(process.execPath, [setup, '--fast'], { reject: false });
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain('setup: unknown argument --fast');
    const help = await execa(process.execPath, [setup, '--help'], { reject: false });
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toContain('usage: npm run setup');
  });
});
