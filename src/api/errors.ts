/**
 * The typed errors of the client API. Front ends map them: bad input and not found to exit
 * code 2 / HTTP 400 and 404, busy to 1 / 409, failed to 1 / 500. Bad input is the config
 * layer's ConfigError (a file) or UsageError (a name or a value); both carry the fix.
 */
import { ConfigError, UsageError } from '../config/errors.js';

export { ConfigError, UsageError };

export type ApiErrorKind = 'bad-input' | 'not-found' | 'busy' | 'failed' | 'unavailable';

/** Something named does not exist: a workflow, an environment, a supervisor. */
export class NotFoundError extends UsageError {
  readonly kind = 'not-found';

  constructor(message: string, fix?: string) {
    super(message, fix);
    this.name = 'NotFoundError';
  }
}

/** The run that holds a business key (a platform, an infra) while another operation asks for it. */
export interface Holder {
  workflowId: string;
  runId: string;
  type: string;
  startTime: string;
  webUi?: string;
}

/** Another run holds what this call needs; it names that run. */
export class BusyError extends Error {
  readonly kind = 'busy';
  readonly exitCode = 1;

  constructor(
    readonly subject: string,
    readonly holder: Holder,
  ) {
    super(
      `${subject} is busy: ${holder.type} (workflow ${holder.workflowId}, run ${holder.runId}) started ${holder.startTime} and is still running. Wait for it to finish${holder.webUi ? `: ${holder.webUi}` : ''}.`,
    );
    this.name = 'BusyError';
  }
}

/**
 * A workflow failed, or finished with a result that says it did not succeed. `failing` is the
 * first service, server, node or test that failed (the message starts with it); `result` is
 * the full result when the workflow returned one, for a front end to show everything.
 */
export class FailedError<R = unknown> extends Error {
  readonly kind = 'failed';
  readonly exitCode = 1;

  constructor(
    message: string,
    readonly workflowId: string,
    readonly failing?: string,
    readonly result?: R,
  ) {
    super(message);
    this.name = 'FailedError';
  }
}

/** Nothing can act on the request now: no worker polls the task queue it needs. */
export class UnavailableError extends Error {
  readonly kind = 'unavailable';
  readonly exitCode = 1;

  constructor(
    message: string,
    readonly fix: string,
  ) {
    super(`${message}; ${fix}`);
    this.name = 'UnavailableError';
  }
}

export function errorKind(err: unknown): ApiErrorKind | undefined {
  if (err instanceof NotFoundError) return 'not-found';
  if (err instanceof ConfigError || err instanceof UsageError) return 'bad-input';
  if (err instanceof BusyError) return 'busy';
  if (err instanceof FailedError) return 'failed';
  if (err instanceof UnavailableError) return 'unavailable';
  return undefined;
}

/**
 * A result, or the full result a FailedError carries (`ok: false`): for front ends that show a
 * failed run's result rather than an error. Other errors pass through.
 */
export async function settled<R>(work: Promise<R>): Promise<{ value: R; ok: boolean }> {
  try {
    return { value: await work, ok: true };
  } catch (err) {
    if (!(err instanceof FailedError) || err.result === undefined) throw err;
    return { value: err.result as R, ok: false };
  }
}

/** The innermost message of a chain of causes (Temporal wraps an activity's error twice). */
export function rootMessage(err: unknown): string {
  let e: unknown = err;
  while (e && typeof e === 'object' && 'cause' in e && (e as { cause?: unknown }).cause) e = (e as { cause?: unknown }).cause;
  return e instanceof Error ? e.message : String(e);
}
