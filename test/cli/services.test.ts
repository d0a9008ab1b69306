import { chmod, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BASE_IMAGE } from '../../src/docker/base-image.js';
import { which } from '../../src/util/which.js';
import { cli, scratchDir, service, writeRegistry } from '../support/cli.js';
import { dockerAvailable } from '../support/docker.js';
import { testPlatform } from '../support/services.js';
import { binaryDriver } from '../../src/activities/drivers/binary.js';

const root = path.resolve(import.meta.dirname, '../..');
const examples = path.join(root, 'examples/services.toml');

describe('services list', () => {
  it('lists the seeds\' seven services as JSON', async () => {
    const result = await cli(['services', 'list', '--registry', examples, '--json']);
    expect(result.code).toBe(0);
    const json = JSON.parse(result.stdout) as { services: Array<{ name: string; mode: string; auto_start: boolean }> };
    expect(json.services).toHaveLength(7);
    expect(json.services.find((s) => s.name === 'orchestrator')).toMatchObject({ mode: 'binary', auto_start: true });
  });

  it('filters by category and prints a table', async () => {
    const result = await cli(['services', 'list', '--registry', examples, '--category', 'api']);
    expect(result.code).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines[0]).toMatch(/^NAME\s+TYPE\s+CATEGORY\s+MODE\s+AUTO_START\s+DEPENDS ON$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/)[0])).toEqual(['mcp-server', 'api-gateway']);
  });

  it('--running and --stopped list the services by what this machine runs (a real process)', async () => {
    const platform = await testPlatform([{ name: 'web' }, { name: 'idle' }]);
    try {
      const file = await writeRegistry(platform.home, platform.toml);
      const env = { HOME: '/home/test', PATH: process.env.PATH, PROVISIONING_HOME: platform.home };
      const started = await binaryDriver.start(platform.registry.services.web!, { home: platform.home });
      const running = await cli(['services', 'list', '--registry', file, '--running', '--json'], { env });
      expect(running.code).toBe(0);
      expect((JSON.parse(running.stdout) as { services: Array<{ name: string; status: string; detail: string }> }).services).toEqual([
        expect.objectContaining({ name: 'web', status: 'running', detail: `running (PID ${started.pid})` }),
      ]);
      const stopped = await cli(['services', 'list', '--registry', file, '--stopped'], { env });
      expect(stopped.code).toBe(0);
      expect(stopped.stdout.split('\n')[0]).toMatch(/^NAME\s+STATUS\s+CATEGORY\s+MODE\s+DETAIL\s+DEPENDS ON$/);
      expect(stopped.stdout.split('\n').slice(1).map((l) => l.split(/\s+/).slice(0, 2))).toEqual([['idle', 'stopped']]);
      await binaryDriver.stop(platform.registry.services.web!, { home: platform.home }, { graceSeconds: 5 });
      const none = await cli(['services', 'list', '--registry', file, '--running'], { env });
      expect(none.stdout).toBe(`No running services (registry ${file}).`);
      const both = await cli(['services', 'list', '--registry', file, '--running', '--stopped'], { env });
      expect(both.code).toBe(2);
      expect(both.stderr).toContain('--running and --stopped exclude each other');
    } finally {
      await platform.cleanup();
    }
  });
});

