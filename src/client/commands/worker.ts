/** `provisioning worker`: a worker alone, for a Temporal server that runs elsewhere. */
import os from 'node:os';
import { Option, type Command } from 'commander';
import { DEFAULT_TASK_QUEUE, LOG_LEVELS, WORKER_DEFAULTS, hostQueue } from '../../model/worker-defaults.js';
import { parseHost, parseListen, parseLogLevel, parseNonNegativeInt, parsePositiveInt } from '../options.js';
import type { ConnectSettings } from '../../temporal/connection.js';
import type { Io } from '../io.js';

interface WorkerOptions {
  address?: string;
  namespace?: string;
  profile?: string;
  taskQueue: string;
  logLevel: (typeof LOG_LEVELS)[number];
  logFormat: 'text' | 'json';
  host?: string;
  identity?: string;
  maxActivities: number;
  maxWorkflowTasks: number;
  maxWatches: number;
  shutdownGrace: number;
  waitForTemporal: number;
  check?: boolean;
  metricsListen?: string;
}

const RETRY_SECONDS = 5;


export function registerWorkerCommand(program: Command, io: Io): void {
  program
    .command('worker')
    .option('--address <host:port>', 'Temporal frontend address (default: $TEMPORAL_ADDRESS, profile, localhost:7233)')
    .option('--namespace <name>', 'namespace (default: $TEMPORAL_NAMESPACE, profile, "default")')
    .option('--profile <name>', 'envconfig profile from the Temporal config file ($TEMPORAL_CONFIG_FILE)')
    .option('--task-queue <name>', 'task queue to poll', DEFAULT_TASK_QUEUE)
    .option('--host <name>', 'the host this worker stands for: it also polls "<task queue>@<host>" for work bound to this machine (default: $PROVISIONING_HOST, else the host name)', parseHost)
    .option('--identity <id>', 'the worker identity shown in history (default: <pid>@<host name>)')
    .option('--max-activities <n>', 'activities run at once, per queue', parsePositiveInt, WORKER_DEFAULTS.maxActivities)
    .option('--max-workflow-tasks <n>', 'workflow tasks run at once', parsePositiveInt, WORKER_DEFAULTS.maxWorkflowTasks)
    .option('--max-watches <n>', 'supervisors\' health watches run at once: the services this host can supervise (a watch mostly sleeps between checks)', parsePositiveInt, WORKER_DEFAULTS.maxWatches)
    .option('--shutdown-grace <seconds>', 'on SIGTERM or Ctrl-C, running activities get this long to finish; then they are cancelled and retried on another worker', parsePositiveInt, WORKER_DEFAULTS.shutdownGraceSeconds)
    .option('--wait-for-temporal <seconds>', `when Temporal does not answer at start, keep trying this long (a line every ${RETRY_SECONDS} s names the problem); 0 fails at once`, parseNonNegativeInt, 0)
    .option('--metrics-listen <host:port>', 'serve Prometheus metrics at http://<host:port>/metrics: the SDK\'s (task latencies, slots, pollers) and the project\'s (services, servers, test environments; README "Observing it")', parseListen)
    .option('--check', 'do not run a worker: exit 0 when a worker of this host polls its host queue, else 1 with the reason (a container health check)')
    .addOption(new Option('--log-level <level>', 'worker log level (INFO shows what each workflow and activity does)').argParser(parseLogLevel).default('WARN'))
    .addOption(new Option('--log-format <format>', 'text, or json: one JSON object per line with the service, server or node as attributes').choices(['text', 'json']).default('text'))
    .addHelpText(
      'after',
      '\nEvery worker polls the shared task queue (workflows, and activities that may run anywhere) and its host\'s queue "<task queue>@<host>": a platform\'s processes, a test environment\'s containers and a server\'s Docker engine stay on the host chosen when the run started. Supervisors\' health watches have a queue of their own, "<task queue>@<host>/watch", so they never take the slots of --max-activities. Run several workers on one host for capacity (same --host), one per machine for placement.\n\nTLS and API keys come from the standard variables (TEMPORAL_API_KEY, TEMPORAL_TLS, TEMPORAL_TLS_CLIENT_CERT_PATH, ...) or a profile.\n\nExamples:\n  provisioning worker\n  provisioning worker --host build-01 --identity build-01-a --max-activities 20\n  TEMPORAL_ADDRESS=temporal.internal:7233 TEMPORAL_NAMESPACE=platform provisioning worker\n  TEMPORAL_API_KEY=... provisioning worker --address my-ns.a1b2c.tmprl.cloud:7233 --namespace my-ns.a1b2c',
    )
    .action(async (opts: WorkerOptions) => {
      const { connectWorker, createWorker, installWorkerLogging } = await import('../../worker/worker.js');
      const { connectClient, connectSettings } = await import('../../temporal/connection.js');
      const { runAnnounced } = await import('../worker-run.js');
      const settings = connectSettings({ ...opts });
      if (opts.check) return checkWorker(settings, opts, io);
      // The test environments' network settings come from this process's environment: refuse a bad one now, not at the first environment.
      (await import('../../config/netpool.js')).networkSettings(io.env);
      installWorkerLogging(opts.logLevel, { format: opts.logFormat, ...(opts.metricsListen ? { metricsListen: opts.metricsListen } : {}) });
      if (opts.metricsListen) {
        (await import('../../worker/owned.js')).watchOwnedResources();
        io.out(`Metrics on http://${opts.metricsListen}/metrics`);
      }
      const unreachable = (err: unknown) => `cannot reach Temporal at ${settings.address}: ${(err as Error).message.split('\n')[0]}`;
      const deadline = Date.now() + opts.waitForTemporal * 1000;
      let connection;
      for (;;) {
        try {
          connection = await connectWorker(settings);
          break;
        } catch (err) {
          if (Date.now() + RETRY_SECONDS * 1000 > deadline) throw new Error(`${unreachable(err)}. Start one with "provisioning dev", or set TEMPORAL_ADDRESS.`);
          io.err(`${unreachable(err)}; trying again in ${RETRY_SECONDS} s`);
          await new Promise((r) => setTimeout(r, RETRY_SECONDS * 1000));
        }
      }
      try {
        await registerSearchAttributes(settings, io);
        const worker = await createWorker({
          connection,
          namespace: settings.namespace,
          taskQueue: opts.taskQueue,
          ...(opts.host ? { host: opts.host } : {}),
          ...(opts.identity ? { identity: opts.identity } : {}),
          maxActivities: opts.maxActivities,
          maxWorkflowTasks: opts.maxWorkflowTasks,
          maxWatches: opts.maxWatches,
          shutdownGraceSeconds: opts.shutdownGrace,
        });
        const client = await connectClient(settings);
        try {
          await runAnnounced(worker, client, (polling) =>
            io.out(
              polling
                ? `Worker polling task queues "${opts.taskQueue}" and "${worker.hostQueue}" (host ${worker.host}, identity ${worker.identity}, ${opts.maxActivities} activities at once per queue, log level ${opts.logLevel}) at ${settings.address} (namespace ${settings.namespace}). Ctrl-C stops it.`
                : `Worker ${worker.identity} started, but ${settings.address} lists it as no poller of "${opts.taskQueue}" yet.`,
            ),
          );
        } finally {
          await client.connection.close();
        }
        io.out(`Worker ${worker.identity} stopped.`);
      } finally {
        await connection.close();
        // Export the spans still buffered (tracing on: OTEL_EXPORTER_OTLP_ENDPOINT).
        await (await (await import('../../temporal/tracing.js')).tracing('provisioning-worker'))?.shutdown();
      }
    });
}

