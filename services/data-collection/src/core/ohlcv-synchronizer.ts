import {
  candleCount,
  candlesInRange,
  concatCandles,
  normalizeCandles,
  type Candles,
  type TimeRangeMs,
} from "./candles";
import { systemClock, type Clock } from "./clock";
import { DataCollectionError, invalidArgument } from "./errors";
import type { ExchangeClientProvider } from "./exchange-client";
import type { CandleGap } from "./gaps";
import type { MarketDataStore } from "./market-data-store";
import { validateExchangeId, validateSymbol, type SeriesKey } from "./series-key";
import { timeframeGrid, type TimeframeGrid } from "./timeframe";

export interface SyncRequest {
  exchange: string;
  symbols: readonly string[];
  timeframe: string;
  startMs: number;
  /** Exclusive end; undefined means up to the last closed candle. */
  endMs?: number;
  /** Re-download and overwrite the whole range instead of resuming from the last stored candle. */
  fullRefresh?: boolean;
}

export type SyncPhaseKind = "validating" | "fetching" | "writing" | "done";

export interface SyncProgress {
  symbol: string;
  phase: SyncPhaseKind;
  /** Candles fetched for this symbol so far. */
  candlesFetched: number;
  /** Candles this symbol's missing range can hold at most (gaps make the real count lower). */
  candlesExpected: number;
  /** 0..100 for the whole request. */
  percent: number;
  /** Seconds left for the whole request; -1 when unknown. */
  etaSeconds: number;
  /** Gaps in the stored series inside the requested range (set on "done"). */
  gaps: CandleGap[];
}

export interface OhlcvSynchronizerOptions {
  store: MarketDataStore;
  exchanges: ExchangeClientProvider;
  /** Default: the system clock. */
  clock?: Clock;
  /**
   * Incremental downloads are written to the store every this many candles, so an interrupted
   * sync resumes from the last write. Default 50 000.
   */
  flushEvery?: number;
}

export interface OhlcvSynchronizer {
  /**
   * Downloads what the store is missing for each symbol (or the whole range with fullRefresh),
   * yielding progress. Validates every symbol and the timeframe against the exchange before
   * downloading anything.
   */
  sync(request: SyncRequest, signal?: AbortSignal): AsyncGenerator<SyncProgress, void, undefined>;
}

type SegmentMode = "incremental" | "buffered" | "overwrite";

interface Segment extends TimeRangeMs {
  mode: SegmentMode;
}

interface SymbolPlan {
  key: SeriesKey;
  segments: Segment[];
  expected: number;
}

/** Checks a sync-like request's shape; returns the timeframe's grid. */
export function validateRangeRequest(request: {
  exchange: string;
  symbols: readonly string[];
  timeframe: string;
  startMs: number;
  endMs?: number;
}): TimeframeGrid {
  validateExchangeId(request.exchange, "exchange");
  if (request.symbols.length === 0)
    throw invalidArgument("symbols", "expected at least one symbol, got none");
  request.symbols.forEach((symbol, index) => validateSymbol(symbol, `symbols[${index}]`));
  const grid = timeframeGrid(request.timeframe, "timeframe");
  if (!Number.isFinite(request.startMs) || request.startMs < 0) {
    throw invalidArgument("range.start", `expected a time at or after 1970-01-01, got ${request.startMs}`);
  }
  if (request.endMs !== undefined && !(request.endMs > request.startMs)) {
    throw invalidArgument(
      "range.end",
      `expected an end after the start (${new Date(request.startMs).toISOString()}), got ${Number.isFinite(request.endMs) ? new Date(request.endMs).toISOString() : request.endMs}`,
    );
  }
  return grid;
}

