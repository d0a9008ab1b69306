/** Bounded concurrency, pure: usable from workflows and activities alike. */

/** Runs `fn` over `items`, at most `limit` at a time, in order of the list. */
export async function inPool<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]!);
  });
  await Promise.all(lanes);
}
