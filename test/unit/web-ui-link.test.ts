import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webUiLink } from '../../src/client/temporal-options.js';
import { devStateFile, writeDevState } from '../../src/temporal/dev-state.js';
import { scratchDir } from '../support/cli.js';

describe('Web UI links', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => ({ dir, cleanup } = await scratchDir()));
  afterAll(() => cleanup());

  const settings = (address: string) => ({ address, namespace: 'default', connectionOptions: { address } });

  it('use the UI address that provisioning dev started for that frontend, not the port + 1000', async () => {
    const env = { PROVISIONING_HOME: path.join(dir, 'live') };
    await mkdir(path.dirname(devStateFile(env)), { recursive: true });
    await writeDevState(env, { address: '127.0.0.1:7300', namespace: 'default', uiUrl: 'http://127.0.0.1:8300', pid: process.pid });
    expect(webUiLink(env, settings('localhost:7300'), 'platform/default', 'r1')).toBe('http://127.0.0.1:8300/namespaces/default/workflows/platform%2Fdefault/r1');
    expect(webUiLink(env, settings('127.0.0.1:7301'), 'platform/default')).toBeUndefined();
  });

  it('print no link when the UI is unknown: no dev state, a headless dev, or a dev that is gone', async () => {
    expect(webUiLink({ PROVISIONING_HOME: path.join(dir, 'none') }, settings('127.0.0.1:7233'), 'x')).toBeUndefined();
    const headless = { PROVISIONING_HOME: path.join(dir, 'headless') };
    await mkdir(path.dirname(devStateFile(headless)), { recursive: true });
    await writeDevState(headless, { address: '127.0.0.1:7233', namespace: 'default', pid: process.pid });
    expect(webUiLink(headless, settings('127.0.0.1:7233'), 'x')).toBeUndefined();
    const gone = { PROVISIONING_HOME: path.join(dir, 'gone') };
    await mkdir(path.dirname(devStateFile(gone)), { recursive: true });
    await writeDevState(gone, { address: '127.0.0.1:7233', namespace: 'default', uiUrl: 'http://127.0.0.1:8233', pid: 2 ** 22 + 7 });
    expect(webUiLink(gone, settings('127.0.0.1:7233'), 'x')).toBeUndefined();
  });

  it('take $TEMPORAL_UI_URL first, for a UI that runs elsewhere', () => {
    const env = { PROVISIONING_HOME: path.join(dir, 'none'), TEMPORAL_UI_URL: 'https://temporal.example.test/' };
    expect(webUiLink(env, settings('temporal.internal:7233'), 'testenv/a1')).toBe('https://temporal.example.test/namespaces/default/workflows/testenv%2Fa1');
  });
});
