/**
 * The two seeded service graphs of the platform-start benchmark, and the registry that
 * describes them: every service is a real busybox process whose TCP port opens after its delay.
 */
import path from 'node:path';
import { parseRegistry } from '../../src/config/registry.js';
import type { Registry } from '../../src/config/registry-schema.js';
import type { GraphNode } from '../../src/graph/index.js';
import { mulberry32 } from './random.js';

export const BUSYBOX = '/bin/busybox';
/** Seconds between health probes once the back-off is capped, as in the registry. */
export const HEALTH_INTERVAL_S = 0.5;
const HEALTH_TIMEOUT_S = 1;
const START_TIMEOUT_S = 20;

export interface BenchService {
  name: string;
  dependencies: string[];
  /** Seconds until the service's port opens. */
  delay: number;
}

export interface Shape {
  name: string;
  describe: string;
  services: BenchService[];
}


/** A delay between 0.2 and 0.6 s, in hundredths. */
function delayFrom(random: () => number): number {
  return Math.round((0.2 + random() * 0.4) * 100) / 100;
}

/** `count` distinct picks from `from`. */
function pick<T>(random: () => number, from: readonly T[], count: number): T[] {
  const pool = [...from];
  const out: T[] = [];
  while (out.length < count && pool.length > 0) out.push(pool.splice(Math.floor(random() * pool.length), 1)[0]!);
  return out;
}

/** One root, then `levels` levels of `width` services, each on 1-3 services of the level before. */
export function wideShape(seed = 1, levels = 3, width = 13): Shape {
  const random = mulberry32(seed);
  const services: BenchService[] = [{ name: 'wide-root', dependencies: [], delay: delayFrom(random) }];
  let previous = ['wide-root'];
  for (let level = 1; level <= levels; level++) {
    const current: string[] = [];
    for (let i = 0; i < width; i++) {
      const name = `wide-l${level}-${String(i).padStart(2, '0')}`;
      services.push({ name, dependencies: pick(random, previous, 1 + Math.floor(random() * 3)), delay: delayFrom(random) });
      current.push(name);
    }
    previous = current;
  }
  return { name: 'wide', describe: `1 root + ${levels} levels of ${width}, each on 1-3 of the level before`, services };
}

/** `chains` parallel chains of `length`; a link also depends on the previous link of another chain with probability `cross`. */
export function deepShape(seed = 2, chains = 4, length = 10, cross = 0.25): Shape {
  const random = mulberry32(seed);
  const name = (c: number, i: number) => `deep-c${c}-${String(i).padStart(2, '0')}`;
  const services: BenchService[] = [];
  for (let c = 0; c < chains; c++) {
    for (let i = 0; i < length; i++) {
      const dependencies = i === 0 ? [] : [name(c, i - 1)];
      if (i > 0 && random() < cross) dependencies.push(name((c + 1 + Math.floor(random() * (chains - 1))) % chains, i - 1));
      services.push({ name: name(c, i), dependencies, delay: delayFrom(random) });
    }
  }
  return { name: 'deep', describe: `${chains} chains of ${length}, cross edges to the previous link of another chain (p=${cross})`, services };
}

export function graphNodes(shape: Shape): GraphNode[] {
  return shape.services.map((s) => ({ name: s.name, dependencies: s.dependencies }));
}

export function edgeCount(shape: Shape): number {
  return shape.services.reduce((sum, s) => sum + s.dependencies.length, 0);
}

/** The same shell script for every method: wait, then serve on the port (busybox sh runs the httpd applet). */
export function serviceScript(service: BenchService, port: number): string {
  return `sleep ${service.delay}; exec httpd -f -p 127.0.0.1:${port} -h .`;
}

export function workDir(home: string, name: string): string {
  return path.join(home, 'work', name);
}

/** The registry for one measured run: binary services under `home`, a TCP health check on each port. */
export function benchRegistry(shape: Shape, home: string, ports: Readonly<Record<string, number>>): Registry {
  const services = Object.fromEntries(
    shape.services.map((s) => [
      s.name,
      {
        dependencies: s.dependencies,
        deployment: { mode: 'binary', binary: { binary_path: BUSYBOX, args: ['sh', '-c', serviceScript(s, ports[s.name]!)], working_dir: workDir(home, s.name) } },
        health_check: { type: 'tcp', interval: HEALTH_INTERVAL_S, timeout: HEALTH_TIMEOUT_S, tcp: { host: '127.0.0.1', port: ports[s.name]! } },
        startup: { start_timeout: START_TIMEOUT_S },
      },
    ]),
  );
  return parseRegistry({ services }, path.join(home, 'services.toml'), {});
}
