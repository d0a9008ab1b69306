/** One driver per deployment mode, behind one interface: start, stop, status, logs. */
import type { ServiceDefinition } from '../../config/registry-schema.js';
import type { RuntimeStatus } from '../../model/platform.js';

export type { RuntimeStatus } from '../../model/platform.js';

export interface DriverContext {
  /** The project home whose services/ folder holds PID, state and log files. */
  home: string;
}

export interface StartOutcome {
  alreadyRunning: boolean;
  pid?: number;
  containerId?: string;
  /** Epoch milliseconds when the process or container was started (or found running). */
  startedAt: number;
}

export interface StopOutcome {
  wasRunning: boolean;
  /** How it ended: "SIGTERM", "SIGKILL after 10 s", "docker stop", "not running". */
  how: string;
}

export interface ServiceDriver {
  status(service: ServiceDefinition, ctx: DriverContext): Promise<RuntimeStatus>;
  start(service: ServiceDefinition, ctx: DriverContext): Promise<StartOutcome>;
  stop(service: ServiceDefinition, ctx: DriverContext, options: { graceSeconds: number }): Promise<StopOutcome>;
  logs(service: ServiceDefinition, ctx: DriverContext, lines: number): Promise<string[]>;
  /** Extra readiness before health probes (kubernetes rollout status); optional. */
  waitReady?(service: ServiceDefinition, ctx: DriverContext, timeoutSeconds: number): Promise<void>;
}

/** A problem that retrying cannot fix (missing binary, missing image): the workflow fails the service at once. */
export class ServiceConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ServiceConfigError';
  }
}
