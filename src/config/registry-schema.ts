/**
 * The service registry schema: `[services.<name>]` tables as in the seeds' guide, with
 * their defaults. Pure (zod only), so the validated snapshot type can be used by workflows.
 */
import { z } from 'zod';
import {
  addProblem,
  command,
  dnsLabel,
  nonEmptyString,
  port,
  positiveInt,
  positiveSeconds,
  safeName,
  strict,
  stringMap,
  url,
} from './fields.js';
import { parsePortMapping } from './ports.js';
import { ALERT_EVENTS, ALERT_FORMATS, type AlertTarget } from '../model/alerts.js';

export const DEPLOYMENT_MODES = ['binary', 'docker', 'docker-compose', 'kubernetes', 'remote'] as const;
export type DeploymentMode = (typeof DEPLOYMENT_MODES)[number];

/** The table that holds each mode's settings (the seeds write `docker_compose` for `docker-compose`). */
export const MODE_SECTION = {
  binary: 'binary',
  docker: 'docker',
  'docker-compose': 'docker_compose',
  kubernetes: 'kubernetes',
  remote: 'remote',
} as const satisfies Record<DeploymentMode, string>;

export const HEALTH_CHECK_TYPES = ['http', 'tcp', 'command', 'file', 'none'] as const;
export type HealthCheckType = (typeof HEALTH_CHECK_TYPES)[number];

const MODE_EXAMPLE: Record<DeploymentMode, string> = {
  binary: 'binary_path = "/usr/local/bin/my-service"',
  docker: 'image = "my-image:1.0"',
  'docker-compose': 'compose_file = "docker-compose.yaml" and service_name = "web"',
  kubernetes: 'deployment_name = "web" and manifests_path = "k8s/"',
  remote: 'endpoint = "https://service.example.com"',
};

const CHECK_EXAMPLE: Record<Exclude<HealthCheckType, 'none'>, string> = {
  http: 'endpoint = "http://localhost:8080/health"',
  tcp: 'port = 5432',
  command: 'command = ["pg_isready"]',
  file: 'path = "/var/run/my-service.pid"',
};

const binaryDeployment = strict({
  binary_path: nonEmptyString(),
  args: z.array(z.string()).default([]),
  working_dir: z.string().optional(),
  env: stringMap().default({}),
  /** Arguments that make binary_path print its version (`platform versions`), e.g. ["--version"]. */
  version_args: z.array(z.string()).optional(),
});

const dockerDeployment = strict({
  image: nonEmptyString(),
  container_name: safeName('container name').optional(),
  command: z.array(z.string()).optional(),
  ports: z
    .array(z.string())
    .default([])
    .superRefine((ports, ctx) => {
      ports.forEach((spec, i) => {
        const parsed = parsePortMapping(spec);
        if ('error' in parsed) {
          addProblem(ctx, `port mapping ${parsed.error}`, 'write "[host_ip:]host_port:container_port[/tcp|udp]" with ports 1-65535, e.g. "127.0.0.1:5000:5000"', [i]);
        }
      });
    }),
  volumes: z.array(z.string()).default([]),
  env: stringMap().default({}),
  network: safeName('network name').optional(),
  restart_policy: z.enum(['no', 'always', 'unless-stopped', 'on-failure']).default('no'),
});

const composeDeployment = strict({
  compose_file: nonEmptyString(),
  service_name: nonEmptyString(),
  project_name: dnsLabel('compose project name').default('provisioning'),
});

const helmChart = strict({
  chart: nonEmptyString(),
  release_name: dnsLabel('helm release name').optional(),
  values_file: z.string().optional(),
  version: z.string().optional(),
  repo: z.string().optional(),
});

const kubernetesDeployment = strict({
  namespace: dnsLabel('namespace').default('default'),
  deployment_name: dnsLabel('deployment name'),
  manifests_path: z.string().optional(),
  helm_chart: helmChart.optional(),
}).superRefine((k, ctx) => {
  if (!k.manifests_path && !k.helm_chart) {
    addProblem(ctx, 'neither manifests_path nor helm_chart is given', 'set manifests_path = "k8s/" (kubectl apply) or add a {path}.helm_chart table (helm upgrade --install)');
  }
});

const remoteDeployment = strict({
  endpoint: url('remote endpoint', ['http:', 'https:']),
  tls_enabled: z.boolean().optional(),
  auth_token_path: z.string().optional(),
});

const deployment = strict({
  mode: z.enum(DEPLOYMENT_MODES),
  binary: binaryDeployment.optional(),
  docker: dockerDeployment.optional(),
  docker_compose: composeDeployment.optional(),
  kubernetes: kubernetesDeployment.optional(),
  remote: remoteDeployment.optional(),
}).superRefine((d, ctx) => {
  const section = MODE_SECTION[d.mode];
  if (d[section] === undefined) {
    addProblem(
      ctx,
      `mode "${d.mode}" needs a ${section} section, and there is none`,
      `add a [{path}] table with ${MODE_EXAMPLE[d.mode]}`,
      [section],
    );
  }
});

