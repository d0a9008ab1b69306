/** How test environments and their runs read on a terminal. Pure. */
import type { EnvState, RunResult } from '../../model/testenv.js';
import { nodeLine } from './testenv-progress.js';

export function summary(state: EnvState, link?: string): string {
  const lines = [
    `Environment ${state.id} (${state.type} ${state.subject}): ${state.phase}`,
    `  network ${state.network.name}${state.network.subnet ? ` ${state.network.subnet}` : ''}${state.network.pooled ? ' (from the pool)' : ''}`,
    ...state.nodes.map((n) => `  ${nodeLine(n)}`),
  ];
  if (state.phase === 'ready' || state.phase === 'created') {
    lines.push(`  expires ${new Date(state.expiresAt).toISOString()}${state.autoCleanup ? ' (or after its first run: auto-cleanup)' : ''}`);
    lines.push('', 'Next:', `  provisioning test env run ${state.id}`, `  provisioning test env logs ${state.id}`, `  provisioning test env cleanup ${state.id}`);
  }
  if (state.error) lines.push(`  error: ${state.error.split('\n').join('\n    ')}`);
  if (link) lines.push(`Web UI: ${link}`);
  return lines.join('\n');
}

export function runLines(result: RunResult): string {
  const lines = result.tests.map((t) => `${t.passed ? '✅' : '❌'} ${t.node} ${t.name} (${t.durationMs} ms)${t.passed ? '' : ` exit ${t.exitCode}\n${t.output.split('\n').map((l) => `     ${l}`).join('\n')}`}`);
  const failed = result.tests.filter((t) => !t.passed).length;
  lines.push(`${failed === 0 ? 'Passed' : 'Failed'}: ${result.tests.length - failed}/${result.tests.length} tests passed in ${(result.durationMs / 1000).toFixed(1)} s`);
  return lines.join('\n');
}

export function stamp(): string {
  return new Date().toISOString().slice(11, 19);
}
