import {
  candleCount,
  normalizeCandles,
  sliceCandles,
  validateCandleValues,
  type Candles,
  type TimeRangeMs,
} from "./candles";
import { systemClock, type Clock } from "./clock";
import { dataFileName, type DataFileCodec, type DataFileFormat } from "./data-file-codec";
import { createDataEnsurer, type EnsureDataRequest, type EnsureDataResult } from "./data-ensurer";
import { DataCollectionError, invalidArgument, notFound } from "./errors";
import type { ExchangeClientProvider, MarketsSnapshot } from "./exchange-client";
import { evaluateFreshness, type FreshnessResult } from "./freshness";
import type { MarketDataStore, SeriesFilter, StoredSeriesInfo } from "./market-data-store";
import { createOhlcvSynchronizer, type SyncProgress, type SyncRequest } from "./ohlcv-synchronizer";
import type { StoredMarkets } from "./markets-snapshot-store";
import { validateSeriesKey, type SeriesKey } from "./series-key";
import { timeframeGrid } from "./timeframe";

export interface DataCollectionServiceOptions {
  store: MarketDataStore;
  exchanges: ExchangeClientProvider;
  codec: DataFileCodec;
  /** Default: the system clock. */
  clock?: Clock;
  /** See OhlcvSynchronizerOptions.flushEvery (default 50 000). */
  flushEvery?: number;
  /** Stored markets snapshots: ListMarkets answers from them when the exchange cannot. */
  storedMarkets?: StoredMarkets;
}

export interface SeriesFreshnessResult extends FreshnessResult {
  key: SeriesKey;
  lastCandleMs: number | undefined;
}

export interface ImportResult {
  info: StoredSeriesInfo;
  candlesImported: number;
  duplicatesMerged: number;
}

export interface ExportResult {
  content: Uint8Array;
  fileName: string;
  candlesExported: number;
}

/** Default and maximum batch size of readOhlcv. */
export const DEFAULT_READ_BATCH_SIZE = 100_000;
export const MAX_READ_BATCH_SIZE = 1_000_000;

/** The data-collection use cases, transport-free (api/ translates them to RPCs). */
export interface DataCollectionService {
  syncOhlcv(request: SyncRequest, signal?: AbortSignal): AsyncGenerator<SyncProgress, void, undefined>;
  /** Stored candles of a range in batches, oldest first; not-found when nothing is stored. */
  readOhlcv(
    key: SeriesKey,
    range: Partial<TimeRangeMs>,
    batchSize?: number,
  ): AsyncGenerator<Candles, void, undefined>;
  ensureData(request: EnsureDataRequest, signal?: AbortSignal): Promise<EnsureDataResult>;
  /** Freshness of the given series, or of every stored series when `keys` is empty. */
  checkFreshness(
    keys: readonly SeriesKey[],
    maxAgePeriods?: number,
  ): Promise<{ series: SeriesFreshnessResult[]; checkedAtMs: number }>;
  getMetadata(filter?: SeriesFilter): Promise<StoredSeriesInfo[]>;
  listMarkets(exchange: string, quote?: string): Promise<MarketsSnapshot>;
  importData(key: SeriesKey, format: DataFileFormat, content: Uint8Array): Promise<ImportResult>;
  exportData(key: SeriesKey, range: Partial<TimeRangeMs>, format: DataFileFormat): Promise<ExportResult>;
}