const httpCheck = strict({
  endpoint: url('health endpoint', ['http:', 'https:']),
  expected_status: z.number().int().min(100).max(599).default(200),
  method: z.enum(['GET', 'HEAD', 'POST', 'PUT', 'OPTIONS']).default('GET'),
});

const tcpCheck = strict({
  host: nonEmptyString().default('localhost'),
  port: port(),
});

const commandCheck = strict({
  command: command('health command'),
  expected_exit_code: z.number().int().min(0).max(255).default(0),
});

const fileCheck = strict({
  path: nonEmptyString(),
  must_exist: z.boolean().default(true),
});

const healthCheck = strict({
  type: z.enum(HEALTH_CHECK_TYPES).default('none'),
  interval: positiveSeconds().default(10),
  retries: positiveInt().default(3),
  timeout: positiveSeconds().default(5),
  http: httpCheck.optional(),
  tcp: tcpCheck.optional(),
  command: commandCheck.optional(),
  file: fileCheck.optional(),
}).superRefine((h, ctx) => {
  if (h.type !== 'none' && h[h.type] === undefined) {
    addProblem(
      ctx,
      `health check type "${h.type}" needs a ${h.type} section, and there is none`,
      `add a [{path}] table with ${CHECK_EXAMPLE[h.type]}, or set type = "none"`,
      [h.type],
    );
  }
});

const startup = strict({
  auto_start: z.boolean().default(false),
  start_timeout: positiveSeconds().default(30),
  start_order: z.number().int().default(100),
  restart_on_failure: z.boolean().default(false),
  max_restarts: z.number().int().min(0).default(3),
});

const resources = strict({
  cpu_millicores: positiveInt().optional(),
  memory_mb: positiveInt().optional(),
});

export const SERVICE_TYPES = ['platform', 'infrastructure', 'utility'] as const;

export const serviceSchema = strict({
  name: z.string().optional(),
  type: z.enum(SERVICE_TYPES).default('platform'),
  category: z
    .string()
    .regex(/^[a-z][a-z0-9-]*$/, { error: 'category must be a lowercase word (letters, digits, "-")' })
    .default('general'),
  description: z.string().default(''),
  required_for: z.array(dnsLabel('operation name')).default([]),
  dependencies: z.array(z.string()).default([]),
  conflicts: z.array(safeName('conflict name')).default([]),
  deployment,
  health_check: healthCheck.prefault({}),
  startup: startup.prefault({}),
  resources: resources.optional(),
});

const webhook = strict({
  url: url('webhook URL', ['http:', 'https:']).optional(),
  url_file: nonEmptyString().optional(),
  format: z.enum(ALERT_FORMATS).default('json'),
  events: z.array(z.enum(ALERT_EVENTS)).min(1).default([...ALERT_EVENTS]),
  attempts: z.number().int().min(1).max(100).default(8),
}).superRefine((w, ctx) => {
  if ((w.url === undefined) === (w.url_file === undefined)) {
    addProblem(ctx, w.url ? 'both url and url_file are given' : 'neither url nor url_file is given', 'give one: url = "https://hooks.example.com/..." or url_file = "/etc/provisioning/webhook-url" (a file holding the URL, for secret URLs such as Slack\'s)');
  }
});

const alerts = strict({
  webhooks: z.array(webhook).default([]),
});

export const registrySchema = strict({
  services: z.record(z.string(), serviceSchema),
  alerts: alerts.optional(),
});

export type ServiceDefinitionInput = z.output<typeof serviceSchema>;
export type BinaryDeployment = z.output<typeof binaryDeployment>;
export type DockerDeployment = z.output<typeof dockerDeployment>;
export type ComposeDeployment = z.output<typeof composeDeployment>;
export type KubernetesDeployment = z.output<typeof kubernetesDeployment>;
export type RemoteDeployment = z.output<typeof remoteDeployment>;
export type HealthCheck = z.output<typeof healthCheck>;
export type StartupConfig = z.output<typeof startup>;
export type Resources = z.output<typeof resources>;

/** A validated service with its name and resolved defaults: what workflows receive. */
export type ServiceDefinition = Omit<ServiceDefinitionInput, 'name'> & { name: string };

/** A validated registry snapshot: plain JSON, safe to pass into a workflow. */
export interface Registry {
  /** Absolute path of the file it was loaded from. */
  source: string;
  services: Record<string, ServiceDefinition>;
  /** Where supervisors send alerts ([alerts] webhooks). */
  alerts?: { webhooks: AlertTarget[] };
}

