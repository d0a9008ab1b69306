import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findRegistry } from '../../src/config/discovery.js';
import { ConfigError, UsageError } from '../../src/config/errors.js';
import { splitCommand } from '../../src/config/fields.js';
import { parsePortMapping } from '../../src/config/ports.js';
import { loadRegistry, parseRegistry } from '../../src/config/registry.js';
import { scratchDir, service } from '../support/cli.js';
import { parse } from 'smol-toml';

const examples = path.resolve(import.meta.dirname, '../../examples/services.toml');
const env = { HOME: '/home/ops' };

describe('the seeds\' seven platform services', () => {
  it('load with their modes, dependencies and expanded ${HOME} paths', async () => {
    const registry = await loadRegistry(examples, env);
    expect(Object.keys(registry.services).sort()).toEqual(
      ['api-gateway', 'control-center', 'coredns', 'gitea', 'mcp-server', 'oci-registry', 'orchestrator'],
    );
    const orchestrator = registry.services.orchestrator!;
    expect(orchestrator.required_for).toEqual(['server', 'taskserv', 'cluster', 'workflow', 'batch']);
    expect(orchestrator.deployment.binary?.binary_path).toBe('/home/ops/.provisioning/bin/provisioning-orchestrator');
    expect(orchestrator.deployment.binary?.args).toContain('/home/ops/.provisioning/orchestrator/data');
    expect(registry.services['api-gateway']!.dependencies).toEqual(['orchestrator', 'control-center', 'mcp-server']);
    expect(registry.services.coredns!.deployment.mode).toBe('docker');
    expect(registry.services.coredns!.conflicts).toEqual(['dnsmasq', 'systemd-resolved']);
  });
});

describe('defaults from the seeds\' guide', () => {
  const load = (toml: string) => parseRegistry(parse(toml), '/virtual/services.toml', env);

  it('fill health check and startup settings that are left out', () => {
    const s = load(service('a', '[services.a.health_check]\ntype = "http"\n[services.a.health_check.http]\nendpoint = "http://localhost:1/h"')).services.a!;
    expect(s.health_check).toMatchObject({ interval: 10, retries: 3, timeout: 5, http: { expected_status: 200, method: 'GET' } });
    expect(s.startup).toEqual({ auto_start: false, start_timeout: 30, start_order: 100, restart_on_failure: false, max_restarts: 3 });
    expect(s.type).toBe('platform');
    expect(s.dependencies).toEqual([]);
  });

  it('treat a service without a health check as type "none"', () => {
    expect(load(service('a')).services.a!.health_check.type).toBe('none');
  });

  it('name a Docker container provisioning-<name> unless the registry names it', () => {
    const docker = '[services.NAME.deployment]\nmode = "docker"\n[services.NAME.deployment.docker]\nimage = "x:1"';
    const registry = load(service('web', '', docker) + service('db', '', docker + '\ncontainer_name = "my-db"'));
    expect(registry.services.web!.deployment.docker?.container_name).toBe('provisioning-web');
    expect(registry.services.db!.deployment.docker?.container_name).toBe('my-db');
    expect(registry.services.web!.deployment.docker?.restart_policy).toBe('no');
  });

  it('turn TLS on for an https remote endpoint unless tls_enabled says otherwise', () => {
    const r = load(service('a') + service('b', '', '[services.b.deployment]\nmode = "remote"\n[services.b.deployment.remote]\nendpoint = "http://x.test"'));
    expect(r.services.a!.deployment.remote?.tls_enabled).toBe(true);
    expect(r.services.b!.deployment.remote?.tls_enabled).toBe(false);
  });
});

describe('variable expansion', () => {
  const binary = (value: string) =>
    parse(service('a', '', `[services.a.deployment]\nmode = "binary"\n[services.a.deployment.binary]\nbinary_path = "${value}"`));

  it('replaces ${HOME} and any ${VAR} from the environment', () => {
    const r = parseRegistry(binary('${HOME}/bin/${TOOL}'), '/virtual.toml', { HOME: '/h', TOOL: 'svc' });
    expect(r.services.a!.deployment.binary?.binary_path).toBe('/h/bin/svc');
  });

  it('uses ${VAR:-default} when VAR is unset or empty, and VAR otherwise', () => {
    const path = (e: Record<string, string>) => parseRegistry(binary('${BASE:-/opt}/${TOOL:-svc}'), '/virtual.toml', e).services.a!.deployment.binary?.binary_path;
    expect(path({})).toBe('/opt/svc');
    expect(path({ BASE: '', TOOL: 'x' })).toBe('/opt/x');
    expect(path({ BASE: '/srv' })).toBe('/srv/svc');
  });

  it('keeps $${ as a literal ${', () => {
    const r = parseRegistry(binary('/opt/$${literal}'), '/virtual.toml', {});
    expect(r.services.a!.deployment.binary?.binary_path).toBe('/opt/${literal}');
  });

  it('names each unknown variable and where it is used', () => {
    let error: unknown;
    try {
      parseRegistry(binary('${A_MISSING}/${B_MISSING}'), '/virtual.toml', {});
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems.map((p) => p.problem)).toEqual(['unknown variable ${A_MISSING}', 'unknown variable ${B_MISSING}']);
    expect(problems.every((p) => p.path === 'services.a.deployment.binary.binary_path')).toBe(true);
  });
});

