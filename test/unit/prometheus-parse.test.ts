/** The test's exposition reader on the shapes the SDK's exporter and prom-client write. */
import { describe, expect, it } from 'vitest';
import { familyNames, parseExposition, sumOf } from '../support/prometheus.js';

const text = `# HELP h from spawn to healthy
# TYPE h histogram
h_bucket{service="api",mode="binary",le="0.5"} 1
h_bucket{service="api",mode="binary",le="+Inf"} 1
h_sum{service="api",mode="binary"} 0.222
h_count{service="api",mode="binary"} 1
h_count{service="db",mode="binary"} 2
# TYPE c_total counter
c_total{path="/a \\"b\\"",x="1"} 3
c_total 4 1700000000000
`;

describe('parseExposition', () => {
  it('reads labelled histograms and counters, escapes and timestamps included', () => {
    const e = parseExposition(text);
    expect(sumOf(e, 'h_count')).toBe(3);
    expect(sumOf(e, 'h_count', { service: 'api' })).toBe(1);
    expect(sumOf(e, 'h_bucket', { le: '+Inf' })).toBe(1);
    expect(e.samples.find((s) => s.name === 'c_total' && s.labels.path)?.labels.path).toBe('/a "b"');
    expect(sumOf(e, 'c_total')).toBe(7);
    expect(familyNames(e)).toEqual(expect.arrayContaining(['h', 'c_total', 'h_count']));
  });

  it('refuses a line that is not a sample', () => {
    expect(() => parseExposition('c_total{x="1" 3\n')).toThrow(/line 1/);
    expect(() => parseExposition('c_total abc\n')).toThrow(/not a value/);
  });
});
