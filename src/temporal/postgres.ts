/**
 * A private PostgreSQL instance for a production-shape Temporal: Debian's server binaries,
 * initdb + pg_ctl on a temporary folder, a free loopback port, a socket folder of its own. No
 * system service is touched. PostgreSQL refuses to run as root, so as root it runs as the
 * `postgres` user (runuser). Stopped and removed by stop().
 */
import { existsSync, readdirSync } from 'node:fs';
import { appendFile, chmod, chown, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { UsageError } from '../config/errors.js';
import { freePort } from '../util/net.js';

export interface Postgres {
  host: string;
  port: number;
  /** A superuser, trusted on loopback (a test instance). */
  user: string;
  dir: string;
  logFile: string;
  /** pg_ctl restart: the server goes away and comes back on the same port. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** The folder of Debian's PostgreSQL binaries (newest major), or PATH's. */
export function postgresBinDir(): string {
  const root = '/usr/lib/postgresql';
  const majors = existsSync(root) ? readdirSync(root).filter((d) => existsSync(path.join(root, d, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a)) : [];
  if (majors[0]) return path.join(root, majors[0], 'bin');
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) if (dir && existsSync(path.join(dir, 'initdb'))) return dir;
  throw new UsageError('PostgreSQL server binaries (initdb, pg_ctl) are not installed', 'run "npm run setup" (it installs Debian\'s postgresql package), or: sudo apt-get install -y postgresql');
}

export async function startPostgres({ user = 'temporal', port }: { user?: string; port?: number } = {}): Promise<Postgres> {
  const bin = postgresBinDir();
  const asRoot = process.getuid?.() === 0;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'provisioning-pg-'));
  const data = path.join(dir, 'data');
  const logFile = path.join(dir, 'postgres.log');
  const pgPort = port ?? (await freePort());
  const run = async (cmd: string, args: string[]) => {
    const argv = asRoot ? ['runuser', '-u', 'postgres', '--', path.join(bin, cmd), ...args] : [path.join(bin, cmd), ...args];
    const result = await execa(argv[0]!, argv.slice(1), { reject: false, all: true, cwd: dir });
    if (result.exitCode !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${result.exitCode}): ${result.all}`);
  };
  const pgCtl = (action: 'start' | 'restart' | 'stop') => run('pg_ctl', ['-D', data, '-l', logFile, '-w', '-t', '60', ...(action === 'start' ? [] : ['-m', 'fast']), action]);
  try {
    if (asRoot) {
      const { stdout } = await execa('id', ['-u', 'postgres'], { reject: false });
      if (!/^\d+$/.test(stdout.trim())) throw new UsageError('running as root, and there is no "postgres" user to run PostgreSQL as', 'install Debian\'s postgresql package (it creates the user), or run as another user');
      const uid = Number(stdout.trim());
      const gid = Number((await execa('id', ['-g', 'postgres'])).stdout.trim());
      await chown(dir, uid, gid);
      await chmod(dir, 0o700);
    }
    await run('initdb', ['-D', data, '-U', user, '--auth=trust', '-E', 'UTF8', '--no-instructions']);
    // Settings in the config file, not on a command line: its own port and socket folder, loopback only.
    await appendFile(
      path.join(data, 'postgresql.conf'),
      `\n# provisioning: a private test instance\nport = ${pgPort}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '${dir}'\nmax_connections = 300\n`,
    );
    await pgCtl('start');
  } catch (err) {
    await run('pg_ctl', ['-D', data, '-m', 'immediate', 'stop']).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    host: '127.0.0.1',
    port: pgPort,
    user,
    dir,
    logFile,
    restart: () => pgCtl('restart'),
    async stop() {
      await pgCtl('stop').catch(() => run('pg_ctl', ['-D', data, '-m', 'immediate', 'stop']).catch(() => undefined));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