export function createOhlcvSynchronizer(options: OhlcvSynchronizerOptions): OhlcvSynchronizer {
  const clock = options.clock ?? systemClock;
  const flushEvery = options.flushEvery ?? 50_000;
  const store = options.store;

  async function planSymbol(
    key: SeriesKey,
    range: TimeRangeMs,
    grid: TimeframeGrid,
    fullRefresh: boolean,
  ): Promise<SymbolPlan> {
    const segments: Segment[] = [];
    if (range.startMs < range.endMs) {
      const info = fullRefresh ? undefined : await store.info(key);
      if (fullRefresh) segments.push({ ...range, mode: "overwrite" });
      else if (info === undefined) segments.push({ ...range, mode: "incremental" });
      else {
        // Older candles are written only once their whole segment is downloaded: a partial head
        // would leave a hole that later incremental syncs take for an exchange gap.
        const headEnd = Math.min(info.firstMs, range.endMs);
        if (range.startMs < headEnd)
          segments.push({ startMs: range.startMs, endMs: headEnd, mode: "buffered" });
        const tailStart = Math.max(range.startMs, grid.add(info.lastMs, 1));
        if (tailStart < range.endMs)
          segments.push({ startMs: tailStart, endMs: range.endMs, mode: "incremental" });
      }
    }
    let expected = 0;
    for (const segment of segments) expected += grid.stepsBetween(segment.startMs, segment.endMs);
    return { key, segments, expected };
  }

  async function* sync(
    request: SyncRequest,
    signal?: AbortSignal,
  ): AsyncGenerator<SyncProgress, void, undefined> {
    const grid = validateRangeRequest(request);
    const client = options.exchanges.get(request.exchange);
    for (const symbol of request.symbols) await client.validateSeries(symbol, request.timeframe);

    const nowMs = clock.nowMs();
    // Candles opening before floor(now) are closed; the one opening at floor(now) is still open.
    const closedEnd = grid.floor(nowMs);
    const startMs = grid.ceil(request.startMs);
    const endMs = Math.min(request.endMs === undefined ? closedEnd : grid.ceil(request.endMs), closedEnd);
    const range = { startMs, endMs: Math.max(startMs, endMs) };

    const plans: SymbolPlan[] = [];
    for (const symbol of request.symbols) {
      const key = { exchange: request.exchange, symbol, timeframe: request.timeframe };
      plans.push(await planSymbol(key, range, grid, request.fullRefresh === true));
    }
    const totalExpected = plans.reduce((sum, plan) => sum + plan.expected, 0);
    let coveredBefore = 0;
    const startedAt = clock.nowMs();

    const progress = (
      symbol: string,
      phase: SyncPhaseKind,
      fetched: number,
      expected: number,
      covered: number,
      gaps: CandleGap[] = [],
    ): SyncProgress => {
      const done = coveredBefore + Math.min(covered, expected);
      const fraction = totalExpected === 0 ? 1 : Math.min(1, done / totalExpected);
      const elapsedSeconds = (clock.nowMs() - startedAt) / 1000;
      const etaSeconds =
        fraction >= 1
          ? 0
          : fraction > 0 && elapsedSeconds > 0
            ? (elapsedSeconds * (1 - fraction)) / fraction
            : -1;
      return {
        symbol,
        phase,
        candlesFetched: fetched,
        candlesExpected: expected,
        percent: fraction * 100,
        etaSeconds,
        gaps,
      };
    };

    for (const plan of plans) yield progress(plan.key.symbol, "validating", 0, plan.expected, 0);

    for (const plan of plans) {
      const symbol = plan.key.symbol;
      let fetched = 0;
      let covered = 0;
      for (const segment of plan.segments) {
        const pending: Candles[] = [];
        let pendingCount = 0;
        let since = segment.startMs;
        const maxPages = grid.stepsBetween(segment.startMs, segment.endMs) + 2;
        for (let page = 0; since < segment.endMs && page < maxPages; page++) {
          if (signal?.aborted === true)
            throw signal.reason ?? new DataCollectionError("aborted", "sync cancelled");
          const limit = Math.max(
            1,
            Math.min(client.maxCandlesPerRequest, grid.stepsBetween(since, segment.endMs)),
          );
          const pageCandles = normalizeCandles(
            await client.fetchOhlcv(symbol, request.timeframe, since, limit),
          ).candles;
          const inRange = candlesInRange(pageCandles, since, segment.endMs);
          const received = candleCount(inRange);
          if (received > 0) {
            pending.push(inRange);
            pendingCount += received;
            fetched += received;
          }
          const lastReturned = pageCandles.timestamps[candleCount(pageCandles) - 1];
          const next =
            lastReturned === undefined
              ? segment.endMs
              : Math.max(grid.add(lastReturned, 1), grid.add(since, 1));
          covered += grid.stepsBetween(since, Math.min(next, segment.endMs));
          since = lastReturned === undefined ? segment.endMs : next;
          if (segment.mode === "incremental" && pendingCount >= flushEvery) {
            yield progress(symbol, "writing", fetched, plan.expected, covered);
            await store.write(plan.key, concatCandles(pending.splice(0)));
            pendingCount = 0;
          }
          yield progress(symbol, "fetching", fetched, plan.expected, covered);
        }
        if (pendingCount > 0 || segment.mode === "overwrite") {
          yield progress(symbol, "writing", fetched, plan.expected, covered);
          await store.write(
            plan.key,
            concatCandles(pending.splice(0)),
            segment.mode === "overwrite"
              ? { overwriteRange: { startMs: segment.startMs, endMs: segment.endMs } }
              : undefined,
          );
        }
      }
      const info = await store.info(plan.key);
      const gaps = (info?.gaps ?? []).filter(
        (gap) => gap.beforeMs > range.startMs && gap.afterMs < range.endMs,
      );
      coveredBefore += plan.expected;
      yield progress(symbol, "done", fetched, plan.expected, plan.expected, gaps);
    }
  }

  return { sync };
}
