/** The critical chain of a finished start, on timings whose slowest chain is known by construction. */
import { describe, expect, it } from 'vitest';
import { criticalChain } from '../../src/graph/critical-chain.js';
import { chainMarkdown } from '../../src/model/runbook.js';

const node = (name: string, dependencies: string[] = []) => ({ name, dependencies, startOrder: 0 });
// db and cache start at once; api waits for both (db is slower); web waits for api; tool only for cache.
const nodes = [node('db'), node('cache'), node('api', ['db', 'cache']), node('web', ['api']), node('tool', ['cache'])];
const t0 = 10_000;
const timings = {
  db: { startedAt: 10_100, healthyAt: 11_100 },
  cache: { startedAt: 10_100, healthyAt: 10_300 },
  api: { startedAt: 11_150, healthyAt: 11_650 },
  web: { startedAt: 11_700, healthyAt: 12_000 },
  tool: { startedAt: 10_350, healthyAt: 10_450 },
};

describe('criticalChain', () => {
  it('follows the dependency each service waited for last, from the service healthy last', () => {
    const chain = criticalChain(nodes, timings, t0);
    expect(chain.links).toEqual([
      { name: 'db', offsetMs: 1100, durationMs: 1000, waitMs: 100 },
      { name: 'api', offsetMs: 1650, durationMs: 500, waitMs: 50, after: 'db' },
      { name: 'web', offsetMs: 2000, durationMs: 300, waitMs: 50, after: 'api' },
    ]);
    expect(chain.totalMs).toBe(2000);
    // db 1000 + api 500 + web 300: what a start without gaps would take.
    expect(chain.lowerBoundMs).toBe(1800);
  });

  it('leaves services the run did not start (already running) off the chain', () => {
    const { db: _db, ...withoutDb } = timings;
    const chain = criticalChain(nodes, withoutDb, t0);
    expect(chain.links.map((l) => l.name)).toEqual(['cache', 'api', 'web']);
    expect(chain.lowerBoundMs).toBe(200 + 500 + 300);
  });

  it('is empty when nothing was started, and renders as a table for the Web UI', () => {
    expect(criticalChain(nodes, {}, t0)).toEqual({ links: [], totalMs: 0, lowerBoundMs: 0 });
    const md = chainMarkdown(criticalChain(nodes, timings, t0));
    expect(md).toContain('**Critical chain:** 2.00s to the last service healthy; lower bound 1.80s');
    expect(md).toContain('| api | @1.65s | +0.50s | 0.05s after db |');
  });
});
