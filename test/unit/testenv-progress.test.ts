import { describe, expect, it } from 'vitest';
import { progressChanges } from '../../src/client/render/testenv-progress.js';
import type { EnvState } from '../../src/model/testenv.js';

const node = (name: string, state: EnvState['nodes'][number]['state'], seq: number): EnvState['nodes'][number] => ({
  name,
  role: 'standalone',
  container: `c-${name}`,
  image: 'img',
  resources: { cpu_millicores: 100, memory_mb: 32 },
  state,
  taskservs: [],
  seq,
});

const state = (phase: EnvState['phase'], phaseSeq: number, nodes: EnvState['nodes']): EnvState =>
  ({ id: 'e', workflowId: 'testenv/e', type: 'single_taskserv', subject: 'x', phase, phaseSeq, network: { name: 'n' }, nodes, autoCleanup: false, createdAt: 0, expiresAt: 1, runs: 0 });

describe('test environment progress lines', () => {
  it('prints the changes one poll caught in the order they happened: ready before cleaning-up', () => {
    const seen = new Map<string, string>();
    expect(progressChanges(state('installing', 5, [node('web', 'installing', 6)]), seen)).toEqual(['phase installing', 'web: installing']);
    expect(progressChanges(state('cleaning-up', 9, [node('web', 'ready', 7)]), seen)).toEqual(['web: ready', 'phase cleaning-up']);
  });

  it('prints only what changed since the last poll', () => {
    const seen = new Map<string, string>();
    progressChanges(state('starting', 3, [node('a', 'running', 4), node('b', 'created', 2)]), seen);
    expect(progressChanges(state('starting', 3, [node('a', 'running', 4), node('b', 'running', 5)]), seen)).toEqual(['b: running']);
  });
});
