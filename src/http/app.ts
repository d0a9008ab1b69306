/**
 * The REST API (fastify 5 with the zod type provider: the request and response schemas are zod
 * schemas, and the OpenAPI document at /openapi.json is generated from them). The handlers call
 * the client API (src/api/); they hold no workflow logic of their own.
 */
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance } from 'fastify';
import { jsonSchemaTransform, jsonSchemaTransformObject, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { bearerCheck } from './auth.js';
import { Shared, type HttpOptions } from './context.js';
import { handleError } from './errors.js';
import { addRequestMetrics } from './metrics.js';
import { addRequestTracing } from './tracing.js';
import { platformRoutes } from './routes/platform.js';
import { serverRoutes } from './routes/servers.js';
import { taskRoutes } from './routes/tasks.js';
import { testenvRoutes } from './routes/testenv.js';

export type { HttpOptions };

export async function buildApp(options: HttpOptions): Promise<FastifyInstance> {
  const app = Fastify({
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    // The token is never logged: requests are logged without their headers.
    logger: options.logger ? { level: 'info', redact: ['req.headers.authorization'] } : false,
    // Long enough for any id the schemas accept (400 characters, percent-encoded), so they answer 400 themselves.
    routerOptions: { maxParamLength: 8000 },
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler((err, request, reply) => handleError(err, request, reply));
  app.setNotFoundHandler((request, reply) => reply.code(404).send({ error: `no endpoint ${request.method} ${request.url.split('?')[0]}`, problems: [{ path: '', message: 'unknown endpoint', fix: 'see /openapi.json or /docs' }] }));

  const shared = new Shared(options);
  app.addHook('onClose', () => shared.close());

  await app.register(rateLimit, { max: options.rateLimit ?? 1200, timeWindow: '1 minute', allowList: (request) => request.url === '/health' });
  const check = bearerCheck(options.token);
  if (check) {
    app.addHook('onRequest', (request, _reply, done) => {
      if (request.url === '/health' || request.url.startsWith('/health?')) return done();
      try {
        check(request.headers.authorization);
        done();
      } catch (err) {
        done(err as Error);
      }
    });
  }

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'provisioning', description: 'Durable platform orchestration on Temporal: the seeds\' orchestrator endpoints.', version: '0.1.0' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: check ? [{ bearer: [] }] : [],
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, () => app.swagger());

  addRequestMetrics(app);
  await addRequestTracing(app);
  await app.register(taskRoutes(shared));
  await app.register(serverRoutes(shared));
  await app.register(testenvRoutes(shared));
  await app.register(platformRoutes(shared));
  return app;
}
