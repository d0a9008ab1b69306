/** The docker and docker-compose drivers on the real engine. */
import { randomUUID } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { parse } from 'smol-toml';
import { afterEach, describe, expect, it } from 'vitest';
import { composeDriver } from '../../src/activities/drivers/compose.js';
import { dockerDriver } from '../../src/activities/drivers/docker.js';
import { probeHealth } from '../../src/activities/health.js';
import { parseRegistry } from '../../src/config/registry.js';
import type { ServiceDefinition } from '../../src/config/registry-schema.js';
import { BASE_IMAGE } from '../../src/docker/base-image.js';
import { dockerClient } from '../../src/docker/client.js';
import { freePort } from '../../src/util/net.js';
import { scratchDir } from '../support/cli.js';
import { dockerAvailable } from '../support/docker.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!().catch(() => undefined);
});

// busybox httpd as PID 1 ignores SIGTERM; the shell stops it on TERM so `stop` is prompt.
const HTTPD = 'mkdir -p /www && echo ok > /www/index.html; httpd -f -p 8080 -h /www & pid=$!; trap "kill $pid; exit 0" TERM; echo serving; wait $pid';

function service(toml: string): ServiceDefinition {
  return Object.values(parseRegistry(parse(toml), '/virtual/services.toml', {}).services)[0]!;
}

