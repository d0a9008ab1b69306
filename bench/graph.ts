/**
 * Benchmark of the dependency-graph module (src/graph).
 *
 * For layered random DAGs of 1,000 and 10,000 services (about 3 dependencies each) and a
 * 10,000-service chain, it times startupOrder, dependencyLevels, checkGraph (which includes
 * cycle detection) and criticalPath: a warm-up (at least one call and 25 ms), then the median
 * of 7 timed runs. Each time is also shown as a multiple of a baseline measured in the same run
 * on the same data: one plain loop over every node and edge. "×150" means about 150 linear
 * passes; a ratio that stays roughly flat from 1,000 to 10,000 services means near-linear
 * scaling, independent of how fast the machine is.
 *
 * Run: npx tsx bench/graph.ts   (or: npm run bench:graph)
 */
import { performance } from 'node:perf_hooks';
import { checkGraph, criticalPath, dependencyLevels, startupOrder, type GraphNode } from '../src/graph/index.js';
import { mulberry32 } from './lib/random.js';

const RUNS = 7;
const TARGET_MS = 1_000;
const WARM_UP_MS = 25;


const name = (i: number) => `svc-${String(i).padStart(5, '0')}`;

/**
 * Services in layers of 50; each one outside the first layer depends on up to 3 distinct
 * services from earlier layers, mostly the one just before, so the graph is both wide and deep.
 * Names are assigned so that name order is not already a valid start order.
 */
function layeredDag(count: number, seed: number): GraphNode[] {
  const random = mulberry32(seed);
  const width = 50;
  const nodes: GraphNode[] = [];
  for (let i = 0; i < count; i++) {
    const layer = Math.floor(i / width);
    const deps = new Set<number>();
    if (layer > 0) {
      while (deps.size < 3) {
        const from = random() < 0.7 ? layer - 1 : Math.floor(random() * layer);
        deps.add(from * width + Math.floor(random() * width));
      }
    }
    nodes.push({
      name: name(count - 1 - i),
      dependencies: [...deps].map((d) => name(count - 1 - d)),
      startOrder: Math.floor(random() * 10),
    });
  }
  return nodes;
}

function chainDag(count: number): GraphNode[] {
  return Array.from({ length: count }, (_, i) => ({ name: name(i), dependencies: i === 0 ? [] : [name(i - 1)] }));
}

// Written to after every baseline pass so the engine cannot drop the loop as dead code.
let sink = 0;

/** One linear pass: visit every node and every edge, doing trivial work for each. */
function linearPass(nodes: readonly GraphNode[]): void {
  let edges = 0;
  for (const node of nodes) {
    for (const dep of node.dependencies) edges += dep.length > 0 ? 1 : 0;
  }
  sink += edges;
}

/**
 * Median milliseconds of `fn` over RUNS runs after a warm-up. `repeat` runs it several
 * times per sample and divides, for work too short to time reliably in one call.
 */
function median(fn: () => unknown, repeat = 1): number {
  // A single warm-up call leaves small inputs unoptimised (the JIT tiers up on call counts),
  // which made the first 1,000-node timing several times slower than it really is.
  const warmUntil = performance.now() + WARM_UP_MS;
  do fn();
  while (performance.now() < warmUntil);
  const samples: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const start = performance.now();
    for (let r = 0; r < repeat; r++) fn();
    samples.push((performance.now() - start) / repeat);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(RUNS / 2)]!;
}

interface Row {
  graph: string;
  operation: string;
  ms: number;
  ratio: number;
}

function benchGraph(graph: string, nodes: GraphNode[]): Row[] {
  const random = mulberry32(7);
  const durations = Object.fromEntries(nodes.map((n) => [n.name, 1 + Math.floor(random() * 20)]));
  const baseline = median(() => linearPass(nodes), 200);
  const operations: Array<[string, () => unknown]> = [
    ['startupOrder', () => startupOrder(nodes)],
    ['dependencyLevels', () => dependencyLevels(nodes)],
    ['checkGraph', () => checkGraph(nodes)],
    ['criticalPath', () => criticalPath(nodes, durations)],
  ];
  // Checked once outside the timings: benchmarking an invalid graph would measure the error path.
  if (checkGraph(nodes).length > 0) throw new Error(`${graph}: generated graph is not a valid DAG`);
  return [
    { graph, operation: 'baseline (1 linear pass)', ms: baseline, ratio: 1 },
    ...operations.map(([operation, fn]) => {
      const ms = median(fn);
      return { graph, operation, ms, ratio: ms / baseline };
    }),
  ];
}

const graphs: Array<[string, GraphNode[]]> = [
  ['1,000 layered', layeredDag(1_000, 1)],
  ['10,000 layered', layeredDag(10_000, 2)],
  ['10,000 chain', chainDag(10_000)],
];

console.log(`src/graph benchmark: median of ${RUNS} runs after a ${WARM_UP_MS} ms warm-up, Node ${process.version}\n`);
const header = ['graph', 'nodes', 'edges', 'operation', 'median ms', '× baseline'];
const widths = [16, 7, 7, 26, 11, 11];
const line = (cells: string[]) => cells.map((c, i) => (i < 4 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' ');
console.log(line(header));
console.log(widths.map((w) => '-'.repeat(w)).join(' '));

const rows: Row[] = [];
for (const [graph, nodes] of graphs) {
  const edges = nodes.reduce((sum, n) => sum + n.dependencies.length, 0);
  for (const row of benchGraph(graph, nodes)) {
    rows.push(row);
    const ms = row.ms < 1 ? row.ms.toFixed(4) : row.ms.toFixed(2);
    console.log(line([row.graph, String(nodes.length), String(edges), row.operation, ms, `×${Math.round(row.ratio)}`]));
  }
}

const big = rows.find((r) => r.graph === '10,000 layered' && r.operation === 'startupOrder')!;
const verdict = big.ms < TARGET_MS ? 'YES, under' : 'NO, not under';
console.log(`\n10,000-service startupOrder: ${big.ms.toFixed(2)} ms — ${verdict} the ${TARGET_MS.toLocaleString('en-US')} ms target.`);
if (sink < 0) console.log(sink);
