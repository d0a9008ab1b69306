/** Activities of service supervision: one health check, and ending a supervisor before a deliberate stop. */
import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { HealthCheckRecord } from '../workflows/supervisor-model.js';
import { driverFor } from './drivers/index.js';
import { probeHealth } from './health.js';
import type { ServiceInput } from './platform.js';
import { withHeartbeat } from './platform.js';

/** Is the service running, and does its health check pass? "Running" is enough for type none. */
export async function checkService({ service, home }: ServiceInput): Promise<HealthCheckRecord> {
  const at = Date.now();
  const status = await driverFor(service).status(service, { home });
  const known = {
    ...(status.pid !== undefined ? { pid: status.pid } : {}),
    ...(status.startedAt !== undefined ? { startedAt: status.startedAt } : {}),
  };
  if (!status.running && service.deployment.mode !== 'remote') {
    return { at, running: false, healthy: false, message: `not running (${status.detail})`, durationMs: Date.now() - at, ...known };
  }
  if (service.health_check.type === 'none') return { at, running: true, healthy: true, message: status.detail, durationMs: Date.now() - at, ...known };
  const probe = await probeHealth(service);
  return { at, running: true, healthy: probe.healthy, message: probe.message, durationMs: probe.durationMs, ...known };
}

/**
 * Tells a service's supervisor to stop supervising and waits until it has finished, so a
 * deliberate stop that follows is never "healed" by a restart.
 */
export async function endSupervisor({ workflowId }: { workflowId: string }): Promise<'ended' | 'not-supervised'> {
  const handle = Context.current().client.workflow.getHandle(workflowId);
  try {
    await handle.signal('stopSupervising');
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return 'not-supervised';
    throw err;
  }
  await withHeartbeat(() => handle.result().catch(() => undefined));
  return 'ended';
}
