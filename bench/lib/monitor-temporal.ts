import { defaultPayloadConverter } from '@temporalio/common';
/**
 * The Temporal side of the monitoring benchmark: a dev server (headless, in memory, free
 * port), `provisioning worker` as a separate process (compiled dist/, so its CPU and memory
 * are its own), one serviceSupervisor per service, and what their histories say afterwards.
 */
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import { execa, type ResultPromise } from 'execa';
import type { ServiceDefinition } from '../../src/config/registry-schema.js';
import type { serviceSupervisor } from '../../src/workflows/supervisor.js';
import { type SupervisorState, type WatchOutcome, type WatchProgress } from '../../src/model/supervisor.js';
import { askLiveViews } from '../../src/api/services.js';
import { supervisorId } from '../../src/model/ids.js';
import { hostQueue } from '../../src/model/worker-defaults.js';
import { defaultWorkerIdentity, forgetWorker } from '../../src/temporal/worker-registry.js';

/** The host the bench's worker stands for (`--host`): the supervisors watch on its queues, as a platform start's do. */
export const BENCH_HOST = 'bench-monitor';

const { EventType } = proto.temporal.api.enums.v1;
const STOP_GRACE_MS = 10_000;

export { startServer } from './harness.js';

export interface ChildProcess {
  pid: number;
  /** SIGTERM, then SIGKILL after a grace period; by PID, only this process. */
  stop: () => Promise<void>;
  /** Resolves when the process has exited. */
  exited: Promise<unknown>;
}

/** SIGTERM to one PID, SIGKILL if it is still there after the grace period. */
export async function stopChild(child: ResultPromise, pid: number, graceMs = STOP_GRACE_MS): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = child.then(() => true);
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    // already gone
  }
  const grace = new AbortController();
  const done = await Promise.race([exited, sleep(graceMs, false, { signal: grace.signal }).catch(() => false)]);
  grace.abort();
  if (!done) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
    await exited;
  }
}

/** Environment for child processes: no Temporal settings of the caller's shell, a private project home. */
export function childEnv(home: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('TEMPORAL_') && k !== 'PROVISIONING_FROM_SOURCE') env[k] = v;
  return { ...env, PROVISIONING_HOME: home };
}

/**
 * Spawns `node bin/provisioning.js worker` (the compiled CLI in dist/) and waits until it
 * says it polls. Returned inside an object: an execa subprocess is a thenable, and an async
 * function returning it would wait for it to exit.
 */
export async function spawnWorker(root: string, address: string, taskQueue: string, home: string, extraArgs: string[] = [], nodeArgs: string[] = []): Promise<ChildProcess> {
  const child = execa(process.execPath, [...nodeArgs, path.join(root, 'bin', 'provisioning.js'), 'worker', '--address', address, '--namespace', 'default', '--task-queue', taskQueue, '--host', BENCH_HOST, ...extraArgs], {
    cwd: root,
    env: childEnv(home),
    extendEnv: false,
    stdin: 'ignore',
    buffer: false,
    reject: false,
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error('could not start the worker: no PID');
  // A worker that had to be killed leaves its record in the machine's worker registry (a clean exit removes it).
  const stop = async () => {
    await stopChild(child, pid);
    await forgetWorker(defaultWorkerIdentity(pid), pid, childEnv(home));
  };
  let output = '';
  const ready = new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Worker polling task queue')) resolve();
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void child.then(() => reject(new Error(`the worker exited before polling:\n${output.slice(-2000)}`)));
  });
  const timeout = new AbortController();
  try {
    await Promise.race([ready, sleep(90_000, undefined, { signal: timeout.signal }).then(() => Promise.reject(new Error(`the worker did not start polling within 90 s:\n${output.slice(-2000)}`)))]);
  } catch (err) {
    await stop();
    throw err;
  } finally {
    timeout.abort();
  }
  return { pid, stop, exited: child.then(() => undefined) };
}

export async function connectClient(address: string, namespace: string): Promise<{ client: Client; close: () => Promise<void> }> {
  const connection = await Connection.connect({ address });
  return { client: new Client({ connection, namespace }), close: () => connection.close() };
}

