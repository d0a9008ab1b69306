/**
 * Real processes for platform tests: busybox httpd that starts listening after a delay, so
 * "healthy" means a real TCP port answers. Each test gets its own home; leftovers are found
 * by the environment marker of that home and killed.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'smol-toml';
import { SERVICE_MARKER } from '../../src/activities/drivers/binary.js';
import { parseRegistry } from '../../src/config/registry.js';
import type { Registry } from '../../src/config/registry-schema.js';
import { freePort } from '../../src/util/net.js';

export const BUSYBOX = '/bin/busybox';

export interface ProcessSpec {
  name: string;
  deps?: string[];
  /** Seconds before the port opens. */
  delay?: number;
  /** A shell script instead of the delayed httpd (e.g. "exit 3"); {port} is the service's port. */
  script?: string;
  startTimeout?: number;
  extra?: string;
  /** Extra keys of its [startup] table, e.g. "auto_start = true". */
  startup?: string;
}

export interface TestPlatform {
  home: string;
  registry: Registry;
  /** The registry's text, for tests that load it from a file. */
  toml: string;
  ports: Record<string, number>;
  /** Kills anything still running for this home and removes it. */
  cleanup(): Promise<void>;
}

export async function testPlatform(specs: ProcessSpec[]): Promise<TestPlatform> {
  const home = await mkdtemp(path.join(os.tmpdir(), 'provisioning-platform-'));
  const ports: Record<string, number> = {};
  let toml = '';
  for (const spec of specs) {
    const port = (ports[spec.name] = await freePort());
    const script = (spec.script ?? `sleep ${spec.delay ?? 0.2}; exec httpd -f -p 127.0.0.1:{port} -h .`).replaceAll('{port}', String(port));
    toml += `
[services.${spec.name}]
dependencies = ${JSON.stringify(spec.deps ?? [])}
${spec.extra ?? ''}
[services.${spec.name}.deployment]
mode = "binary"
[services.${spec.name}.deployment.binary]
binary_path = "${BUSYBOX}"
args = ["sh", "-c", ${JSON.stringify(script)}]
working_dir = "${home}/work/${spec.name}"
[services.${spec.name}.health_check]
type = "tcp"
interval = 0.5
timeout = 1
[services.${spec.name}.health_check.tcp]
host = "127.0.0.1"
port = ${port}
[services.${spec.name}.startup]
start_timeout = ${spec.startTimeout ?? 20}
${spec.startup ?? ''}
`;
  }
  let registry: Registry;
  try {
    registry = parseRegistry(parse(toml), path.join(home, 'services.toml'), {});
  } catch (err) {
    // Nothing was started yet: the caller gets no cleanup, so the home goes now.
    await rm(home, { recursive: true, force: true });
    throw err;
  }
  return { home, registry, toml, ports, cleanup: () => cleanupHome(home) };
}

/**
 * Process-group leaders of live processes started for this home, by service name. When all
 * is well each running service has exactly one.
 */
export async function runningServices(home: string): Promise<Map<string, number[]>> {
  const prefix = `${SERVICE_MARKER}=${home}#`;
  const found = new Map<string, number[]>();
  for (const pid of (await readdir('/proc')).filter((d) => /^\d+$/.test(d)).map(Number)) {
    try {
      const entry = (await readFile(`/proc/${pid}/environ`, 'utf8')).split('\0').find((e) => e.startsWith(prefix));
      if (!entry) continue;
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] === 'Z' || Number(fields[2]) !== pid) continue;
      const name = entry.slice(prefix.length);
      found.set(name, [...(found.get(name) ?? []), pid]);
    } catch {
      // exited meanwhile
    }
  }
  return found;
}

/**
 * Kills every process group started for this home: found by marker, and by PID file for
 * programs that overwrite their environment (redis, nginx).
 */
export async function cleanupHome(home: string): Promise<void> {
  const pidDir = path.join(home, 'services', 'pids');
  const fromFiles = await readdir(pidDir).then(
    (files) => Promise.all(files.map(async (f) => Number((await readFile(path.join(pidDir, f), 'utf8')).trim()))),
    () => [] as number[],
  );
  for (const pids of [...(await runningServices(home)).values(), fromFiles]) {
    for (const pid of pids) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
  await rm(home, { recursive: true, force: true });
}
