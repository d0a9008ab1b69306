/** The message a person needs from a workflow-side failure: an activity's own error, not its wrapper. */
import { ActivityFailure } from '@temporalio/workflow';

export function failureMessage(err: unknown): string {
  let e: unknown = err;
  while (e instanceof ActivityFailure && e.cause) e = e.cause;
  return e instanceof Error ? e.message : String(e);
}