export async function startSupervisors(client: Client, taskQueue: string, platform: string, home: string, services: ServiceDefinition[], intervalSeconds: number): Promise<void> {
  // The host choice a platform start gives its supervisors: watches on the host's watch queue, restarts on its host queue.
  const hostChoice = { host: BENCH_HOST, taskQueue: hostQueue(taskQueue, BENCH_HOST), waitSeconds: 60 };
  await Promise.all(
    services.map((service) =>
      client.workflow.start<typeof serviceSupervisor>('serviceSupervisor', {
        taskQueue,
        workflowId: supervisorId(platform, service.name),
        args: [{ service, home, platform, intervalSeconds, hostChoice }],
      }),
    ),
  );
}

/** Signals stopSupervising to every supervisor and waits for their final states. */
export async function stopSupervisors(client: Client, platform: string, services: ServiceDefinition[]): Promise<SupervisorState[]> {
  return Promise.all(
    services.map(async (s) => {
      const handle = client.workflow.getHandle(supervisorId(platform, s.name));
      await handle.signal('stopSupervising');
      return (await handle.result()) as SupervisorState;
    }),
  );
}

export interface HistoryStats {
  /** Events of all supervisors with an event time inside the window. */
  events: number;
  /** Local-activity markers inside the window: one per check. */
  checks: number;
  /** Events inside the window by type (EVENT_TYPE_ stripped), most frequent first. */
  byType: Array<[string, number]>;
  /** Total history length of the runs read (whole run, not just the window). */
  totalEvents: number;
  /** Supervisors whose run continued as new (its history then starts after the CAN). */
  continuedAsNew: number;
  /** Timer fired → the next timer started (server dispatch, worker, the check, completion), ms, in the window. */
  wakeToSleepMs: number[];
  /** How late timers fire: fired − started − interval, ms, in the window. */
  timerLateMs: number[];
}

function tsMs(ts: { seconds?: { toNumber(): number } | number | null; nanos?: number | null } | null | undefined): number {
  if (!ts) return NaN;
  const s = typeof ts.seconds === 'number' ? ts.seconds : (ts.seconds?.toNumber() ?? 0);
  return s * 1000 + (ts.nanos ?? 0) / 1e6;
}

/** Reads every supervisor's history (latest run) and counts the events and checks inside [from, to). */
export async function historyStats(client: Client, platform: string, services: ServiceDefinition[], from: number, to: number, intervalMs: number, finalStates: SupervisorState[]): Promise<HistoryStats> {
  const byType = new Map<string, number>();
  let events = 0;
  let checks = 0;
  let totalEvents = 0;
  const wakeToSleepMs: number[] = [];
  const timerLateMs: number[] = [];
  for (let i = 0; i < services.length; i += 20) {
    const histories = await Promise.all(services.slice(i, i + 20).map((s) => client.workflow.getHandle(supervisorId(platform, s.name)).fetchHistory()));
    for (const history of histories) {
      let timerStarted = NaN;
      let timerFired = NaN;
      for (const e of history.events ?? []) {
        totalEvents++;
        const at = tsMs(e.eventTime);
        if (e.eventType === EventType.EVENT_TYPE_TIMER_STARTED) {
          if (timerFired >= from && at < to) wakeToSleepMs.push(at - timerFired);
          timerStarted = at;
        } else if (e.eventType === EventType.EVENT_TYPE_TIMER_FIRED) {
          if (timerStarted >= from && at < to) timerLateMs.push(at - timerStarted - intervalMs);
          timerFired = at;
        }
        if (!(at >= from && at < to)) continue;
        events++;
        if (e.eventType === EventType.EVENT_TYPE_MARKER_RECORDED) checks++;
        const name = (EventType[e.eventType ?? 0] ?? String(e.eventType)).replace(/^EVENT_TYPE_/, '');
        byType.set(name, (byType.get(name) ?? 0) + 1);
      }
    }
  }
  return {
    events,
    checks,
    byType: [...byType.entries()].sort((a, b) => b[1] - a[1]),
    totalEvents,
    continuedAsNew: finalStates.filter((s) => s.generation > 0).length,
    wakeToSleepMs,
    timerLateMs,
  };
}

/**
 * A watch's check count as of its last heartbeat that reached the server, when the watch gave
 * it (epoch ms), and since when it counts (the same for the watches that continue one another;
 * a new one after a watch returned counts afresh).
 */
export interface WatchSample {
  count: number;
  at: number;
  since: number;
}

/**
 * Each supervisor's running watch: its check count from the heartbeat details the server has,
 * and the time of that heartbeat. An unwatched watch heartbeats once a minute, so a count can
 * be that stale: checkRate() turns two samples into a rate, and freshWatchedChecks() asks for a
 * live view to get counts as of now.
 */
