/** GET /health, GET /tasks, GET /tasks/{id}, GET /tasks/{id}/events (Server-Sent Events). */
import type { FastifyPluginCallbackZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { getTask, listTasks, taskEvents } from '../../api/tasks.js';
import { taskQueueOf } from '../../api/context.js';
import { anyPoller, workerPollers } from '../../api/workers.js';
import { sendEvents, type Shared } from '../context.js';
import { errorResponses } from '../errors.js';
import { eventsQuery, taskListQuery, taskSchema } from '../schemas.js';

const healthSchema = z.object({
  status: z.enum(['ok', 'degraded']),
  server: z.literal('ok'),
  temporal: z.object({ ok: z.boolean(), namespace: z.string().optional(), error: z.string().optional() }),
  workers: z.object({ ok: z.boolean(), taskQueue: z.string().optional(), pollers: z.number() }),
});

export function taskRoutes(shared: Shared): FastifyPluginCallbackZod {
  return (app, _options, done) => {
    app.get('/health', { schema: { summary: 'This server, its Temporal connection, and whether workers poll the task queue', security: [], response: { 200: healthSchema, 503: healthSchema } } }, async (_request, reply) => {
      let temporal: z.infer<typeof healthSchema>['temporal'];
      let workers: z.infer<typeof healthSchema>['workers'] = { ok: false, pollers: 0 };
      try {
        const ctx = await shared.api();
        const namespace = ctx.client.options.namespace;
        await ctx.client.workflowService.describeNamespace({ namespace });
        temporal = { ok: true, namespace };
        const taskQueue = taskQueueOf(ctx);
        const pollers = (await workerPollers(ctx, taskQueue, { enough: anyPoller })).length;
        workers = { ok: pollers > 0, taskQueue, pollers };
      } catch (err) {
        temporal = { ok: false, error: (err as Error).message.split('\n')[0]! };
      }
      const ok = temporal.ok && workers.ok;
      return reply.code(ok ? 200 : 503).send({ status: ok ? 'ok' : 'degraded', server: 'ok', temporal, workers });
    });

    app.get('/tasks', { schema: { summary: 'The workflows as tasks, newest first; filter by operation, status, target; page with cursor', querystring: taskListQuery, response: { ...errorResponses, 200: z.object({ tasks: z.array(taskSchema), next: z.string().optional() }) } } }, async (request) => {
      const { operation, status, target, limit, cursor } = request.query;
      return listTasks(await shared.api(), { limit, ...(operation ? { operation } : {}), ...(status ? { status } : {}), ...(target ? { target } : {}), ...(cursor ? { cursor } : {}) });
    });

    app.get('/tasks/:id', { schema: { summary: 'One task: status, times, progress, result or failure (id: the workflow id, URL-encoded)', params: z.object({ id: z.string().min(1).max(400) }), response: { ...errorResponses, 200: taskSchema } } }, async (request) => getTask(await shared.api(), request.params.id));

    app.get('/tasks/:id/events', { schema: { summary: 'Live progress as Server-Sent Events until the task closes; resumable with Last-Event-ID', params: z.object({ id: z.string().min(1).max(400) }), querystring: eventsQuery, produces: ['text/event-stream'], response: { ...errorResponses, 200: z.string().describe('text/event-stream: events "progress" and a last "done", each with the task as data') } } }, async (request, reply) => {
      const ctx = await shared.api();
      await getTask(ctx, request.params.id); // a 404 before the stream starts
      const after = Number(request.headers['last-event-id'] ?? 0) || 0;
      await sendEvents(request, reply, async function* (signal) {
        for await (const e of taskEvents(ctx, request.params.id, { after, intervalMs: request.query.interval_ms, signal })) yield { id: e.id, event: e.kind, data: e.task };
      });
    });
    done();
  };
}
