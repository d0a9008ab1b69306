/**
 * Baseline of the monitoring benchmark, run as its own process: a plain loop that every
 * interval checks every service the way a supervision watch does (watches.ts serviceCheck: binary driver
 * status, then the health probe), all services in parallel, on a fixed schedule.
 *
 * It runs the compiled modules in dist/ (the same code the worker runs) and is itself
 * transpiled to plain JavaScript by bench/monitor.ts, so it pays no TypeScript loader.
 *
 *   node monitor-loop.mjs <dist dir> <config.json>
 *
 * config.json: { home, intervalMs, services: ServiceDefinition[] }. Prints "ready" once the
 * first round is done; on SIGTERM prints one JSON line with every round ({ at, checks,
 * healthy }) and exits.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import type { ServiceDefinition } from '../../src/config/registry-schema.js';

type BinaryModule = typeof import('../../src/activities/drivers/binary.js');
type HealthModule = typeof import('../../src/activities/health.js');

export interface LoopConfig {
  home: string;
  intervalMs: number;
  services: ServiceDefinition[];
}

export interface LoopRound {
  /** Epoch ms when the round began. */
  at: number;
  checks: number;
  healthy: number;
}

const [distDir, configFile] = process.argv.slice(2);
if (!distDir || !configFile) throw new Error('usage: monitor-loop <dist dir> <config.json>');
const load = (file: string) => import(pathToFileURL(path.join(distDir, file)).href);
const { binaryDriver } = (await load('activities/drivers/binary.js')) as BinaryModule;
const { probeHealth } = (await load('activities/health.js')) as HealthModule;
const config = JSON.parse(await readFile(configFile, 'utf8')) as LoopConfig;

const rounds: LoopRound[] = [];
let stopping = false;
process.once('SIGTERM', () => {
  stopping = true;
});

/** What a watch's check does for a binary service with a health check. */
async function check(service: ServiceDefinition): Promise<boolean> {
  const status = await binaryDriver.status(service, { home: config.home });
  if (!status.running) return false;
  return (await probeHealth(service)).healthy;
}

const began = performance.now();
for (let k = 0; !stopping; k++) {
  const at = Date.now();
  const results = await Promise.all(config.services.map(check));
  rounds.push({ at, checks: results.length, healthy: results.filter(Boolean).length });
  if (k === 0) process.stdout.write('ready\n');
  // Fixed rate: the next round starts one interval after this one began (at once if it overran).
  const wait = began + (k + 1) * config.intervalMs - performance.now();
  if (wait > 0 && !stopping) await sleep(wait);
}
process.stdout.write(`${JSON.stringify(rounds)}\n`);
