/**
 * `provisioning dev`: the embedded default. A persistent Temporal dev server (history under
 * the project home, Web UI on 8233) and a worker in one command; Ctrl-C stops both.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Option, type Command } from 'commander';
import { DEFAULT_TASK_QUEUE, LOG_LEVELS } from '../../model/worker-defaults.js';
import { provisioningHome } from '../../config/home.js';
import type { ConnectSettings } from '../../temporal/connection.js';
import type { DevServer } from '../../temporal/dev-server.js';
import { removeDevState, writeDevState } from '../../temporal/dev-state.js';
import { commandLine, isAlive } from '../../util/process.js';
import type { Io } from '../io.js';
import { parseLogLevel, parsePort } from '../options.js';

interface DevOptions {
  port: number;
  uiPort: number;
  db?: string;
  headless?: boolean;
  taskQueue: string;
  logLevel: (typeof LOG_LEVELS)[number];
  api?: string | boolean;
}

export function registerDevCommand(program: Command, io: Io): void {
  program
    .command('dev')
    .option('--port <port>', 'Temporal frontend port', parsePort, 7233)
    .option('--ui-port <port>', 'Web UI port', parsePort, 8233)
    .option('--db <file>', 'SQLite file that keeps workflow history across restarts (default: <home>/temporal/dev.db)')
    .option('--headless', 'do not start the Web UI')
    .option('--task-queue <name>', 'task queue the worker polls', DEFAULT_TASK_QUEUE)
    .addOption(new Option('--log-level <level>', 'worker log level').argParser(parseLogLevel).default('WARN'))
    .option('--api [host:port]', 'also serve the REST API (default 127.0.0.1:8080; with $PROVISIONING_API_TOKEN when set, else without auth on loopback)')
    .addHelpText(
      'after',
      '\n<home> is ~/.provisioning, or $PROVISIONING_HOME when set. The server listens on 127.0.0.1 only.\n\nExamples:\n  provisioning dev\n  provisioning dev --port 7300 --ui-port 8300 --db /tmp/dev.db\n  provisioning dev --headless\n  provisioning dev --api',
    )
    .action(async (opts: DevOptions) => {
      const { installWorkerLogging } = await import('../../worker/worker.js');
      const { startDevServer } = await import('../../temporal/dev-server.js');
      // Its worker reads the test environments' network settings from this environment: refuse a bad one before anything starts.
      (await import('../../config/netpool.js')).networkSettings(io.env);
      installWorkerLogging(opts.logLevel);
      const home = provisioningHome(io.env);
      const pidFile = path.join(home, 'temporal', 'dev-server.pid');
      await stopOrphanedServer(pidFile, io);
      const dbFile = path.resolve(io.cwd, opts.db ?? path.join(home, 'temporal', 'dev.db'));
      const logFile = path.join(home, 'logs', 'temporal-dev.log');
      io.out(`Starting Temporal dev server on 127.0.0.1:${opts.port} (history in ${dbFile}, log in ${logFile})...`);
      const server = await startDevServer({
        port: opts.port,
        uiPort: opts.uiPort,
        headless: Boolean(opts.headless),
        dbFile,
        logFile,
        detached: true,
        env: io.env,
        progress: (line) => io.err(line),
      });
      await mkdir(path.dirname(pidFile), { recursive: true });
      await writeFile(pidFile, `${server.pid}\n`);
      await writeDevState(io.env, { address: server.address, namespace: server.namespace, pid: server.pid, ...(server.uiUrl ? { uiUrl: server.uiUrl } : {}) });
      const stopOnExit = () => killQuietly(server.pid);
      process.once('exit', stopOnExit);
      try {
        await runWorker(server, opts.taskQueue, io, opts.api === undefined || opts.api === false ? undefined : opts.api === true ? '127.0.0.1:8080' : opts.api);
      } finally {
        process.removeListener('exit', stopOnExit);
        await server.stop();
        await rm(pidFile, { force: true });
        await removeDevState(io.env);
        io.out('Stopped the worker and the dev server.');
      }
    });
}

async function runWorker(server: DevServer, taskQueue: string, io: Io, apiListen?: string): Promise<void> {
  const { connectWorker, createWorker } = await import('../../worker/worker.js');
  const { connectClient, connectSettings } = await import('../../temporal/connection.js');
  const { ensureReaperSchedule, REAPER_SCHEDULE_ID } = await import('../../api/testenv/reaper.js');
  const { runAnnounced } = await import('../worker-run.js');
  const settings = connectSettings({ address: server.address, namespace: server.namespace });
  const connection = await connectWorker(settings);
  try {
    const worker = await createWorker({ connection, namespace: server.namespace, taskQueue });
    // The reaper removes test environments whose workflow was terminated or lost its worker.
    const client = await connectClient(settings);
    const reaper = await ensureReaperSchedule({ client, taskQueue }, 600)
      .then(() => `Schedule ${REAPER_SCHEDULE_ID}: reaps leftover test environments every 10 minutes`)
      .catch((err: Error) => `Schedule ${REAPER_SCHEDULE_ID} not installed: ${err.message}`);
    let api: Awaited<ReturnType<typeof startApi>> | undefined;
    try {
      api = apiListen ? await startApi(apiListen, settings, taskQueue, io) : undefined;
      await runAnnounced(worker, client, (polling) => io.out(
        [
          `Temporal dev server: ${server.address} (namespace ${server.namespace})`,
          ...(api ? [`REST API: ${api.address} (docs ${api.address}/docs)${api.auth ? '' : ', no auth (loopback)'}`] : []),
          server.uiUrl ? `Web UI: ${server.uiUrl}` : 'Web UI: off (--headless)',
          polling ? `Worker: polling task queues "${taskQueue}" and "${worker.hostQueue}"` : `Worker: started, but the server lists no poller on "${taskQueue}" yet`,
          reaper,
          'Press Ctrl-C to stop.',
        ].join('\n'),
      ));
    } finally {
      await api?.app.close();
      await client.connection.close();
    }
    // Its schedule's reaper stops with it: the networks its environments gave back to the pool go now.
    const { removeIdlePoolNetworks } = await import('../../activities/testenv/netpool.js');
    const removed = await removeIdlePoolNetworks().catch(() => 0);
    if (removed > 0) io.out(`Removed ${removed} idle network${removed === 1 ? '' : 's'} of the test environments' network pool.`);
  } finally {
    await connection.close();
  }
}

/** The REST API next to the dev worker: token from $PROVISIONING_API_TOKEN, else no auth on loopback only. */
async function startApi(listen: string, settings: ConnectSettings, taskQueue: string, io: Io) {
  const [{ assertAuthOrLoopback, parseListen }, { loadToken }, { buildApp }, { connectClient }, { apiContextFor }] = await Promise.all([import('./api.js'), import('../../http/auth.js'), import('../../http/app.js'), import('../../temporal/connection.js'), import('../temporal-options.js')]);
  const { host, port } = parseListen(listen);
  const token = await loadToken(undefined, io.env);
  assertAuthOrLoopback(host, token, `--api ${listen}`);
  const registry = io.env.PROVISIONING_REGISTRY;
  const app = await buildApp({
    connect: async () => apiContextFor(io, await connectClient(settings), settings, { taskQueue }),
    settingsRoot: io.cwd,
    ...(registry ? { registry: async () => (await import('../registry.js')).registryFor(io, registry) } : {}),
    home: provisioningHome(io.env),
    env: io.env,
    ...(token ? { token } : {}),
  });
  return { app, address: await app.listen({ host, port }), auth: Boolean(token) };
}

/** A dev server left behind by a killed `provisioning dev` is found by its PID file and stopped. */
async function stopOrphanedServer(pidFile: string, io: Io): Promise<void> {
  let pid: number;
  try {
    pid = Number((await readFile(pidFile, 'utf8')).trim());
  } catch {
    return;
  }
  const cmd = Number.isInteger(pid) && pid > 0 && isAlive(pid) ? await commandLine(pid) : undefined;
  if (cmd?.includes('temporal') && cmd.includes('start-dev')) {
    io.err(`Stopping a dev server left running by an earlier session (PID ${pid}).`);
    killQuietly(pid);
    for (let i = 0; i < 100 && isAlive(pid); i++) await new Promise((r) => setTimeout(r, 100));
    if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  }
  await rm(pidFile, { force: true });
  await removeDevState(io.env);
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    // already gone
  }
}
