/**
 * Workflow ids: business keys, built here and nowhere else. An id is also the lock that
 * keeps two operations on the same thing from running at once.
 */

/** Start, stop and restart of one platform (its services on one machine). */
export function platformWorkflowId(platform: string): string {
  return `platform/${platform}`;
}

/** A service's supervisor: one per service and platform. */
export function supervisorId(platform: string, service: string): string {
  return `service/${platform}/${service}`;
}

/** One server's provisioning, the child of a server or cluster create. */
export function serverWorkflowId(infra: string, hostname: string): string {
  return `server/${infra}/${hostname}`;
}

/** A create or delete over an infra's servers. */
export function infraWorkflowId(operation: 'server-create' | 'cluster-create' | 'server-delete', infra: string): string {
  return `${operation}/${infra}`;
}

export function taskservCreateWorkflowId(infra: string, server: string, taskserv: string): string {
  return `taskserv-create/${infra}/${server}/${taskserv}`;
}

/** A test environment, for its whole life. */
export function testenvWorkflowId(id: string): string {
  return `testenv/${id}`;
}

/** The schedule that runs the test-environment reaper periodically. */
export const REAPER_SCHEDULE_ID = 'testenv-reaper';