export async function watchedChecks(client: Client, platform: string, services: ServiceDefinition[]): Promise<Map<string, WatchSample>> {
  const samples = new Map<string, WatchSample>();
  for (let i = 0; i < services.length; i += 20) {
    const batch = services.slice(i, i + 20);
    const descriptions = await Promise.all(batch.map((s) => client.workflow.getHandle(supervisorId(platform, s.name)).describe()));
    descriptions.forEach(({ raw }, k) => {
      const watch = raw.pendingActivities?.find((a) => a.activityType?.name === 'watchService');
      const payload = watch?.heartbeatDetails?.payloads?.[0];
      if (!payload) return;
      const { count, at, since } = defaultPayloadConverter.fromPayload<WatchProgress>(payload);
      samples.set(batch[k]!.name, { count, at: at ?? tsMs(watch.lastHeartbeatTime), since });
    });
  }
  return samples;
}

/** checkRate's answer: checks per second of all supervisors, and how many of them it could measure. */
export interface CheckRate {
  /** Checks per second of all the supervisors: the measured ones' sum, and the others at the measured ones' mean. */
  perSecond: number;
  measured: number;
  /** The supervisors without a rate, and why (no heartbeat before or after, a count that went back, an ended watch not in the history). */
  unmeasured: Array<{ name: string; why: string }>;
}

/**
 * Checks per second of all supervisors: each one's rate between its two samples (multiply by a
 * window's seconds for its checks). Between them its watch may have returned (every 5 minutes,
 * or on a change) and a new one counted afresh: the checks of the watches that ended in between
 * come from their results in the supervisor's history (each returns its count and since). A
 * supervisor without two samples (its watch had just returned and not yet heartbeat) counts at
 * the others' mean rate, rather than as no checks at all.
 */
export async function checkRate(client: Client, platform: string, names: string[], before: Map<string, WatchSample>, after: Map<string, WatchSample>): Promise<CheckRate> {
  let total = 0;
  let measured = 0;
  const unmeasured: CheckRate['unmeasured'] = [];
  for (const name of names) {
    const b = before.get(name);
    const a = after.get(name);
    if (!b || !a || a.at <= b.at) {
      unmeasured.push({ name, why: !b ? 'no heartbeat before the window' : !a ? 'no heartbeat after the window' : 'no heartbeat in between' });
      continue;
    }
    let made: number | undefined;
    if (a.since === b.since) made = a.count >= b.count ? a.count - b.count : undefined;
    else {
      // The final count of each watch lineage (since) that ended between the samples.
      const ended = new Map<number, number>();
      for (const e of (await client.workflow.getHandle(supervisorId(platform, name)).fetchHistory()).events ?? []) {
        const payload = e.activityTaskCompletedEventAttributes?.result?.payloads?.[0];
        if (!payload) continue;
        const outcome = defaultPayloadConverter.fromPayload<Partial<WatchOutcome>>(payload);
        if (outcome.since === undefined || outcome.count === undefined || outcome.since < b.since || outcome.since >= a.since) continue;
        ended.set(outcome.since, Math.max(ended.get(outcome.since) ?? 0, outcome.count));
      }
      if (ended.has(b.since)) made = [...ended.values()].reduce((x, y) => x + y, 0) - b.count + a.count;
    }
    if (made === undefined) {
      unmeasured.push({ name, why: a.since === b.since ? 'its count went back' : 'the watch that ended is not in the history' });
      continue;
    }
    total += made / ((a.at - b.at) / 1000);
    measured++;
  }
  return { perSecond: measured === 0 ? 0 : (total / measured) * names.length, measured, unmeasured };
}

/**
 * watchedChecks as of now: asks every supervisor for a live view (its watch is replaced by a
 * live one that carries the count on and heartbeats at once), then samples until each watch's
 * heartbeat is from `notBefore` or later. Run it after a measuring window: the switch costs
 * the worker a workflow task and a watch per supervisor.
 */
export async function freshWatchedChecks(client: Client, platform: string, services: ServiceDefinition[], notBefore: number): Promise<Map<string, WatchSample>> {
  await askLiveViews(client, platform, services.map((s) => s.name));
  const deadline = performance.now() + 30_000;
  for (;;) {
    const samples = await watchedChecks(client, platform, services);
    const fresh = [...samples.values()].filter((s) => s.at >= notBefore).length;
    if (fresh === services.length || performance.now() > deadline) return new Map([...samples].filter(([, s]) => s.at >= notBefore));
    await sleep(500);
  }
}