describe.runIf(dockerAvailable)('docker driver', () => {
  it('creates a labelled container with loopback ports and limits, reuses it, and stops it', async () => {
    const id = randomUUID().slice(0, 8);
    const port = await freePort();
    const name = `provisioning-test-web-${id}`;
    const def = service(`
[services.web]
[services.web.deployment]
mode = "docker"
[services.web.deployment.docker]
image = "${BASE_IMAGE}"
container_name = "${name}"
command = ["sh", "-c", ${JSON.stringify(HTTPD)}]
ports = ["${port}:8080"]
env = { GREETING = "hello" }
[services.web.health_check]
type = "http"
[services.web.health_check.http]
endpoint = "http://127.0.0.1:${port}/"
[services.web.resources]
cpu_millicores = 250
memory_mb = 64
`);
    const ctx = { home: `/tmp/provisioning-test-${id}` };
    cleanups.push(() => dockerClient().getContainer(name).remove({ force: true }));

    const first = await dockerDriver.start(def, ctx);
    expect(first.alreadyRunning).toBe(false);
    const info = await dockerClient().getContainer(name).inspect();
    expect(info.Config.Labels).toMatchObject({ 'provisioning.managed': 'true', 'provisioning.service': 'web', 'provisioning.home': ctx.home });
    expect(info.HostConfig.PortBindings).toEqual({ '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: String(port) }] });
    expect(info.HostConfig.Memory).toBe(64 * 1024 * 1024);
    expect(info.HostConfig.NanoCpus).toBe(250_000_000);
    expect(info.Config.Env).toContain('GREETING=hello');

    for (let i = 0; i < 50 && !(await probeHealth(def)).healthy; i++) await new Promise((r) => setTimeout(r, 100));
    expect(await probeHealth(def)).toMatchObject({ healthy: true });
    expect(await dockerDriver.start(def, ctx)).toMatchObject({ alreadyRunning: true, containerId: first.containerId });
    expect(await dockerDriver.logs(def, ctx, 5)).toContain('serving');

    expect(await dockerDriver.stop(def, ctx, { graceSeconds: 5 })).toMatchObject({ wasRunning: true });
    expect(await dockerDriver.status(def, ctx)).toMatchObject({ running: false, containerId: first.containerId });
    const again = await dockerDriver.start(def, ctx);
    expect(again).toMatchObject({ alreadyRunning: false, containerId: first.containerId });
    await dockerDriver.stop(def, ctx, { graceSeconds: 5 });
  });

  it('refuses an image that is not present locally, without retrying', async () => {
    const def = service(`
[services.absent]
[services.absent.deployment]
mode = "docker"
[services.absent.deployment.docker]
image = "provisioning-test/absent:never"
container_name = "provisioning-test-absent-${randomUUID().slice(0, 8)}"
`);
    await expect(dockerDriver.start(def, { home: '/tmp/x' })).rejects.toMatchObject({
      name: 'ServiceConfigError',
      message: 'image provisioning-test/absent:never is not present locally (build or pull it first)',
    });
  });
});

/** The registry's service web: compose service web of `project` in `composeFile`. */
const composeService = (composeFile: string, project: string) =>
  service(`
[services.web]
[services.web.deployment]
mode = "docker-compose"
[services.web.deployment.docker_compose]
compose_file = "${composeFile}"
service_name = "web"
project_name = "${project}"
`);

describe.runIf(dockerAvailable)('docker-compose driver', () => {
  it('brings one compose service up, reports it, shows its logs and stops it', async () => {
    const { dir, cleanup } = await scratchDir();
    const project = `provisioning-test-${randomUUID().slice(0, 8)}`;
    const port = await freePort();
    const composeFile = path.join(dir, 'docker-compose.yaml');
    await writeFile(
      composeFile,
      `version: "3"\nservices:\n  web:\n    image: ${BASE_IMAGE}\n    command: ["sh", "-c", ${JSON.stringify(HTTPD.replaceAll("$", "$$$$"))}]\n    ports: ["127.0.0.1:${port}:8080"]\n    labels:\n      provisioning.managed: "true"\n`,
    );
    cleanups.push(cleanup, () => execa('docker-compose', ['-f', composeFile, '-p', project, 'down', '-t', '1']));
    const def = composeService(composeFile, project);
    const ctx = { home: dir };
    expect((await composeDriver.status(def, ctx)).running).toBe(false);
    const started = await composeDriver.start(def, ctx);
    expect(started.alreadyRunning).toBe(false);
    const status = await composeDriver.status(def, ctx);
    expect(status).toMatchObject({ running: true, containerId: started.containerId });
    expect(await composeDriver.start(def, ctx)).toMatchObject({ alreadyRunning: true });
    await new Promise((r) => setTimeout(r, 300));
    expect((await composeDriver.logs(def, ctx, 5)).join('\n')).toContain('serving');
    expect(await composeDriver.stop(def, ctx, { graceSeconds: 2 })).toMatchObject({ wasRunning: true });
    expect((await composeDriver.status(def, ctx)).running).toBe(false);
  });

  it('finds a compose service whose compose file was deleted by the labels compose gave its container, and stops it', async () => {
    const { dir, cleanup } = await scratchDir();
    const project = `provisioning-test-${randomUUID().slice(0, 8)}`;
    const composeFile = path.join(dir, 'docker-compose.yaml');
    await writeFile(composeFile, `version: "3"\nservices:\n  web:\n    image: ${BASE_IMAGE}\n    command: ["sleep", "600"]\n    labels:\n      provisioning.managed: "true"\n`);
    // compose down needs the file: the containers are removed by their project label instead.
    const byLabel = ['--filter', `label=com.docker.compose.project=${project}`];
    cleanups.push(cleanup, async () => {
      const ids = (await execa('docker', ['ps', '-aq', ...byLabel])).stdout.split('\n').filter(Boolean);
      if (ids.length > 0) await execa('docker', ['rm', '-f', ...ids]);
    });
    const def = composeService(composeFile, project);
    const ctx = { home: dir };
    const started = await composeDriver.start(def, ctx);
    await rm(composeFile);
    expect(await composeDriver.status(def, ctx)).toMatchObject({ running: true, containerId: started.containerId });
    const stopped = await composeDriver.stop(def, ctx, { graceSeconds: 1 });
    expect(stopped).toMatchObject({ wasRunning: true });
    expect(stopped.how).toContain(`compose file ${composeFile} is gone`);
    expect((await composeDriver.status(def, ctx)).running).toBe(false);
    expect((await execa('docker', ['ps', '-q', ...byLabel])).stdout.trim()).toBe('');
  });
});
