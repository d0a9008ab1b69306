/** One timing model repeats health probes: against real sockets. */
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { probe, tcpProbe } from '../../src/health/probes.js';
import { adaptiveDelay, alignedDelay, fixedDelay, waitFor } from '../../src/health/timing.js';
import { freePort } from '../../src/util/net.js';

describe('health probes and their timing', () => {
  it('waitFor attempts until a port that opens late answers, ticking between sleep slices', async () => {
    const port = await freePort();
    const server = net.createServer();
    const opened = new Promise((r) => setTimeout(r, 300)).then(() => new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r())));
    let ticks = 0;
    try {
      const outcome = await waitFor(tcpProbe({ host: '127.0.0.1', port }, 500), { delay: fixedDelay(100), timeoutMs: 5_000, sliceMs: 40, tick: () => ticks++ });
      await opened;
      expect(outcome.kind).toBe('healthy');
      expect(outcome.attempts).toBeGreaterThan(1);
      expect(outcome.result.message).toBe(`TCP 127.0.0.1:${port} accepts connections`);
      // Each 100 ms sleep is three slices (40 + 40 + 20), and every attempt is preceded by a tick.
      expect(ticks).toBeGreaterThanOrEqual(outcome.attempts + 3 * (outcome.attempts - 1));
    } finally {
      server.close();
    }
  });

  it('waitFor gives up at the timeout with the last result, and stops at once on a fatal one', async () => {
    const closed = await freePort();
    const timedOut = await waitFor(tcpProbe({ host: '127.0.0.1', port: closed }, 200), { delay: adaptiveDelay(100, 10), timeoutMs: 300 });
    expect(timedOut.kind).toBe('timeout');
    expect(timedOut.attempts).toBeGreaterThan(2);
    expect(timedOut.result.message).toBe(`TCP 127.0.0.1:${closed}: ECONNREFUSED`);

    let attempts = 0;
    const gone = probe('gone', () => Promise.resolve({ healthy: false, fatal: true, message: `exited (${++attempts})` }));
    const fatal = await waitFor(gone, { delay: fixedDelay(10), timeoutMs: 5_000 });
    expect(fatal).toMatchObject({ kind: 'fatal', attempts: 1, result: { message: 'exited (1)' } });
  });

  it('alignedDelay waits until the next multiple of the interval, whatever the attempt took', () => {
    let now = 10_000;
    const delay = alignedDelay(1_000, () => now);
    expect(delay()).toBe(1_000);
    now = 10_250;
    expect(delay()).toBe(750);
    now = 12_999;
    expect(delay()).toBe(1);
  });
});
