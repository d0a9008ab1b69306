/** Providers create, delete, find, reach and run commands on servers, behind one interface. */
import type { ServerSpec, Settings } from '../../config/settings-schema.js';
import type { TaskservStep } from '../../model/servers.js';

export type { TaskservStep } from '../../model/servers.js';

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

/** A taskserv script: its content, and the local path of its file in the catalog. */
export interface TaskservScript {
  step: TaskservStep;
  content: string;
  file: string;
}

export interface StepsResult extends ExecResult {
  /** The step that failed, when exitCode is not 0. */
  failedStep?: TaskservStep;
}

export interface Provider {
  exists(ctx: ServerContext): Promise<boolean>;
  create(ctx: ServerContext): Promise<CreateResult>;
  delete(ctx: ServerContext): Promise<{ deleted: boolean; output?: string }>;
  /** Whether the server answers, and the taskservs recorded on it as installed. */
  probe(ctx: ServerContext): Promise<{ ready: boolean; installed: string[] }>;
  /**
   * Runs a taskserv's scripts on the server in order, stopping at the first failure; a
   * successful install is recorded where the provider can keep such a record.
   */
  run(ctx: ServerContext, taskserv: string, scripts: TaskservScript[], env: Record<string, string>, signal?: AbortSignal): Promise<StepsResult>;
}

export function serverName(ctx: ServerContext): string {
  return `${ctx.settings.infra}-${ctx.server.hostname}`;
}

export function networkName(ctx: ServerContext): string {
  return ctx.server.network ?? `${ctx.settings.infra}-net`;
}
