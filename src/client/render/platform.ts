/** How platform progress and results read on a terminal. Pure. */
import type { PlatformProgress, PlatformResult, ServiceProgress } from '../../model/platform.js';

const ICON: Record<ServiceProgress['state'], string> = {
  pending: '…',
  starting: '▶',
  'waiting-healthy': '⏳',
  started: '✅',
  'already-running': '🟢',
  failed: '❌',
  skipped: '⏭',
  cancelled: '⛔',
  stopping: '■',
  stopped: '⚪',
  'not-running': '⚪',
};

const seconds = (ms: number | undefined) => (ms === undefined ? '' : `${(ms / 1000).toFixed(1)} s`);

export function describeService(s: ServiceProgress): string {
  switch (s.state) {
    case 'pending':
      return s.waitingOn && s.waitingOn.length > 0 ? `waiting on ${s.waitingOn.join(', ')}` : 'queued';
    case 'starting':
      return 'starting';
    case 'waiting-healthy':
      return `started${s.pid ? ` (PID ${s.pid})` : s.containerId ? ` (container ${s.containerId.slice(0, 12)})` : ''}, waiting until healthy`;
    case 'started':
      return `healthy in ${seconds(s.healthyMs)}${s.pid ? ` (PID ${s.pid})` : s.containerId ? ` (container ${s.containerId.slice(0, 12)})` : ''}`;
    case 'already-running':
      return `already running${s.pid ? ` (PID ${s.pid})` : ''}`;
    case 'failed':
      return `failed: ${s.error ?? 'unknown error'}`;
    case 'skipped':
      return s.skippedBecause ? `skipped: dependency ${s.skippedBecause} failed` : `skipped${s.error ? `: ${s.error}` : ''}`;
    case 'cancelled':
      return 'cancelled';
    case 'stopping':
      return 'stopping';
    case 'stopped':
      return `stopped in ${seconds(s.stopMs)}`;
    case 'not-running':
      return 'not running';
  }
}

export function progressLine(s: ServiceProgress): string {
  return `${ICON[s.state]} ${s.name}: ${describeService(s)}`;
}

export function renderProgress(progress: PlatformProgress): string[] {
  return progress.services.map(progressLine);
}

export function renderResult(result: PlatformResult): string {
  const lines: string[] = [];
  if (result.preflight) {
    lines.push('❌ Pre-flight failed; nothing was started:');
    for (const p of result.preflight) lines.push(`   ${p.service}: ${p.message}`);
    lines.push('   Fix these, or use --force to start anyway.');
    return lines.join('\n');
  }
  if (result.refused) {
    for (const r of result.refused) lines.push(`❌ Cannot stop ${r.service}: dependent services running: ${r.dependents.join(', ')}`);
    lines.push('   Stop them too, or use --force to stop anyway. Nothing was stopped.');
    return lines.join('\n');
  }
  lines.push(...result.services.map(progressLine));
  // The failing service first, then what waited on it.
  const failed = result.services.filter((s) => s.state === 'failed');
  for (const f of failed) {
    const waiting = result.services.filter((s) => s.skippedBecause === f.name).map((s) => s.name);
    if (waiting.length > 0) lines.push(`   ${f.name} failed; skipped because of it: ${waiting.join(', ')}`);
  }
  const counts = new Map<string, number>();
  for (const s of result.services) counts.set(s.state, (counts.get(s.state) ?? 0) + 1);
  lines.push(`${result.ok ? 'Done' : 'Failed'}: ${[...counts].map(([state, n]) => `${n} ${state}`).join(', ') || 'nothing to do'}`);
  return lines.join('\n');
}
