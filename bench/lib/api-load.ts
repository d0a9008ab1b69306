/**
 * The load generator of bench:api, run as its own process (so it does not share the server's
 * event loop): `concurrency` workers issue GET `url` back to back for `seconds`; prints one JSON
 * line { requests, errors, rps, p50, p99 } (latencies in ms).
 *
 *   npx tsx bench/lib/api-load.ts URL TOKEN CONCURRENCY SECONDS
 */
const [url, token, concurrency = '32', seconds = '5'] = process.argv.slice(2);
const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
const latencies: number[] = [];
let errors = 0;
const end = performance.now() + Number(seconds) * 1000;
// Warm-up: connections open and JIT settles before anything is counted.
await Promise.all(Array.from({ length: Number(concurrency) }, () => fetch(url!, { headers }).then((r) => r.arrayBuffer())));
await Promise.all(
  Array.from({ length: Number(concurrency) }, async () => {
    while (performance.now() < end) {
      const t0 = performance.now();
      try {
        const r = await fetch(url!, { headers });
        await r.arrayBuffer();
        if (r.status >= 400) errors++;
      } catch {
        errors++;
      }
      latencies.push(performance.now() - t0);
    }
  }),
);
latencies.sort((a, b) => a - b);
const at = (p: number) => latencies[Math.min(latencies.length - 1, Math.ceil((p / 100) * latencies.length) - 1)] ?? 0;
console.log(JSON.stringify({ requests: latencies.length, errors, rps: latencies.length / Number(seconds), p50: at(50), p99: at(99) }));
