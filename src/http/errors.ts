/**
 * Every error as JSON `{ error, problems: [{ path, message, fix }] }`, with the CLI's key-path
 * messages: 400 bad input, 401 no or wrong token, 404 unknown, 409 busy (naming the run that
 * holds it), 413 too large, 429 too many requests, 503 Temporal unreachable. Never a stack trace.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { BusyError, ConfigError, NotFoundError, UnavailableError, UsageError } from '../api/errors.js';
import { formatKeyPath } from '../config/errors.js';

export const problemSchema = z.object({ path: z.string(), message: z.string(), fix: z.string() });
export const errorSchema = z
  .object({
    error: z.string(),
    problems: z.array(problemSchema),
    holder: z.object({ workflowId: z.string(), runId: z.string(), type: z.string(), startTime: z.string(), webUi: z.string().optional() }).optional(),
  })
  .meta({ id: 'Error' });
export type ErrorBody = z.infer<typeof errorSchema>;

/** The error answers every endpoint may give, documented on each. */
export const errorResponses = { 400: errorSchema, 401: errorSchema, 404: errorSchema, 409: errorSchema, 413: errorSchema, 429: errorSchema, 503: errorSchema } as const;

/** The HTTP status and body of an error. */
export function errorResponse(err: unknown): { status: number; body: ErrorBody } {
  if (hasZodFastifySchemaValidationErrors(err)) {
    const where = (err as { validationContext?: string }).validationContext ?? 'body';
    const problems = err.validation.map((v) => {
      const keys = v.instancePath.split('/').filter(Boolean).map((k) => (/^\d+$/.test(k) ? Number(k) : k));
      return { path: [where, formatKeyPath(keys)].filter(Boolean).join('.'), fix: 'see the schema of this endpoint in /openapi.json', message: v.message ?? 'invalid' };
    });
    return { status: 400, body: { error: `invalid request ${where}: ${problems.length} ${problems.length === 1 ? 'problem' : 'problems'}`, problems } };
  }
  if (err instanceof ConfigError) {
    return { status: 400, body: { error: err.message.split('\n')[0]!, problems: err.problems.map((p) => ({ path: p.path, message: p.problem, fix: p.fix })) } };
  }
  if (err instanceof NotFoundError || err instanceof UsageError) {
    const [message] = err.message.split('\n  fix: ');
    return { status: err instanceof NotFoundError ? 404 : 400, body: { error: message!, problems: [{ path: '', message: message!, fix: err.fix ?? '' }] } };
  }
  if (err instanceof BusyError) {
    return { status: 409, body: { error: err.message, problems: [{ path: '', message: err.message, fix: 'wait for that run to finish, then retry' }], holder: err.holder } };
  }
  if (err instanceof UnavailableError) return { status: 503, body: { error: err.message, problems: [{ path: '', message: err.message, fix: err.fix }] } };
  if (err instanceof Unauthorized) return { status: 401, body: { error: err.message, problems: [{ path: 'headers.authorization', message: err.message, fix: 'send Authorization: Bearer <token>' }] } };
  if (err instanceof TemporalUnreachable) return { status: 503, body: { error: err.message, problems: [{ path: '', message: err.message, fix: 'start Temporal (provisioning dev), or point the API server at it (TEMPORAL_ADDRESS)' }] } };
  const e = err as FastifyError;
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    const fix = e.statusCode === 413 ? 'send a smaller body' : e.statusCode === 429 ? 'slow down; retry after the time in the retry-after header' : e.statusCode === 415 ? 'send Content-Type: application/json' : 'check the request';
    return { status: e.statusCode, body: { error: e.message, problems: [{ path: '', message: e.message, fix }] } };
  }
  return { status: 500, body: { error: 'internal error: see the API server log', problems: [] } };
}

export class Unauthorized extends Error {}
export class TemporalUnreachable extends Error {}

export function handleError(err: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const { status, body } = errorResponse(err);
  if (status >= 500) request.log.error({ err }, 'request failed');
  if (status === 429) return reply.code(429).send(body);
  return reply.code(status).type('application/json').send(body);
}
