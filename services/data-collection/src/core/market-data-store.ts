import type { Candles, TimeRangeMs } from "./candles";
import type { CandleGap } from "./gaps";
import type { SeriesKey } from "./series-key";

/** What is stored for one series. */
export interface StoredSeriesInfo {
  key: SeriesKey;
  /** Open time of the first stored candle. */
  firstMs: number;
  /** Open time of the last stored candle. */
  lastMs: number;
  count: number;
  /** Holes between stored candles (the exchange's own gaps, or ranges never synced). */
  gaps: CandleGap[];
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
  /** Metadata of every stored series matching the filter. */
  list(filter?: SeriesFilter): Promise<StoredSeriesInfo[]>;
  /** Removes a series entirely. */
  delete(key: SeriesKey): Promise<void>;
}
