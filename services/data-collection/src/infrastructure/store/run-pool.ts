/**
 * Runs `task` over `items` with at most `concurrency` in flight. After the first failure no new
 * item starts, and the returned promise settles only once every started task has settled, so no
 * download or file write is still running (and touching the cache or the bucket) when the caller
 * sees the error. Rejects with the first failure.
 */
export async function runPool<T>(
  items: readonly T[],
  concurrency: number,
  task: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (failure === undefined && next < items.length) {
      const item = items[next++] as T;
      try {
        await task(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, () => worker()));
  if (failure !== undefined) throw failure.error;
}
