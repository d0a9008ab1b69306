/**
 * Alerts from supervisors to a real webhook receiver over a real socket: exactly one
 * notification per event, also when the worker process is killed with SIGKILL between the
 * event and its delivery; an unreachable webhook is retried, then reported, and never holds
 * up a restart; the registry's [alerts] table refuses bad input.
 */
import { writeFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { parse } from 'smol-toml';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { cli } from '../support/cli.js';
import type { WorkflowHandle } from '@temporalio/client';
import { parseRegistry } from '../../src/config/registry.js';
import { ALERT_EVENTS, type Alert, type AlertTarget } from '../../src/model/alerts.js';
import { supervisorId } from '../../src/model/ids.js';
import type { SupervisorState } from '../../src/model/supervisor.js';
import { freePort } from '../../src/util/net.js';
import { platformStart, type serviceSupervisor } from '../../src/workflows/index.js';
import { runningServices, testPlatform, type TestPlatform } from '../support/services.js';
import { testClient, uniqueId, withWorker } from '../support/temporal.js';
import { workerProcess } from '../support/worker-process.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!().catch(() => undefined);
});

interface Received {
  path: string;
  key: string | undefined;
  body: Alert & { text?: string };
}

/** A webhook receiver on `port`: records every POST and answers 204. */
async function receiver(port: number): Promise<Received[]> {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString()));
    req.on('end', () => {
      received.push({ path: req.url ?? '', key: req.headers['idempotency-key'] as string | undefined, body: JSON.parse(text) as Received['body'] });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => server.close(resolve)));
  return received;
}

async function supervisedApi(maxRestarts: number): Promise<TestPlatform> {
  const platform = await testPlatform([{ name: 'api' }]);
  const api = platform.registry.services.api!;
  api.startup.restart_on_failure = true;
  api.startup.max_restarts = maxRestarts;
  api.health_check.interval = 0.3;
  api.health_check.retries = 1;
  cleanups.push(() => platform.cleanup());
  return platform;
}

