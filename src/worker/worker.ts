/**
 * The worker: one process that polls three task queues — the shared one (the project's
 * workflows, and activities that may run anywhere), its host's queue `<queue>@<host>`
 * (the activities that must run on this machine: processes, containers, the Docker engine)
 * and the host's watch queue `<queue>@<host>/watch` (supervisors' long-running health watches,
 * with slots of their own).
 * Used by `provisioning worker`, `provisioning dev`, the benchmarks and the tests.
 */
import os from 'node:os';
import { DefaultLogger, NativeConnection, Runtime, Worker, type LogEntry, type LogLevel, type State, type WorkflowBundleOption } from '@temporalio/worker';
import * as activities from '../activities/index.js';
import { hostActivities } from '../activities/host.js';
import { endCheckerThread } from '../activities/checker.js';
import { DEFAULT_TASK_QUEUE, hostQueue, normalizeHost, watchQueue, WORKER_DEFAULTS } from '../model/worker-defaults.js';
import type { ConnectSettings } from '../temporal/connection.js';
import { tracing } from '../temporal/tracing.js';
import { prebuiltBundle, resolveTsExtensions, workflowsPath } from './bundle.js';
import { defaultWorkerIdentity, registerWorker } from '../temporal/worker-registry.js';
import { takeOverDeadWorkers } from './takeover.js';

/**
 * Warnings the SDK gives about what we do on purpose: the host queue's worker registers no
 * workflows; a tracing worker loads the prebuilt traced bundle, which has the OpenTelemetry
 * workflow interceptors inside, so the plugin's interceptor modules are not needed.
 */
const EXPECTED = ['No workflows registered, not polling for workflow tasks', 'Ignoring WorkerOptions.interceptors.workflowModules because WorkerOptions.workflowBundle is set'];

/** The SDK's logger without those expected warnings. */
export class QuietLogger extends DefaultLogger {
  override log(level: LogLevel, message: string, meta?: Record<string, unknown>): void {
    if (!EXPECTED.some((m) => message.startsWith(m))) super.log(level, message, meta);
  }
}

/**
 * Sets up the SDK's runtime for this process — its log level and, with `metricsListen`
 * (host:port), a Prometheus endpoint at http://<metricsListen>/metrics with the SDK's own
 * metrics (task latencies, slots, pollers) and the project's (model/metrics.ts). Call before
 * the first connection or worker.
 */
export function installWorkerLogging(level: LogLevel, { metricsListen, format = 'text' }: { metricsListen?: string; format?: 'text' | 'json' } = {}): void {
  Runtime.install({
    logger: new QuietLogger(level, format === 'json' ? jsonLine : undefined),
    ...(metricsListen ? { telemetryOptions: { metrics: { prometheus: { bindAddress: metricsListen, countersTotalSuffix: true, useSecondsForDurations: true } } } } : {}),
  });
}

/**
 * One JSON object per line on stderr: time, level, message, and the record's attributes —
 * the SDK's (namespace, taskQueue, workflowId, activityType, ...) and ours (service, server, node).
 */
function jsonLine(entry: LogEntry): void {
  const meta = Object.fromEntries(Object.entries(entry.meta ?? {}).map(([k, v]) => [k, v instanceof Error ? { name: v.name, message: v.message } : typeof v === 'bigint' ? String(v) : v]));
  process.stderr.write(`${JSON.stringify({ time: new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString(), level: entry.level, message: entry.message, ...meta })}\n`);
}

export async function connectWorker(settings: ConnectSettings): Promise<NativeConnection> {
  return NativeConnection.connect(settings.connectionOptions);
}

export interface ProvisioningWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue?: string;
  /** The host this worker stands for (its host queue); default: this machine's host name. */
  host?: string;
  /** Shown in history as the worker of each task; default `<pid>@<host name>`. */
  identity?: string;
  /** Activities run at once, per queue (the shared one and the host's). */
  maxActivities?: number;
  /** Workflow tasks run at once. */
  maxWorkflowTasks?: number;
  /** Supervisors' health watches run at once (each mostly sleeps between checks). */
  maxWatches?: number;
  /** On shutdown (SIGTERM, Ctrl-C), running activities get this long to finish before they are cancelled and retried elsewhere. */
  shutdownGraceSeconds?: number;
  /** A bundle to use; else the build's prebuilt one, else bundled from source. */
  workflowBundle?: WorkflowBundleOption;
  /** Activities to register instead of the project's (tests inject faults this way). */
  activities?: object;
}

export interface ProvisioningWorker {
  readonly taskQueue: string;
  readonly host: string;
  readonly hostQueue: string;
  readonly identity: string;
  /** Polls both queues until shutdown (or a signal the SDK's runtime handles); rejects when either worker fails. */
  run(): Promise<void>;
  /** Runs `fn` while polling, then shuts down and waits for the workers to drain. */
  runUntil<R>(fn: () => Promise<R>): Promise<R>;
  shutdown(): void;
  getState(): State;
}

/** How late a cancel may reach a running activity (its heartbeat reply carries it). */
const HEARTBEAT_THROTTLE_SECONDS = 5;
/**
 * The host's activities (a start, a health wait) heartbeat every second and time out after
 * 3 s without one (workflows/platform.ts): a start whose worker died goes on on another within
 * about 3 s instead of 10.
 */
const HOST_HEARTBEAT_THROTTLE_SECONDS = 1;
/** A live watch's check reaches `services monitor` within about this long. */
const WATCH_HEARTBEAT_THROTTLE_SECONDS = 1;
/**
 * A workflow task waits this long for the worker that has the run cached before any worker
 * may take it (the SDK's default is 10 s): after a worker dies, each of its runs stalls this
 * long at its next task. A busy worker that misses it costs a replay, not a failure.
 */
