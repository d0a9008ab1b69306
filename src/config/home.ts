/** The project home: ~/.provisioning, or PROVISIONING_HOME when set. */
import os from 'node:os';
import path from 'node:path';
import type { Env } from './registry.js';

export function provisioningHome(env: Env = process.env): string {
  const configured = env.PROVISIONING_HOME;
  return configured ? path.resolve(configured) : path.join(env.HOME ?? os.homedir(), '.provisioning');
}
