/**
 * Runs a platform operation through the client API and follows it: live progress on a
 * terminal, plain lines otherwise, the result (or JSON) at the end.
 */
import { outcomeOf } from './outcome.js';
import { operatePlatform, type PlatformOperationInput } from '../api/platform.js';
import type { PlatformOperation, PlatformProgress, PlatformResult } from '../model/platform.js';
import { printJson, type Io } from './io.js';
import { progressLine, renderProgress, renderResult } from './render/platform.js';
import { apiContext, connect, type TemporalOptions } from './temporal-options.js';

export interface PlatformRun extends PlatformOperationInput {
  operation: PlatformOperation;
  wait: boolean;
  json: boolean;
  temporal: TemporalOptions;
}

export async function runPlatformOperation(io: Io, run: PlatformRun): Promise<PlatformResult | undefined> {
  const connected = await connect(io, run.temporal);
  try {
    const started = await operatePlatform(apiContext(io, connected, run.temporal), run.operation, run);
    const { workflowId, runId, webUi } = started;
    const intro = `Workflow ${workflowId} (run ${runId})${webUi ? `\nWeb UI: ${webUi}` : ''}`;
    if (!run.wait) {
      if (run.json) printJson(io, { workflowId, runId, ...(webUi ? { webUi } : {}) });
      else io.out(`${intro}\nSubmitted; not waiting (--no-wait).`);
      return undefined;
    }
    (run.json ? io.err : io.out)(intro);
    const view = run.json ? undefined : io.isTTY ? new LiveView(io) : new LineView(io);
    if (view) for await (const progress of started.progress()) view.update(progress);
    const outcome = await outcomeOf(io, started.result());
    view?.finish();
    if (run.json) printJson(io, { workflowId, runId, ...outcome });
    else io.out(renderResult(outcome));
    return outcome;
  } finally {
    await connected.close();
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
