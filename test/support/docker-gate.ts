/** Decides whether Docker tests run: under CI=true a missing engine is an error, elsewhere a loud skip. */
import Docker from 'dockerode';
import { ensureBaseImage } from '../../src/docker/base-image.js';
import { dockerEndpoint, pingDocker } from '../../src/docker/client.js';

export async function detectDocker(
  env: NodeJS.ProcessEnv = process.env,
  warn: (line: string) => void = console.warn,
): Promise<{ available: boolean; reason: string }> {
  const docker = env.DOCKER_HOST ? new Docker(dockerOptions(env.DOCKER_HOST)) : new Docker();
  const ping = await pingDocker(docker, 5_000);
  if (!ping.ok) {
    const reason = `no Docker engine at ${dockerEndpoint(env)} (${ping.error})`;
    if (env.CI === 'true') throw new Error(`CI=true and ${reason}: Docker tests cannot run. Start dockerd (bash .ci/run does).`);
    warn(`\n!!! SKIPPING DOCKER TESTS: ${reason}. Start dockerd (or set DOCKER_HOST) to run them. !!!\n`);
    return { available: false, reason };
  }
  await ensureBaseImage(docker);
  return { available: true, reason: '' };
}

function dockerOptions(host: string): Docker.DockerOptions {
  const url = new URL(host);
  if (url.protocol === 'unix:') return { socketPath: url.pathname };
  return { host: url.hostname, port: Number(url.port), protocol: 'http' };
}
