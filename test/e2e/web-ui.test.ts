/**
 * The Temporal Web UI as the runbook, in a real browser (Debian's chromium, driven by
 * playwright-core): `provisioning dev` runs a platform start, a server create and a test
 * environment; the workflow list shows them with their operation and targets, and each
 * workflow's User Metadata shows its summary, its plan and its current details. Screenshots go
 * to test-artifacts/web-ui/.
 */
import { existsSync } from 'node:fs';
import { cp, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ResultPromise } from 'execa';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dockerClient } from '../../src/docker/client.js';
import { freePort } from '../../src/util/net.js';
import { cli, scratchDir } from '../support/cli.js';
import { startDev, stopDev } from '../support/dev.js';
import { dockerAvailable } from '../support/docker.js';
import { testPlatform, type TestPlatform } from '../support/services.js';
import { uniqueId } from '../support/temporal.js';
import { envResources, exampleCatalog } from '../support/testenv.js';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) {
  if (process.env.CI === 'true') throw new Error(`CI=true but ${CHROMIUM} is missing: npm run setup installs Debian's chromium`);
  console.warn(`\n!!! SKIPPING THE WEB UI TEST: no ${CHROMIUM}; run npm run setup !!!\n`);
}
const artifacts = path.resolve(import.meta.dirname, '../../test-artifacts/web-ui');

let scratch: Awaited<ReturnType<typeof scratchDir>>;
let dev: { child: ResultPromise } | undefined;
let browser: Browser | undefined;
let platform: TestPlatform | undefined;
let port = 0;
let uiPort = 0;
const infra = uniqueId('uiinfra');

beforeAll(async () => {
  scratch = await scratchDir();
  [port, uiPort] = [await freePort(), await freePort()];
  dev = await startDev(path.join(scratch.dir, 'home'), port, uiPort);
  // The flags the machine's probe found needed: no sandbox as root, and no background networking on a closed network.
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
  await mkdir(artifacts, { recursive: true });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  if (platform) {
    await cli(['platform', 'stop', '--registry', path.join(platform.home, 'services.toml'), '--address', `127.0.0.1:${port}`, '--platform', 'webui'], { env: { PATH: process.env.PATH, PROVISIONING_HOME: platform.home } });
    await platform.cleanup();
  }
  const docker = dockerClient();
  for (const c of await docker.listContainers({ all: true, filters: { label: [`provisioning.infra=${infra}`] } })) await docker.getContainer(c.Id).remove({ force: true });
  for (const n of await docker.listNetworks({ filters: { label: [`provisioning.infra=${infra}`] } })) await docker.getNetwork(n.Id).remove();
  if (dev) await stopDev(dev.child);
  await scratch?.cleanup();
}, 120_000);

/**
 * Loads `url` and does `act` there. The UI is a single-page app rendered by a browser sharing
 * two cores with the rest of the suite: when the page has not rendered after a while, do what
 * a user does and load it again (three tries, a screenshot of each miss), rather than fail on
 * the first slow render.
 */
async function onPage(page: Page, url: string, shot: string, act: () => Promise<void>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await page.goto(url);
      await act();
      return;
    } catch (err) {
      await page.screenshot({ path: path.join(artifacts, `failed-${attempt}-${shot}`), fullPage: true });
      if (attempt === 3) throw err;
    }
  }
}

/** The text of a workflow's User Metadata tab (summary, details, current details), with a screenshot. */
async function userMetadata(page: Page, workflowId: string, shot: string): Promise<string> {
  // As a user gets there: from the list, by the workflow's link.
  await onPage(page, `http://127.0.0.1:${uiPort}/namespaces/default/workflows`, shot, async () => {
    await page.getByRole('link', { name: workflowId, exact: true }).first().click({ timeout: 30_000 });
    await page.getByText('User Metadata', { exact: true }).click({ timeout: 30_000 });
  });
  await page.getByText('Current Details', { exact: true }).waitFor();
  // The UI renders each Markdown field in a sandboxed frame of its own: read them all.
  const text = async () => (await Promise.all(page.frames().map((f) => f.locator('body').innerText().catch(() => '')))).join('\n');
  for (const deadline = Date.now() + 15_000; !(await text()).includes('Now:'); ) {
    if (Date.now() > deadline) throw new Error(`${workflowId}: no current details on its User Metadata tab`);
    await page.waitForTimeout(250);
  }
  await page.screenshot({ path: path.join(artifacts, shot), fullPage: true });
  return text();
}

