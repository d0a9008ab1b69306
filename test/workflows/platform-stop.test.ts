/**
 * platformStop in batches (patch batched-stop) on the real dev server with real processes
 * and a real container: the services that become stoppable together go out as one
 * stopServices activity per 25, dependents still first; one service that cannot be stopped
 * fails alone. And the activity's own resume from its heartbeat (MockActivityEnvironment).
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { CancelledFailure, defaultPayloadConverter } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { execa } from 'execa';
import { parse } from 'smol-toml';
import { afterEach, describe, expect, it } from 'vitest';
import { binaryDriver } from '../../src/activities/drivers/binary.js';
import { stopServices } from '../../src/activities/platform.js';
import { parseRegistry } from '../../src/config/registry.js';
import { BASE_IMAGE } from '../../src/docker/base-image.js';
import { progressQuery, type PlatformInput, type PlatformResult, type StopOutcome, type StopServicesInput } from '../../src/model/platform.js';
import { platformStart, platformStop } from '../../src/workflows/platform.js';
import { STOP_BATCH } from '../../src/workflows/platform-stop.js';
import { dockerAvailable } from '../support/docker.js';
import { BUSYBOX, cleanupHome, runningServices, testPlatform } from '../support/services.js';
import { expectReplays, testClient, uniqueId, withWorker } from '../support/temporal.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!().catch(() => undefined);
});

/** Runs a start of `input` (every service unless it names some) and then `stopInput` on one worker; returns the stop's result and the services of each stopServices activity, in the order they were scheduled. */
async function startThenStop(input: PlatformInput, stopInput: PlatformInput = { ...input, services: [] }): Promise<{ started: PlatformResult; stopped: PlatformResult; batches: string[][]; stopServiceActivities: number }> {
  const { client, close } = await testClient();
  try {
    return await withWorker(async (taskQueue) => {
      const started = await client.workflow.execute(platformStart, { taskQueue, workflowId: uniqueId('start'), args: [{ services: Object.keys(input.registry.services), ...input }] });
      const workflowId = uniqueId('stop');
      const stopped = await client.workflow.execute(platformStop, { taskQueue, workflowId, args: [stopInput] });
      await expectReplays(client, workflowId);
      const events = (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
      const scheduled = events.flatMap((e) => (e.activityTaskScheduledEventAttributes ? [e.activityTaskScheduledEventAttributes] : []));
      const batches = scheduled
        .filter((a) => a.activityType?.name === 'stopServices')
        .map((a) => defaultPayloadConverter.fromPayload<StopServicesInput>(a.input!.payloads![0]!).services.map((s) => s.name));
      return { started, stopped, batches, stopServiceActivities: scheduled.filter((a) => a.activityType?.name === 'stopService').length };
    });
  } finally {
    await close();
  }
}

describe('platformStop in batches', () => {
  it(`stops the services that become stoppable together with one activity per ${STOP_BATCH}, dependents before what they depend on`, async () => {
    const leaves = Array.from({ length: 30 }, (_, i) => `leaf${i}`);
    // Processes with no port (health check none): 31 ports picked at once could be taken by other tests' services meanwhile.
    const home = await mkdtemp(path.join(os.tmpdir(), 'provisioning-platform-'));
    cleanups.push(() => cleanupHome(home));
    const toml = ['root', ...leaves]
      .map(
        (name) => `
[services.${name}]
dependencies = ${name === 'root' ? '[]' : '["root"]'}
[services.${name}.deployment]
mode = "binary"
[services.${name}.deployment.binary]
binary_path = "${BUSYBOX}"
args = ["sleep", "300"]
[services.${name}.health_check]
type = "none"
`,
      )
      .join('');
    const registry = parseRegistry(parse(toml), path.join(home, 'services.toml'), {});
    const input: PlatformInput = { registry, home, platform: uniqueId('batch'), graceSeconds: 2 };
    const { started, stopped, batches, stopServiceActivities } = await startThenStop(input);
    expect(started.services.filter((s) => s.state === 'started')).toHaveLength(31);
    expect(stopped.ok).toBe(true);
    expect(stopped.services.filter((s) => s.state === 'stopped')).toHaveLength(31);
    expect(stopServiceActivities).toBe(0);
    // 30 leaves stoppable at once: 25 + 5; the root only after all of them.
    expect(batches.map((b) => b.length)).toEqual([STOP_BATCH, 30 - STOP_BATCH, 1]);
    expect(batches.slice(0, 2).flat().sort()).toEqual([...leaves].sort());
    expect(batches[2]).toEqual(['root']);
    expect((await runningServices(home)).size).toBe(0);
  }, 120_000);

  it.runIf(dockerAvailable)('a service that cannot be stopped fails alone, with its cause; its batch-mate stops', async () => {
    // web's container name is taken by a container that is not ours: a stop must leave it alone and say so.
    const foreign = `provisioning-test-foreign-${randomUUID().slice(0, 8)}`;
    await execa('docker', ['run', '-d', '--name', foreign, BASE_IMAGE, 'sleep', '300']);
    cleanups.push(() => execa('docker', ['rm', '-f', foreign]));
    const platform = await testPlatform([{ name: 'sidecar' }]);
    cleanups.push(() => platform.cleanup());
    const toml = `${platform.toml}
[services.web]
[services.web.deployment]
mode = "docker"
[services.web.deployment.docker]
image = "${BASE_IMAGE}"
container_name = "${foreign}"
`;
    const registry = parseRegistry(parse(toml), path.join(platform.home, 'services.toml'), {});
    const input: PlatformInput = { registry, home: platform.home, platform: uniqueId('batch'), graceSeconds: 2, force: true };
    const { started, stopped, batches } = await startThenStop({ ...input, services: ['sidecar'] }, { ...input, services: [] });
    expect(started.ok).toBe(true);
    expect(batches).toHaveLength(1);
    expect([...batches[0]!].sort()).toEqual(['sidecar', 'web']);
    expect(stopped.ok).toBe(false);
    const web = stopped.services.find((s) => s.name === 'web')!;
    expect(web.state).toBe('failed');
    expect(web.error).toContain(`container ${foreign} already exists and is not service web's`);
    expect(stopped.services.find((s) => s.name === 'sidecar')!.state).toBe('stopped');
    expect((await runningServices(platform.home)).size).toBe(0);
    expect((await execa('docker', ['inspect', '-f', '{{.State.Running}}', foreign])).stdout).toBe('true');
  }, 120_000);
});

describe('platformStop in batches, cancelled', () => {
  it('ends cancelled while a batch is stopping, with nothing of the walk left waiting', async () => {
    // stubborn ignores SIGTERM: its batch takes the whole grace period, and the cancel comes meanwhile.
    const platform = await testPlatform([{ name: 'root' }, { name: 'stubborn', deps: ['root'], script: 'trap "" TERM; httpd -f -p 127.0.0.1:{port} -h . & wait' }]);
    cleanups.push(() => platform.cleanup());
    const input: PlatformInput = { registry: platform.registry, home: platform.home, platform: uniqueId('batch'), graceSeconds: 5 };
    const { client, close } = await testClient();
    cleanups.push(close);
    await withWorker(async (taskQueue) => {
      expect((await client.workflow.execute(platformStart, { taskQueue, workflowId: uniqueId('start'), args: [{ ...input, services: ['root', 'stubborn'] }] })).ok).toBe(true);
      const handle = await client.workflow.start(platformStop, { taskQueue, workflowId: uniqueId('stop'), args: [input] });
      for (let i = 0; i < 100; i++) {
        const progress = await handle.query(progressQuery);
        if (progress.services.find((s) => s.name === 'stubborn')?.state === 'stopping') break;
        await new Promise((r) => setTimeout(r, 50));
      }
      await handle.cancel();
      const failure = await handle.result().then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(failure).toBeInstanceOf(WorkflowFailedError);
      expect((failure as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
      expect((await handle.describe()).status.name).toBe('CANCELLED');
      await expectReplays(client, handle.workflowId);
    });
  }, 120_000);
});

describe('stopServices', () => {
  it('resumes from its heartbeat: a service an earlier attempt stopped is reported as then, not stopped again', async () => {
    const platform = await testPlatform([{ name: 'a' }, { name: 'b' }]);
    cleanups.push(() => platform.cleanup());
    const [a, b] = [platform.registry.services.a!, platform.registry.services.b!];
    await binaryDriver.start(a, { home: platform.home });
    await binaryDriver.start(b, { home: platform.home });
    // What the attempt before a worker's death had sent: a stopped.
    const earlier: StopOutcome = { name: 'a', ok: true, wasRunning: true, how: 'SIGTERM', stopMs: 7 };
    const env = new MockActivityEnvironment({ heartbeatDetails: [earlier] });
    const outcomes: StopOutcome[] = await env.run(stopServices, { services: [a, b], home: platform.home, graceSeconds: 2 });
    expect(outcomes[0]).toEqual(earlier);
    expect(outcomes[1]).toMatchObject({ name: 'b', ok: true, wasRunning: true });
    // a was taken as stopped and left alone (here it was still running: the proof that it was not stopped again).
    expect([...(await runningServices(platform.home)).keys()]).toEqual(['a']);
  }, 60_000);
});
