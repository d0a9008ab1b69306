/**
 * A production-shape Temporal on one machine, for the tests and the benchmarks: a private
 * PostgreSQL, the Temporal server (built by `npm run setup`) on it with its schema set up by
 * temporal-sql-tool and a config of ours, the namespace with the project's search attributes,
 * and N `provisioning worker` processes on one task queue. Everything it starts it stops, by
 * PID, and its folders are removed. The server and PostgreSQL can be killed and restarted in
 * place (same ports, same data) for fault tests.
 */
import { mkdir, mkdtemp, rm, writeFile, copyFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { Connection } from '@temporalio/client';
import { execa, type ResultPromise } from 'execa';
import { DEFAULT_TASK_QUEUE } from '../model/worker-defaults.js';
import { freePortIn } from '../util/net.js';
import { watchOutput } from '../util/process.js';
import { forgetWorker } from './worker-registry.js';
import { startPostgres, type Postgres } from './postgres.js';
import { ensureSearchAttributes } from './search-attributes.js';
import { serverBinaries, type ServerBinaries } from './server-binaries.js';

export interface ClusterOptions {
  /** `provisioning worker` processes to start (default 3). */
  workers?: number;
  taskQueue?: string;
  namespace?: string;
  /** Host names of the workers, round robin (default: all this machine's). */
  hosts?: string[];
  /** Extra environment of the worker processes. */
  workerEnv?: Record<string, string>;
  /** Arguments added to each `provisioning worker`. */
  workerArgs?: string[];
}

export interface ClusterWorker {
  identity: string;
  host: string;
  pid: number;
  output(): string;
  /** Sends the signal and waits for the process to end. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export interface TemporalCluster {
  address: string;
  namespace: string;
  taskQueue: string;
  postgres: Postgres;
  serverLog: string;
  workers: ClusterWorker[];
  /** SIGKILL the Temporal server (the workers and clients keep retrying). */
  killServer(): Promise<void>;
  /** Start it again on the same ports and database; resolves once it serves. */
  startServer(): Promise<void>;
  restartPostgres(): Promise<void>;
  startWorker(options?: { host?: string; identity?: string; env?: Record<string, string>; args?: string[] }): Promise<ClusterWorker>;
  stop(): Promise<void>;
}

const bin = fileURLToPath(new URL('../../bin/provisioning.js', import.meta.url));

/** The server's static config (JSON is YAML): PostgreSQL for both stores, every port free and on loopback. */
function serverConfig(pg: Postgres, ports: Record<string, number>): object {
  const store = (databaseName: string, maxConns: number) => ({
    sql: { pluginName: 'postgres12', databaseName, connectAddr: `${pg.host}:${pg.port}`, connectProtocol: 'tcp', user: pg.user, password: '', maxConns, maxIdleConns: maxConns, maxConnLifetime: '1h' },
  });
  const service = (name: string) => ({ rpc: { grpcPort: ports[`${name}Grpc`], membershipPort: ports[`${name}Membership`], bindOnLocalHost: true, ...(name === 'frontend' ? { httpPort: ports.frontendHttp } : {}) } });
  return {
    log: { stdout: true, level: 'warn' },
    persistence: {
      defaultStore: 'default',
      visibilityStore: 'visibility',
      numHistoryShards: 4,
      datastores: { default: store('temporal', 20), visibility: store('temporal_visibility', 10) },
    },
    global: {
      membership: { maxJoinDuration: '30s', broadcastAddress: '127.0.0.1' },
      metrics: { prometheus: { framework: 'tally', timerType: 'histogram', listenAddress: `127.0.0.1:${ports.metrics}` } },
    },
    services: { frontend: service('frontend'), history: service('history'), matching: service('matching'), worker: service('worker') },
    clusterMetadata: {
      enableGlobalNamespace: false,
      failoverVersionIncrement: 10,
      masterClusterName: 'active',
      currentClusterName: 'active',
      clusterInformation: { active: { enabled: true, initialFailoverVersion: 1, rpcName: 'frontend', rpcAddress: `127.0.0.1:${ports.frontendGrpc}` } },
    },
    dcRedirectionPolicy: { policy: 'noop' },
    dynamicConfigClient: { filepath: 'config/dynamicconfig/development-sql.yaml', pollInterval: '10s' },
  };
}

async function setupSchema(tools: ServerBinaries, pg: Postgres, log: string[]): Promise<void> {
  const base = ['--plugin', 'postgres12', '--ep', pg.host, '-p', String(pg.port), '-u', pg.user];
  for (const [db, folder] of [['temporal', 'temporal'], ['temporal_visibility', 'visibility']] as const) {
    for (const args of [['--db', db, 'create'], ['--db', db, 'setup-schema', '-v', '0.0'], ['--db', db, 'update-schema', '-d', path.join(tools.schemaDir, folder, 'versioned')]]) {
      const result = await execa(tools.sqlTool, [...base, ...args], { reject: false, all: true });
      log.push(`$ temporal-sql-tool ${args.join(' ')}\n${result.all}`);
      if (result.exitCode !== 0) throw new Error(`temporal-sql-tool ${args.join(' ')} failed (exit ${result.exitCode}): ${result.all?.split('\n').slice(-5).join('\n')}`);
    }
  }
}

/** Resolves once the frontend answers and the namespace is visible to the server's services. */
async function untilServing(address: string, namespace: string | undefined, timeoutMs: number, exited: () => string | undefined): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    const gone = exited();
    if (gone) throw new Error(gone);
    try {
      const connection = await Connection.connect({ address, connectTimeout: 2_000 });
      try {
        await connection.healthService.check({});
        if (namespace) await connection.workflowService.listWorkflowExecutions({ namespace, pageSize: 1 });
        return;
      } finally {
        await connection.close();
      }
    } catch (err) {
      last = (err as Error).message;
    }
    await sleep(250);
  }
  throw new Error(`the Temporal server at ${address} did not serve within ${timeoutMs / 1000} s: ${last}`);
}

