/**
 * Per-mode prerequisites that can be checked without starting anything: the binary is
 * there and executable, Docker answers and has the image, the compose file and a compose
 * command exist, kubectl (and helm) are installed, the remote endpoint is well formed.
 */
import { access, constants, stat } from 'node:fs/promises';
import { exec } from '../util/exec.js';
import type { ServiceDefinition } from '../config/registry-schema.js';
import { BASE_IMAGE, findStaticBusybox } from '../docker/base-image.js';
import { dockerClient, dockerEndpoint, imagePresent, pingDocker, type DockerPing } from '../docker/client.js';
import { isExecutableFile, which } from '../util/which.js';
import type { PrerequisiteCheck, ServicePrerequisites } from '../model/platform.js';

/** Facts shared by all services of one check, looked up at most once. */
class Environment {
  private dockerPing?: Promise<DockerPing>;
  private compose?: Promise<string[] | undefined>;
  readonly docker = dockerClient();

  pingDocker(): Promise<DockerPing> {
    return (this.dockerPing ??= pingDocker(this.docker));
  }

  /** The compose command as argv prefix: ["docker", "compose"] or ["docker-compose"]. */
  composeCommand(): Promise<string[] | undefined> {
    return (this.compose ??= findComposeCommand());
  }
}

export async function findComposeCommand(): Promise<string[] | undefined> {
  if (which('docker')) {
    const plugin = await exec('docker', ['compose', 'version'], { reject: false, timeout: 10_000 });
    if (plugin.exitCode === 0) return ['docker', 'compose'];
  }
  const standalone = which('docker-compose');
  return standalone ? [standalone] : undefined;
}

const pass = (name: string, message: string): PrerequisiteCheck => ({ name, ok: true, message });
const fail = (name: string, message: string): PrerequisiteCheck => ({ name, ok: false, message });

async function pathCheck(name: string, file: string, kind: 'file' | 'directory' | 'any'): Promise<PrerequisiteCheck> {
  try {
    const info = await stat(file);
    if (kind === 'file' && !info.isFile()) return fail(name, `${file} is not a file`);
    if (kind === 'directory' && !info.isDirectory()) return fail(name, `${file} is not a directory`);
    await access(file, constants.R_OK);
    return pass(name, `${file} found`);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return fail(name, code === 'ENOENT' ? `${file} not found` : `${file} cannot be read (${code})`);
  }
}

function toolCheck(tool: string): PrerequisiteCheck {
  const found = which(tool);
  return found ? pass(tool, `${tool} found at ${found}`) : fail(tool, `${tool} is not installed (not on PATH)`);
}

/** A missing working directory is created at start; one that is a file is a problem. */
async function workingDirCheck(dir: string): Promise<PrerequisiteCheck> {
  try {
    return (await stat(dir)).isDirectory() ? pass('working_dir', `${dir} found`) : fail('working_dir', `working_dir ${dir} is not a directory`);
  } catch {
    return pass('working_dir', `${dir} will be created`);
  }
}

async function binaryChecks(service: ServiceDefinition): Promise<PrerequisiteCheck[]> {
  const spec = service.deployment.binary!;
  const checks: PrerequisiteCheck[] = [];
  const exists = await pathCheck('binary', spec.binary_path, 'file');
  if (!exists.ok) checks.push(fail('binary', `binary not found: ${spec.binary_path}`));
  else if (!isExecutableFile(spec.binary_path)) checks.push(fail('binary', `binary is not executable: ${spec.binary_path} (chmod +x it)`));
  else checks.push(pass('binary', `binary found: ${spec.binary_path}`));
  if (spec.working_dir) checks.push(await workingDirCheck(spec.working_dir));
  return checks;
}

async function dockerChecks(service: ServiceDefinition, env: Environment): Promise<PrerequisiteCheck[]> {
  const ping = await env.pingDocker();
  if (!ping.ok) return [fail('docker', `Docker is not reachable at ${dockerEndpoint()}: ${ping.error}`)];
  const image = service.deployment.docker!.image;
  const present = await imagePresent(env.docker, image);
  const imageCheck = present
    ? pass('image', `image ${image} is present`)
    : image === BASE_IMAGE
      ? (await findStaticBusybox())
        ? pass('image', `image ${image} will be built from the static busybox`)
        : fail('image', `image ${image} is missing and cannot be built: install Debian's busybox-static`)
      : fail('image', `image ${image} is not present locally (build or pull it first)`);
  return [pass('docker', `Docker answers at ${dockerEndpoint()}`), imageCheck];
}

async function composeChecks(service: ServiceDefinition, env: Environment): Promise<PrerequisiteCheck[]> {
  const spec = service.deployment.docker_compose!;
  const command = await env.composeCommand();
  return [
    await pathCheck('compose_file', spec.compose_file, 'file'),
    command ? pass('compose', `compose command: ${command.join(' ')}`) : fail('compose', 'neither "docker compose" nor "docker-compose" is available'),
  ];
}

async function kubernetesChecks(service: ServiceDefinition): Promise<PrerequisiteCheck[]> {
  const spec = service.deployment.kubernetes!;
  const checks = [toolCheck('kubectl')];
  if (spec.helm_chart) checks.push(toolCheck('helm'));
  if (spec.manifests_path) checks.push(await pathCheck('manifests_path', spec.manifests_path, 'any'));
  if (spec.helm_chart?.values_file) checks.push(await pathCheck('values_file', spec.helm_chart.values_file, 'file'));
  return checks;
}

async function remoteChecks(service: ServiceDefinition): Promise<PrerequisiteCheck[]> {
  const spec = service.deployment.remote!;
  const checks: PrerequisiteCheck[] = [];
  try {
    const url = new URL(spec.endpoint);
    checks.push(pass('endpoint', `endpoint ${url.origin} is well formed`));
    if (spec.tls_enabled && url.protocol !== 'https:') checks.push(fail('tls', `tls_enabled is true but ${spec.endpoint} is not https`));
  } catch {
    checks.push(fail('endpoint', `endpoint ${spec.endpoint} is not a valid URL`));
  }
  if (spec.auth_token_path) checks.push(await pathCheck('auth_token_path', spec.auth_token_path, 'file'));
  return checks;
}

async function checksFor(service: ServiceDefinition, env: Environment): Promise<PrerequisiteCheck[]> {
  switch (service.deployment.mode) {
    case 'binary':
      return binaryChecks(service);
    case 'docker':
      return dockerChecks(service, env);
    case 'docker-compose':
      return composeChecks(service, env);
    case 'kubernetes':
      return kubernetesChecks(service);
    case 'remote':
      return remoteChecks(service);
  }
}

/** Activity: the prerequisites of each service's deployment mode. */
export async function checkPrerequisites(services: ServiceDefinition[]): Promise<ServicePrerequisites[]> {
  const env = new Environment();
  return Promise.all(
    services.map(async (service) => {
      const checks = await checksFor(service, env);
      return { service: service.name, mode: service.deployment.mode, ok: checks.every((c) => c.ok), checks };
    }),
  );
}
