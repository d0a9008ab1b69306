/**
 * OpenTelemetry traces, on only when OTEL_EXPORTER_OTLP_ENDPOINT (or
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set: then the CLI, the REST API and the worker export
 * spans over OTLP/HTTP, and the Temporal SDK's OpenTelemetry plugin carries the trace context
 * from the client through each workflow to its activities, so one `test quick` is one trace.
 * Unset, nothing here is loaded (the imports are lazy) and nothing is traced.
 */
import type { Span } from '@opentelemetry/api';
import type { OpenTelemetryPlugin } from '@temporalio/interceptors-opentelemetry';

export function tracingEnabled(env: Record<string, string | undefined> = process.env): boolean {
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) && env.OTEL_SDK_DISABLED !== 'true';
}

export interface Tracing {
  /** For Client and Worker `plugins`. */
  plugin: OpenTelemetryPlugin;
  /** Runs `fn` inside a new active span named `name` (the root of what `fn` starts). */
  inSpan<T>(name: string, fn: (span: Span) => Promise<T>): Promise<T>;
  /** A span that the caller ends, and running `fn` with it as the active span (an HTTP request's, say). */
  startSpan(name: string): Span;
  runIn<T>(span: Span, fn: () => T): T;
  /** Exports what is buffered and stops; a collector that does not answer is reported through `warn`, never thrown. */
  shutdown(warn?: (line: string) => void): Promise<void>;
}

let current: Promise<Tracing | undefined> | undefined;

/** The process's tracing (one tracer provider per process), or undefined when it is off. */
export function tracing(service: string, env: Record<string, string | undefined> = process.env): Promise<Tracing | undefined> {
  if (!tracingEnabled(env)) return current ?? Promise.resolve(undefined);
  current ??= setUp(service);
  return current;
}

async function setUp(service: string): Promise<Tracing> {
  const [api, { NodeTracerProvider }, { BatchSpanProcessor }, { Resource }, { OTLPTraceExporter }, { OpenTelemetryPlugin }] = await Promise.all([
    import('@opentelemetry/api'),
    import('@opentelemetry/sdk-trace-node'),
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@temporalio/interceptors-opentelemetry'),
  ]);
  const resource = new Resource({ 'service.name': process.env.OTEL_SERVICE_NAME ?? service });
  // The exporter reads the endpoint, headers and timeout from the standard OTEL_* variables.
  const spanProcessor = new BatchSpanProcessor(new OTLPTraceExporter(), { scheduledDelayMillis: 500 });
  const provider = new NodeTracerProvider({ resource, spanProcessors: [spanProcessor] });
  provider.register();
  const tracer = api.trace.getTracer('provisioning');
  return {
    plugin: new OpenTelemetryPlugin({ resource, spanProcessor }),
    inSpan: (name, fn) =>
      tracer.startActiveSpan(name, async (span) => {
        try {
          return await fn(span);
        } catch (err) {
          span.recordException(err as Error);
          span.setStatus({ code: api.SpanStatusCode.ERROR, message: (err as Error).message });
          throw err;
        } finally {
          span.end();
        }
      }),
    startSpan: (name) => tracer.startSpan(name),
    runIn: (span, fn) => api.context.with(api.trace.setSpan(api.context.active(), span), fn),
    shutdown: async (warn = (line) => process.stderr.write(`${line}\n`)) => {
      current = undefined;
      await provider.shutdown().catch((err: unknown) => warn(`warning: traces could not be exported to ${process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? process.env.OTEL_EXPORTER_OTLP_ENDPOINT}: ${(err as Error).message}`));
    },
  };
}