/** A protobuf Duration; protobufjs encodes a plain number for its int64 seconds. */
const retention = (seconds: number) => ({ seconds: seconds as unknown as NonNullable<import('@temporalio/proto').google.protobuf.IDuration['seconds']> });

/** One `provisioning worker` process; resolves once it says it polls (the server lists it). */
export async function startWorkerProcess(w: { address: string; namespace: string; taskQueue: string; identity: string; host?: string; env?: Record<string, string>; args?: string[] }): Promise<ClusterWorker> {
  const child = execa('node', [bin, 'worker', '--address', w.address, '--namespace', w.namespace, '--task-queue', w.taskQueue, '--identity', w.identity, ...(w.host ? ['--host', w.host] : []), ...(w.args ?? [])], {
    env: w.env ?? {},
    reject: false,
    all: true,
    cleanup: true,
  });
  const watched = watchOutput(child, 100_000);
  const worker: ClusterWorker = {
    identity: w.identity,
    host: w.host ?? '',
    pid: child.pid!,
    output: watched.output,
    async kill(signal = 'SIGKILL') {
      if (child.exitCode === null) child.kill(signal);
      await child;
      // A killed worker leaves its record in the machine's worker registry; the harness's runs end with it.
      await forgetWorker(w.identity, child.pid, { ...process.env, ...w.env });
    },
  };
  try {
    await watched.until('Worker polling', `worker ${w.identity}`, 120_000);
  } catch (err) {
    await worker.kill();
    throw err;
  }
  return worker;
}

