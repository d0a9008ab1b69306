/**
 * Benchmark of serverCreate: 20 servers (containers of the local busybox image) with 3
 * taskservs each (base -> kvstore -> jobrunner, installed and checked in order), through
 * Temporal, against a plain bash script doing the same with the docker CLI one server after
 * another, and the same script with every server in the background (`&` ... `wait`).
 *
 * Each method gets a fresh infra (its own containers and network) and everything is removed
 * by label afterwards. Wall times with performance.now(); one dev server and one in-process
 * worker for the whole run; median of 3 runs per method.
 *
 * Run: npm run bench:server-create   (or: npx tsx bench/server-create.ts)
 * Needs Docker, /bin/busybox and a Temporal CLI (as for the tests); about 2 minutes.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { loadSettings } from '../src/config/settings.js';
import { ensureBaseImage, BASE_IMAGE } from '../src/docker/base-image.js';
import { dockerClient } from '../src/docker/client.js';
import { serverCreate } from '../src/workflows/index.js';
import { startBenchTemporal } from './lib/harness.js';

const SERVERS = 20;
const TASKSERVS = ['base', 'kvstore', 'jobrunner'];
const RUNS = 3;
const catalog = path.resolve(import.meta.dirname, '../examples/taskservs');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function removeInfra(infra: string): Promise<void> {
  const docker = dockerClient();
  for (const c of await docker.listContainers({ all: true, filters: { label: [`provisioning.infra=${infra}`] } })) await docker.getContainer(c.Id).remove({ force: true });
  for (const n of await docker.listNetworks({ filters: { label: [`provisioning.infra=${infra}`] } })) await docker.getNetwork(n.Id).remove();
}

/** The peer baseline: what a hand-written script does with the docker CLI. */
function script(infra: string, parallel: boolean): string {
  const server = (i: number) => {
    const name = `${infra}-srv-${String(i).padStart(2, '0')}`;
    const steps = TASKSERVS.flatMap((t) => [
      `docker exec -e INFRA=${infra} -e SERVER=${name} ${name} sh -c "$(cat ${catalog}/${t}/install.sh)" ${t} >/dev/null`,
      `docker exec ${name} sh -c "$(cat ${catalog}/${t}/check.sh)" ${t} >/dev/null`,
    ]);
    return [
      `docker run -d --name ${name} --hostname srv-${i} --network ${infra}-net --cpus 0.25 --memory 48m --label provisioning.managed=true --label provisioning.infra=${infra} ${BASE_IMAGE} tail -f /dev/null >/dev/null`,
      ...steps,
    ].join(' && \\\n  ');
  };
  const body = Array.from({ length: SERVERS }, (_, i) => (parallel ? `( ${server(i)} ) &` : server(i))).join('\n');
  return `#!/bin/bash\nset -euo pipefail\ndocker network create --label provisioning.managed=true --label provisioning.infra=${infra} ${infra}-net >/dev/null\n${body}\n${parallel ? 'wait\n' : ''}`;
}

async function timeScript(dir: string, parallel: boolean): Promise<number> {
  const infra = `bench-sh-${randomUUID().slice(0, 6)}`;
  const file = path.join(dir, `${infra}.sh`);
  await writeFile(file, script(infra, parallel));
  try {
    const t0 = performance.now();
    await execa('bash', [file]);
    return (performance.now() - t0) / 1000;
  } finally {
    await removeInfra(infra);
  }
}

async function main(): Promise<void> {
  await ensureBaseImage(dockerClient());
  const dir = await mkdtemp(path.join(os.tmpdir(), 'provisioning-bench-servers-'));
  const { client, taskQueue, close } = await startBenchTemporal('servers');
  const times = { temporal: [] as number[], sequential: [] as number[], parallel: [] as number[] };
  try {
    console.log(`serverCreate benchmark: ${SERVERS} servers x ${TASKSERVS.length} taskservs (${TASKSERVS.join(' -> ')}), Node ${process.version}, ${os.cpus().length} cores\n`);
    for (let run = 1; run <= RUNS; run++) {
      const infra = `bench-tp-${randomUUID().slice(0, 6)}`;
      const servers = Array.from({ length: SERVERS }, (_, i) => `  - hostname: srv-${String(i).padStart(2, '0')}\n    plan: { cpu_millicores: 250, memory_mb: 48 }\n    taskservs: [jobrunner]\n`).join('');
      await writeFile(path.join(dir, `${infra}.yaml`), `infra: ${infra}\ncatalog: ${catalog}\nparallelism: ${SERVERS}\nservers:\n${servers}`);
      const settings = await loadSettings(path.join(dir, `${infra}.yaml`));
      try {
        const t0 = performance.now();
        const result = await client.workflow.execute(serverCreate, { taskQueue, workflowId: `bench-${infra}`, args: [{ settings }] });
        times.temporal.push((performance.now() - t0) / 1000);
        if (!result.ok) console.error(`serverCreate failed: ${JSON.stringify(result.servers.filter((s) => s.state !== 'ready'))}`);
      } finally {
        await removeInfra(infra);
      }
      times.sequential.push(await timeScript(dir, false));
      times.parallel.push(await timeScript(dir, true));
      console.log(`run ${run}/${RUNS}: serverCreate ${times.temporal.at(-1)!.toFixed(2)} s, script sequential ${times.sequential.at(-1)!.toFixed(2)} s, script parallel ${times.parallel.at(-1)!.toFixed(2)} s`);
    }
    const t = median(times.temporal);
    const seq = median(times.sequential);
    const par = median(times.parallel);
    console.log(`\nmedians of ${RUNS} runs:`);
    console.log(`  serverCreate (Temporal, parallelism ${SERVERS})  ${t.toFixed(2)} s`);
    console.log(`  docker CLI script, one server after another  ${seq.toFixed(2)} s   serverCreate / sequential = ${(t / seq).toFixed(2)}x (target <= 0.5x: ${t / seq <= 0.5 ? 'met' : 'NOT met'})`);
    console.log(`  docker CLI script, all servers in parallel   ${par.toFixed(2)} s   serverCreate / parallel = ${(t / par).toFixed(2)}x (target <= 1.3x: ${t / par <= 1.3 ? 'met' : 'NOT met'})`);
    console.log(`  throughput: ${((SERVERS * TASKSERVS.length) / t).toFixed(1)} taskservs installed and checked per second through Temporal`);
  } finally {
    await close();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
