/**
 * `provisioning platform ...` as a user runs it, against the real dev server: exit code 2
 * for bad input (nothing submitted), 1 for a failed start, with the reason in the output,
 * and nothing half-started left running.
 */
import { writeFileSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'smol-toml';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { cli } from '../support/cli.js';
import { runningServices, testPlatform, type ProcessSpec, type TestPlatform } from '../support/services.js';
import { uniqueId, withWorker } from '../support/temporal.js';

const platforms: TestPlatform[] = [];
afterEach(async () => {
  while (platforms.length > 0) await platforms.pop()!.cleanup();
});

/** Writes the test platform's registry to a file and runs the CLI against it with a worker on its own queue. */
async function platformCli(specs: ProcessSpec[], edit: (p: TestPlatform) => void, argv: (file: string) => string[]) {
  const platform = await testPlatform(specs);
  platforms.push(platform);
  edit(platform);
  const file = path.join(platform.home, 'services.toml');
  await writeFile(file, stringify({ services: Object.fromEntries(Object.entries(platform.registry.services).map(([k, v]) => [k, { ...v, name: k }])) }));
  return withWorker(async (taskQueue) => {
    const result = await cli([...argv(file), '--registry', file, '--address', inject('temporalAddress'), '--task-queue', taskQueue, '--platform', uniqueId('p')], {
      env: { PROVISIONING_HOME: platform.home, PATH: process.env.PATH },
    });
    return { ...result, platform, output: `${result.stdout}\n${result.stderr}` };
  });
}

describe('platform start from the command line', () => {
  it('starts services with their dependencies and prints each one healthy (exit 0), and --json has a services array', async () => {
    const r = await platformCli([{ name: 'db' }, { name: 'api', deps: ['db'] }], () => undefined, (f) => ['platform', 'start', 'api', '--json', '--registry', f]);
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout) as { ok: boolean; services: Array<{ name: string; status?: string; state: string; pid: number }> };
    expect(json.ok).toBe(true);
    expect(json.services.map((s) => [s.name, s.state])).toEqual([
      ['db', 'started'],
      ['api', 'started'],
    ]);
    expect(r.stderr).toMatch(/^Workflow platform\/p-\w+ \(run [\w-]+\)/);
  });

  it('says why nothing starts when no service is auto_start and none is named, and what to run; no workflow', async () => {
    // The test platform's services are not auto_start.
    const r = await platformCli([{ name: 'db' }, { name: 'api', deps: ['db'] }], () => undefined, (f) => ['platform', 'start', '--registry', f]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Nothing to start: no service in');
    expect(r.stdout).toContain('has startup.auto_start = true, and no service was named');
    expect(r.stdout).toContain('name the services to start (provisioning platform start db api), or set startup.auto_start = true');
    expect(r.output).not.toContain('Workflow platform/');
    expect((await runningServices(r.platform.home)).size).toBe(0);
  });

  it('rejects an unknown service with the closest name, exit 2, before submitting anything', async () => {
    const r = await platformCli([{ name: 'orchestrator' }], () => undefined, () => ['platform', 'start', 'orchestrater']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown service "orchestrater"');
    expect(r.stderr).toContain('did you mean "orchestrator"?');
    expect(r.stdout).not.toContain('Workflow');
  });

  it('fails pre-flight for a binary that is not executable: exit 1, nothing started', async () => {
    let plain = '';
    const r = await platformCli(
      [{ name: 'db' }, { name: 'api', deps: ['db'] }],
      (p) => {
        plain = path.join(p.home, 'not-executable');
        writeFileSync(plain, '#!/bin/sh\n', { mode: 0o644 });
        p.registry.services.api!.deployment.binary!.binary_path = plain;
      },
      () => ['platform', 'start', 'api'],
    );
    expect(r.code).toBe(1);
    expect(r.output).toContain('Pre-flight failed; nothing was started');
    expect(r.output).toContain(`api: binary is not executable: ${plain}`);
    expect((await runningServices(r.platform.home)).size).toBe(0);
  });

  it('fails pre-flight for a declared port already in use, naming who holds it', async () => {
    const blocker = net.createServer();
    const r = await platformCli(
      [{ name: 'db' }],
      (p) => blocker.listen(p.ports.db, '127.0.0.1'),
      () => ['platform', 'start', 'db'],
    ).finally(() => blocker.close());
    expect(r.code).toBe(1);
    expect(r.output).toMatch(/db: port \d+\/tcp is already in use by .+ \(PID \d+\)/);
  });

  it('reports a service that exits right after start with its last log lines, and skips its dependents', async () => {
    const r = await platformCli([{ name: 'db', script: 'echo "FATAL: data directory /var/lib/db is missing" >&2; exit 1' }, { name: 'api', deps: ['db'] }], () => undefined, () => ['platform', 'start', 'api']);
    expect(r.code).toBe(1);
    expect(r.output).toContain('❌ db: failed: db is not running (stopped)');
    expect(r.output).toContain('FATAL: data directory /var/lib/db is missing');
    expect(r.output).toContain('⏭ api: skipped: dependency db failed');
    expect(r.output).toContain('db failed; skipped because of it: api');
    expect((await runningServices(r.platform.home)).size).toBe(0);
  });

  it('reports a health check that never passes: the probe, its last result and how long it waited', async () => {
    const r = await platformCli([{ name: 'mute', script: 'exec sleep 30', startTimeout: 1 }], () => undefined, () => ['platform', 'start', 'mute']);
    expect(r.code).toBe(1);
    expect(r.output).toMatch(/mute did not become healthy within 1 s: TCP 127\.0\.0\.1:\d+; last result after \d+ probes: TCP 127\.0\.0\.1:\d+: ECONNREFUSED/);
  });

  it('refuses a stop while dependents run (exit 1), and stops everything in reverse order', async () => {
    const r = await platformCli([{ name: 'db' }, { name: 'api', deps: ['db'] }], () => undefined, () => ['platform', 'start', 'api']);
    expect(r.code).toBe(0);
    const file = path.join(r.platform.home, 'services.toml');
    await withWorker(async (taskQueue) => {
      const common = ['--registry', file, '--address', inject('temporalAddress'), '--task-queue', taskQueue, '--platform', uniqueId('p')];
      const env = { PROVISIONING_HOME: r.platform.home, PATH: process.env.PATH };
      const refused = await cli(['services', 'stop', 'db', ...common], { env });
      expect(refused.code).toBe(1);
      expect(refused.stdout).toContain('❌ Cannot stop db: dependent services running: api');
      const stopped = await cli(['platform', 'stop', '--json', ...common], { env });
      expect(stopped.code).toBe(0);
      expect((JSON.parse(stopped.stdout) as { services: Array<{ name: string; state: string }> }).services.map((s) => [s.name, s.state])).toEqual([
        ['api', 'stopped'],
        ['db', 'stopped'],
      ]);
    });
    expect((await runningServices(r.platform.home)).size).toBe(0);
  });

  it('shows the last lines of a service log', async () => {
    const r = await platformCli([{ name: 'chatty', script: 'echo one; echo two; echo three; exec httpd -f -p 127.0.0.1:{port} -h .' }], () => undefined, () => ['platform', 'start', 'chatty']);
    expect(r.code).toBe(0);
    const file = path.join(r.platform.home, 'services.toml');
    const logs = await cli(['platform', 'logs', 'chatty', '--lines', '2', '--registry', file], { env: { PROVISIONING_HOME: r.platform.home, PATH: process.env.PATH } });
    expect(logs.code).toBe(0);
    expect(logs.stdout).toBe('two\nthree');
    const unknown = await cli(['services', 'logs', 'chaty', '--registry', file], { env: { PROVISIONING_HOME: r.platform.home, PATH: process.env.PATH } });
    expect(unknown.code).toBe(2);
  });
});

describe('platform update from the command line', () => {
  it('rolls each running service in dependency order with new processes, and refuses an unknown service (exit 2)', async () => {
    const r = await platformCli([{ name: 'db' }, { name: 'api', deps: ['db'] }], () => undefined, () => ['platform', 'start', 'api']);
    expect(r.code).toBe(0);
    const before = await runningServices(r.platform.home);
    const file = path.join(r.platform.home, 'services.toml');
    await withWorker(async (taskQueue) => {
      const common = ['--registry', file, '--address', inject('temporalAddress'), '--task-queue', taskQueue, '--platform', uniqueId('p')];
      const env = { PROVISIONING_HOME: r.platform.home, PATH: process.env.PATH };
      const unknown = await cli(['platform', 'update', 'dbb', ...common], { env });
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toContain('unknown service "dbb"');
      expect(unknown.stdout).not.toContain('Workflow');
      const updated = await cli(['platform', 'update', '--json', ...common], { env });
      expect(updated.code).toBe(0);
      const json = JSON.parse(updated.stdout) as { ok: boolean; operation: string; services: Array<{ name: string; state: string }> };
      expect(json).toMatchObject({ ok: true, operation: 'update' });
      expect(json.services.map((s) => [s.name, s.state])).toEqual([
        ['db', 'started'],
        ['api', 'started'],
      ]);
      const plain = await cli(['platform', 'update', 'api', ...common], { env });
      expect(plain.code).toBe(0);
      expect(plain.stdout).toContain('Done: 1 started');
    });
    const after = await runningServices(r.platform.home);
    expect(after.get('db')).not.toEqual(before.get('db'));
    expect(after.get('api')).not.toEqual(before.get('api'));
  });
});

describe('host and worker flags refuse bad values (exit 2, nothing submitted or started)', () => {
  it.each([
    { argv: ['platform', 'start', 'db', '--host', 'Build_01'], message: '"Build_01" is not a host name; use lower-case letters, digits' },
    { argv: ['server', 'create', '--host', '-x-'], message: '"-x-" is not a host name' },
    { argv: ['test', 'quick', 'base', '--host', 'a b'], message: '"a b" is not a host name' },
    { argv: ['worker', '--host', 'UPPER'], message: '"UPPER" is not a host name' },
    { argv: ['worker', '--max-activities', '0'], message: '"0" is not a positive whole number' },
    { argv: ['worker', '--shutdown-grace', 'soon'], message: '"soon" is not a positive whole number' },
    { argv: ['worker', '--wait-for-temporal', '1.5'], message: '"1.5" is not a whole number (0 or more)' },
    { argv: ['worker', '--log-level', 'loud'], message: '"loud" is not a log level; use one of TRACE, DEBUG, INFO, WARN, ERROR (any case)' },
    { argv: ['dev', '--log-level', 'verbose'], message: '"verbose" is not a log level' },
  ])('$argv', async ({ argv, message }) => {
    const result = await cli([...argv, '--address', '127.0.0.1:1']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
  });

  it.each([
    { argv: ['worker'], variable: 'PROVISIONING_TESTENV_NETPOOL', value: 'lots', message: 'PROVISIONING_TESTENV_NETPOOL=lots is not a whole number from 0 to 1000', fix: '0 turns the pool off' },
    { argv: ['worker'], variable: 'PROVISIONING_TESTENV_NETPOOL_NAME', value: 'Team_A', message: 'PROVISIONING_TESTENV_NETPOOL_NAME=Team_A is not a pool name', fix: 'lower-case letters, digits and "-"' },
    { argv: ['worker'], variable: 'PROVISIONING_TESTENV_POOL', value: '10.9.0.0/33', message: 'PROVISIONING_TESTENV_POOL=10.9.0.0/33 is not an IPv4 CIDR of /24 or larger', fix: 'write a network like 10.213.0.0/16' },
    { argv: ['dev', '--port', '1', '--headless'], variable: 'PROVISIONING_TESTENV_NETPOOL', value: '-1', message: 'PROVISIONING_TESTENV_NETPOOL=-1 is not a whole number from 0 to 1000', fix: 'default 32' },
  ])('$argv with $variable=$value', async ({ argv, variable, value, message, fix }) => {
    const home = await mkdtemp(path.join(os.tmpdir(), 'provisioning-netpool-env-'));
    try {
      const result = await cli([...argv, ...(argv[0] === 'worker' ? ['--address', '127.0.0.1:1'] : [])], { env: { HOME: home, PROVISIONING_HOME: home, PATH: process.env.PATH, [variable]: value } });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(message);
      expect(result.stderr).toContain(fix);
      // Refused before anything started: dev wrote no state into its home.
      expect(await readdir(home)).toEqual([]);
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });
});
