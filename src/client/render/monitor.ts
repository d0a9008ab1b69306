/**
 * `platform monitor`: one row per service from what runs on this machine and what its
 * supervisor knows, and the frame drawn from the rows. Pure.
 */
import type { LocalHealth, LocalStatus } from '../../api/local.js';
import type { SupervisorView } from '../../api/services.js';
import type { HealthCheckRecord } from '../../model/supervisor.js';
import { duration } from './metrics.js';
import { renderTable } from './table.js';

export interface MonitorRow {
  service: string;
  category: string;
  mode: string;
  state: LocalStatus['status'];
  /** healthy / unhealthy / not-running / unknown, from the supervisor's last check or a probe now. */
  health: 'healthy' | 'unhealthy' | 'not-running' | 'unknown';
  message: string;
  latencyMs?: number;
  /** When the health shown was checked (epoch ms). */
  checkedAt?: number;
  pid?: number;
  containerId?: string;
  uptimeSeconds?: number;
  restarts: number | null;
  /** The supervisor's status, "not supervised", or null when Temporal did not answer. */
  supervision: string | null;
  /** For a stopped service: its dependencies that are not running (empty: ready to start). */
  waitingOn?: string[];
}

export interface MonitorFrame {
  at: number;
  platform: string;
  registry: string;
  /** False when Temporal did not answer this refresh: supervision is unknown. */
  temporal: boolean;
  services: MonitorRow[];
  /** The recent checks of the service asked for with --service. */
  checks?: { service: string; checks: HealthCheckRecord[] };
}

export function monitorRow(status: LocalStatus, view: SupervisorView | undefined, probed: LocalHealth | undefined, temporal: boolean, running: ReadonlySet<string>): MonitorRow {
  const last = view?.checks.at(-1);
  const health: MonitorRow['health'] =
    status.status !== 'running' ? 'not-running'
    : last ? (last.healthy ? 'healthy' : last.running ? 'unhealthy' : 'not-running')
    : probed ? probed.status
    : 'unknown';
  const message = status.status !== 'running' ? status.detail : (last?.message ?? probed?.message ?? '');
  const latency = last?.durationMs ?? probed?.durationMs;
  return {
    service: status.name,
    category: status.category,
    mode: status.mode,
    state: status.status,
    health,
    message,
    ...(latency !== undefined && status.status === 'running' ? { latencyMs: Math.round(latency * 10) / 10 } : {}),
    ...(last && status.status === 'running' ? { checkedAt: last.at } : {}),
    ...(status.pid !== undefined ? { pid: status.pid } : {}),
    ...(status.containerId !== undefined ? { containerId: status.containerId } : {}),
    ...(status.uptimeSeconds !== undefined ? { uptimeSeconds: status.uptimeSeconds } : {}),
    restarts: temporal ? (view?.state.restarts ?? 0) : null,
    supervision: temporal ? (view?.state.status ?? 'not supervised') : null,
    ...(status.status !== 'running' ? { waitingOn: status.dependencies.filter((d) => !running.has(d)) } : {}),
  };
}

const HEALTH_ICON: Record<MonitorRow['health'], string> = { healthy: '✅', unhealthy: '❌', 'not-running': '⚪', unknown: '❓' };

function where(row: MonitorRow): string {
  if (row.pid !== undefined) return `pid ${row.pid}`;
  if (row.containerId) return row.containerId.slice(0, 12);
  return '-';
}

function note(row: MonitorRow): string {
  if (row.state === 'running') return `${row.message}${row.latencyMs !== undefined ? ` (${row.latencyMs} ms)` : ''}`;
  if (row.waitingOn && row.waitingOn.length > 0) return `waits on ${row.waitingOn.join(', ')}`;
  return 'ready to start';
}

/** The in-place view: a header, a table per category, and the chosen service's checks. */
export function renderFrame(frame: MonitorFrame, intervalSeconds: number, width = 200): string {
  const running = frame.services.filter((r) => r.state === 'running').length;
  const healthy = frame.services.filter((r) => r.health === 'healthy').length;
  const lines = [
    `provisioning platform monitor — platform ${frame.platform} — ${new Date(frame.at).toISOString().slice(0, 19).replace('T', ' ')} — every ${intervalSeconds}s — q to quit`,
    `Registry: ${frame.registry}   Running: ${running}/${frame.services.length}   Healthy: ${healthy}${frame.temporal ? '' : '   Temporal not reachable: supervision unknown'}`,
  ];
  for (const category of [...new Set(frame.services.map((r) => r.category))]) {
    const rows = frame.services.filter((r) => r.category === category);
    lines.push('', `=== ${category.toUpperCase()} ===`);
    lines.push(
      renderTable(
        ['SERVICE', 'STATE', 'HEALTH', 'PID/CONTAINER', 'UPTIME', 'RESTARTS', 'SUPERVISION', 'LAST CHECK / WAITS ON'],
        rows.map((r) => [r.service, r.state, `${HEALTH_ICON[r.health]} ${r.health}`, where(r), r.uptimeSeconds !== undefined ? duration(r.uptimeSeconds) : '-', r.restarts === null ? '?' : String(r.restarts), r.supervision ?? '?', note(r)]),
      ),
    );
  }
  if (frame.checks) {
    lines.push('', `Recent checks of ${frame.checks.service}:`);
    const recent = frame.checks.checks.slice(-10).reverse();
    if (recent.length === 0) lines.push(frame.temporal ? '  none recorded (the service is not supervised)' : '  unknown (Temporal not reachable)');
    for (const c of recent) lines.push(`  ${new Date(c.at).toISOString().slice(11, 23)} ${c.healthy ? '✅' : '❌'} ${c.message} (${Math.round(c.durationMs * 10) / 10} ms)`);
  }
  return lines
    .join('\n')
    .split('\n')
    .map((l) => (l.length > width ? `${l.slice(0, width - 1)}…` : l))
    .join('\n');
}

/** What a change-only log compares: everything but the clock-driven figures. */
export function rowKey(row: MonitorRow): string {
  return [row.state, row.health, row.pid ?? row.containerId ?? '', row.restarts ?? '?', row.supervision ?? '?', row.waitingOn?.join(',') ?? ''].join('|');
}

/** A line for a row that changed, for output that is not a terminal. */
export function changeLine(row: MonitorRow, at: number): string {
  return `${new Date(at).toISOString().slice(11, 19)} ${HEALTH_ICON[row.health]} ${row.service}: ${row.state}, ${row.health}${row.state === 'running' ? ` (${where(row)}${row.message ? `: ${row.message}` : ''})` : `, ${note(row)}`}; restarts ${row.restarts ?? '?'}, supervision ${row.supervision ?? '?'}`;
}
