/** Request and response schemas of the REST API (zod: validation, and the OpenAPI document). */
import { z } from 'zod';
import { WORKFLOW_STATUSES } from '../model/workflow-status.js';
import { name } from '../model/requests.js';

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

export { environmentCreateBody, platformBody, serversCreateBody, taskservCreateBody } from '../model/requests.js';

export const environmentParams = z.object({ id: z.string().min(1).max(40) });

export const runQuery = z.object({ format: z.enum(['json', 'junit']).default('json') });

export const runBody = z.object({ nodes: z.array(name).max(100).optional(), command: z.array(z.string().max(4096)).min(1).max(100).optional() });

export const logsQuery = z.object({
  node: z.union([name, z.array(name)]).optional(),
  tail: z.coerce.number().int().min(1).max(100_000).optional(),
  follow: z.enum(['true', 'false']).default('false'),
});

export const listEnvironmentsQuery = z.object({ all: z.enum(['true', 'false']).default('false'), limit: z.coerce.number().int().min(1).max(500).default(50) });
