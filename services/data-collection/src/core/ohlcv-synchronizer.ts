import {
  candleCount,
  candlesInRange,
  concatCandles,
  normalizeCandles,
  type Candles,
  type TimeRangeMs,
} from "./candles";
import { systemClock, type Clock } from "./clock";
import { gapSlots, missingRanges } from "./coverage";
import { canceled, invalidArgument } from "./errors";
import type { ExchangeClientProvider } from "./exchange-client";
import type { MarketDataStore, StoredGap } from "./market-data-store";
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
  /**
   * Gaps in the stored series inside the requested range (set on "done"); after a successful
   * sync they are the exchange's own gaps (kind "exchange").
   */
  gaps: StoredGap[];
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

/**
 * "incremental": missing candles, written every flushEvery candles (an interrupted sync resumes
 * from what was written: what it did not reach stays "never fetched", not an exchange gap);
 * "overwrite": full refresh, the whole range replaced in one write.
 */
type SegmentMode = "incremental" | "overwrite";

interface Segment extends TimeRangeMs {
  mode: SegmentMode;
}

interface SymbolPlan {
  key: SeriesKey;
  segments: Segment[];
  expected: number;
  /**
   * The exchange lists the market as inactive (delisted, or trading halted): it publishes no new
   * candle, so the closed slots after the last one it returns are confirmed empty.
   */
  inactive: boolean;
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

/**
 * Empty slots of [fromMs, toMs) around the page's candles `inRange` (sorted, on the grid). Only
 * called up to a candle the exchange did return: slots after its last candle may simply not be
 * published yet, so they are not confirmed empty — unless the market is inactive (see
 * SymbolPlan.inactive).
 */
function skippedSlots(inRange: Candles, fromMs: number, toMs: number, grid: TimeframeGrid): TimeRangeMs[] {
  const result: TimeRangeMs[] = [];
  let cursor = fromMs;
  for (const time of inRange.timestamps) {
    if (time >= toMs) break;
    if (time > cursor) result.push({ startMs: cursor, endMs: time });
    cursor = Math.max(cursor, grid.add(time, 1));
  }
  if (cursor < toMs) result.push({ startMs: cursor, endMs: toMs });
  return result;
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
    inactive: boolean,
  ): Promise<SymbolPlan> {
    const segments: Segment[] = [];
    if (range.startMs < range.endMs) {
      if (fullRefresh) segments.push({ ...range, mode: "overwrite" });
      else {
        // Everything of the range that holds no stored candle and was not confirmed empty by an
        // earlier sync: before, after and between stored candles (holes left by syncs of
        // separate ranges, or by imports).
        const { info, confirmedEmpty } = await store.coverage(key);
        for (const missing of missingRanges(info, confirmedEmpty, range, grid))
          segments.push({ ...missing, mode: "incremental" });
      }
    }
    let expected = 0;
    for (const segment of segments) expected += grid.stepsBetween(segment.startMs, segment.endMs);
    return { key, segments, expected, inactive };
  }

  async function* sync(
    request: SyncRequest,
    signal?: AbortSignal,
  ): AsyncGenerator<SyncProgress, void, undefined> {
    const grid = validateRangeRequest(request);
    const client = options.exchanges.get(request.exchange);
    for (const symbol of request.symbols) await client.validateSeries(symbol, request.timeframe);
    // Validation loaded the markets: this is the cached snapshot.
    const markets = await client.loadMarkets();
    const inactive = new Set(
      markets.markets.filter((market) => !market.active).map((market) => market.symbol),
    );

    // The exchange's clock decides which candle is still open: a host clock running ahead would
    // otherwise take the open candle for a closed one and store it.
    const nowMs = await client.serverTimeMs();
    // Candles opening before floor(now) are closed; the one opening at floor(now) is still open.
    const closedEnd = grid.floor(nowMs);
    const startMs = grid.ceil(request.startMs);
    const endMs = Math.min(request.endMs === undefined ? closedEnd : grid.ceil(request.endMs), closedEnd);
    const range = { startMs, endMs: Math.max(startMs, endMs) };

    const plans: SymbolPlan[] = [];
    for (const symbol of request.symbols) {
      const key = { exchange: request.exchange, symbol, timeframe: request.timeframe };
      plans.push(await planSymbol(key, range, grid, request.fullRefresh === true, inactive.has(symbol)));
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
      gaps: StoredGap[] = [],
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
        // Slots the exchange skipped although it returned a later candle: confirmed empty.
        let pendingEmpty: TimeRangeMs[] = [];
        let since = segment.startMs;
        const maxPages = grid.stepsBetween(segment.startMs, segment.endMs) + 2;
        for (let page = 0; since < segment.endMs && page < maxPages; page++) {
          if (signal?.aborted === true) throw canceled("sync cancelled by the caller", signal.reason);
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
          if (lastReturned !== undefined)
            pendingEmpty.push(...skippedSlots(inRange, since, Math.min(lastReturned, segment.endMs), grid));
          else if (plan.inactive) pendingEmpty.push({ startMs: since, endMs: segment.endMs });
          const next =
            lastReturned === undefined
              ? segment.endMs
              : Math.max(grid.add(lastReturned, 1), grid.add(since, 1));
          covered += grid.stepsBetween(since, Math.min(next, segment.endMs));
          since = lastReturned === undefined ? segment.endMs : next;
          if (segment.mode === "incremental" && pendingCount >= flushEvery) {
            yield progress(symbol, "writing", fetched, plan.expected, covered);
            await store.write(plan.key, concatCandles(pending.splice(0)), { confirmedEmpty: pendingEmpty });
            pendingCount = 0;
            pendingEmpty = [];
          }
          yield progress(symbol, "fetching", fetched, plan.expected, covered);
        }
        if (pendingCount > 0 || pendingEmpty.length > 0 || segment.mode === "overwrite") {
          yield progress(symbol, "writing", fetched, plan.expected, covered);
          await store.write(plan.key, concatCandles(pending.splice(0)), {
            confirmedEmpty: pendingEmpty,
            ...(segment.mode === "overwrite"
              ? { overwriteRange: { startMs: segment.startMs, endMs: segment.endMs } }
              : {}),
          });
        }
      }
      const info = await store.info(plan.key);
      const gaps = (info?.gaps ?? []).filter((gap) => {
        const slots = gapSlots(gap, grid);
        return slots.endMs > range.startMs && slots.startMs < range.endMs;
      });
      coveredBefore += plan.expected;
      yield progress(symbol, "done", fetched, plan.expected, plan.expected, gaps);
    }
  }

  return { sync };
}