const STICKY_TIMEOUT_SECONDS = 2;

export function defaultHost(): string {
  return normalizeHost(process.env.PROVISIONING_HOST ?? os.hostname());
}

export async function createWorker(options: ProvisioningWorkerOptions): Promise<ProvisioningWorker> {
  // With OTEL_EXPORTER_OTLP_ENDPOINT set: the SDK's OpenTelemetry plugin, and the bundle with its workflow interceptors.
  const traced = await tracing('provisioning-worker');
  const bundle = options.workflowBundle ?? prebuiltBundle(process.env, { traced: Boolean(traced) });
  const taskQueue = options.taskQueue ?? DEFAULT_TASK_QUEUE;
  const host = options.host ?? defaultHost();
  const identity = options.identity ?? defaultWorkerIdentity();
  const acts = { ...(options.activities ?? activities), ...hostActivities(host) };
  const common = {
    connection: options.connection,
    namespace: options.namespace,
    identity,
    maxConcurrentActivityTaskExecutions: options.maxActivities ?? WORKER_DEFAULTS.maxActivities,
    shutdownGraceTime: `${options.shutdownGraceSeconds ?? WORKER_DEFAULTS.shutdownGraceSeconds} s`,
    ...(traced ? { plugins: [traced.plugin] } : {}),
  };
  // The SDK sends an activity's heartbeats to the server at most every 0.8 × its heartbeat
  // timeout, and a cancel reaches the activity only in a heartbeat's reply: an install with a
  // 30 s timeout learnt of a cancel up to 24 s late. At most 5 s here. The watches choose when
  // they heartbeat themselves (once a minute, or every check while watched live): each is
  // sent within a second.
  const prompt = { ...common, maxHeartbeatThrottleInterval: `${HEARTBEAT_THROTTLE_SECONDS} s` };
  const shared = await Worker.create({
    ...prompt,
    taskQueue,
    activities: acts,
    maxConcurrentWorkflowTaskExecutions: options.maxWorkflowTasks ?? WORKER_DEFAULTS.maxWorkflowTasks,
    stickyQueueScheduleToStartTimeout: `${STICKY_TIMEOUT_SECONDS} s`,
    ...(bundle ? { workflowBundle: bundle } : { workflowsPath: workflowsPath(), bundlerOptions: { webpackConfigHook: resolveTsExtensions } }),
  });
  const local = await Worker.create({ ...prompt, maxHeartbeatThrottleInterval: `${HOST_HEARTBEAT_THROTTLE_SECONDS} s`, taskQueue: hostQueue(taskQueue, host), activities: acts });
  const watches = await Worker.create({
    ...common,
    // Watches never finish on their own, and one cut short loses nothing (its retry resumes
    // from its heartbeat, on this host's next worker): cancelled at once when the worker
    // stops, instead of after the grace period the starts and stops get.
    shutdownGraceTime: 0,
    maxHeartbeatThrottleInterval: `${WATCH_HEARTBEAT_THROTTLE_SECONDS} s`,
    taskQueue: watchQueue(hostQueue(taskQueue, host)),
    activities: acts,
    maxConcurrentActivityTaskExecutions: options.maxWatches ?? WORKER_DEFAULTS.maxWatches,
  });
  const workers = [shared, local, watches];
  const shutdown = () => {
    for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
  };
  const run = async () => {
    // One worker failing stops the others: a half-polling worker would take work it cannot finish.
    const runs = workers.map((w) =>
      w.run().catch((err: unknown) => {
        shutdown();
        throw err;
      }),
    );
    // Beside the polling, not before it: what a dead predecessor on this machine was running goes on now, not at its timeouts.
    const registered = registerWorker({ identity, namespace: options.namespace, taskQueue }).catch((err: unknown) => {
      Runtime.instance().logger.warn(`could not register in this machine's worker registry (dead workers here are then noticed by their timeouts only): ${(err as Error).message}`);
      return undefined;
    });
    void registered.then(async (registration) => {
      if (!registration || registration.dead.length === 0) return;
      try {
        const report = await takeOverDeadWorkers(options.connection, options.namespace, taskQueue, identity, registration.dead);
        for (const a of report.activities) Runtime.instance().logger.info(`took over ${a.activityType} (activity ${a.activityId}) of ${a.workflowId} from dead worker ${a.deadWorker}`, { workflowId: a.workflowId, deadWorker: a.deadWorker });
        await registration.forgetDead();
      } catch (err) {
        Runtime.instance().logger.warn(`could not take over the work of dead workers on this machine: ${(err as Error).message}`);
      }
    });
    const settled = await Promise.allSettled(runs).finally(async () => {
      await registered.then((r) => r?.unregister()).catch(() => undefined);
      // Its watches were cancelled: the checker thread ends with the worker, not at the process's exit.
      await endCheckerThread({ ifIdle: true });
    });
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
  };
  return {
    taskQueue,
    host,
    hostQueue: hostQueue(taskQueue, host),
    identity,
    run,
    shutdown,
    getState: () => shared.getState(),
    async runUntil<R>(fn: () => Promise<R>): Promise<R> {
      const running = run();
      try {
        return await Promise.race([fn(), running.then(() => Promise.reject(new Error('the worker stopped before its work was done')))]);
      } finally {
        shutdown();
        await running.catch(() => undefined);
      }
    },
  };
}
