/**
 * The bodies of the operations' requests: the REST API's (http/schemas.ts uses them for
 * validation and the OpenAPI document) and `workflow submit FILE`'s. Pure (zod only).
 */
import { z } from 'zod';
import { HOST_NAME, HOST_NAME_FIX } from './worker-defaults.js';

export const name = z.string().regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, 'lowercase letters, digits and "-", at most 63 characters');

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


/** The operations `workflow submit FILE` takes: the REST API's bodies with an `operation` field. */
export const SUBMIT_OPERATIONS = ['server-create', 'cluster-create', 'taskserv-create', 'test-environment', 'platform-start', 'platform-stop', 'platform-restart', 'platform-update'] as const;
export type SubmitOperation = (typeof SUBMIT_OPERATIONS)[number];

/** A request file: one of the bodies, its keys checked strictly (a misspelt key is refused, not ignored). */
export const submitRequest = z.discriminatedUnion('operation', [
  serversCreateBody.extend({ operation: z.literal('server-create') }).strict(),
  serversCreateBody.extend({ operation: z.literal('cluster-create') }).strict(),
  taskservCreateBody.extend({ operation: z.literal('taskserv-create') }).strict(),
  environmentCreateBody.extend({ operation: z.literal('test-environment') }).strict(),
  platformBody.extend({ operation: z.literal('platform-start') }).strict(),
  platformBody.extend({ operation: z.literal('platform-stop') }).strict(),
  platformBody.extend({ operation: z.literal('platform-restart') }).strict(),
  platformBody.extend({ operation: z.literal('platform-update') }).strict(),
]);
export type SubmitRequest = z.infer<typeof submitRequest>;