/**
 * The health check of a worker container: a worker of this machine (identity `--identity`, or
 * the default `<pid>@<host name>`) polls the host's queue — so it is connected, registered and
 * taking work. The host queue carries activities only.
 */
async function checkWorker(settings: ConnectSettings, opts: WorkerOptions, io: Io): Promise<void> {
  const { connectClient } = await import('../../temporal/connection.js');
  const { workerPollers } = await import('../../api/workers.js');
  const { defaultHost } = await import('../../worker/worker.js');
  const queue = hostQueue(opts.taskQueue, opts.host ?? defaultHost());
  const ours = (identity: string) => (opts.identity ? identity === opts.identity : identity.endsWith(`@${os.hostname()}`));
  let client;
  try {
    client = await connectClient(settings, { connectTimeoutMs: 5_000 });
  } catch (err) {
    throw new Error(`unhealthy: cannot reach Temporal at ${settings.address}: ${(err as Error).message.split('\n')[0]}`);
  }
  try {
    const pollers = (await workerPollers({ client, taskQueue: opts.taskQueue }, queue, { side: 'activity', enough: (ids) => ids.some(ours) })).filter(ours);
    const who = opts.identity ? `worker ${opts.identity}` : `worker of ${os.hostname()}`;
    if (pollers.length === 0) throw new Error(`unhealthy: no ${who} polls "${queue}" at ${settings.address} (namespace ${settings.namespace})`);
    io.out(`healthy: ${pollers.join(', ')} polls "${queue}" at ${settings.address}`);
  } finally {
    await client.connection.close();
  }
}

/** A worker makes its namespace ready for the CLI's starts; where the server forbids it, it says how. */
async function registerSearchAttributes(settings: ConnectSettings, io: Io): Promise<void> {
  const { Connection } = await import('@temporalio/client');
  const { ensureSearchAttributes, registerCommand } = await import('../../temporal/search-attributes.js');
  const connection = await Connection.connect(settings.connectionOptions);
  try {
    const added = await ensureSearchAttributes(connection, settings.namespace);
    if (added.length > 0) io.out(`Registered search attributes ${added.join(', ')} in namespace ${settings.namespace}.`);
  } catch (err) {
    io.err(`warning: could not check or register the search attributes (${(err as Error).message.split('\n')[0]}); register them with: ${registerCommand(settings.namespace)}`);
  } finally {
    await connection.close();
  }
}