describe('command health checks', () => {
  it('split a string command into argv with quotes honoured, never through a shell', () => {
    expect(splitCommand('pg_isready -h "my host" -p 5432')).toEqual({ argv: ['pg_isready', '-h', 'my host', '-p', '5432'] });
    expect(splitCommand("grep -q 'a b' /f")).toEqual({ argv: ['grep', '-q', 'a b', '/f'] });
    expect(splitCommand('echo a\\ b')).toEqual({ argv: ['echo', 'a b'] });
  });

  it('refuse shell operators and unbalanced quotes', () => {
    expect(splitCommand('a | b')).toEqual({ error: 'shell operator "|" is not supported' });
    expect(splitCommand('a; rm -rf /')).toEqual({ error: 'shell operator ";" is not supported' });
    expect(splitCommand('echo $(id)')).toEqual({ error: 'shell operator "$(" is not supported' });
    expect(splitCommand('echo "open')).toEqual({ error: 'unclosed " quote' });
  });

  it('keep an argv array as written', () => {
    const r = parseRegistry(
      parse(service('a', '[services.a.health_check]\ntype = "command"\n[services.a.health_check.command]\ncommand = ["sh", "-c", "test -f /x && echo ok"]')),
      '/v.toml',
      env,
    );
    expect(r.services.a!.health_check.command?.command).toEqual(['sh', '-c', 'test -f /x && echo ok']);
  });
});

describe('Docker port mappings', () => {
  it('publish on 127.0.0.1 unless a host address is given', () => {
    expect(parsePortMapping('5000:5000')).toEqual({ hostIp: '127.0.0.1', hostPort: 5000, containerPort: 5000, protocol: 'tcp' });
    expect(parsePortMapping('0.0.0.0:8080:80/tcp')).toEqual({ hostIp: '0.0.0.0', hostPort: 8080, containerPort: 80, protocol: 'tcp' });
    expect(parsePortMapping('5353:53/udp')).toMatchObject({ hostPort: 5353, containerPort: 53, protocol: 'udp' });
    expect(parsePortMapping('[::1]:8080:80')).toMatchObject({ hostIp: '::1', hostPort: 8080 });
    expect(parsePortMapping('80')).toEqual({ hostIp: '127.0.0.1', containerPort: 80, protocol: 'tcp' });
  });

  it('reject ports out of range and unknown protocols', () => {
    expect(parsePortMapping('0:80')).toEqual({ error: 'host port 0 is out of range (1-65535)' });
    expect(parsePortMapping('80:65536')).toEqual({ error: 'container port 65536 is out of range (1-65535)' });
    expect(parsePortMapping('80:80/icmp')).toEqual({ error: 'protocol "icmp" is not tcp, udp or sctp' });
    expect(parsePortMapping('a:b:c:d')).toHaveProperty('error');
  });
});

describe('registry discovery', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ dir, cleanup } = await scratchDir());
    for (const sub of ['flag', 'env', 'cwd/provisioning', 'home']) await mkdir(path.join(dir, sub), { recursive: true });
    for (const file of ['flag/r.toml', 'env/r.toml', 'cwd/provisioning/services.toml', 'home/services.toml']) await writeFile(path.join(dir, file), '');
  });
  afterAll(() => cleanup());

  it('prefers --registry, then PROVISIONING_REGISTRY, then ./provisioning/services.toml, then the home', () => {
    const cwd = path.join(dir, 'cwd');
    const home = { PROVISIONING_HOME: path.join(dir, 'home') };
    const withEnv = { ...home, PROVISIONING_REGISTRY: path.join(dir, 'env/r.toml') };
    expect(findRegistry({ flag: path.join(dir, 'flag/r.toml'), env: withEnv, cwd }).source).toBe('--registry');
    expect(findRegistry({ env: withEnv, cwd })).toEqual({ file: path.join(dir, 'env/r.toml'), source: 'PROVISIONING_REGISTRY' });
    expect(findRegistry({ env: home, cwd })).toEqual({ file: path.join(cwd, 'provisioning/services.toml'), source: 'working directory' });
    expect(findRegistry({ env: home, cwd: dir })).toEqual({ file: path.join(dir, 'home/services.toml'), source: 'home' });
  });

  it('says where it looked when there is no registry anywhere', () => {
    expect(() => findRegistry({ env: { PROVISIONING_HOME: path.join(dir, 'nowhere') }, cwd: dir })).toThrow(UsageError);
    expect(() => findRegistry({ env: { PROVISIONING_HOME: path.join(dir, 'nowhere') }, cwd: dir })).toThrow(/--registry/);
  });

  it('resolves a relative --registry against the working directory', () => {
    expect(findRegistry({ flag: 'flag/r.toml', env: {}, cwd: dir }).file).toBe(path.join(dir, 'flag/r.toml'));
  });
});
