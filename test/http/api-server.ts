/** `provisioning api` as a separate process, and fetch helpers for tests over real HTTP. */
import path from 'node:path';
import { execa } from 'execa';
import { inject } from 'vitest';
import { freePort } from '../../src/util/net.js';
import { watchOutput } from '../../src/util/process.js';

const bin = path.resolve(import.meta.dirname, '../../bin/provisioning.js');
export const TOKEN = 'test-token-0123456789abcdef';

export interface ApiServer {
  url: string;
  fetch: (path: string, init?: RequestInit & { json?: unknown; auth?: string | false }) => Promise<Response>;
  stop: () => Promise<void>;
  output: () => string;
}

export async function apiServer(args: string[], { env = {}, token = TOKEN }: { env?: Record<string, string>; token?: string | false } = {}): Promise<ApiServer> {
  const port = await freePort();
  const child = execa('node', [bin, 'api', '--listen', `127.0.0.1:${port}`, '--address', inject('temporalAddress'), ...args], {
    env: { PROVISIONING_FROM_SOURCE: '1', ...(token ? { PROVISIONING_API_TOKEN: token } : {}), ...env },
    reject: false,
    all: true,
  });
  const watched = watchOutput(child);
  await watched.until('REST API on', 'provisioning api', 60_000);
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    output: watched.output,
    fetch: (p, init = {}) => {
      const { json, auth, ...rest } = init;
      const headers = new Headers(rest.headers);
      if (auth !== false && (auth ?? token)) headers.set('authorization', `Bearer ${auth ?? token}`);
      if (json !== undefined) headers.set('content-type', 'application/json');
      return fetch(`${url}${p}`, { ...rest, headers, ...(json !== undefined ? { body: JSON.stringify(json), method: rest.method ?? 'POST' } : {}) });
    },
    stop: async () => {
      child.kill('SIGTERM');
      await child;
    },
  };
}

/** Reads a Server-Sent Events stream to its end (or until `until` says stop): its events in order. */
export async function readEvents(response: Response, until: (e: { id?: string; event: string; data: unknown }) => boolean = () => false): Promise<Array<{ id?: string; event: string; data: unknown }>> {
  const events: Array<{ id?: string; event: string; data: unknown }> = [];
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = (await reader.read()) as { value?: Uint8Array; done: boolean };
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const fields = Object.fromEntries(block.split('\n').map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 2)]));
      const e = { ...(fields.id ? { id: fields.id } : {}), event: fields.event ?? 'message', data: JSON.parse(fields.data ?? 'null') as unknown };
      events.push(e);
      if (until(e)) {
        await reader.cancel();
        return events;
      }
    }
  }
  return events;
}
