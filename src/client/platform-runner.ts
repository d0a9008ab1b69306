/**
 * Submits a platform workflow under its business key (platform/<name>), so two operations
 * on one platform never run at once, and follows it: live progress on a terminal, plain
 * lines otherwise, the result (or JSON) at the end.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { WorkflowExecutionAlreadyStartedError, WorkflowFailedError } from '@temporalio/client';
import { TypedSearchAttributes } from '@temporalio/common';
import { OPERATION, TARGETS } from '../model/search-attributes.js';
import { isUnknownSearchAttribute, registerCommand } from '../temporal/search-attributes.js';
import type { Registry } from '../config/registry-schema.js';
import type { platformRestart, platformStart, platformStop } from '../workflows/platform.js';
import { platformWorkflowId } from '../model/ids.js';
import { progressQuery, type PlatformOperation, type PlatformProgress, type PlatformResult } from '../model/platform.js';
import { printJson, type Io } from './io.js';
import { progressLine, renderProgress, renderResult } from './render/platform.js';
import { connect, webUiLink, type TemporalOptions } from './temporal-options.js';

const WORKFLOW_TYPE = { start: 'platformStart', stop: 'platformStop', restart: 'platformRestart' } as const;
type PlatformWorkflow = typeof platformStart | typeof platformStop | typeof platformRestart;

export interface PlatformRun {
  operation: PlatformOperation;
  platform: string;
  registry: Registry;
  services: string[];
  force: boolean;
  graceSeconds?: number;
  home: string;
  wait: boolean;
  json: boolean;
  temporal: TemporalOptions;
}

export async function runPlatformOperation(io: Io, run: PlatformRun): Promise<PlatformResult | undefined> {
  const { client, settings, close } = await connect(io, run.temporal);
  try {
    const workflowId = platformWorkflowId(run.platform);
    let handle;
    try {
      handle = await client.workflow.start<PlatformWorkflow>(WORKFLOW_TYPE[run.operation], {
        taskQueue: run.temporal.taskQueue,
        workflowId,
        workflowIdConflictPolicy: 'FAIL',
        workflowIdReusePolicy: 'ALLOW_DUPLICATE',
        typedSearchAttributes: new TypedSearchAttributes([
          { key: OPERATION, value: `platform-${run.operation}` },
          { key: TARGETS, value: run.services.length > 0 ? run.services : ['*'] },
        ]),
        args: [{ registry: run.registry, services: run.services, force: run.force, home: run.home, platform: run.platform, ...(run.graceSeconds !== undefined ? { graceSeconds: run.graceSeconds } : {}) }],
      });
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) {
        const busy = await client.workflow.getHandle(workflowId).describe();
        const link = webUiLink(io.env, settings, workflowId, busy.runId);
        throw new Error(
          `platform "${run.platform}" is busy: ${busy.type} (workflow ${workflowId}, run ${busy.runId}) started ${busy.startTime.toISOString()} and is still running. Wait for it to finish${link ? `: ${link}` : ''}.`,
        );
      }
      if (isUnknownSearchAttribute(err)) {
        throw new Error(`the Temporal namespace ${settings.namespace} does not know this project's search attributes. Start a worker with "provisioning worker" (it registers them), or run: ${registerCommand(settings.namespace)}`);
      }
      throw err;
    }
    const link = webUiLink(io.env, settings, workflowId, handle.firstExecutionRunId);
    const intro = `Workflow ${workflowId} (run ${handle.firstExecutionRunId})${link ? `\nWeb UI: ${link}` : ''}`;
    if (!run.wait) {
      if (run.json) printJson(io, { workflowId, runId: handle.firstExecutionRunId, ...(link ? { webUi: link } : {}) });
      else io.out(`${intro}\nSubmitted; not waiting (--no-wait).`);
      return undefined;
    }
    (run.json ? io.err : io.out)(intro);

    const result = handle.result();
    let finished = false;
    void result.then(
      () => (finished = true),
      () => (finished = true),
    );
    const view = run.json ? undefined : io.isTTY ? new LiveView(io) : new LineView(io);
    while (!finished) {
      try {
        view?.update(await handle.query(progressQuery));
      } catch {
        // Not yet picked up by a worker; keep waiting.
      }
      await Promise.race([sleep(250), result.catch(() => undefined)]);
    }
    let outcome: PlatformResult;
    try {
      outcome = await result;
    } catch (err) {
      if (err instanceof WorkflowFailedError) throw new Error(`${WORKFLOW_TYPE[run.operation]} failed: ${err.cause?.message ?? err.message}`);
      throw err;
    }
    view?.finish();
    if (run.json) printJson(io, { workflowId, runId: handle.firstExecutionRunId, ...outcome });
    else io.out(renderResult(outcome));
    if (!outcome.ok) io.exitCode = 1;
    return outcome;
  } finally {
    await close();
  }
}

/** Redraws the per-service block in place on a terminal. */
class LiveView {
  private drawn = 0;
  constructor(private readonly io: Io) {}

  update(progress: PlatformProgress): void {
    const lines = renderProgress(progress);
    const up = this.drawn > 0 ? `\x1b[${this.drawn}A` : '';
    this.io.out(up + lines.map((l) => `\r${l}\x1b[K`).join('\n'));
    this.drawn = lines.length;
  }

  finish(): void {
    if (this.drawn > 0) this.io.out(`\x1b[${this.drawn}A\x1b[J`.trimEnd());
  }
}

/** Prints a timestamped line each time a service changes state. */
class LineView {
  private readonly seen = new Map<string, string>();
  constructor(private readonly io: Io) {}

  update(progress: PlatformProgress): void {
    for (const s of progress.services) {
      const line = progressLine(s);
      if (this.seen.get(s.name) === line) continue;
      this.seen.set(s.name, line);
      this.io.out(`${new Date().toISOString().slice(11, 19)} ${line}`);
    }
  }

  finish(): void {}
}
