/**
 * The Temporal server (go.temporal.io/server, cmd/server) and temporal-sql-tool, built by
 * `npm run setup` from the Go module proxy into the user cache with the PostgreSQL schema and
 * the dynamic-config template next to them. The version is pinned in package.json
 * (config.temporalServer).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../config/errors.js';
import type { Env } from '../config/registry.js';
import { userCacheDir } from './cli-binary.js';

export const TEMPORAL_SERVER_VERSION: string = (JSON.parse(readFileSync(fileURLToPath(new URL('../../package.json', import.meta.url)), 'utf8')) as { config: { temporalServer: string } }).config.temporalServer;

export interface ServerBinaries {
  version: string;
  server: string;
  sqlTool: string;
  /** schema/postgresql/v12/{temporal,visibility}/versioned */
  schemaDir: string;
  dynamicConfigTemplate: string;
}

export function serverBinariesDir(env: Env = process.env, version = TEMPORAL_SERVER_VERSION): string {
  return path.join(userCacheDir(env), 'temporal-server', version);
}

export function serverBinaries(env: Env = process.env): ServerBinaries {
  const dir = serverBinariesDir(env);
  const found: ServerBinaries = {
    version: TEMPORAL_SERVER_VERSION,
    server: path.join(dir, 'bin', 'temporal-server'),
    sqlTool: path.join(dir, 'bin', 'temporal-sql-tool'),
    schemaDir: path.join(dir, 'schema', 'postgresql', 'v12'),
    dynamicConfigTemplate: path.join(dir, 'config', 'dynamicconfig', 'development-sql.yaml'),
  };
  const missing = [found.server, found.sqlTool, found.schemaDir, found.dynamicConfigTemplate].filter((f) => !existsSync(f));
  if (missing.length > 0) {
    throw new UsageError(`the Temporal server ${TEMPORAL_SERVER_VERSION} is not built (missing ${missing.join(', ')})`, 'run "npm run setup": it builds the server and temporal-sql-tool from the Go module proxy into the user cache (about 5 minutes the first time)');
  }
  return found;
}
