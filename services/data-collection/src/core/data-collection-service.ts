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
import { DataCollectionError, invalidArgument, isDataCollectionError, notFound } from "./errors";
import type { ExchangeClient, ExchangeClientProvider, MarketsSnapshot } from "./exchange-client";
import { createExchangeTime } from "./exchange-time";
import { evaluateFreshness, type FreshnessResult } from "./freshness";
import type { CorruptSeries, MarketDataStore, SeriesFilter, StoredSeriesInfo } from "./market-data-store";
import { createOhlcvSynchronizer, type SyncProgress, type SyncRequest } from "./ohlcv-synchronizer";
import type { StoredMarkets } from "./markets-snapshot-store";
import { validateSeriesKey, type SeriesKey } from "./series-key";
import { timeframeGrid } from "./timeframe";

export interface DataCollectionServiceOptions {
  store: MarketDataStore;
  exchanges: ExchangeClientProvider;
  codec: DataFileCodec;
  /** The host's clock. Default: the system clock. */
  clock?: Clock;
  /** How often the offset to an exchange's clock is measured again (default 60 000 ms). */
  exchangeTimeRefreshMs?: number;
  /** See OhlcvSynchronizerOptions.flushEvery (default 50 000). */
  flushEvery?: number;
  /** Stored markets snapshots: ListMarkets answers from them when the exchange cannot. */
  storedMarkets?: StoredMarkets;
}

export interface SeriesFreshnessResult extends FreshnessResult {
  key: SeriesKey;
  lastCandleMs: number | undefined;
}

/**
 * The stored series matching a filter: the healthy ones, and apart from them those whose metadata
 * cannot be read (their `message` says what is wrong and how to repair it).
 */
export interface SeriesListing {
  series: StoredSeriesInfo[];
  corrupt: CorruptSeries[];
}

export interface FreshnessReport {
  series: SeriesFreshnessResult[];
  /** Corrupt series met while listing every stored one (empty when `keys` named the series). */
  corrupt: CorruptSeries[];
  /**
   * What the ages are counted from: the exchange's clock when every series is on one exchange
   * (the usual case), else the host's (each series' age is counted on its own exchange's clock).
   */
  checkedAtMs: number;
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
  /**
   * Freshness of the given series, or of every stored series when `keys` is empty. A listing
   * reports corrupt series apart; a named series that is corrupt fails with "data-loss".
   */
  checkFreshness(keys: readonly SeriesKey[], maxAgePeriods?: number): Promise<FreshnessReport>;
  /**
   * The stored series matching the filter, corrupt ones reported apart. A filter naming exactly
   * one series (exchange, symbol and timeframe all set) that is corrupt fails with "data-loss".
   */
  getMetadata(filter?: SeriesFilter): Promise<SeriesListing>;
  listMarkets(exchange: string, quote?: string): Promise<MarketsSnapshot>;
  importData(key: SeriesKey, format: DataFileFormat, content: Uint8Array): Promise<ImportResult>;
  exportData(key: SeriesKey, range: Partial<TimeRangeMs>, format: DataFileFormat): Promise<ExportResult>;
}

/**
 * What to do about a series whose manifest cannot be read. No full refresh can repair it (every
 * write starts from the manifest), so the series has to go and be fetched again.
 */
function withRepairHint(entry: CorruptSeries): CorruptSeries {
  const directory = entry.file.slice(0, entry.file.lastIndexOf("/") + 1);
  return {
    ...entry,
    message:
      `${entry.message}. To repair it, delete the series' files from the store (${directory}: its manifest ` +
      "and partitions), then sync or import the series again; other series are not affected",
  };
}

function corruptSeriesError(entry: CorruptSeries, cause?: unknown): DataCollectionError {
  const { exchange, symbol, timeframe } = entry.key;
  return new DataCollectionError(
    "data-loss",
    `stored series ${exchange} ${symbol} ${timeframe} is corrupt: ${entry.message}`,
    { field: entry.file, cause },
  );
}

