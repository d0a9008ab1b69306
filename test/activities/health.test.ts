/** Health probes against real loopback servers, real commands and real files; the service check against a real process. */
import { writeFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { parse } from 'smol-toml';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { binaryDriver } from '../../src/activities/drivers/binary.js';
import { describeProbe, probeHealth, serviceProbe } from '../../src/activities/health.js';
import { parseRegistry } from '../../src/config/registry.js';
import type { ServiceDefinition } from '../../src/config/registry-schema.js';
import { freePort } from '../../src/util/net.js';
import { scratchDir } from '../support/cli.js';
import { testPlatform, type TestPlatform } from '../support/services.js';

function service(check: string, deployment = '[services.s.deployment]\nmode = "binary"\n[services.s.deployment.binary]\nbinary_path = "/bin/true"'): ServiceDefinition {
  return parseRegistry(parse(`[services.s]\n${deployment}\n${check}`), '/virtual.toml', {}).services.s!;
}

const httpCheck = (endpoint: string, extra = '') => service(`[services.s.health_check]\ntype = "http"\ntimeout = 1\n[services.s.health_check.http]\nendpoint = "${endpoint}"\n${extra}`);

describe('health probes', () => {
  let server: http.Server;
  let port: number;
  let dir: string;
  let cleanup: () => Promise<void>;
  const seen: Array<{ method?: string; auth?: string }> = [];
  beforeAll(async () => {
    ({ dir, cleanup } = await scratchDir());
    server = http.createServer((req, res) => {
      seen.push({ ...(req.method ? { method: req.method } : {}), ...(req.headers.authorization ? { auth: req.headers.authorization } : {}) });
      if (req.url === '/slow') return; // never answers
      if (req.url === '/private') {
        res.writeHead(req.headers.authorization === 'Bearer s3cret' ? 200 : 401).end();
        return;
      }
      res.writeHead(req.url === '/down' ? 503 : 200).end('ok');
    });
    port = await freePort();
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await cleanup();
  });

  it('http: passes on the expected status and names the status it got otherwise', async () => {
    expect(await probeHealth(httpCheck(`http://127.0.0.1:${port}/`))).toMatchObject({ healthy: true, message: 'HTTP status 200 matches expected' });
    const down = await probeHealth(httpCheck(`http://127.0.0.1:${port}/down`));
    expect(down).toMatchObject({ healthy: false, message: `HTTP GET http://127.0.0.1:${port}/down returned 503 (expected 200)` });
    expect(down.durationMs).toBeGreaterThanOrEqual(0);
    expect(await probeHealth(httpCheck(`http://127.0.0.1:${port}/down`, 'expected_status = 503'))).toMatchObject({ healthy: true });
  });

  it('http: uses the configured method and gives up after the timeout', async () => {
    await probeHealth(httpCheck(`http://127.0.0.1:${port}/`, 'method = "HEAD"'));
    expect(seen.at(-1)?.method).toBe('HEAD');
    expect(await probeHealth(httpCheck(`http://127.0.0.1:${port}/slow`))).toMatchObject({ healthy: false, message: `HTTP GET http://127.0.0.1:${port}/slow failed: no answer within 1 s` });
    const closed = await freePort();
    expect((await probeHealth(httpCheck(`http://127.0.0.1:${closed}/`))).message).toContain('ECONNREFUSED');
  });

  it('http: sends a remote service\'s bearer token from auth_token_path', async () => {
    const tokenFile = path.join(dir, 'token');
    await writeFile(tokenFile, 's3cret\n');
    const remote = service(
      `[services.s.health_check]\ntype = "http"\n[services.s.health_check.http]\nendpoint = "http://127.0.0.1:${port}/private"`,
      `[services.s.deployment]\nmode = "remote"\n[services.s.deployment.remote]\nendpoint = "http://127.0.0.1:${port}"\nauth_token_path = "${tokenFile}"`,
    );
    expect(await probeHealth(remote)).toMatchObject({ healthy: true });
    expect(seen.at(-1)?.auth).toBe('Bearer s3cret');
    expect(await probeHealth(httpCheck(`http://127.0.0.1:${port}/private`))).toMatchObject({ healthy: false });
  });

  it('tcp: passes when the port accepts connections', async () => {
    const tcp = (p: number) => service(`[services.s.health_check]\ntype = "tcp"\n[services.s.health_check.tcp]\nhost = "127.0.0.1"\nport = ${p}`);
    expect(await probeHealth(tcp(port))).toMatchObject({ healthy: true, message: `TCP 127.0.0.1:${port} accepts connections` });
    const closed = await freePort();
    expect(await probeHealth(tcp(closed))).toMatchObject({ healthy: false, message: `TCP 127.0.0.1:${closed}: ECONNREFUSED` });
    expect(describeProbe(tcp(closed))).toBe(`TCP 127.0.0.1:${closed}`);
  });

  it('command: compares the exit code with the expected one, never through a shell', async () => {
    const cmd = (command: string, expected = 0) => service(`[services.s.health_check]\ntype = "command"\n[services.s.health_check.command]\ncommand = ${JSON.stringify(command)}\nexpected_exit_code = ${expected}`);
    expect(await probeHealth(cmd('true'))).toMatchObject({ healthy: true });
    expect(await probeHealth(cmd('sh -c "exit 3"'))).toMatchObject({ healthy: false, message: 'command sh exited 3 (expected 0)' });
    expect(await probeHealth(cmd('sh -c "exit 3"', 3))).toMatchObject({ healthy: true });
    // A string with $(...) would be refused by the schema; quoted, it reaches echo literally.
    expect(await probeHealth(cmd("echo '$(id)'"))).toMatchObject({ healthy: true, message: 'command echo exited 0: $(id)' });
    expect((await probeHealth(cmd('/nonexistent/check'))).healthy).toBe(false);
  });

  it('file: checks presence or absence', async () => {
    const file = path.join(dir, 'ready');
    const check = (mustExist: boolean) => service(`[services.s.health_check]\ntype = "file"\n[services.s.health_check.file]\npath = "${file}"\nmust_exist = ${mustExist}`);
    expect(await probeHealth(check(true))).toMatchObject({ healthy: false, message: `file ${file} does not exist` });
    expect(await probeHealth(check(false))).toMatchObject({ healthy: true });
    await writeFile(file, '');
    expect(await probeHealth(check(true))).toMatchObject({ healthy: true, message: `file ${file} exists` });
  });
});

describe('the service check (serviceProbe): running, then healthy', () => {
  let platform: TestPlatform | undefined;
  afterEach(async () => {
    await platform?.cleanup();
    platform = undefined;
  });

  it('keeps what the status showed when the health check fails, and stops at a service that is not running', async () => {
    platform = await testPlatform([{ name: 'svc', script: 'exec sleep 60' }]);
    const svc = platform.registry.services.svc!;
    const home = platform.home;
    const port = platform.ports.svc!;
    const { pid } = await binaryDriver.start(svc, { home });

    const probe = serviceProbe(svc, home);
    expect(probe.description).toBe(`svc running and TCP 127.0.0.1:${port}`);
    const failing = await probe.check();
    expect(failing).toMatchObject({ healthy: false, message: `TCP 127.0.0.1:${port}: ECONNREFUSED`, facts: { running: true, pid, detail: `running (PID ${pid})` } });
    expect(failing.fatal).toBeUndefined();
    expect(failing.facts?.startedAt).toBeGreaterThan(0);

    // Without a health check: "running" is the whole check, told as the status line when asked so.
    const unchecked = { ...svc, health_check: { ...svc.health_check, type: 'none' as const } };
    expect(await serviceProbe(unchecked, home, { none: 'status' }).check()).toMatchObject({ healthy: true, message: `running (PID ${pid})`, facts: { running: true, pid } });
    expect(await serviceProbe(unchecked, home).check()).toMatchObject({ healthy: true, message: 'no health check configured', facts: { running: true, pid } });

    await binaryDriver.stop(svc, { home }, { graceSeconds: 2 });
    // The health check is not tried: a stopped service is fatal (waiting will not bring it back).
    expect(await probe.check()).toMatchObject({ healthy: false, fatal: true, message: 'not running (stopped)', facts: { running: false } });
  });

  it('asks a remote service its health check once per check (its status is that check), and never calls it gone', async () => {
    let requests = 0;
    const server = http.createServer((req, res) => {
      requests++;
      res.writeHead(req.url === '/down' ? 503 : 200).end();
    });
    const port = await freePort();
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    try {
      const remote = (url: string) =>
        service(`[services.s.health_check]\ntype = "http"\ntimeout = 1\n[services.s.health_check.http]\nendpoint = "${url}"`, '[services.s.deployment]\nmode = "remote"\n[services.s.deployment.remote]\nendpoint = "https://example.test"');
      expect(await serviceProbe(remote(`http://127.0.0.1:${port}/`), '/nonexistent-home').check()).toMatchObject({
        healthy: true,
        message: 'HTTP status 200 matches expected',
        facts: { running: true, detail: 'remote https://example.test: HTTP status 200 matches expected' },
      });
      expect(requests).toBe(1);
      const down = await serviceProbe(remote(`http://127.0.0.1:${port}/down`), '/nonexistent-home').check();
      expect(down).toMatchObject({ healthy: false, facts: { running: false } });
      expect(down.fatal).toBeUndefined();
      expect(requests).toBe(2);
    } finally {
      server.close();
    }
  });
});