async function until<T>(read: () => Promise<T | undefined>, done: (value: T) => boolean, what: string, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await read().catch(() => undefined);
    if (last !== undefined && done(last)) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what}; last: ${JSON.stringify(last)}`);
}

const stateOf = (handle: WorkflowHandle) => () => handle.query<SupervisorState>('supervisorState');
const killApi = async (platform: TestPlatform) => process.kill(-(await runningServices(platform.home)).get('api')![0]!, 'SIGKILL');
const count = (received: Received[], event: string) => received.filter((r) => r.body.event === event).length;

describe('alerts', () => {
  it('delivers exactly one alert per event, also when the worker is killed between the event and the delivery', async () => {
    const platform = await supervisedApi(1);
    const port = await freePort();
    const webhook: AlertTarget = { url: `http://127.0.0.1:${port}/hooks/ops`, format: 'json', events: [...ALERT_EVENTS], attempts: 20 };
    const { client, close } = await testClient();
    cleanups.push(close);
    const taskQueue = uniqueId('alerts');
    const kills: Array<() => Promise<unknown>> = [];
    cleanups.push(async () => {
      for (const kill of kills) await kill();
    });
    const first = await workerProcess(taskQueue, (kill) => kills.push(kill));
    const name = uniqueId('p');
    const started = await client.workflow.execute(platformStart, { taskQueue, workflowId: uniqueId('start'), args: [{ registry: { ...platform.registry, alerts: { webhooks: [webhook] } }, home: platform.home, services: ['api'], platform: name }] });
    expect(started.ok).toBe(true);
    const handle = client.workflow.getHandle<typeof serviceSupervisor>(supervisorId(name, 'api'));
    cleanups.push(() => handle.terminate());
    await until(stateOf(handle), (s) => s.status === 'healthy' && s.checks.length > 0, 'never healthy');

    // The events happen while nothing listens: their deliveries are retrying when the worker dies.
    await killApi(platform);
    const restarted = await until(stateOf(handle), (s) => s.restarts === 1 && s.status === 'healthy', 'never restarted');
    expect(restarted.alerts).toMatchObject({ events: 2, raised: 2, delivered: 0 });
    first.process.kill('SIGKILL');
    await first.process;
    const received = await receiver(port);
    await workerProcess(taskQueue, (kill) => kills.push(kill));
    await until(() => Promise.resolve(received), (r) => count(r, 'restarted') >= 1 && count(r, 'unhealthy') >= 1, 'the first two alerts never arrived');

    await killApi(platform);
    const final = await handle.result();
    expect(final.status).toBe('failed');
    // The run ends only once its alerts are out: everything it raised has arrived, once.
    expect(received.map((r) => r.body.event).sort()).toEqual(['gave-up', 'restarted', 'unhealthy', 'unhealthy']);
    const { runId } = await handle.describe();
    expect(received.map((r) => r.body.id).sort()).toEqual([1, 2, 3, 4].map((n) => `${handle.workflowId}/${runId}#${n}`));
    for (const r of received) {
      expect(r.path).toBe('/hooks/ops');
      expect(r.key).toBe(r.body.id);
      expect(r.body).toMatchObject({ service: 'api', platform: name });
    }
    expect(received.find((r) => r.body.event === 'gave-up')!.body.message).toContain('gave up after 1 restarts');
    expect(final.alerts).toEqual({ events: 4, raised: 4, delivered: 4, failed: 0 });
  }, 180_000);

  it('retries an unreachable webhook, then reports it, without holding up the restart; a Slack webhook gets a text message', async () => {
    const platform = await supervisedApi(3);
    // Port 2: nothing listens there, and no test is ever given a port below 1024 (a free
    // port picked here could be taken by another test's service meanwhile, and answer).
    const deadPort = 2; // (not 1: fetch refuses the ports of the Fetch standard's "bad ports" list)
    const slackPort = await freePort();
    const received = await receiver(slackPort);
    const webhooks: AlertTarget[] = [
      // Still retrying (for minutes) when the restart is done: the restart did not wait for it.
      { url: `http://127.0.0.1:${deadPort}/hold`, format: 'json', events: ['unhealthy'], attempts: 50 },
      { url: `http://127.0.0.1:${deadPort}/services/T000/B000/secret-token`, format: 'json', events: [...ALERT_EVENTS], attempts: 2 },
      { url: `http://127.0.0.1:${slackPort}/slack`, format: 'slack', events: ['restarted'], attempts: 3 },
    ];
    const { client, close } = await testClient();
    cleanups.push(close);
    await withWorker(async (taskQueue) => {
      const name = uniqueId('p');
      await client.workflow.execute(platformStart, { taskQueue, workflowId: uniqueId('start'), args: [{ registry: { ...platform.registry, alerts: { webhooks } }, home: platform.home, services: ['api'], platform: name }] });
      const handle = client.workflow.getHandle<typeof serviceSupervisor>(supervisorId(name, 'api'));
      cleanups.push(() => handle.terminate());
      await until(stateOf(handle), (s) => s.status === 'healthy' && s.checks.length > 0, 'never healthy');
      await killApi(platform);
      const restarted = await until(stateOf(handle), (s) => s.restarts === 1 && s.status === 'healthy', 'the restart waited on the dead webhook');
      const { raised, delivered, failed } = restarted.alerts!;
      expect(delivered + failed, 'every alert was settled before the restart: it may have waited for them').toBeLessThan(raised);
      const reported = await until(stateOf(handle), (s) => (s.alerts?.failed ?? 0) === 2 && (s.alerts?.delivered ?? 0) === 1, 'the failures were never reported');
      expect(reported.alerts).toMatchObject({ events: 2, raised: 4 });
      expect(reported.alerts!.lastError).toMatch(new RegExp(`alert not delivered to webhook http://127\\.0\\.0\\.1:${deadPort}: .*ECONNREFUSED`));
      expect(reported.alerts!.lastError).not.toContain('secret-token');
      expect(received).toHaveLength(1);
      expect(received[0]!.body.text).toMatch(/^:arrows_counterclockwise: \*api\* \(platform p-\w+\) restarted: restarted \(/);
      // (A stop would wait for the alert still retrying: the clean-up terminates the supervisor.)
    });
  }, 120_000);

  it('alerts the config file\'s webhook (alerts.webhook, set with config set) from a platform start on the command line', async () => {
    const platform = await supervisedApi(3);
    const registry = path.join(platform.home, 'services.toml');
    await writeFile(registry, platform.toml.replace('[services.api.startup]', '[services.api.startup]\nrestart_on_failure = true').replace('interval = 0.5', 'interval = 0.3\nretries = 1'));
    const port = await freePort();
    const received = await receiver(port);
    const env = { PROVISIONING_HOME: platform.home, PATH: process.env.PATH };
    const refused = await cli(['config', 'set', 'alerts.webhook', 'ftp://hooks.test/x'], { env });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('not an http or https URL');
    const set = await cli(['config', 'set', 'alerts.webhook', `http://127.0.0.1:${port}/from-config`], { env });
    expect(set.code).toBe(0);
    // Shown without its path (a Slack URL's secret); `config get` prints it whole.
    expect(set.stdout).toContain(`alerts.webhook = http://127.0.0.1:${port}/… (provisioning config get alerts.webhook prints it)`);
    expect((await cli(['config', 'show'], { env })).stdout).not.toContain('/from-config');
    expect((await cli(['config', 'get', 'alerts.webhook'], { env })).stdout).toBe(`http://127.0.0.1:${port}/from-config`);
    await withWorker(async (taskQueue) => {
      const common = ['--registry', registry, '--address', inject('temporalAddress'), '--task-queue', taskQueue, '--platform', uniqueId('p')];
      try {
        expect((await cli(['platform', 'start', 'api', ...common], { env })).code).toBe(0);
        await new Promise((r) => setTimeout(r, 1_000));
        await killApi(platform);
        await until(() => Promise.resolve(received), (r) => count(r, 'restarted') === 1, 'no restarted alert from the config file\'s webhook');
        expect(received.every((r) => r.path === '/from-config')).toBe(true);
      } finally {
        await cli(['platform', 'stop', '--force', ...common], { env });
      }
    });
  }, 120_000);

  it.each([
    ['no URL', '[[alerts.webhooks]]\nformat = "slack"', 'alerts.webhooks[0]: neither url nor url_file is given'],
    ['both url and url_file', '[[alerts.webhooks]]\nurl = "https://hooks.test/x"\nurl_file = "/etc/hook"', 'alerts.webhooks[0]: both url and url_file are given'],
    ['an unknown event', '[[alerts.webhooks]]\nurl = "https://hooks.test/x"\nevents = ["restart"]', 'alerts.webhooks[0].events[0]'],
    ['a URL that is not http', '[[alerts.webhooks]]\nurl = "ftp://hooks.test/x"', 'alerts.webhooks[0].url: webhook URL "ftp://hooks.test/x" uses ftp'],
    ['a misspelt key', '[alerts]\nwebhook = []', 'did you mean "webhooks"?'],
  ])('refuses a registry whose [alerts] has %s, naming the key', (_name, alerts, expected) => {
    const text = `[services.api.deployment]\nmode = "remote"\n[services.api.deployment.remote]\nendpoint = "https://api.test"\n${alerts}\n`;
    expect(() => parseRegistry(parse(text), '/etc/provisioning/services.toml', {})).toThrow(expected);
  });

  it('keeps a registry\'s webhooks with their defaults', () => {
    const text = '[services.api.deployment]\nmode = "remote"\n[services.api.deployment.remote]\nendpoint = "https://api.test"\n[[alerts.webhooks]]\nurl = "https://hooks.test/x"\n';
    expect(parseRegistry(parse(text), '/r.toml', {}).alerts).toEqual({ webhooks: [{ url: 'https://hooks.test/x', format: 'json', events: [...ALERT_EVENTS], attempts: 8 }] });
  });
});
