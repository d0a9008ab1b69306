/**
 * Each service's version as its deployment mode knows it: a binary's `version_args` output,
 * a Docker image's tag and digest (and whether the running container is on it), a compose
 * service's image, a Helm chart's version; any service whose HTTP health check answers JSON
 * with a "version" field (as the seeds' orchestrator does) gives that when its mode cannot.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ServiceDefinition } from '../../config/registry-schema.js';
import { dockerClient, inspectContainer } from '../../docker/client.js';
import { exec } from '../../util/exec.js';
import { containerName } from './docker.js';

export interface ServiceVersion {
  service: string;
  mode: string;
  /** The version, or null when nothing says. */
  version: string | null;
  /** Where it was read: "/usr/bin/redis-server --version", "image redis:7.2", "GET http://.../health". */
  source: string;
  /** Image digest (or id) of a Docker service's image. */
  digest?: string;
  /** Anything worth knowing: the running container is on an older image, how to make it known. */
  note?: string;
}

const VERSION = /\bv?(\d+\.\d+(?:\.\d+)?(?:[-+][0-9A-Za-z.-]+)?)\b/;

/** "redis:7.2" → "7.2"; "registry:5000/app" → "latest"; "app@sha256:..." → the digest. */
export function imageTag(image: string): string {
  const at = image.indexOf('@');
  if (at >= 0) return image.slice(at + 1);
  const last = image.slice(image.lastIndexOf('/') + 1);
  const colon = last.lastIndexOf(':');
  return colon >= 0 ? last.slice(colon + 1) : 'latest';
}

async function binaryVersion(service: ServiceDefinition): Promise<Omit<ServiceVersion, 'service' | 'mode'>> {
  const spec = service.deployment.binary!;
  if (!spec.version_args) return { version: null, source: 'none', note: 'set deployment.binary.version_args (e.g. ["--version"]) to read it' };
  const source = [spec.binary_path, ...spec.version_args].join(' ');
  const result = await exec(spec.binary_path, spec.version_args, { reject: false, timeout: 5000, stdin: 'ignore', env: spec.env, ...(spec.working_dir ? { cwd: spec.working_dir } : {}) }).catch((err: Error) => ({ failed: true, exitCode: undefined, stdout: '', stderr: err.message }));
  const line = `${result.stdout}\n${result.stderr}`.split('\n').map((l) => l.trim()).find(Boolean) ?? '';
  if (result.exitCode !== 0 && !VERSION.test(line)) return { version: null, source, note: `exit ${result.exitCode ?? 'error'}: ${line || 'no output'}` };
  return { version: VERSION.exec(line)?.[1] ?? (line || null), source };
}

async function dockerVersion(service: ServiceDefinition): Promise<Omit<ServiceVersion, 'service' | 'mode'>> {
  const image = service.deployment.docker!.image;
  const docker = dockerClient();
  const [inspected, container] = await Promise.all([docker.getImage(image).inspect().catch(() => undefined), inspectContainer(docker, containerName(service)).catch(() => undefined)]);
  const digest = inspected?.RepoDigests?.[0]?.split('@')[1] ?? inspected?.Id;
  const stale = container && inspected && container.Image !== inspected.Id;
  return {
    version: imageTag(image),
    source: `image ${image}`,
    ...(digest ? { digest } : {}),
    ...(!inspected ? { note: 'image not present locally' } : stale ? { note: `the container runs an older image (${container.Image.slice(7, 19)}); platform update recreates it only if it is removed first` } : {}),
  };
}

async function composeVersion(service: ServiceDefinition): Promise<Omit<ServiceVersion, 'service' | 'mode'>> {
  const spec = service.deployment.docker_compose!;
  const { parse } = await import('yaml');
  const file = (await readFile(spec.compose_file, 'utf8').then((t) => parse(t) as { services?: Record<string, { image?: string; build?: unknown }> }).catch(() => undefined)) ?? {};
  const entry = file.services?.[spec.service_name];
  if (entry?.image) return { version: imageTag(entry.image), source: `compose ${path.basename(spec.compose_file)}: image ${entry.image}` };
  return { version: null, source: `compose ${path.basename(spec.compose_file)}`, note: entry ? 'built from source (no image: in the compose file)' : `no service ${spec.service_name} in ${spec.compose_file}` };
}

function kubernetesVersion(service: ServiceDefinition): Omit<ServiceVersion, 'service' | 'mode'> {
  const spec = service.deployment.kubernetes!;
  if (spec.helm_chart) return { version: spec.helm_chart.version ?? null, source: `helm chart ${spec.helm_chart.chart}`, ...(spec.helm_chart.version ? {} : { note: 'no helm_chart.version in the registry: the repository\'s newest' }) };
  return { version: null, source: `manifests ${spec.manifests_path}`, note: 'the version is in the manifests\' images' };
}

/** The "version" field of the JSON the service's HTTP health endpoint answers, if it has one. */
async function healthVersion(service: ServiceDefinition): Promise<string | undefined> {
  if (service.health_check.type !== 'http') return undefined;
  const http = service.health_check.http!;
  const token = service.deployment.remote?.auth_token_path;
  const auth = token ? await readFile(token, 'utf8').then((t) => ({ authorization: `Bearer ${t.trim()}` })).catch(() => ({})) : {};
  try {
    const response = await fetch(http.endpoint, { headers: { accept: 'application/json', ...auth }, signal: AbortSignal.timeout(service.health_check.timeout * 1000) });
    const body = (await response.json()) as { version?: unknown };
    return typeof body.version === 'string' || typeof body.version === 'number' ? String(body.version) : undefined;
  } catch {
    return undefined;
  }
}

export async function serviceVersion(service: ServiceDefinition): Promise<ServiceVersion> {
  const mode = service.deployment.mode;
  const base = { service: service.name, mode };
  const known =
    mode === 'binary' ? await binaryVersion(service)
    : mode === 'docker' ? await dockerVersion(service)
    : mode === 'docker-compose' ? await composeVersion(service)
    : mode === 'kubernetes' ? kubernetesVersion(service)
    : { version: null, source: 'none' };
  if (known.version !== null) return { ...base, ...known };
  const fromHealth = await healthVersion(service);
  if (fromHealth) return { ...base, version: fromHealth, source: `GET ${service.health_check.http!.endpoint}` };
  return { ...base, ...known, ...(mode === 'remote' ? { note: 'its HTTP health check answers no JSON "version"' } : {}) };
}
