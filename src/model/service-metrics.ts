/**
 * The figures `platform metrics` and `platform monitor` show for a supervised service, worked
 * out from its supervisor's state and the checks of the watch running now. Pure.
 */
import type { HealthCheckRecord, SupervisorState, SupervisorStatus } from './supervisor.js';
import { RESTART_WINDOW_MS } from './supervisor.js';

export interface ServiceMetrics {
  service: string;
  supervised: boolean;
  status?: SupervisorStatus;
  reason?: string;
  pid?: number;
  /** Seconds since the process or container was (re)started, when known. */
  uptimeSeconds?: number;
  restarts?: number;
  /** Restarts within the last 10 minutes (max_restarts counts these). */
  recentRestarts?: number;
  /** Start to healthy of the latest start or restart the supervisor knows of. */
  timeToHealthyMs?: number;
  /** The checks the figures below cover: the most recent, oldest first. */
  checks?: number;
  windowSeconds?: number;
  /** Share of those checks that were healthy, 0..1. */
  successRate?: number;
  latencyMs?: { mean: number; p95: number; max: number };
  lastCheck?: HealthCheckRecord;
  /** Alerts raised, delivered and given up on (with the last failure), when webhooks are configured. */
  alerts?: SupervisorState['alerts'];
}

/** The supervisor's recorded checks and the running watch's, each once, oldest first. */
export function mergeChecks(recorded: readonly HealthCheckRecord[], live: readonly HealthCheckRecord[]): HealthCheckRecord[] {
  const byAt = new Map<number, HealthCheckRecord>();
  for (const c of [...recorded, ...live]) byAt.set(c.at, c);
  return [...byAt.values()].sort((a, b) => a.at - b.at);
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

const round = (n: number) => Math.round(n * 10) / 10;

export function serviceMetrics(service: string, state: SupervisorState | undefined, checks: readonly HealthCheckRecord[], now: number): ServiceMetrics {
  if (!state) return { service, supervised: false };
  const durations = checks.map((c) => c.durationMs).sort((a, b) => a - b);
  const first = checks[0];
  const last = checks.at(-1);
  return {
    service,
    supervised: true,
    status: state.status,
    ...(state.reason ? { reason: state.reason } : {}),
    ...(state.pid !== undefined ? { pid: state.pid } : {}),
    ...(state.runningSince !== undefined && state.status !== 'failed' ? { uptimeSeconds: Math.max(0, Math.round((now - state.runningSince) / 1000)) } : {}),
    restarts: state.restarts,
    recentRestarts: state.recentRestarts.filter((t) => t > now - RESTART_WINDOW_MS).length,
    ...(state.timeToHealthyMs !== undefined ? { timeToHealthyMs: state.timeToHealthyMs } : {}),
    checks: checks.length,
    ...(first && last ? { windowSeconds: round((last.at - first.at) / 1000) } : {}),
    ...(checks.length > 0
      ? {
          successRate: checks.filter((c) => c.healthy).length / checks.length,
          latencyMs: { mean: round(durations.reduce((a, b) => a + b, 0) / durations.length), p95: round(percentile(durations, 0.95)), max: round(durations.at(-1)!) },
        }
      : {}),
    ...(last ? { lastCheck: last } : {}),
    ...(state.alerts ? { alerts: state.alerts } : {}),
  };
}
