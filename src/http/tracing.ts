/** The REST API's request spans (tracing on: OTEL_EXPORTER_OTLP_ENDPOINT; temporal/tracing.ts). */
import type { Span } from '@opentelemetry/api';
import type { FastifyInstance } from 'fastify';
import { tracing } from '../temporal/tracing.js';

/**
 * With OTEL_EXPORTER_OTLP_ENDPOINT set, each request is a span (`POST /test/environments/create`)
 * and the rest of its handling runs with it active, so the workflows it starts join its trace.
 */
export async function addRequestTracing(app: FastifyInstance): Promise<void> {
  const traced = await tracing('provisioning-api');
  if (!traced) return;
  const spans = new WeakMap<object, Span>();
  app.addHook('onRequest', (request, _reply, done) => {
    const span = traced.startSpan(`${request.method} ${request.routeOptions.url ?? 'unmatched'}`);
    spans.set(request, span);
    traced.runIn(span, done);
  });
  app.addHook('onResponse', (request, reply, done) => {
    const span = spans.get(request);
    span?.setAttribute('http.response.status_code', reply.statusCode);
    span?.end();
    done();
  });
  app.addHook('onClose', () => traced.shutdown());
}
