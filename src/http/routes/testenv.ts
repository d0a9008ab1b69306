/** The seeds' test-environment endpoints: create, list, get, run, delete, logs (JSON, or SSE with follow). */
import type { FastifyPluginCallbackZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { settled } from '../../api/errors.js';
import { cleanupEnvironment, closedState, createEnvironment, environmentLogs, environmentStatus, followEnvironment, followEnvironmentLogs, listEnvironments, planEnvironment, runTests } from '../../api/testenv/index.js';
import { loadEnvCatalog } from '../../config/testenv.js';
import type { EnvState, RunResult } from '../../model/testenv.js';
import { sendEvents, type Shared } from '../context.js';
import { errorResponses } from '../errors.js';
import { renderJunit } from '../../client/render/junit.js';
import { environmentCreateBody, environmentParams, listEnvironmentsQuery, logsQuery, runBody, runQuery } from '../schemas.js';

// Shapes the client API types precisely; documented here as open objects.
const loose = z.looseObject({}) as unknown as z.ZodType<object>;

export function testenvRoutes(shared: Shared): FastifyPluginCallbackZod {
  return (app, _options, done) => {
    app.post('/test/environments/create', { schema: { summary: 'Create a test environment (the seeds\' request); with wait (the default) answers once it is ready', body: environmentCreateBody, response: { ...errorResponses, 201: loose, 202: loose } } }, (request, reply) =>
      shared.once(request, reply, async () => {
        const { wait, id, host, ...rest } = request.body;
        const config = rest.config;
        const subject = [config.taskserv, config.server_name, config.cluster_type].find((v): v is string => typeof v === 'string' && /^[a-z0-9-]+$/.test(v)) ?? 'env';
        const catalog = await loadEnvCatalog(shared.options.catalog, shared.options.env, shared.options.settingsRoot);
        const { plan, notes } = await planEnvironment({ request: rest, catalog, subject, source: 'request body', ...(id ? { id } : {}) });
        const ctx = await shared.api();
        const env = await createEnvironment(ctx, plan, 'testenv', host ? { host } : {});
        const location = `/test/environments/${env.id}`;
        if (!wait) return { status: 202, body: { id: env.id, task_id: env.workflowId, status: 'creating', location, notes }, headers: { location } };
        let state: EnvState | undefined;
        for await (const s of followEnvironment(env, (x) => x.phase === 'ready' || (x.phase === 'created' && !plan.autoStart))) state = s;
        if (!state || !['ready', 'created'].includes(state.phase)) state = (await closedState(env)).state ?? state;
        return { status: 201, body: { ...(state ?? { id: env.id, phase: 'failed' }), task_id: env.workflowId, notes }, headers: { location } };
      }),
    );

    app.get('/test/environments', { schema: { summary: 'Test environments (running ones; all=true for closed ones too)', querystring: listEnvironmentsQuery, response: { ...errorResponses, 200: z.object({ environments: z.array(loose) }) } } }, async (request) => ({
      environments: await listEnvironments(await shared.api(), { all: request.query.all === 'true', limit: request.query.limit }),
    }));

    app.get('/test/environments/:id', { schema: { summary: 'An environment: phase, nodes, addresses, taskservs, last run', params: environmentParams, response: { ...errorResponses, 200: loose } } }, async (request) => {
      const { status, state } = await environmentStatus(await shared.api(), request.params.id);
      return { status, ...(state ?? { id: request.params.id }) };
    });

    app.post('/test/environments/:id/run', { schema: { summary: 'Run the taskservs\' tests, or a command, on the nodes; format=junit answers a JUnit XML report', params: environmentParams, querystring: runQuery, body: runBody, response: { ...errorResponses, 200: loose } } }, async (request, reply) => {
      // Failed tests are a result, not an error.
      const { value: result } = await settled<RunResult>(runTests(await shared.api(), request.params.id, request.body));
      if (request.query.format === 'junit') {
        // Bypasses the JSON serializer: the report is XML.
        reply.hijack();
        reply.raw.writeHead(200, { 'content-type': 'application/xml; charset=utf-8' });
        reply.raw.end(renderJunit({ name: `testenv.${request.params.id}`, tests: result.tests }));
        return;
      }
      return { id: request.params.id, ...result };
    });

    app.delete('/test/environments/:id', { schema: { summary: 'Remove the environment (its containers and network)', params: environmentParams, response: { ...errorResponses, 200: loose } } }, async (request) => cleanupEnvironment(await shared.api(), request.params.id));

    app.get('/test/environments/:id/logs', { schema: { summary: 'Node logs; follow=true streams them as Server-Sent Events', params: environmentParams, querystring: logsQuery, response: { ...errorResponses, 200: z.object({ id: z.string(), nodes: z.array(z.object({ node: z.string(), container: z.string(), lines: z.array(z.string()) })) }) } } }, async (request, reply) => {
      const { node, tail, follow } = request.query;
      const which = { ...(node ? { nodes: Array.isArray(node) ? node : [node] } : {}), ...(tail ? { tail } : {}) };
      if (follow === 'false') {
        const logs = await environmentLogs(request.params.id, which);
        return { id: request.params.id, nodes: logs.map((l) => ({ node: l.node, container: l.container, lines: l.text.trimEnd().split('\n') })) };
      }
      await environmentLogs(request.params.id, { ...which, tail: 1 }); // 404 or 400 before the stream starts
      await sendEvents<unknown>(request, reply, async function* (signal) {
        const queue: Array<{ node: string; line: string }> = [];
        let wake: () => void = () => undefined;
        let ended = false;
        const done = followEnvironmentLogs(request.params.id, (n, line) => (queue.push({ node: n, line }), wake()), { ...which, signal }).finally(() => ((ended = true), wake()));
        let seq = 0;
        while (!ended || queue.length > 0) {
          if (queue.length === 0) await new Promise<void>((r) => (wake = r));
          while (queue.length > 0) yield { id: ++seq, event: 'line', data: queue.shift()! };
        }
        await done;
        yield { event: 'end', data: { id: request.params.id } };
      });
    });
    done();
  };
}
