import { describe, expect, it } from 'vitest';
import { imageTag } from '../../src/activities/drivers/versions.js';
import { mergeChecks, serviceMetrics } from '../../src/model/service-metrics.js';
import { initialState, type HealthCheckRecord } from '../../src/model/supervisor.js';

const check = (at: number, healthy: boolean, durationMs: number): HealthCheckRecord => ({ at, healthy, running: true, message: healthy ? 'ok' : 'refused', durationMs });

describe('serviceMetrics', () => {
  it('works out uptime, success rate and latency over the checks it is given', () => {
    const state = { ...initialState('api'), status: 'healthy' as const, restarts: 2, recentRestarts: [1_000, 590_000], runningSince: 600_000, timeToHealthyMs: 420 };
    const checks = [check(601_000, true, 1), check(602_000, false, 9), check(603_000, true, 2), check(604_000, true, 4)];
    expect(serviceMetrics('api', state, checks, 610_000 + 1_000)).toEqual({
      service: 'api',
      supervised: true,
      status: 'healthy',
      uptimeSeconds: 11,
      restarts: 2,
      recentRestarts: 1,
      timeToHealthyMs: 420,
      checks: 4,
      windowSeconds: 3,
      successRate: 0.75,
      latencyMs: { mean: 4, p95: 9, max: 9 },
      lastCheck: checks[3],
    });
  });

  it('counts only restarts inside the 10-minute window, and says when nothing supervises the service', () => {
    const state = { ...initialState('api'), restarts: 3, recentRestarts: [1_000, 700_000] };
    expect(serviceMetrics('api', state, [], 700_001).recentRestarts).toBe(1);
    expect(serviceMetrics('db', undefined, [], 0)).toEqual({ service: 'db', supervised: false });
  });

  it('merges recorded and live checks once each, oldest first', () => {
    const a = check(1, true, 1);
    const b = check(2, true, 1);
    const c = check(3, false, 1);
    expect(mergeChecks([a, b], [c, b])).toEqual([a, b, c]);
  });
});

describe('imageTag', () => {
  it.each([
    ['redis:7.2', '7.2'],
    ['redis', 'latest'],
    ['localhost:5000/team/app', 'latest'],
    ['localhost:5000/team/app:1.4.0', '1.4.0'],
    ['app@sha256:abc', 'sha256:abc'],
  ])('%s → %s', (image, tag) => expect(imageTag(image)).toBe(tag));
});
