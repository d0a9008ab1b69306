/** Providers create, delete, find, reach and run commands on servers, behind one interface. */
import type { ServerSpec, Settings } from '../../config/settings-schema.js';

/** What a provider needs to know about one server: the settings (without the catalog) and the server. */
export interface ServerContext {
  settings: Pick<Settings, 'infra' | 'source' | 'network' | 'providers'>;
  server: ServerSpec;
}

export interface ExecResult {
  exitCode: number;
  output: string;
}

export interface CreateResult {
  created: boolean;
  id?: string;
  output?: string;
}

export interface Provider {
  exists(ctx: ServerContext): Promise<boolean>;
  create(ctx: ServerContext): Promise<CreateResult>;
  delete(ctx: ServerContext): Promise<{ deleted: boolean; output?: string }>;
  /** Runs a taskserv script (its content and the local path of its file) on the server. */
  exec(ctx: ServerContext, script: { content: string; file: string; taskserv: string }, env: Record<string, string>): Promise<ExecResult>;
  ready(ctx: ServerContext): Promise<boolean>;
}

export function serverName(ctx: ServerContext): string {
  return `${ctx.settings.infra}-${ctx.server.hostname}`;
}

export function networkName(ctx: ServerContext): string {
  return ctx.server.network ?? `${ctx.settings.infra}-net`;
}
