/**
 * Every bad registry the foundation issue names: exit code 2, and a message that names the
 * file, the key path, the problem and the fix. `services validate` starts nothing, and a
 * registry error stops it before any prerequisite is even looked at.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, scratchDir, service, writeRegistry } from '../support/cli.js';

interface BadCase {
  name: string;
  toml: string;
  path: string;
  problem: string | RegExp;
  fix: string | RegExp;
}

const remote = (name: string) => service(name);
const long = 'a'.repeat(64);

const cases: BadCase[] = [
  {
    name: 'invalid TOML (line and column)',
    toml: '[services.a]\ntype = "platform\n',
    path: 'line 2, column',
    problem: 'invalid TOML',
    fix: 'fix the TOML syntax',
  },
  {
    name: 'unknown key, with a suggestion',
    toml: service('a', 'dependncies = []'),
    path: 'services.a.dependncies',
    problem: 'unknown key "dependncies"',
    fix: 'did you mean "dependencies"?',
  },
  {
    name: 'unknown key in a nested table, with a suggestion',
    toml: service('a', '[services.a.startup]\nstart_timout = 10'),
    path: 'services.a.startup.start_timout',
    problem: 'unknown key "start_timout"',
    fix: 'did you mean "start_timeout"?',
  },
  {
    name: 'wrong type',
    toml: service('a', '[services.a.startup]\nstart_timeout = "30"'),
    path: 'services.a.startup.start_timeout',
    problem: 'expected number, got the string "30"',
    fix: 'a number without quotes',
  },
  {
    name: 'missing required field',
    toml: '[services.a]\n[services.a.deployment]\nmode = "binary"\n[services.a.deployment.binary]\nargs = []\n',
    path: 'services.a.deployment.binary.binary_path',
    problem: 'missing required field',
    fix: 'add binary_path = ',
  },
  {
    name: 'missing deployment table',
    toml: '[services.a]\ntype = "platform"\n',
    path: 'services.a.deployment',
    problem: 'missing required field',
    fix: 'add deployment',
  },
  {
    name: 'service name with shell characters',
    toml: remote('"web;rm -rf /"'),
    path: 'services."web;rm -rf /"',
    problem: 'service name "web;rm -rf /" is not a DNS label',
    fix: 'lowercase letters, digits and "-"',
  },
  {
    name: 'uppercase service name',
    toml: remote('WebApp'),
    path: 'services.WebApp',
    problem: 'has uppercase letters',
    fix: 'lowercase letters',
  },
  {
    name: 'service name over 63 characters',
    toml: remote(long),
    path: `services.${long}`,
    problem: 'is 64 characters long; at most 63 are allowed',
    fix: 'at most 63 characters',
  },
  {
    name: 'dependency on an unknown service (names both)',
    toml: remote('orchestrator') + remote('api') .replace('[services.api]\n', '[services.api]\ndependencies = ["orchestratr"]\n'),
    path: 'services.api.dependencies[0]',
    problem: 'api depends on "orchestratr", which is not in the registry',
    fix: 'did you mean "orchestrator"?',
  },
  {
    name: 'self-dependency',
    toml: service('a', 'dependencies = ["a"]'),
    path: 'services.a.dependencies[0]',
    problem: 'a depends on itself',
    fix: 'remove "a" from its own dependencies',
  },
  {
    name: 'dependency cycle (the path)',
    toml: service('a', 'dependencies = ["c"]') + service('b', 'dependencies = ["a"]') + service('c', 'dependencies = ["b"]'),
    path: 'services.a.dependencies',
    problem: 'dependency cycle: a -> c -> b -> a',
    fix: 'remove one of these dependencies',
  },
  {
    name: 'a service conflicting with itself',
    toml: service('coredns', 'conflicts = ["dnsmasq", "coredns"]'),
    path: 'services.coredns.conflicts[1]',
    problem: 'coredns conflicts with itself',
    fix: 'remove "coredns" from its conflicts',
  },
  {
    name: 'unknown deployment mode',
    toml: '[services.a]\n[services.a.deployment]\nmode = "podman"\n',
    path: 'services.a.deployment.mode',
    problem: 'the string "podman" is not allowed',
    fix: 'use one of: "binary", "docker", "docker-compose", "kubernetes", "remote"',
  },
  {
    name: 'a mode without its section',
    toml: '[services.a]\n[services.a.deployment]\nmode = "docker-compose"\n',
    path: 'services.a.deployment.docker_compose',
    problem: 'mode "docker-compose" needs a docker_compose section',
    fix: 'add a [services.a.deployment.docker_compose] table',
  },
  {
    name: 'a health-check type without its section',
    toml: service('a', '[services.a.health_check]\ntype = "tcp"'),
    path: 'services.a.health_check.tcp',
    problem: 'health check type "tcp" needs a tcp section',
    fix: 'add a [services.a.health_check.tcp] table with port = 5432',
  },
  {
    name: 'zero interval',
    toml: service('a', '[services.a.health_check]\ninterval = 0'),
    path: 'services.a.health_check.interval',
    problem: 'must be greater than 0 (got 0)',
    fix: 'set a value greater than 0',
  },
  {
    name: 'negative health-check timeout',
    toml: service('a', '[services.a.health_check]\ntimeout = -5'),
    path: 'services.a.health_check.timeout',
    problem: 'must be greater than 0 (got -5)',
    fix: 'set a value greater than 0',
  },
  {
    name: 'zero start timeout',
    toml: service('a', '[services.a.startup]\nstart_timeout = 0'),
    path: 'services.a.startup.start_timeout',
    problem: 'must be greater than 0 (got 0)',
    fix: 'set a value greater than 0',
  },
  {
    name: 'a TCP health-check port out of range',
    toml: service('a', '[services.a.health_check]\ntype = "tcp"\n[services.a.health_check.tcp]\nport = 70000'),
    path: 'services.a.health_check.tcp.port',
    problem: 'must be at most 65535 (got 70000)',
    fix: 'set a value at most 65535',
  },
  {
    name: 'a published Docker port out of range',
    toml: service('a', '', '[services.a.deployment]\nmode = "docker"\n[services.a.deployment.docker]\nimage = "x:1"\nports = ["5000:5000", "99999:80"]'),
    path: 'services.a.deployment.docker.ports[1]',
    problem: 'host port 99999 is out of range (1-65535)',
    fix: 'ports 1-65535',
  },
  {
    name: 'an unknown ${VAR}',
    toml: service('a', '', '[services.a.deployment]\nmode = "binary"\n[services.a.deployment.binary]\nbinary_path = "${PROVISIONING_NO_SUCH_VAR}/bin/a"'),
    path: 'services.a.deployment.binary.binary_path',
    problem: 'unknown variable ${PROVISIONING_NO_SUCH_VAR}',
    fix: 'set PROVISIONING_NO_SUCH_VAR in the environment',
  },
  {
    name: 'a health command with a shell operator',
    toml: service('a', '[services.a.health_check]\ntype = "command"\n[services.a.health_check.command]\ncommand = "systemctl is-active x && echo ok"'),
    path: 'services.a.health_check.command.command',
    problem: 'shell operator "&&" is not supported',
    fix: 'write the command as an argv array',
  },
  {
    name: 'a kubernetes service with neither manifests nor chart',
    toml: '[services.a]\n[services.a.deployment]\nmode = "kubernetes"\n[services.a.deployment.kubernetes]\ndeployment_name = "a"\n',
    path: 'services.a.deployment.kubernetes',
    problem: 'neither manifests_path nor helm_chart is given',
    fix: 'set manifests_path',
  },
];

describe('services validate rejects a bad registry with exit code 2 and a precise message', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => ({ dir, cleanup } = await scratchDir()));
  afterAll(() => cleanup());

  it.each(cases)('$name', async ({ name, toml, path, problem, fix }) => {
    const file = await writeRegistry(dir, toml, `${name.replace(/[^a-z0-9]+/gi, '-')}.toml`);
    const result = await cli(['services', 'validate', '--registry', file]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    const line = result.stderr.split('\n').findIndex((l) => l.includes(`${file}: ${path}`));
    expect(line, `no line names ${file}: ${path} in:\n${result.stderr}`).toBeGreaterThanOrEqual(0);
    const [problemLine, fixLine] = result.stderr.split('\n').slice(line, line + 2);
    expect(problemLine).toMatch(typeof problem === 'string' ? new RegExp(escape(problem)) : problem);
    expect(fixLine).toMatch(/^\s+fix: /);
    expect(fixLine).toMatch(typeof fix === 'string' ? new RegExp(escape(fix)) : fix);
  });

  it('reports every problem of a file at once, not only the first', async () => {
    const toml = service('a', 'nmae = "a"\n[services.a.health_check]\ninterval = -1') + remote('B');
    const file = await writeRegistry(dir, toml, 'several.toml');
    const result = await cli(['services', 'validate', '--registry', file]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('3 problems');
    expect(result.stderr).toContain('services.a.nmae');
    expect(result.stderr).toContain('services.a.health_check.interval');
    expect(result.stderr).toContain('services.B');
  });

  it('names the missing file when --registry points nowhere', async () => {
    const result = await cli(['services', 'list', '--registry', `${dir}/missing.toml`]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${dir}/missing.toml`);
    expect(result.stderr).toContain('file not found');
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
