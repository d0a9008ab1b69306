/**
 * The one activity bound per worker: `claimHost` runs as a local activity of the workflow
 * task and answers with the host of the worker that runs it, so a run that did not ask for a host gets the one that
 * picked it up — recorded in its history, so a replay or another worker keeps it.
 */
import type { HostClaim } from '../model/worker-defaults.js';

export function hostActivities(host: string) {
  return {
    claimHost(): Promise<HostClaim> {
      return Promise.resolve({ host });
    },
  };
}

export type HostActivities = ReturnType<typeof hostActivities>;
