/**
 * Gathering calls into batches inside a workflow. The calls made while the workflow runs
 * one activation (the stops that a finished batch made ready, say) go out together, one
 * activity per `size` items, once the activation's code has settled — instead of one
 * activity, one round trip and a few history events per item.
 */
import { condition, isCancellation } from '@temporalio/workflow';

interface Waiting<T, R> {
  item: T;
  resolve: (result: R) => void;
  reject: (err: unknown) => void;
}

/**
 * Returns a function that queues one item and resolves with its result from `run`. `run`
 * is called with up to `size` items and resolves with one result per item, in order.
 *
 * Why it batches by activation: the gathering loop waits on a `condition`, which the SDK
 * evaluates only after the activation's jobs and the microtasks they set off have run, so
 * every item queued in between is there when it looks. Create it before the first call
 * (its condition must be waiting, not evaluated eagerly on a full queue). A cancel of the
 * workflow rejects whatever is still queued, and every call after it.
 */
export function batcher<T, R>(size: number, run: (items: T[]) => Promise<R[]>): (item: T) => Promise<R> {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`batch size must be a positive integer, not ${size}`);
  const queue: Array<Waiting<T, R>> = [];
  /** Set when the gathering loop ended (a cancel): later calls are rejected with it at once, never left waiting. */
  let closed: { err: Error } | undefined;
  const send = (batch: Array<Waiting<T, R>>) =>
    run(batch.map((w) => w.item)).then(
      (results) => batch.forEach((w, i) => w.resolve(results[i]!)),
      (err: unknown) => batch.forEach((w) => w.reject(err)),
    );
  void (async () => {
    try {
      for (;;) {
        await condition(() => queue.length > 0);
        const taken = queue.splice(0);
        for (let i = 0; i < taken.length; i += size) void send(taken.slice(i, i + size));
      }
    } catch (err) {
      // Only a cancel ends the wait; anything else would be a bug in the SDK's condition.
      closed = { err: err instanceof Error ? err : new Error(String(err)) };
      for (const w of queue.splice(0)) w.reject(err);
      if (!isCancellation(err)) throw err;
    }
  })();
  return (item) =>
    new Promise<R>((resolve, reject) => {
      // A batch that completes in the activation that brings the cancel makes its dependents
      // ready after the loop has ended: they get the cancel too.
      if (closed) reject(closed.err);
      else queue.push({ item, resolve, reject });
    });
}
