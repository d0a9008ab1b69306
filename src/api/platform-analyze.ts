/**
 * Why was the start slow? The critical chain of a finished platform start (or restart), read
 * from its history: the registry from its input, each service's spawn and healthy times from
 * its result, the start time from the run. Works for any past run the server still keeps; the
 * workflow shows the same chain in its Web UI details (both use graph/critical-chain.ts).
 */
import { WorkflowNotFoundError, type WorkflowHandle } from '@temporalio/client';
import { tsToDate } from '@temporalio/common/lib/time.js';
import { registryNodes } from '../config/registry-nodes.js';
import { criticalChain, type CriticalChain } from '../graph/critical-chain.js';
import { platformWorkflowId } from '../model/ids.js';
import { startTimings, type PlatformInput, type PlatformResult } from '../model/platform.js';
import { webUiLink, type ApiContext } from './context.js';
import { NotFoundError } from './errors.js';

const START_TYPES = ['platformStart', 'platformRestart'];
const RUN_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface StartAnalysis {
  workflowId: string;
  runId: string;
  type: string;
  startTime: string;
  /** Services the run started itself (those already running are not on any chain). */
  started: number;
  chain: CriticalChain;
  webUi?: string;
}

/** A finished start's run: `ref` is a workflow id or a run id; without one, the platform's newest completed start. */
async function findRun(ctx: ApiContext, ref: string | undefined, platform: string): Promise<{ workflowId: string; runId: string; type: string }> {
  const workflowId = ref && !RUN_ID.test(ref) ? ref : platformWorkflowId(platform);
  if (!ref || !RUN_ID.test(ref)) {
    // The newest run of the id, read directly (visibility may lag a run that just closed).
    try {
      const d = await ctx.client.workflow.getHandle(workflowId).describe();
      if (START_TYPES.includes(d.type) && d.status.name === 'COMPLETED') return { workflowId, runId: d.runId, type: d.type };
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
    }
  }
  const scope = ref && RUN_ID.test(ref) ? `RunId = "${ref}"` : `WorkflowId = "${workflowId.replaceAll('"', '')}"`;
  const query = `${scope} AND WorkflowType IN (${START_TYPES.map((t) => `"${t}"`).join(', ')}) AND ExecutionStatus = "Completed"`;
  for await (const w of ctx.client.workflow.list({ query })) return { workflowId: w.workflowId, runId: w.runId, type: w.type };
  throw new NotFoundError(
    ref ? `no finished platform start or restart ${RUN_ID.test(ref) ? 'has run id' : 'has workflow id'} ${ref}` : `platform "${platform}" has no finished start or restart`,
    'give the workflow id or run id of a completed start (provisioning workflow list --operation platform-start --status completed)',
  );
}

export async function analyzeStart(ctx: ApiContext, ref?: string, platform = 'default'): Promise<StartAnalysis> {
  const run = await findRun(ctx, ref, platform);
  const handle: WorkflowHandle = ctx.client.workflow.getHandle(run.workflowId, run.runId);
  const { events } = await handle.fetchHistory();
  const first = events?.[0];
  const payload = first?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
  if (!payload || !first?.eventTime) throw new Error(`run ${run.runId} of ${run.workflowId} has no input in its history`);
  // The started event's time: what the workflow's own chain (workflowInfo().startTime) counts from.
  const startedAt = tsToDate(first.eventTime);
  const converter = ctx.client.options.loadedDataConverter.payloadConverter;
  const input = converter.fromPayload<PlatformInput>(payload);
  const result = (await handle.result()) as PlatformResult;
  const timings = startTimings(result.services);
  const link = webUiLink(ctx, run.workflowId, run.runId);
  return {
    workflowId: run.workflowId,
    runId: run.runId,
    type: run.type,
    startTime: startedAt.toISOString(),
    started: Object.keys(timings).length,
    chain: criticalChain(registryNodes(input.registry), timings, startedAt.getTime()),
    ...(link ? { webUi: link } : {}),
  };
}
