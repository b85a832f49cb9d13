import { systemClock, type Clock } from "./clock";
import { missingRanges } from "./coverage";
import { canceled } from "./errors";
import type { ExchangeClientProvider } from "./exchange-client";
import type { ExchangeTime } from "./exchange-time";
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
  exchanges: ExchangeClientProvider;
  /** The exchanges' clocks, which decide the last closed candle of a range running up to now. */
  exchangeTime: ExchangeTime;
  /** The host's clock. Default: the system clock. */
  clock?: Clock;
}

/**
 * A requested end this far behind the host's clock is closed on any exchange whose clock is not
 * off by more: the exchange is not asked for its time (historical backtests need no exchange
 * access when their data is stored).
 */
const CLOSED_BY_HOST_CLOCK_MARGIN_MS = 3_600_000;

export interface DataEnsurer {
  ensure(request: EnsureDataRequest, signal?: AbortSignal): Promise<EnsureDataResult>;
}

interface InFlight {
  startMs: number;
  endMs: number;
  promise: Promise<number>;
  /** Aborts the shared fetch; fired only once every caller waiting on it has left. */
  controller: AbortController;
  /** Callers waiting on it, in arrival order (the first one still waiting gets the count). */
  waiters: Set<object>;
  settled: boolean;
  /** The waiter credited with the fetched candles: the first one still waiting when it finished. */
  recipient?: object;
}

/**
 * Resolves once `promise` has settled (either way); rejects with CANCELED as soon as `signal`
 * aborts, without waiting for it.
 */
function settledUnlessCanceled(promise: Promise<unknown>, signal: AbortSignal | undefined): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => reject(canceled("EnsureData cancelled by the caller", signal?.reason));
    if (signal?.aborted === true) {
      onAbort();
      return;
    }
    signal?.addEventListener("abort", onAbort, { once: true });
    const done = (): void => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    };
    promise.then(done, done);
  });
}

/**
 * EnsureData with single-flight per series: a caller that finds a fetch for the same series in
 * progress waits for it and reuses its result when it covers the requested range, so concurrent
 * backtests needing the same data trigger one download. The shared fetch runs under its own
 * AbortSignal: a caller cancelling rejects only that caller (CANCELED), and the fetch stops only
 * once no caller waits for it any more.
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
    const { info, confirmedEmpty } = await options.store.coverage(key);
    return missingRanges(info, confirmedEmpty, { startMs, endMs }, grid).length === 0;
  }

  async function fetchSeries(
    key: SeriesKey,
    startMs: number,
    endMs: number,
    grid: TimeframeGrid,
    signal: AbortSignal,
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

  /** Waits for a shared fetch on behalf of one caller; the caller's signal rejects only it. */
  function wait(id: string, entry: InFlight, signal: AbortSignal | undefined): Promise<number> {
    const waiter = {};
    return new Promise<number>((resolve, reject) => {
      const leave = (): void => {
        entry.waiters.delete(waiter);
        signal?.removeEventListener("abort", onAbort);
      };
      const onAbort = (): void => {
        leave();
        reject(canceled("EnsureData cancelled by the caller", signal?.reason));
        if (entry.waiters.size === 0 && !entry.settled) {
          // Nobody waits any more: stop the download, and let the next caller start afresh.
          if (inFlight.get(id) === entry) inFlight.delete(id);
          entry.controller.abort();
        }
      };
      if (signal?.aborted === true) {
        reject(canceled("EnsureData cancelled by the caller", signal.reason));
        return;
      }
      entry.waiters.add(waiter);
      signal?.addEventListener("abort", onAbort, { once: true });
      entry.promise.then(
        (fetched) => {
          if (!entry.waiters.has(waiter)) return;
          leave();
          resolve(entry.recipient === waiter ? fetched : 0);
        },
        (error: unknown) => {
          if (!entry.waiters.has(waiter)) return;
          leave();
          reject(error);
        },
      );
    });
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
      if (signal?.aborted === true) throw canceled("EnsureData cancelled by the caller", signal.reason);
      const running = inFlight.get(id);
      if (running !== undefined) {
        // Errors of the shared fetch are the caller's errors too when it covered this range.
        const covers = running.startMs <= startMs && running.endMs >= endMs;
        if (covers) return wait(id, running, signal);
        // Wait for it to end, then fetch what is still missing; cancelling leaves at once.
        await settledUnlessCanceled(running.promise, signal);
        continue;
      }
      // No await between the lookup and the registration: concurrent callers see this entry.
      const controller = new AbortController();
      const entry: InFlight = {
        startMs,
        endMs,
        controller,
        waiters: new Set(),
        settled: false,
        promise: fetchSeries(key, startMs, endMs, grid, controller.signal),
      };
      inFlight.set(id, entry);
      const release = (): void => {
        entry.settled = true;
        entry.recipient = entry.waiters.values().next().value;
        if (inFlight.get(id) === entry) inFlight.delete(id);
      };
      entry.promise.then(release, release);
      return wait(id, entry, signal);
    }
    const controller = new AbortController();
    const abort = (): void => controller.abort();
    signal?.addEventListener("abort", abort, { once: true });
    try {
      return await fetchSeries(key, startMs, endMs, grid, controller.signal);
    } finally {
      signal?.removeEventListener("abort", abort);
    }
  }

  async function ensure(request: EnsureDataRequest, signal?: AbortSignal): Promise<EnsureDataResult> {
    const grid = validateRangeRequest(request);
    const startupCandles = Math.max(0, Math.trunc(request.startupCandles ?? 0));
    const startMs = Math.max(0, grid.add(grid.ceil(request.startMs), -startupCandles));
    const requestedEnd = request.endMs === undefined ? undefined : grid.ceil(request.endMs);
    let endMs: number;
    if (requestedEnd !== undefined && requestedEnd <= clock.nowMs() - CLOSED_BY_HOST_CLOCK_MARGIN_MS) {
      endMs = requestedEnd;
    } else {
      // The exchange's clock decides which candle is still open (a host clock running ahead would
      // take the open candle's slot, and the ones after it, for missing on every call).
      const closedEnd = grid.floor(await options.exchangeTime.nowMs(options.exchanges.get(request.exchange)));
      endMs = Math.min(requestedEnd ?? closedEnd, closedEnd);
    }
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
