/** `platform metrics` and `platform versions` as tables. Pure. */
import type { ServiceMetrics } from '../../model/service-metrics.js';
import type { ServiceVersion } from '../../activities/drivers/versions.js';
import { renderTable } from './table.js';

export function duration(seconds: number): string {
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')}m`;
  return `${Math.floor(seconds / 86_400)}d${String(Math.floor((seconds % 86_400) / 3600)).padStart(2, '0')}h`;
}

const ms = (n: number | undefined) => (n === undefined ? '-' : n >= 1000 ? `${(n / 1000).toFixed(1)}s` : `${Math.round(n)}ms`);

export function renderMetrics(metrics: readonly ServiceMetrics[]): string {
  const rows = metrics.map((m) =>
    m.supervised
      ? [
          m.service,
          m.status ?? '-',
          m.uptimeSeconds !== undefined ? duration(m.uptimeSeconds) : '-',
          `${m.restarts ?? 0}${m.recentRestarts ? ` (${m.recentRestarts} in 10m)` : ''}`,
          ms(m.timeToHealthyMs),
          m.checks ? `${m.checks} in ${duration(Math.round(m.windowSeconds ?? 0))}` : '0',
          m.successRate !== undefined ? `${(m.successRate * 100).toFixed(m.successRate === 1 ? 0 : 1)}%` : '-',
          m.latencyMs ? `${ms(m.latencyMs.mean)} / ${ms(m.latencyMs.p95)} / ${ms(m.latencyMs.max)}` : '-',
        ]
      : [m.service, 'not supervised', '-', '-', '-', '-', '-', '-'],
  );
  const table = renderTable(['SERVICE', 'STATUS', 'UPTIME', 'RESTARTS', 'TO HEALTHY', 'CHECKS', 'SUCCESS', 'LATENCY mean/p95/max'], rows);
  const unsupervised = metrics.filter((m) => !m.supervised).map((m) => m.service);
  const alerts = metrics.filter((m) => m.alerts).map((m) => `  ${m.service}: ${m.alerts!.events} events, ${m.alerts!.raised} deliveries: ${m.alerts!.delivered} delivered, ${m.alerts!.failed} not delivered, ${m.alerts!.raised - m.alerts!.delivered - m.alerts!.failed} in progress${m.alerts!.lastError ? ` (last: ${m.alerts!.lastError})` : ''}`);
  return [
    table,
    ...(alerts.length > 0 ? ['', 'Alerts:', ...alerts] : []),
    ...(unsupervised.length > 0 ? ['', `Not supervised: ${unsupervised.join(', ')}. Figures come from supervisors: set startup.restart_on_failure = true and start it, or run "provisioning services monitor ${unsupervised[0]}".`] : []),
  ].join('\n');
}

export function renderVersions(own: string, temporal: { address: string; version: string | null; error?: string }, versions: readonly ServiceVersion[]): string {
  const rows = versions.map((v) => [v.service, v.mode, v.version ?? 'unknown', v.source + (v.digest ? ` (${v.digest.slice(0, 19)})` : '') + (v.note ? ` — ${v.note}` : '')]);
  return [
    `provisioning: ${own}`,
    `Temporal server (${temporal.address}): ${temporal.version ?? `unknown${temporal.error ? ` (${temporal.error})` : ''}`}`,
    '',
    renderTable(['SERVICE', 'MODE', 'VERSION', 'FROM'], rows),
  ].join('\n');
}
