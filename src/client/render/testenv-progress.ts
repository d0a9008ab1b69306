/** Live progress of a test environment: the phase and node lines that changed since the last poll, in the order they happened. */
import type { EnvState } from '../../model/testenv.js';

export function nodeLine(n: EnvState['nodes'][number]): string {
  const taskservs = n.taskservs.map((t) => `${t.name}:${t.state}`).join(' ');
  return `${n.name}: ${n.state}${n.address ? ` ${n.address}` : ''}${taskservs ? ` [${taskservs}]` : ''}`;
}

/**
 * The lines that differ from what `seen` holds (and records them there). A poll can catch
 * several changes at once; the workflow's logical clock (phaseSeq, each node's seq) orders
 * them, so a node's `ready` never prints after the `cleaning-up` that followed it.
 */
export function progressChanges(state: EnvState, seen: Map<string, string>): string[] {
  const lines = [
    { key: 'phase', line: `phase ${state.phase}`, seq: state.phaseSeq ?? 0 },
    ...state.nodes.map((n) => ({ key: `node ${n.name}`, line: nodeLine(n), seq: n.seq ?? 0 })),
  ].sort((a, b) => a.seq - b.seq);
  const changed: string[] = [];
  for (const { key, line } of lines) {
    if (seen.get(key) !== line) changed.push(line);
    seen.set(key, line);
  }
  return changed;
}