export function createDataCollectionService(options: DataCollectionServiceOptions): DataCollectionService {
  const clock = options.clock ?? systemClock;
  const { store, exchanges, codec } = options;
  const synchronizer = createOhlcvSynchronizer({ store, exchanges, clock, flushEvery: options.flushEvery });
  const ensurer = createDataEnsurer({ store, synchronizer, clock });

  function validateRange(range: Partial<TimeRangeMs>): void {
    if (range.startMs !== undefined && range.endMs !== undefined && !(range.endMs > range.startMs)) {
      throw invalidArgument(
        "range.end",
        `expected an end after the start (${new Date(range.startMs).toISOString()}), got ${new Date(range.endMs).toISOString()}`,
      );
    }
  }

  /**
   * Every stored series matching the filter; a series whose metadata is corrupt fails the call
   * with DATA_LOSS naming it (and every other corrupt one) instead of vanishing from the answer.
   */
  async function listReadable(filter?: SeriesFilter): Promise<StoredSeriesInfo[]> {
    const { series, corrupt } = await store.list(filter);
    const first = corrupt[0];
    if (first === undefined) return series;
    const names = corrupt.map(
      (entry) => `${entry.key.exchange} ${entry.key.symbol} ${entry.key.timeframe} (${entry.message})`,
    );
    throw new DataCollectionError(
      "data-loss",
      `${corrupt.length} stored series ${corrupt.length === 1 ? "is" : "are"} corrupt: ${names.join("; ")}. ` +
        `The other ${series.length} series are intact (filter by symbol to list them). To repair one, ` +
        "delete its manifest and partitions and sync it again",
      { field: first.file },
    );
  }

  async function readExisting(key: SeriesKey, range: Partial<TimeRangeMs>): Promise<Candles> {
    validateSeriesKey(key);
    validateRange(range);
    const info = await store.info(key);
    if (info === undefined) {
      throw notFound("series", `no candles stored for ${key.exchange} ${key.symbol} ${key.timeframe}`);
    }
    return store.read(key, range);
  }

  return {
    syncOhlcv: (request, signal) => synchronizer.sync(request, signal),

    async *readOhlcv(key, range, batchSize) {
      const size = batchSize === undefined || batchSize <= 0 ? DEFAULT_READ_BATCH_SIZE : batchSize;
      if (size > MAX_READ_BATCH_SIZE)
        throw invalidArgument("batch_size", `expected at most ${MAX_READ_BATCH_SIZE}, got ${size}`);
      const candles = await readExisting(key, range);
      const count = candleCount(candles);
      for (let start = 0; start < count; start += size)
        yield sliceCandles(candles, start, Math.min(count, start + size));
    },

    ensureData: (request, signal) => ensurer.ensure(request, signal),

    async checkFreshness(keys, maxAgePeriods) {
      const nowMs = clock.nowMs();
      const targets: { key: SeriesKey; info: StoredSeriesInfo | undefined }[] = [];
      if (keys.length === 0) {
        for (const info of await listReadable()) targets.push({ key: info.key, info });
      } else {
        for (const [index, key] of keys.entries()) {
          validateSeriesKey(key, `series[${index}]`);
          const info = await store.info(key);
          // Nothing stored is MISSING only for an exchange we know; an unknown one is a bad request.
          if (info === undefined) exchanges.get(key.exchange);
          targets.push({ key, info });
        }
      }
      const series = targets.map(({ key, info }) => ({
        key,
        lastCandleMs: info?.lastMs,
        ...evaluateFreshness({
          lastCandleMs: info?.lastMs,
          grid: timeframeGrid(key.timeframe),
          nowMs,
          maxAgePeriods,
        }),
      }));
      return { series, checkedAtMs: nowMs };
    },

    getMetadata: (filter) => listReadable(filter),

    async listMarkets(exchange, quote) {
      const client = exchanges.get(exchange);
      const snapshot =
        options.storedMarkets === undefined
          ? await client.loadMarkets()
          : await options.storedMarkets(client.exchange, () => client.loadMarkets());
      if (quote === undefined || quote === "") return snapshot;
      return { ...snapshot, markets: snapshot.markets.filter((market) => market.quote === quote) };
    },

    async importData(key, format, content) {
      validateSeriesKey(key);
      if (content.byteLength === 0)
        throw invalidArgument("content", "expected a non-empty file, got 0 bytes");
      const decoded = await codec.decode(format, content);
      if (candleCount(decoded) === 0) {
        throw invalidArgument(
          "content",
          `expected at least one candle in the ${format} file, got none (a header or an empty list only)`,
        );
      }
      validateCandleValues(decoded, "content");
      const grid = timeframeGrid(key.timeframe);
      for (let index = 0; index < candleCount(decoded); index++) {
        const timestamp = decoded.timestamps[index] ?? 0;
        if (!grid.contains(timestamp)) {
          throw invalidArgument(
            `content[${index}].timestamp`,
            `expected an open time on the ${key.timeframe} grid, got ${new Date(timestamp).toISOString()}`,
          );
        }
      }
      const normalized = normalizeCandles(decoded, "freqtrade");
      await store.write(key, normalized.candles);
      const info = await store.info(key);
      if (info === undefined) throw notFound("series", "the imported file holds no candles");
      return {
        info,
        candlesImported: candleCount(normalized.candles),
        duplicatesMerged: normalized.duplicatesMerged,
      };
    },

    async exportData(key, range, format) {
      const candles = await readExisting(key, range);
      return {
        content: await codec.encode(format, candles),
        fileName: dataFileName(key.symbol, key.timeframe, format),
        candlesExported: candleCount(candles),
      };
    },
  };
}
