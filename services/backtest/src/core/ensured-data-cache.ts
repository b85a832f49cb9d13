// Remembers, for a short time, which candle ranges data collection has confirmed, so a burst of
// submissions over the same data (a parameter sweep, a team re-running one strategy) asks it once.
// Only closed ranges are remembered: a range with an open end means "up to now", which moves.
import type { MarketData } from "./backtest-service";

export interface EnsuredDataCacheOptions {
  /** How long a confirmed range is trusted, in ms; 0 disables the cache. */
  ttlMs: number;
  /** Clock (tests). */
  now?: () => number;
  /** Bound on remembered series; the oldest entries go first. Default 10 000. */
  maxEntries?: number;
}

interface Confirmed {
  startMs: number;
  endMs: number;
  startupCandles: number;
  expiresAt: number;
}

/** Wraps a MarketData port: a request inside a range confirmed within `ttlMs` returns at once. */
export function createEnsuredDataCache(inner: MarketData, options: EnsuredDataCacheOptions): MarketData {
  if (options.ttlMs <= 0) return inner;
  const now = options.now ?? Date.now;
  const maxEntries = options.maxEntries ?? 10_000;
  const confirmed = new Map<string, Confirmed>();
  const keyOf = (exchange: string, pair: string, timeframe: string) =>
    `${exchange}\u0000${pair}\u0000${timeframe}`;

  return {
    unlistedPairs: (exchange, pairs) => inner.unlistedPairs(exchange, pairs),
    async ensure(request) {
      const { startMs, endMs } = request.range;
      if (startMs === undefined || endMs === undefined) return inner.ensure(request);
      const at = now();
      const covered = request.pairs.every((pair) => {
        const entry = confirmed.get(keyOf(request.exchange, pair, request.timeframe));
        return (
          entry !== undefined &&
          entry.expiresAt > at &&
          entry.startMs <= startMs &&
          entry.endMs >= endMs &&
          // Startup candles reach back before the start: a later start with at most as many is inside.
          entry.startupCandles >= request.startupCandles
        );
      });
      if (covered) return;
      await inner.ensure(request);
      const expiresAt = now() + options.ttlMs;
      for (const pair of request.pairs) {
        const key = keyOf(request.exchange, pair, request.timeframe);
        confirmed.delete(key);
        confirmed.set(key, { startMs, endMs, startupCandles: request.startupCandles, expiresAt });
      }
      while (confirmed.size > maxEntries) {
        const oldest = confirmed.keys().next().value;
        if (oldest === undefined) break;
        confirmed.delete(oldest);
      }
    },
  };
}
