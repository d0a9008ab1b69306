/** The test-environment reaper: run once, or as a Temporal schedule that runs it periodically. */
import { randomBytes } from 'node:crypto';
import { ScheduleAlreadyRunning, ScheduleOverlapPolicy } from '@temporalio/client';
import { REAPER_SCHEDULE_ID } from '../../model/ids.js';
import type { ReapResult } from '../../model/testenv.js';
import { taskQueueOf, type ApiContext } from '../context.js';
import { resultOf, submit, type WorkflowName } from '../run.js';

export { REAPER_SCHEDULE_ID };

/** Creates the schedule, or updates its interval and task queue when it exists. */
export async function ensureReaperSchedule(ctx: ApiContext, everySeconds: number): Promise<'created' | 'updated'> {
  const spec = { intervals: [{ every: `${everySeconds}s` as const }] };
  const action = { type: 'startWorkflow' as const, workflowType: 'reapTestEnvironmentsWorkflow' satisfies WorkflowName, workflowId: 'testenv-reaper/scheduled', taskQueue: taskQueueOf(ctx), args: [] };
  try {
    await ctx.client.schedule.create({ scheduleId: REAPER_SCHEDULE_ID, spec, action, policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 minute' } });
    return 'created';
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    await ctx.client.schedule.getHandle(REAPER_SCHEDULE_ID).update((previous) => ({ ...previous, spec, action }));
    return 'updated';
  }
}

/** Runs the reaper once: removes what environments whose workflow is closed left behind. */
export async function reapEnvironments(ctx: ApiContext, label = 'manual'): Promise<ReapResult> {
  const workflowId = `testenv-reaper/${label}-${randomBytes(3).toString('hex')}`;
  const handle = await submit(ctx, { workflowType: 'reapTestEnvironmentsWorkflow', workflowId, args: [], operation: 'testenv-reap', subject: 'the reaper' });
  return resultOf<ReapResult>(handle, 'reapTestEnvironmentsWorkflow');
}
