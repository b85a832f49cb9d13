import type { Candles, TimeRangeMs } from "./candles";
import type { CandleGap } from "./gaps";
import type { SeriesKey } from "./series-key";

/**
 * A hole between stored candles. "exchange": a sync asked the exchange for every missing candle
 * and it had none (an exchange gap, e.g. Binance's 2018-02-08 outage) — refetching is pointless;
 * "unfetched": at least part of it was never fetched (or only imported), so a sync fills it.
 */
export interface StoredGap extends CandleGap {
  kind: "exchange" | "unfetched";
}

/** What is stored for one series. */
export interface StoredSeriesInfo {
  key: SeriesKey;
  /** Open time of the first stored candle. */
  firstMs: number;
  /** Open time of the last stored candle. */
  lastMs: number;
  count: number;
  /** Holes between stored candles: the exchange's own gaps, or ranges never fetched (see kind). */
  gaps: StoredGap[];
  /** Bytes of the series' partitions and manifest in the backing storage. */
  sizeBytes: number;
}

export interface StoreReadOptions {
  /**
   * Allocates the result columns for `count` candles (all of them are overwritten). Lets a caller
   * that reads repeatedly (a parameter sweep) reuse buffers instead of faulting in fresh memory.
   * Default: fresh arrays.
   */
  allocate?: (count: number) => Candles;
}

export interface StoreWriteOptions {
  /**
   * Replace every stored candle whose open time lies in this range by `candles` (which must lie
   * inside it). Without it the write is an upsert: new candles win on equal timestamps, others
   * are kept.
   */
  overwriteRange?: TimeRangeMs;
  /**
   * Ranges the caller asked the exchange for and got no candle in (recorded in the series
   * metadata so later syncs do not refetch them). With overwriteRange, the confirmed-empty ranges
   * recorded inside it are replaced by these. Default none.
   */
  confirmedEmpty?: readonly TimeRangeMs[];
}

/** What a sync needs to know to plan: the stored candles and the confirmed-empty ranges. */
export interface SeriesCoverage {
  /** Undefined when no candle is stored. */
  info: StoredSeriesInfo | undefined;
  /** Sorted, disjoint ranges the exchange was asked for and had no candle in. */
  confirmedEmpty: TimeRangeMs[];
}

/** A series whose metadata cannot be read (listed instead of hidden). */
export interface CorruptSeries {
  key: SeriesKey;
  /** What is wrong, naming the file relative to the store. */
  message: string;
  /** The manifest or partition, relative to the store. */
  file: string;
}

export interface StoreWriteResult {
  /** Candles in the series after the write. */
  count: number;
  /** Candles of the input that replaced a stored candle with the same timestamp. */
  replaced: number;
}

export interface SeriesFilter {
  exchange?: string;
  symbol?: string;
  timeframe?: string;
}

/**
 * The time-series store (the spec's ArcticDB role, ARCHITECTURE.md §4.2). Writes are atomic per
 * call (a reader sees the whole write or none of it); one writer per series at a time, any
 * number of readers. A corrupt or truncated partition fails reads of that series with a
 * "data-loss" error naming the file; other series stay readable.
 */
export interface MarketDataStore {
  /** Candles with open time in [range.startMs, range.endMs), oldest first; all when no range. */
  read(key: SeriesKey, range?: Partial<TimeRangeMs>, options?: StoreReadOptions): Promise<Candles>;
  /** Upserts (or range-overwrites) candles; input is sorted and deduplicated by the store. */
  write(key: SeriesKey, candles: Candles, options?: StoreWriteOptions): Promise<StoreWriteResult>;
  /** Metadata of one series, undefined when nothing is stored. */
  info(key: SeriesKey): Promise<StoredSeriesInfo | undefined>;
  /** Stored candles and confirmed-empty ranges of one series (also when it holds no candle). */
  coverage(key: SeriesKey): Promise<SeriesCoverage>;
  /**
   * Metadata of every stored series matching the filter; series whose metadata is unreadable are
   * listed in `corrupt`, never silently left out.
   */
  list(filter?: SeriesFilter): Promise<{ series: StoredSeriesInfo[]; corrupt: CorruptSeries[] }>;
  /** Removes a series entirely. */
  delete(key: SeriesKey): Promise<void>;
}
