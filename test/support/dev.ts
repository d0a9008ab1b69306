/** `provisioning dev` as a real process, for tests that need its Web UI or its whole lifecycle. */
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { watchOutput } from '../../src/util/process.js';

const root = path.resolve(import.meta.dirname, '../..');

export async function startDev(home: string, port: number, uiPort: number, env: Record<string, string> = {}, extra: string[] = []): Promise<{ child: ResultPromise; output: () => string }> {
  const child = execa('node', [path.join(root, 'bin/provisioning.js'), 'dev', '--port', String(port), '--ui-port', String(uiPort), ...extra], {
    env: { PROVISIONING_FROM_SOURCE: '1', PROVISIONING_HOME: home, ...env },
    reject: false,
    all: true,
  });
  const watched = watchOutput(child);
  await watched.until('Press Ctrl-C to stop.', 'provisioning dev', 120_000);
  return { child, output: watched.output };
}

export async function stopDev(child: ResultPromise): Promise<number | undefined> {
  child.kill('SIGINT');
  const result = await child;
  return result.exitCode;
}
