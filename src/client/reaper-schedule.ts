/** The Temporal schedule that runs the test-environment reaper periodically. */
import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client } from '@temporalio/client';

export const REAPER_SCHEDULE_ID = 'testenv-reaper';

/** Creates the schedule, or updates its interval and task queue when it exists. */
export async function ensureReaperSchedule(client: Client, taskQueue: string, everySeconds: number): Promise<'created' | 'updated'> {
  const spec = { intervals: [{ every: `${everySeconds}s` as const }] };
  const action = { type: 'startWorkflow' as const, workflowType: 'reapTestEnvironmentsWorkflow', workflowId: 'testenv-reaper/scheduled', taskQueue, args: [] };
  try {
    await client.schedule.create({ scheduleId: REAPER_SCHEDULE_ID, spec, action, policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 minute' } });
    return 'created';
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    await client.schedule.getHandle(REAPER_SCHEDULE_ID).update((previous) => ({ ...previous, spec, action }));
    return 'updated';
  }
}
