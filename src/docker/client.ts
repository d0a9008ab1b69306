/** The Docker engine connection: dockerode, honouring DOCKER_HOST. */
import Docker from 'dockerode';

export function dockerClient(): Docker {
  return new Docker();
}

/** Where dockerode connects, for messages. */
export function dockerEndpoint(env = process.env): string {
  return env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
}

export type DockerPing = { ok: true } | { ok: false; error: string };

export async function pingDocker(docker: Docker = dockerClient(), timeoutMs = 3_000): Promise<DockerPing> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<DockerPing>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, error: `no answer within ${timeoutMs} ms` }), timeoutMs);
  });
  const ping = docker.ping().then(
    (): DockerPing => ({ ok: true }),
    (err: Error): DockerPing => ({ ok: false, error: err.message }),
  );
  try {
    return await Promise.race([ping, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export async function imagePresent(docker: Docker, image: string): Promise<boolean> {
  try {
    await docker.getImage(image).inspect();
    return true;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return false;
    throw err;
  }
}
