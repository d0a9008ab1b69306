/** `platform analyze`: the critical chain as systemd-analyze critical-chain prints it, the service healthy last on top. */
import type { StartAnalysis } from '../../api/platform-analyze.js';

const s = (ms: number) => `${(ms / 1000).toFixed(3)}s`;

export function renderChain(a: StartAnalysis): string {
  const { chain } = a;
  const head = [
    `${a.type} ${a.workflowId} (run ${a.runId}), started ${a.startTime}: ${a.started} service${a.started === 1 ? '' : 's'} started`,
    'The time a service became healthy is printed after "@", the time from its spawn to healthy after "+",',
    'and in brackets how long it waited to be spawned after the dependency it waited for last.',
    '',
  ];
  if (chain.links.length === 0) return [...head, 'Nothing was started by this run: no chain.'].join('\n');
  const lines = [...chain.links].reverse().map((l, i) => `${i === 0 ? '' : `${' '.repeat(2 * (i - 1))}└─`}${l.name} @${s(l.offsetMs)} +${s(l.durationMs)} (${s(l.waitMs)} after ${l.after ?? 'the start'})`);
  const overhead = chain.totalMs - chain.lowerBoundMs;
  const ratio = chain.lowerBoundMs > 0 ? ` (${(chain.totalMs / chain.lowerBoundMs).toFixed(2)}x)` : '';
  return [
    ...head,
    ...lines,
    '',
    `Last service healthy ${s(chain.totalMs)} after the start; lower bound ${s(chain.lowerBoundMs)} (the longest chain of spawn-to-healthy times); overhead ${s(overhead)}${ratio}.`,
    ...(a.webUi ? [`Web UI: ${a.webUi}`] : []),
  ].join('\n');
}
