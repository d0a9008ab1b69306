/**
 * Using the client API from a program: start a registry's services as a workflow, follow its
 * progress, tell the typed errors apart, and stop them again. The README shows this file.
 *
 *   npx tsx examples/api/start-platform.ts examples/platform/services.toml
 *
 * From an installed package, import from 'provisioning/api' instead of the relative path.
 */
import { BusyError, connectClient, connectSettings, errorKind, FailedError, loadRegistry, startPlatform, stopPlatform, type ApiContext } from '../../src/api/index.js';

export async function startAndStop(registryFile: string, options: { address?: string; taskQueue?: string; platform?: string; home: string; log?: (line: string) => void }): Promise<boolean> {
  const log = options.log ?? console.log;
  const registry = await loadRegistry(registryFile); // bad input: a ConfigError naming file, key path and fix
  const client = await connectClient(connectSettings(options.address ? { address: options.address } : {}));
  const ctx: ApiContext = { client, ...(options.taskQueue ? { taskQueue: options.taskQueue } : {}), webUi: 'http://localhost:8233' };
  const input = { registry, home: options.home, ...(options.platform ? { platform: options.platform } : {}) };
  try {
    const run = await startPlatform(ctx, input);
    log(`started ${run.workflowId} (run ${run.runId}): ${run.webUi}`);
    for await (const progress of run.progress({ intervalMs: 500 })) {
      log(progress.services.map((s) => `${s.name}=${s.state}`).join(' '));
    }
    const result = await run.result();
    log(`up: ${result.services.map((s) => s.name).join(', ')}`);
    await (await stopPlatform(ctx, input)).result();
    log('stopped');
    return true;
  } catch (err) {
    if (err instanceof BusyError) log(`busy: ${err.holder.workflowId} is running ${err.holder.type} (${err.holder.webUi ?? 'no UI'})`);
    else if (err instanceof FailedError) log(`failed: ${err.failing ?? '?'}: ${err.message}`);
    else log(`${errorKind(err) ?? 'error'}: ${(err as Error).message}`);
    return false;
  } finally {
    await client.connection.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = process.argv[2] ?? 'examples/platform/services.toml';
  process.exitCode = (await startAndStop(file, { home: `${process.env.HOME}/.provisioning` })) ? 0 : 1;
}
