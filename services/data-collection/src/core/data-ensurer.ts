import { systemClock, type Clock } from "./clock";
import type { MarketDataStore, StoredSeriesInfo } from "./market-data-store";
import type { OhlcvSynchronizer } from "./ohlcv-synchronizer";
import { validateRangeRequest } from "./ohlcv-synchronizer";
import { seriesKeyToString, type SeriesKey } from "./series-key";
import type { TimeframeGrid } from "./timeframe";

export interface EnsureDataRequest {
  exchange: string;
  symbols: readonly string[];
  timeframe: string;
  startMs: number;
  /** Exclusive end; undefined means up to the last closed candle. */
  endMs?: number;
  /** Candles needed before startMs for indicator warm-up. Default 0. */
  startupCandles?: number;
}

export interface EnsureDataResult {
  /** Per requested symbol, in order; undefined when the exchange has no candle in the range. */
  series: { key: SeriesKey; info: StoredSeriesInfo | undefined }[];
  /** Candles fetched from the exchange by this call (0 when it only waited for another caller). */
  candlesFetched: number;
}

export interface DataEnsurerOptions {
  store: MarketDataStore;
  synchronizer: OhlcvSynchronizer;
  /** Default: the system clock. */
  clock?: Clock;
}

export interface DataEnsurer {
  ensure(request: EnsureDataRequest, signal?: AbortSignal): Promise<EnsureDataResult>;
}

interface InFlight {
  startMs: number;
  endMs: number;
  promise: Promise<number>;
}

/**
 * EnsureData with single-flight per series: a caller that finds a fetch for the same series in
 * progress waits for it and reuses its result when it covers the requested range, so concurrent
 * backtests needing the same data trigger one download.
 */
export function createDataEnsurer(options: DataEnsurerOptions): DataEnsurer {
  const clock = options.clock ?? systemClock;
  const inFlight = new Map<string, InFlight>();

  async function isCovered(
    key: SeriesKey,
    startMs: number,
    endMs: number,
    grid: TimeframeGrid,
  ): Promise<boolean> {
    const info = await options.store.info(key);
    return info !== undefined && info.firstMs <= startMs && info.lastMs >= grid.add(endMs, -1);
  }

  async function fetchSeries(
    key: SeriesKey,
    startMs: number,
    endMs: number,
    grid: TimeframeGrid,
    signal?: AbortSignal,
  ): Promise<number> {
    if (await isCovered(key, startMs, endMs, grid)) return 0;
    let fetched = 0;
    const request = {
      exchange: key.exchange,
      symbols: [key.symbol],
      timeframe: key.timeframe,
      startMs,
      endMs,
    };
    for await (const event of options.synchronizer.sync(request, signal)) {
      if (event.phase === "done") fetched = event.candlesFetched;
    }
    return fetched;
  }

  async function ensureSeries(
    key: SeriesKey,
    startMs: number,
    endMs: number,
    grid: TimeframeGrid,
    signal?: AbortSignal,
  ): Promise<number> {
    const id = seriesKeyToString(key);
    // Bounded: each pass either returns or waits for a fetch that finished.
    for (let attempt = 0; attempt < 8; attempt++) {
      const running = inFlight.get(id);
      if (running !== undefined) {
        // Errors of the shared fetch are the caller's errors too when it covered this range.
        const covers = running.startMs <= startMs && running.endMs >= endMs;
        if (covers) {
          await running.promise;
          return 0;
        }
        await running.promise.catch(() => undefined);
        continue;
      }
      // No await between the lookup and the registration: concurrent callers see this entry.
      const promise = fetchSeries(key, startMs, endMs, grid, signal);
      const entry: InFlight = { startMs, endMs, promise };
      inFlight.set(id, entry);
      try {
        return await promise;
      } finally {
        if (inFlight.get(id) === entry) inFlight.delete(id);
      }
    }
    return fetchSeries(key, startMs, endMs, grid, signal);
  }

  async function ensure(request: EnsureDataRequest, signal?: AbortSignal): Promise<EnsureDataResult> {
    const grid = validateRangeRequest(request);
    const startupCandles = Math.max(0, Math.trunc(request.startupCandles ?? 0));
    const startMs = Math.max(0, grid.add(grid.ceil(request.startMs), -startupCandles));
    const closedEnd = grid.floor(clock.nowMs());
    const endMs = Math.min(request.endMs === undefined ? closedEnd : grid.ceil(request.endMs), closedEnd);
    const keys = request.symbols.map((symbol) => ({
      exchange: request.exchange,
      symbol,
      timeframe: request.timeframe,
    }));
    const fetched = await Promise.all(
      keys.map((key) =>
        startMs < endMs ? ensureSeries(key, startMs, endMs, grid, signal) : Promise.resolve(0),
      ),
    );
    const series = await Promise.all(keys.map(async (key) => ({ key, info: await options.store.info(key) })));
    return { series, candlesFetched: fetched.reduce((sum, value) => sum + value, 0) };
  }

  return { ensure };
}
