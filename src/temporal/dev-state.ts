/**
 * What a running `provisioning dev` started, in <home>/temporal/dev-server.json: its frontend
 * address and Web UI address, so other commands link to the UI it really serves.
 */
import { readFileSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { provisioningHome } from '../config/home.js';
import type { Env } from '../config/registry.js';
import { isAlive } from '../util/process.js';

export interface DevState {
  address: string;
  namespace: string;
  uiUrl?: string;
  pid: number;
}

export function devStateFile(env: Env): string {
  return path.join(provisioningHome(env), 'temporal', 'dev-server.json');
}

export async function writeDevState(env: Env, state: DevState): Promise<void> {
  await writeFile(devStateFile(env), `${JSON.stringify(state)}\n`);
}

export async function removeDevState(env: Env): Promise<void> {
  await rm(devStateFile(env), { force: true });
}

const sameHost = (host: string) => (host === 'localhost' ? '127.0.0.1' : host);

/** The Web UI of the dev server listening at `address`, when this home's `dev` started it. */
export function devUiUrl(env: Env, address: string): string | undefined {
  let state: Partial<DevState>;
  try {
    state = JSON.parse(readFileSync(devStateFile(env), 'utf8')) as Partial<DevState>;
  } catch {
    return undefined;
  }
  const [host, port] = address.split(':');
  const [devHost, devPort] = (state.address ?? '').split(':');
  if (!host || !devHost || sameHost(host) !== sameHost(devHost) || port !== devPort) return undefined;
  // A `dev` killed before it could clean up leaves the file behind; its UI is gone.
  if (typeof state.pid !== 'number' || !isAlive(state.pid)) return undefined;
  return typeof state.uiUrl === 'string' ? state.uiUrl : undefined;
}
