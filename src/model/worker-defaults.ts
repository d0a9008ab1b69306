/** Worker settings the front ends name in their flags; pure, so they load nothing else. */
export const DEFAULT_TASK_QUEUE = 'provisioning';

export const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'] as const;

export type WorkerLogLevel = (typeof LOG_LEVELS)[number];
