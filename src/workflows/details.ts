/**
 * Keeps a workflow's current details (the Web UI's "current details" of the run) equal to a
 * rendering of its state: `render` runs once per activation (or only when `version` changed) — a condition that never resolves
 * is evaluated after every activation's jobs — and the details change only when it does. No
 * command is recorded, so histories and replays are unaffected; one place, not every mutation.
 */
import { CancellationScope, condition, setCurrentDetails } from '@temporalio/workflow';

export function keepCurrentDetails(render: () => string, version?: () => string | number): void {
  let last: string | undefined;
  let seen: string | number | undefined;
  // Not cancellable: a cancelled run goes on cleaning up, and its details with it.
  void CancellationScope.nonCancellable(() =>
    condition(() => {
      // With a version, render only when it moved (a large platform's table is not rebuilt for nothing).
      if (version) {
        const v = version();
        if (v === seen) return false;
        seen = v;
      }
      const next = render();
      if (next !== last) {
        last = next;
        setCurrentDetails(next);
      }
      return false;
    }),
  );
}