describe.runIf(hasChromium && dockerAvailable)('the Web UI', () => {
  it('lists the runs with operation and targets, and shows each one\'s summary, plan and current details', async () => {
    const at = ['--address', `127.0.0.1:${port}`];
    platform = await testPlatform([{ name: 'db' }, { name: 'api', deps: ['db'] }]);
    await writeFile(path.join(platform.home, 'services.toml'), platform.toml);
    const started = await cli(['platform', 'start', 'api', '--registry', path.join(platform.home, 'services.toml'), '--platform', 'webui', ...at], { env: { PATH: process.env.PATH, PROVISIONING_HOME: platform.home } });
    expect(started.code, started.stderr).toBe(0);

    await cp(exampleCatalog, path.join(scratch.dir, 'taskservs'), { recursive: true });
    await writeFile(path.join(scratch.dir, `${infra}.yaml`), `infra: ${infra}\ncatalog: taskservs\nservers:\n  - hostname: web-01\n    taskservs: [webserver]\n`);
    const created = await cli(['server', 'create', '--settings', path.join(scratch.dir, `${infra}.yaml`), ...at], { env: { PATH: process.env.PATH, PROVISIONING_HOME: scratch.dir } });
    expect(created.code, created.stderr).toBe(0);

    const envId = uniqueId('ui');
    const quick = await cli(['test', 'quick', 'webserver', '--id', envId, ...at], { env: { PATH: process.env.PATH, PROVISIONING_HOME: scratch.dir } });
    expect(quick.code, quick.stderr).toBe(0);
    expect(await envResources(envId)).toEqual({ containers: [], networks: [] });

    const page = await browser!.newPage({ viewport: { width: 1400, height: 1000 } });
    // The list: this UI (2.54) has no summary column; our search attributes show what each run is.
    await onPage(page, `http://127.0.0.1:${uiPort}/namespaces/default/workflows`, 'workflow-list.png', async () => {
      await page.getByTestId('workflows-summary-table-configuration-button').click({ timeout: 30_000 });
      await page.getByTestId('orderable-list-item-ProvisioningTargets-add-button').or(page.getByTestId('orderable-list-item-ProvisioningTargets-remove-button')).first().waitFor({ timeout: 30_000 });
      // The columns chosen on an earlier try are kept by the UI: add what is not there yet.
      for (const column of ['ProvisioningOperation', 'ProvisioningTargets']) {
        const add = page.getByTestId(`orderable-list-item-${column}-add-button`);
        if (await add.count()) await add.click();
      }
      const removeRunId = page.getByTestId('orderable-list-item-Run ID-remove-button');
      if (await removeRunId.count()) await removeRunId.click();
      await page.getByTestId('drawer-close-button').click();
      await page.getByText(`server-create/${infra}`).first().waitFor({ timeout: 30_000 });
    });
    await page.screenshot({ path: path.join(artifacts, 'workflow-list.png'), fullPage: true });
    const list = await page.innerText('body');
    for (const text of ['platform/webui', `server-create/${infra}`, `testenv/${envId}`, 'platform-start', 'server-create', 'testenv-quick']) expect(list, text).toContain(text);

    const start = await userMetadata(page, 'platform/webui', 'platform-start.png');
    expect(start).toContain('start 2 services: db, api (platform webui)');
    expect(start).toContain('Plan: start 2 services in this order');
    expect(start).toMatch(/Now: done — 2[/⁄]2 done/); // the UI's Markdown typesets 2/2 with a fraction slash
    expect(start).toMatch(/api\tstarted\thealthy after/);
    expect(start).toContain('Critical chain:');

    const server = await userMetadata(page, `server-create/${infra}`, 'server-create.png');
    expect(server).toContain(`create 1 server of infra ${infra}: web-01`);
    expect(server).toContain('base → webserver');
    expect(server).toMatch(/Now: done/);

    const env = await userMetadata(page, `testenv/${envId}`, 'test-environment.png');
    expect(env).toContain('test env webserver (1 node, single taskserv)');
    expect(env).toContain('Plan: network');
    expect(env).toMatch(/Now: cleaned/);
    await page.close();
  }, 600_000);
});