describe('services dependencies', () => {
  it('prints order and levels of the whole graph as JSON', async () => {
    const result = await cli(['services', 'dependencies', '--registry', examples, '--format', 'json']);
    expect(result.code).toBe(0);
    const view = JSON.parse(result.stdout) as { order: string[]; levels: string[][] };
    expect(view.order).toEqual(['orchestrator', 'coredns', 'control-center', 'oci-registry', 'gitea', 'mcp-server', 'api-gateway']);
    expect(view.levels).toEqual([['orchestrator', 'coredns', 'oci-registry', 'gitea'], ['control-center', 'mcp-server'], ['api-gateway']]);
  });

  it('limits the view to one service and what it needs', async () => {
    const result = await cli(['services', 'dependencies', 'control-center', '--registry', examples, '--format', 'json']);
    expect(JSON.parse(result.stdout)).toMatchObject({ service: 'control-center', order: ['orchestrator', 'control-center'] });
  });

  it('shows what depends on a service with --reverse', async () => {
    const result = await cli(['services', 'dependencies', 'orchestrator', '--reverse', '--registry', examples, '--format', 'json']);
    const view = JSON.parse(result.stdout) as { order: string[] };
    expect(view.order).toEqual(['orchestrator', 'control-center', 'mcp-server', 'api-gateway']);
  });

  it('renders Graphviz dot and Mermaid with an arrow from each service to its dependency', async () => {
    const dot = await cli(['services', 'dependencies', '--registry', examples, '--format', 'dot']);
    expect(dot.stdout).toMatch(/^digraph dependencies \{/);
    expect(dot.stdout).toContain('"api-gateway" -> "mcp-server"');
    const mermaid = await cli(['services', 'dependencies', '--registry', examples, '--format', 'mermaid']);
    expect(mermaid.stdout.split('\n')[0]).toBe('graph LR');
    expect(mermaid.stdout).toContain('control_center -->|depends on| orchestrator');
  });

  it('draws a tree with each service under its nearest dependency', async () => {
    const result = await cli(['services', 'dependencies', '--registry', examples]);
    expect(result.stdout).toContain('orchestrator (order: 10)\n├─ control-center (order: 20)\n│  └─ api-gateway (order: 45)\n└─ mcp-server (order: 40)');
    expect(result.stdout).toContain('Startup order: orchestrator -> coredns -> control-center');
  });

  it('rejects an unknown service with the closest name, exit code 2', async () => {
    const result = await cli(['services', 'dependencies', 'control-centre', '--registry', examples]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('unknown service "control-centre"');
    expect(result.stderr).toContain('did you mean "control-center"?');
  });

  it('rejects an unknown format, exit code 2', async () => {
    const result = await cli(['services', 'dependencies', '--registry', examples, '--format', 'svg']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("Allowed choices are tree, dot, mermaid, json");
  });
});

describe('services validate checks each mode\'s prerequisites without starting anything', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => ({ dir, cleanup } = await scratchDir()));
  afterAll(() => cleanup());

  const binary = (name: string, file: string) =>
    service(name, '', `[services.NAME.deployment]\nmode = "binary"\n[services.NAME.deployment.binary]\nbinary_path = "${file}"`);

  it('passes an executable binary and fails a missing or non-executable one, exit code 1', async () => {
    const plain = path.join(dir, 'not-executable');
    await writeFile(plain, '#!/bin/sh\n');
    const file = await writeRegistry(dir, binary('good', process.execPath) + binary('missing', path.join(dir, 'nope')) + binary('plain', plain), 'bin.toml');
    const result = await cli(['services', 'validate', '--registry', file, '--json']);
    expect(result.code).toBe(1);
    const json = JSON.parse(result.stdout) as { valid: number; invalid: number; services: Array<{ service: string; ok: boolean; checks: Array<{ message: string }> }> };
    expect(json).toMatchObject({ valid: 1, invalid: 2 });
    const by = Object.fromEntries(json.services.map((s) => [s.service, s]));
    expect(by.good!.ok).toBe(true);
    expect(by.missing!.checks[0]!.message).toBe(`binary not found: ${path.join(dir, 'nope')}`);
    expect(by.plain!.checks[0]!.message).toContain('binary is not executable');
  });

  it('exits 0 and says so when every service is ready', async () => {
    const exe = path.join(dir, 'ok.sh');
    await writeFile(exe, '#!/bin/sh\n');
    await chmod(exe, 0o755);
    const file = await writeRegistry(dir, binary('ok', exe), 'ok.toml');
    const result = await cli(['services', 'validate', '--registry', file]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Total services: 1\nValid: 1\nInvalid: 0');
  });

  it('checks the remote token file, compose file and kubectl', async () => {
    const toml =
      service('api', '', '[services.api.deployment]\nmode = "remote"\n[services.api.deployment.remote]\nendpoint = "https://api.test"\nauth_token_path = "/nonexistent/token"') +
      service('web', '', `[services.web.deployment]\nmode = "docker-compose"\n[services.web.deployment.docker_compose]\ncompose_file = "${dir}/none.yaml"\nservice_name = "web"`) +
      service('k8s', '', '[services.k8s.deployment]\nmode = "kubernetes"\n[services.k8s.deployment.kubernetes]\ndeployment_name = "k8s"\nmanifests_path = "/nonexistent/k8s"');
    const file = await writeRegistry(dir, toml, 'modes.toml');
    const result = await cli(['services', 'validate', '--registry', file, '--json']);
    const by = Object.fromEntries((JSON.parse(result.stdout) as { services: Array<{ service: string; checks: Array<{ name: string; ok: boolean; message: string }> }> }).services.map((s) => [s.service, s.checks]));
    expect(by.api!.find((c) => c.name === 'auth_token_path')).toMatchObject({ ok: false, message: '/nonexistent/token not found' });
    expect(by.web!.find((c) => c.name === 'compose_file')).toMatchObject({ ok: false, message: `${dir}/none.yaml not found` });
    expect(by.k8s!.find((c) => c.name === 'kubectl')!.ok).toBe(which('kubectl') !== undefined);
    expect(by.k8s!.find((c) => c.name === 'manifests_path')!.ok).toBe(false);
  });

  it.runIf(dockerAvailable)('finds a local Docker image and reports a missing one', async () => {
    const docker = (name: string, image: string) =>
      service(name, '', `[services.${name}.deployment]\nmode = "docker"\n[services.${name}.deployment.docker]\nimage = "${image}"`);
    const file = await writeRegistry(dir, docker('here', BASE_IMAGE) + docker('absent', 'provisioning-test/absent:never'), 'docker.toml');
    const result = await cli(['services', 'validate', '--registry', file, '--json']);
    const by = Object.fromEntries((JSON.parse(result.stdout) as { services: Array<{ service: string; ok: boolean; checks: Array<{ message: string }> }> }).services.map((s) => [s.service, s]));
    expect(by.here!.ok).toBe(true);
    expect(by.absent!.checks.map((c) => c.message)).toContain('image provisioning-test/absent:never is not present locally (build or pull it first)');
  });
});

describe('command-line usage', () => {
  it('gives every command help with examples', async () => {
    const { buildProgram } = await import('../../src/client/cli.js');
    const leaves: string[][] = [];
    const walk = (command: import('commander').Command, path: string[]) => {
      if (command.commands.length === 0) leaves.push(path);
      for (const sub of command.commands) walk(sub, [...path, sub.name()]);
    };
    walk(await buildProgram({ out: () => undefined, err: () => undefined, env: {}, cwd: '/', isTTY: false }), []);
    expect(leaves.length).toBeGreaterThan(15);
    for (const path of leaves) {
      const help = await cli([...path, '--help']);
      expect(help.code, path.join(' ')).toBe(0);
      expect(help.stdout, `${path.join(' ')} --help`).toContain('Example');
    }
  });

  it('prints help with examples and exits 0', async () => {
    const result = await cli(['services', 'validate', '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Examples:');
    expect(result.stdout).toContain('--registry <file>');
  });

  it('exits 2 on an unknown command or option', async () => {
    expect((await cli(['servics', 'list'])).code).toBe(2);
    const result = await cli(['services', 'list', '--colour']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("unknown option '--colour'");
  });

  it('exits 2 on a port that is not a port', async () => {
    const result = await cli(['dev', '--port', '99999']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('"99999" is not a port');
  });
});

describe('the provisioning bin as a real process', () => {
  const bin = path.join(root, 'bin/provisioning.js');
  const env = { PROVISIONING_FROM_SOURCE: '1' };

  it('runs a command and exits 0', async () => {
    const result = await execa('node', [bin, 'services', 'list', '--registry', examples, '--json'], { env, reject: false });
    expect(result.exitCode).toBe(0);
    expect((JSON.parse(result.stdout) as { services: unknown[] }).services).toHaveLength(7);
  });

  it('exits 2 with the message on stderr for a bad registry', async () => {
    const { dir, cleanup } = await scratchDir();
    try {
      const file = await writeRegistry(dir, service('a', 'dependencies = ["a"]'));
      const result = await execa('node', [bin, 'services', 'validate', '--registry', file], { env, reject: false });
      expect(result.exitCode).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr).toContain(`${file}: services.a.dependencies[0]: a depends on itself`);
    } finally {
      await cleanup();
    }
  });
});
