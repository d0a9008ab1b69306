/**
 * A quick test: create a single-taskserv environment, run its tests, remove it. Whatever goes
 * wrong, and when the caller aborts, the environment goes: quick never leaves one behind.
 */
import type { EnvironmentPlan } from '../../config/testenv-schema.js';
import { cleanupSignal, runUpdate, type EnvState, type RunResult } from '../../model/testenv.js';
import type { ApiContext } from '../context.js';
import { rootMessage } from '../errors.js';
import { createEnvironment, followEnvironment, setUpDone, type Environment } from './environments.js';

export interface QuickResult {
  id: string;
  workflowId: string;
  passed: boolean;
  /** The run, when the environment got as far as running tests. */
  run?: RunResult;
  /** Why there was no run or it did not pass: set-up failed, the run failed, or the caller aborted. */
  error?: string;
  removed?: { containers: number; networks: number };
  /** The environment was kept (keep, and no error). */
  kept: boolean;
}

export interface QuickRun extends Environment {
  /** The environment's state at each change until its set-up is over. */
  progress(): AsyncGenerator<EnvState>;
  result(): Promise<QuickResult>;
}

/** Starts the environment; result() runs the tests and removes it (unless `keep`). Aborting `signal` cancels it. */
export async function quickTest(ctx: ApiContext, plan: EnvironmentPlan, { keep = false, signal, host }: { keep?: boolean; signal?: AbortSignal; host?: string } = {}): Promise<QuickRun> {
  const env = await createEnvironment(ctx, plan, 'testenv-quick', host !== undefined ? { host } : {});
  const cancel = () => void env.handle.cancel().catch(() => undefined);
  if (signal?.aborted) cancel(); // the abort came while the start was on its way
  else signal?.addEventListener('abort', cancel, { once: true });
  return {
    ...env,
    progress: () => followEnvironment(env, setUpDone),
    async result() {
      let run: RunResult | undefined;
      let error: string | undefined;
      try {
        run = await env.handle.executeUpdate(runUpdate, { args: [{}] });
      } catch (err) {
        error = rootMessage(err);
        await env.handle.signal(cleanupSignal).catch(() => undefined);
      }
      let final: EnvState | undefined;
      if (!keep || error) {
        try {
          final = (await env.handle.result()) as EnvState;
        } catch (err) {
          error = signal?.aborted ? 'interrupted: the environment was cancelled and removed' : rootMessage(err);
        }
      }
      signal?.removeEventListener('abort', cancel);
      return {
        id: env.id,
        workflowId: env.workflowId,
        passed: Boolean(run?.passed) && !error,
        ...(run ? { run } : {}),
        ...(error ? { error } : {}),
        ...(final?.removed ? { removed: final.removed } : {}),
        kept: keep && !error,
      };
    },
  };
}