export function createDataCollectionService(options: DataCollectionServiceOptions): DataCollectionService {
  const clock = options.clock ?? systemClock;
  const { store, exchanges, codec } = options;
  const synchronizer = createOhlcvSynchronizer({ store, exchanges, clock, flushEvery: options.flushEvery });
  // EnsureData and CheckFreshness judge "now" by the exchange's clock, like SyncOhlcv does, with the
  // offset to the host's clock cached (not one time request per call).
  const exchangeTime = createExchangeTime({ clock, refreshMs: options.exchangeTimeRefreshMs });
  const ensurer = createDataEnsurer({ store, synchronizer, exchanges, exchangeTime, clock });

  /**
   * Now on `exchange`'s clock; the host's when the exchange is not configured (a stored series of
   * an exchange no longer allowed) or cannot be reached (freshness of stored data stays answerable
   * offline).
   */
  async function exchangeNowMs(exchange: string): Promise<number> {
    let client: ExchangeClient;
    try {
      client = exchanges.get(exchange);
    } catch {
      return clock.nowMs();
    }
    return exchangeTime.nowMs(client, { hostClockFallback: true });
  }

  function validateRange(range: Partial<TimeRangeMs>): void {
    if (range.startMs !== undefined && range.endMs !== undefined && !(range.endMs > range.startMs)) {
      throw invalidArgument(
        "range.end",
        `expected an end after the start (${new Date(range.startMs).toISOString()}), got ${new Date(range.endMs).toISOString()}`,
      );
    }
  }

  /**
   * Every stored series matching the filter. A corrupt series is reported apart, so one bad
   * manifest neither hides the others nor is hidden itself (issue #4, "all other stored data
   * still readable"); a filter naming exactly that series gets the DATA_LOSS error instead.
   */
  async function listSeries(filter: SeriesFilter = {}): Promise<SeriesListing> {
    const { series, corrupt } = await store.list(filter);
    const reported = corrupt.map(withRepairHint);
    const exact = [filter.exchange, filter.symbol, filter.timeframe].every(
      (value) => value !== undefined && value !== "",
    );
    const named = reported[0];
    if (exact && named !== undefined) throw corruptSeriesError(named);
    return { series, corrupt: reported };
  }

  /** One named series' metadata; a corrupt manifest fails with the same error as a listing by name. */
  async function infoOf(key: SeriesKey): Promise<StoredSeriesInfo | undefined> {
    try {
      return await store.info(key);
    } catch (error) {
      if (!isDataCollectionError(error) || error.kind !== "data-loss" || error.field === undefined)
        throw error;
      throw corruptSeriesError(withRepairHint({ key, message: error.message, file: error.field }), error);
    }
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
      const targets: { key: SeriesKey; info: StoredSeriesInfo | undefined }[] = [];
      let corrupt: CorruptSeries[] = [];
      if (keys.length === 0) {
        const listing = await listSeries();
        for (const info of listing.series) targets.push({ key: info.key, info });
        corrupt = listing.corrupt;
      } else {
        for (const [index, key] of keys.entries()) {
          validateSeriesKey(key, `series[${index}]`);
          const info = await infoOf(key);
          // Nothing stored is MISSING only for an exchange we know; an unknown one is a bad request.
          if (info === undefined) exchanges.get(key.exchange);
          targets.push({ key, info });
        }
      }
      const exchangeIds = [...new Set(targets.map((target) => target.key.exchange))];
      const nowByExchange = new Map(
        await Promise.all(exchangeIds.map(async (id) => [id, await exchangeNowMs(id)] as const)),
      );
      const series = targets.map(({ key, info }) => ({
        key,
        lastCandleMs: info?.lastMs,
        ...evaluateFreshness({
          lastCandleMs: info?.lastMs,
          grid: timeframeGrid(key.timeframe),
          nowMs: nowByExchange.get(key.exchange) ?? clock.nowMs(),
          maxAgePeriods,
        }),
      }));
      const only = exchangeIds.length === 1 ? nowByExchange.get(exchangeIds[0] ?? "") : undefined;
      return { series, corrupt, checkedAtMs: only ?? clock.nowMs() };
    },

    getMetadata: (filter) => listSeries(filter),

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