export async function startCluster(options: ClusterOptions = {}): Promise<TemporalCluster> {
  const tools = serverBinaries();
  const namespace = options.namespace ?? 'default';
  const taskQueue = options.taskQueue ?? DEFAULT_TASK_QUEUE;
  const root = await mkdtemp(path.join(os.tmpdir(), 'provisioning-cluster-'));
  const serverLog = path.join(root, 'temporal-server.log');
  const closers: Array<() => Promise<unknown>> = [() => rm(root, { recursive: true, force: true })];
  const stop = async () => {
    for (const close of closers.splice(0).reverse()) await close().catch(() => undefined);
  };
  try {
    const postgres = await startPostgres();
    closers.push(() => postgres.stop());
    const schemaLog: string[] = [];
    await setupSchema(tools, postgres, schemaLog);
    await writeFile(path.join(root, 'schema.log'), schemaLog.join('\n'));

    const ports: Record<string, number> = {};
    // Membership ports are stored as smallint: all ports below 32768.
    const taken = new Set<number>();
    for (const name of ['frontendGrpc', 'frontendHttp', 'frontendMembership', 'historyGrpc', 'historyMembership', 'matchingGrpc', 'matchingMembership', 'workerGrpc', 'workerMembership', 'metrics']) {
      ports[name] = await freePortIn(20_000, 32_000, '127.0.0.1', taken);
      taken.add(ports[name]);
    }
    await mkdir(path.join(root, 'config', 'dynamicconfig'), { recursive: true });
    await writeFile(path.join(root, 'config', 'provisioning.yaml'), JSON.stringify(serverConfig(postgres, ports), null, 2));
    await copyFile(tools.dynamicConfigTemplate, path.join(root, 'config', 'dynamicconfig', 'development-sql.yaml'));
    const address = `127.0.0.1:${ports.frontendGrpc}`;

    let server: ResultPromise | undefined;
    // One log across restarts: each start's output is appended.
    let serverLogs: Array<() => string> = [];
    const serverOutput = () => serverLogs.map((o) => o()).join('');
    const startServer = async () => {
      const child = execa(tools.server, ['--root', root, '--config', 'config', '--env', 'provisioning', '--allow-no-auth', 'start'], { cwd: root, reject: false, all: true, cleanup: true });
      const watched = watchOutput(child);
      serverLogs = [...serverLogs, watched.output];
      server = child;
      await untilServing(address, undefined, 90_000, () => (child.exitCode !== null ? `the Temporal server exited with ${child.exitCode}:\n${watched.output().slice(-3000)}` : undefined));
    };
    const killServer = async () => {
      const child = server;
      server = undefined;
      if (!child || child.exitCode !== null) return;
      child.kill('SIGKILL');
      await child;
    };
    closers.push(async () => {
      await writeFile(serverLog, serverOutput()).catch(() => undefined);
      await killServer();
    });
    await startServer();

    // The namespace, and the project's search attributes on it (SQL visibility supports them).
    const connection = await Connection.connect({ address });
    try {
      await connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: retention(3 * 24 * 3600) }).catch((err: Error) => {
        if (!/already exists|AlreadyExists/i.test(err.message)) throw err;
      });
      await untilServing(address, namespace, 60_000, () => undefined);
      await ensureSearchAttributes(connection, namespace);
    } finally {
      await connection.close();
    }

    const workers: ClusterWorker[] = [];
    const hosts = options.hosts ?? [];
    const startWorker: TemporalCluster['startWorker'] = async (w = {}) => {
      const n = workers.length + 1;
      const host = w.host ?? hosts[(n - 1) % Math.max(1, hosts.length)];
      const worker = await startWorkerProcess({
        address,
        namespace,
        taskQueue,
        identity: w.identity ?? `cluster-worker-${n}${host ? `@${host}` : ''}`,
        ...(host ? { host } : {}),
        env: { ...options.workerEnv, ...w.env },
        args: [...(options.workerArgs ?? []), ...(w.args ?? [])],
      });
      closers.push(() => worker.kill('SIGKILL'));
      workers.push(worker);
      return worker;
    };
    for (let i = 0; i < (options.workers ?? 3); i++) await startWorker();

    return {
      address,
      namespace,
      taskQueue,
      postgres,
      serverLog,
      workers,
      killServer,
      startServer,
      restartPostgres: () => postgres.restart(),
      startWorker,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
