/** POST /workflows/servers/create, /workflows/cluster/create, /workflows/taskserv/create: the seeds' bodies. */
import path from 'node:path';
import type { FastifyPluginCallbackZod } from 'fastify-type-provider-zod';
import { FailedError } from '../../api/errors.js';
import { createCluster, createServers, startTaskserv } from '../../api/servers.js';
import { getTask } from '../../api/tasks.js';
import type { ApiContext } from '../../api/context.js';
import { UsageError } from '../../config/errors.js';
import type { Settings } from '../../config/settings-schema.js';
import { insideRoot, loadSettings, parseSettings } from '../../config/settings.js';
import type { Shared } from '../context.js';
import { errorResponses } from '../errors.js';
import { serversCreateBody, submittedSchema, taskSchema, taskservCreateBody } from '../schemas.js';

/** The settings a request names: inline, or a file inside the settings root (never read when outside). */
export async function requestSettings(shared: Shared, settings: string | Record<string, unknown>, infra?: string): Promise<Settings> {
  const root = path.resolve(shared.options.settingsRoot);
  let loaded: Settings;
  if (typeof settings === 'string') {
    const file = path.resolve(root, settings);
    if (!(await insideRoot(root, file))) throw new UsageError(`settings "${settings}" is outside the settings root of this server`, `name a file inside ${root}, or send the settings document inline`);
    loaded = await loadSettings(file, shared.options.env, { root });
  } else {
    loaded = await parseSettings(settings, 'request body settings', root, shared.options.env, { root });
  }
  if (infra && infra !== loaded.infra) throw new UsageError(`the settings describe infra "${loaded.infra}", not "${infra}"`, `send infra "${loaded.infra}", or the settings of ${infra}`);
  return loaded;
}

/** 202 with the task's address, or (wait) the finished task. */
export async function submitted(ctx: ApiContext, run: { workflowId: string; runId: string; webUi?: string; result(): Promise<unknown> }, wait: boolean): Promise<{ status: number; body: unknown; headers?: Record<string, string> }> {
  const location = `/tasks/${encodeURIComponent(run.workflowId)}`;
  if (!wait) return { status: 202, body: { task_id: run.workflowId, run_id: run.runId, status: 'RUNNING', location, ...(run.webUi ? { webUi: run.webUi } : {}) }, headers: { location } };
  await run.result().catch((err: unknown) => {
    if (!(err instanceof FailedError)) throw err; // a failed run is a task with its failure, not an HTTP error
  });
  return { status: 200, body: await getTask(ctx, run.workflowId), headers: { location } };
}

export function serverRoutes(shared: Shared): FastifyPluginCallbackZod {
  return (app, _options, done) => {
    const responses = { ...errorResponses, 200: taskSchema, 202: submittedSchema };
    for (const [url, create, summary] of [
      ['/workflows/servers/create', createServers, 'Create servers and install their taskservs (check_mode: plan only)'],
      ['/workflows/cluster/create', createCluster, 'Create a cluster: control-plane servers first, then the workers'],
    ] as const) {
      app.post(url, { schema: { summary, body: serversCreateBody, response: responses } }, (request, reply) =>
        shared.once(request, reply, async () => {
          const { infra, settings, servers, check_mode, host, wait } = request.body;
          const loaded = await requestSettings(shared, settings, infra);
          const ctx = await shared.api();
          return submitted(ctx, await create(ctx, { settings: loaded, servers, check: check_mode, ...(host ? { host } : {}) }), wait);
        }),
      );
    }

    app.post('/workflows/taskserv/create', { schema: { summary: 'Install a taskserv (and its missing dependencies) on an existing server', body: taskservCreateBody, response: responses } }, (request, reply) =>
      shared.once(request, reply, async () => {
        const { infra, settings, server, taskserv, wait } = request.body;
        const loaded = await requestSettings(shared, settings, infra);
        const ctx = await shared.api();
        return submitted(ctx, await startTaskserv(ctx, { settings: loaded, server, taskserv }), wait);
      }),
    );
    done();
  };
}
