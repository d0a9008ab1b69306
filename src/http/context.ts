/** What the routes share: the client API's context (connected on first use), the server's roots, idempotency. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ApiContext } from '../api/context.js';
import type { Registry } from '../config/registry-schema.js';
import { TemporalUnreachable } from './errors.js';

export interface HttpOptions {
  /** Makes the Temporal client; called again after a failure. */
  connect: () => Promise<ApiContext>;
  /** `settings` paths in requests must lie inside it. */
  settingsRoot: string;
  /** The registry of POST /platform/...; absent: those endpoints answer 400. */
  registry?: () => Promise<Registry>;
  /** Project home on the workers' machine. */
  home: string;
  /** Catalog of test environments (default: $PROVISIONING_CATALOG or the shipped one). */
  catalog?: string;
  env: Record<string, string | undefined>;
  token?: string;
  bodyLimit?: number;
  /** Requests per minute and client. */
  rateLimit?: number;
  logger?: boolean;
}

export class Shared {
  private ctx?: Promise<ApiContext>;
  private readonly idempotent = new Map<string, Promise<{ status: number; body: unknown; headers: Record<string, string> }>>();

  constructor(readonly options: HttpOptions) {}

  /** The client API's context; a Temporal that does not answer is a 503. */
  async api(): Promise<ApiContext> {
    this.ctx ??= this.options.connect();
    try {
      return await this.ctx;
    } catch (err) {
      this.ctx = undefined;
      throw new TemporalUnreachable(`Temporal does not answer: ${(err as Error).message.split('\n')[0]}`);
    }
  }

  async close(): Promise<void> {
    const ctx = await this.ctx?.catch(() => undefined);
    await ctx?.client.connection.close();
  }

  /**
   * Runs a POST once per Idempotency-Key: a retry with the same key (and route) gets the first
   * response, however often it is sent, even while the first is still running. Keys live as
   * long as this server process (the last 10,000).
   */
  async once(request: FastifyRequest, reply: FastifyReply, run: () => Promise<{ status: number; body: unknown; headers?: Record<string, string> }>): Promise<void> {
    const key = request.headers['idempotency-key'];
    const send = async (r: { status: number; body: unknown; headers?: Record<string, string> }): Promise<void> => {
      await reply.code(r.status).headers(r.headers ?? {}).send(r.body);
    };
    if (typeof key !== 'string' || key === '') return send(await run());
    const id = `${request.method} ${request.routeOptions.url ?? request.url} ${key}`;
    let pending = this.idempotent.get(id);
    if (!pending) {
      pending = run().then((r) => ({ headers: {}, ...r }));
      this.idempotent.set(id, pending);
      pending.catch(() => this.idempotent.delete(id)); // a request that failed may be retried for real
      if (this.idempotent.size > 10_000) this.idempotent.delete(this.idempotent.keys().next().value!);
    }
    return send(await pending);
  }
}

/** Writes Server-Sent Events until the generator ends or the client goes away. */
export async function sendEvents<T>(request: FastifyRequest, reply: FastifyReply, events: (signal: AbortSignal) => AsyncGenerator<{ id?: number | string; event: string; data: T }>): Promise<void> {
  const abort = new AbortController();
  request.raw.on('close', () => abort.abort());
  reply.hijack();
  reply.raw.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  try {
    for await (const e of events(abort.signal)) {
      if (abort.signal.aborted) break;
      reply.raw.write(`${e.id !== undefined ? `id: ${e.id}\n` : ''}event: ${e.event}\ndata: ${JSON.stringify(e.data)}\n\n`);
    }
  } catch (err) {
    reply.raw.write(`event: error\ndata: ${JSON.stringify({ error: (err as Error).message })}\n\n`);
  }
  reply.raw.end();
}
