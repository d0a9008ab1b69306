/** Ours beyond the seeds: POST /platform/start|stop|restart|update and GET /platform/status, on the server's registry. */
import type { FastifyPluginCallbackZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { platformStatus, withSupervision } from '../../api/local.js';
import { operatePlatform } from '../../api/platform.js';
import { supervisionOf } from '../../api/services.js';
import { UsageError } from '../../config/errors.js';
import type { Shared } from '../context.js';
import { errorResponses } from '../errors.js';
import { platformBody, submittedSchema, taskSchema } from '../schemas.js';
import { submitted } from './servers.js';

export function platformRoutes(shared: Shared): FastifyPluginCallbackZod {
  const registry = async () => {
    if (!shared.options.registry) throw new UsageError('this API server has no service registry', 'start it with --registry FILE (or $PROVISIONING_REGISTRY)');
    return shared.options.registry();
  };
  return (app, _options, done) => {
    for (const operation of ['start', 'stop', 'restart', 'update'] as const) {
      app.post(`/platform/${operation}`, { schema: { summary: `${operation === 'update' ? 'rolling restart of' : operation} services (default: ${operation === 'start' ? 'the auto_start ones' : 'all running'}) in dependency order${operation === 'update' ? ', one at a time' : ''}`, body: platformBody, response: { ...errorResponses, 200: taskSchema, 202: submittedSchema } } }, (request, reply) =>
        shared.once(request, reply, async () => {
          const { services, force, grace, platform, host, wait } = request.body;
          const reg = await registry();
          const ctx = await shared.api();
          const run = await operatePlatform(ctx, operation, { registry: reg, services, force, home: shared.options.home, platform, ...(grace !== undefined ? { graceSeconds: grace } : {}), ...(host ? { host } : {}) });
          return submitted(ctx, run, wait);
        }),
      );
    }

    app.get('/platform/status', { schema: { summary: 'Each service\'s status, uptime, restarts and supervision on the workers\' machine', querystring: z.object({ platform: z.string().max(63).default('default') }), response: { ...errorResponses, 200: z.object({ registry: z.string(), services: z.array(z.looseObject({}) as unknown as z.ZodType<object>) }) } } }, async (request) => {
      const reg = await registry();
      const statuses = await platformStatus(reg, shared.options.home);
      const states = await shared
        .api()
        .then((ctx) => supervisionOf(ctx.client, request.query.platform, Object.keys(reg.services)))
        .catch(() => undefined);
      return { registry: reg.source, services: withSupervision(statuses, states) };
    });
    done();
  };
}
