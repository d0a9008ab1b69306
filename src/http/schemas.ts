/** Request and response schemas of the REST API (zod: validation, and the OpenAPI document). */
import { z } from 'zod';
import { WORKFLOW_STATUSES } from '../model/workflow-status.js';
import { HOST_NAME, HOST_NAME_FIX } from '../model/worker-defaults.js';

const name = z.string().regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, 'lowercase letters, digits and "-", at most 63 characters');

export const taskSchema = z
  .object({
    id: z.string(),
    runId: z.string(),
    type: z.string(),
    operation: z.string().nullable(),
    targets: z.array(z.string()),
    status: z.string(),
    startTime: z.string(),
    closeTime: z.string().optional(),
    historyLength: z.number(),
    webUi: z.string().optional(),
    progress: z.unknown().optional(),
    result: z.unknown().optional(),
    failure: z.object({ message: z.string() }).optional(),
  })
  .meta({ id: 'Task' });

export const submittedSchema = z.object({ task_id: z.string(), run_id: z.string(), status: z.literal('RUNNING'), location: z.string(), webUi: z.string().optional() }).meta({ id: 'Submitted' });

export const taskListQuery = z.object({
  operation: z.string().max(64).optional(),
  status: z.enum(WORKFLOW_STATUSES).optional(),
  target: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(100).optional(),
});

export const eventsQuery = z.object({ interval_ms: z.coerce.number().int().min(50).max(10_000).default(250) });

/** The host whose workers run the work (provisioning worker --host); default: the host of the worker that takes it. */
const hostField = z.string().regex(HOST_NAME, `a host name: ${HOST_NAME_FIX}`).optional();

/** `settings`: the document itself, or a path inside the server's settings root. */
const settingsField = z.union([z.string().min(1).max(4096), z.record(z.string(), z.unknown())]);

export const serversCreateBody = z.object({
  infra: name.optional(),
  settings: settingsField,
  servers: z.array(name).max(1000).default([]),
  check_mode: z.boolean().default(false),
  host: hostField,
  wait: z.boolean().default(false),
});

export const taskservCreateBody = z.object({
  infra: name.optional(),
  settings: settingsField,
  server: name,
  taskserv: name,
  wait: z.boolean().default(false),
});

export const platformBody = z.object({
  services: z.array(z.string().min(1).max(200)).max(1000).default([]),
  force: z.boolean().default(false),
  grace: z.number().positive().max(3600).optional(),
  platform: name.default('default'),
  host: hostField,
  wait: z.boolean().default(false),
});

/** The seeds' test-environment request; validated in full (with key paths) when it is planned. */
export const environmentCreateBody = z
  .object({
    config: z.record(z.string(), z.unknown()),
    auto_start: z.boolean().optional(),
    auto_cleanup: z.boolean().optional(),
    ttl: z.union([z.number(), z.string()]).optional(),
    infra: z.string().optional(),
    id: z.string().max(40).optional(),
    host: hostField,
    wait: z.boolean().default(true),
  })
  .meta({ id: 'EnvironmentRequest' });

export const environmentParams = z.object({ id: z.string().min(1).max(40) });

export const runQuery = z.object({ format: z.enum(['json', 'junit']).default('json') });

export const runBody = z.object({ nodes: z.array(name).max(100).optional(), command: z.array(z.string().max(4096)).min(1).max(100).optional() });

export const logsQuery = z.object({
  node: z.union([name, z.array(name)]).optional(),
  tail: z.coerce.number().int().min(1).max(100_000).optional(),
  follow: z.enum(['true', 'false']).default('false'),
});

export const listEnvironmentsQuery = z.object({ all: z.enum(['true', 'false']).default('false'), limit: z.coerce.number().int().min(1).max(500).default(50) });
