// Exchange markets (precision, limits, fees) kept on disk, so a backtest on a laptop without
// exchange access still gets the exchange's fees and rounding — the last snapshot this host fetched —
// instead of none. ListMarkets answers live when the exchange answers in time, else from the stored
// snapshot (its fetched_at says how old it is); every new live snapshot replaces the stored one.
import { isDataCollectionError } from "./errors";
import type { MarketsSnapshot } from "./exchange-client";

export interface MarketsSnapshotStore {
  /** The stored snapshot of `exchange`, undefined when there is none (or it cannot be read). */
  load(exchange: string): Promise<MarketsSnapshot | undefined>;
  save(snapshot: MarketsSnapshot): Promise<void>;
}

export interface StoredMarketsOptions {
  store: MarketsSnapshotStore;
  /** With a stored snapshot, how long a live load may take before the stored one answers (ms). */
  liveTimeoutMs: number;
  /** Failures of background saves (logged by the caller). */
  onSaveError?: (error: unknown) => void;
}

/**
 * Wraps a live markets loader: live first; the stored snapshot when the exchange is unavailable or
 * slower than `liveTimeoutMs` (the live load then finishes in the background and is stored).
 * Errors other than "unavailable" (an unknown exchange, a bad argument) are never masked.
 */
export type StoredMarkets = (
  exchange: string,
  loadLive: () => Promise<MarketsSnapshot>,
) => Promise<MarketsSnapshot>;

export function createStoredMarkets(options: StoredMarketsOptions): StoredMarkets {
  const savedAt = new Map<string, number>();
  const stored = new Map<string, Promise<MarketsSnapshot | undefined>>();
  const loadStored = (exchange: string) => {
    let loading = stored.get(exchange);
    if (loading === undefined) {
      loading = options.store.load(exchange).catch(() => undefined);
      stored.set(exchange, loading);
    }
    return loading;
  };
  const remember = (snapshot: MarketsSnapshot) => {
    if (savedAt.get(snapshot.exchange) === snapshot.fetchedAtMs) return;
    savedAt.set(snapshot.exchange, snapshot.fetchedAtMs);
    stored.set(snapshot.exchange, Promise.resolve(snapshot));
    options.store.save(snapshot).catch((error: unknown) => options.onSaveError?.(error));
  };

  return async function marketsOf(
    exchange: string,
    loadLive: () => Promise<MarketsSnapshot>,
  ): Promise<MarketsSnapshot> {
    const live = loadLive().then((snapshot) => {
      remember(snapshot);
      return snapshot;
    });
    // Observed at once: with a stored snapshot a live failure is answered from it (or finishes in the
    // background); without one, the caller gets `live` itself and sees its rejection.
    live.catch(() => undefined);
    const fallback = await loadStored(exchange);
    if (fallback === undefined) return live;
    let timer: NodeJS.Timeout | undefined;
    const slow = new Promise<"slow">((resolve) => {
      timer = setTimeout(() => resolve("slow"), options.liveTimeoutMs);
      timer.unref();
    });
    try {
      const first = await Promise.race([live, slow]);
      return first === "slow" ? fallback : first;
    } catch (error) {
      if (isDataCollectionError(error) && error.kind === "unavailable") return fallback;
      throw error;
    } finally {
      clearTimeout(timer);
    }
  };
}
