import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { BASE_IMAGE, ensureBaseImage } from '../../src/docker/base-image.js';
import { dockerClient } from '../../src/docker/client.js';
import { dockerAvailable } from '../support/docker.js';

const docker = dockerClient();
const created: Array<() => Promise<unknown>> = [];

afterEach(async () => {
  while (created.length > 0) await created.pop()!().catch(() => undefined);
});

describe.runIf(dockerAvailable)('Docker harness on the real engine', () => {
  it('creates a network and a container with a memory limit that the engine reports back', async () => {
    const id = randomUUID().slice(0, 8);
    const labels = { 'provisioning.managed': 'true', 'provisioning.test': id };
    const network = await docker.createNetwork({ Name: `provisioning-test-${id}`, Labels: labels });
    created.push(() => network.remove());
    const container = await docker.createContainer({
      name: `provisioning-test-${id}`,
      Image: BASE_IMAGE,
      Cmd: ['sleep', '60'],
      Labels: labels,
      HostConfig: { Memory: 64 * 1024 * 1024, NetworkMode: `provisioning-test-${id}` },
    });
    created.push(() => container.remove({ force: true }));
    await container.start();

    const inspected = await container.inspect();
    expect(inspected.HostConfig.Memory).toBe(67108864);
    expect(inspected.State.Running).toBe(true);
    expect(Object.keys(inspected.NetworkSettings.Networks)).toEqual([`provisioning-test-${id}`]);

    // The limit is enforced by the kernel, not only recorded: read it from the container's cgroup.
    const exec = await container.exec({ Cmd: ['sh', '-c', 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max'], AttachStdout: true, AttachStderr: true });
    const stream = await exec.start({ hijack: true, stdin: false });
    const output = await new Promise<string>((resolve) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    });
    expect(output).toContain('67108864');
  });

  it('builds the base image from scratch around static busybox when it is missing, and reuses it after', async () => {
    const tag = `provisioning-test-base:${randomUUID().slice(0, 8)}`;
    created.push(() => docker.getImage(tag).remove({ force: true }));
    expect(await ensureBaseImage(docker, tag)).toEqual({ tag, built: true });
    expect(await ensureBaseImage(docker, tag)).toEqual({ tag, built: false });
    const image = await docker.getImage(tag).inspect();
    expect(image.Config.Labels).toMatchObject({ 'provisioning.image': 'base' });
    const container = await docker.createContainer({ Image: tag, Cmd: ['sh', '-c', 'echo hello from $(uname -s)'], Labels: { 'provisioning.managed': 'true' } });
    created.push(() => container.remove({ force: true }));
    await container.start();
    await container.wait();
    const logs = (await container.logs({ stdout: true, stderr: true })).toString('utf8');
    expect(logs).toContain('hello from Linux');
  });
});
