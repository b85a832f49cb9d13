// Transport only (ARCHITECTURE.md §3): Connect requests → core calls → Connect responses, and
// DataCollectionErrors → ConnectError codes. No domain logic here.
import { Code, ConnectError, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromMs, timestampMs, type Timestamp } from "@bufbuild/protobuf/wkt";
import type { DataCollectionService } from "@tradai/proto";
import {
  DataFormat,
  FreshnessVerdict,
  GapKind,
  OhlcvEncoding,
  MarketType,
  SyncPhase,
  type CorruptSeriesSchema,
  type GapSchema,
  type SeriesKey as SeriesKeyMessage,
  type SeriesMetadataSchema,
  type TimeRange,
} from "@tradai/proto";
import { DomainError, encodeOhlcvColumns, toConnectError } from "@tradai/common";
import type { Candles } from "../core/candles";
import type { DataCollectionService as DataCollectionCore } from "../core/data-collection-service";
import type { DataFileFormat } from "../core/data-file-codec";
import { isDataCollectionError, type DataCollectionErrorKind } from "../core/errors";
import type { MarketKind } from "../core/exchange-client";
import type { FreshnessVerdictKind } from "../core/freshness";
import type { CorruptSeries, StoredGap, StoredSeriesInfo } from "../core/market-data-store";
import type { SyncPhaseKind } from "../core/ohlcv-synchronizer";
import type { SeriesKey } from "../core/series-key";

export interface DataCollectionHandlersDependencies {
  /** The core use cases (createDataCollectionService). */
  service: DataCollectionCore;
  /** Called with every error that is not a DataCollectionError (logged by the caller; the client sees INTERNAL). */
  onInternalError?: (error: unknown) => void;
}

const CODE_OF_KIND: Record<DataCollectionErrorKind, Code> = {
  "invalid-argument": Code.InvalidArgument,
  "not-found": Code.NotFound,
  "data-loss": Code.DataLoss,
  unavailable: Code.Unavailable,
  aborted: Code.Aborted,
  canceled: Code.Canceled,
};

/**
 * Maps any error to a ConnectError through @tradai/common's toConnectError (so the gateway's
 * problem+json carries the field violation); unexpected errors become INTERNAL without details.
 */
export function toDataCollectionConnectError(
  error: unknown,
  onInternalError?: (error: unknown) => void,
): ConnectError {
  if (error instanceof ConnectError) return error;
  if (isDataCollectionError(error)) {
    const violations = error.field === undefined ? [] : [{ field: error.field, message: error.message }];
    return toConnectError(
      new DomainError(CODE_OF_KIND[error.kind], error.message, violations, { cause: error }),
    );
  }
  onInternalError?.(error);
  return toConnectError(error);
}

function invalid(field: string, message: string): ConnectError {
  return toConnectError(new DomainError(Code.InvalidArgument, `${field}: ${message}`, [{ field, message }]));
}

function msOf(timestamp: Timestamp | undefined): number | undefined {
  return timestamp === undefined ? undefined : timestampMs(timestamp);
}

function requireStart(range: TimeRange | undefined, field = "range.start"): number {
  const start = msOf(range?.start);
  if (start === undefined) throw invalid(field, "expected a start time, got none");
  return start;
}

function seriesKeyFrom(message: SeriesKeyMessage | undefined, field = "series"): SeriesKey {
  if (message === undefined) throw invalid(field, "expected exchange, symbol and timeframe, got none");
  return { exchange: message.exchange, symbol: message.symbol, timeframe: message.timeframe };
}

function rangeFrom(range: TimeRange | undefined): { startMs?: number; endMs?: number } {
  return { startMs: msOf(range?.start), endMs: msOf(range?.end) };
}

const FORMATS: Partial<Record<DataFormat, DataFileFormat>> = {
  [DataFormat.FREQTRADE_JSON]: "freqtrade-json",
  [DataFormat.FREQTRADE_JSONGZ]: "freqtrade-jsongz",
  [DataFormat.FREQTRADE_FEATHER]: "freqtrade-feather",
  [DataFormat.CSV]: "csv",
};

function formatFrom(format: DataFormat): DataFileFormat {
  const result = FORMATS[format];
  if (result === undefined) {
    throw invalid(
      "format",
      `expected DATA_FORMAT_FREQTRADE_JSON, _JSONGZ, _FEATHER or DATA_FORMAT_CSV, got ${DataFormat[format] ?? format}`,
    );
  }
  return result;
}

const PHASES: Record<SyncPhaseKind, SyncPhase> = {
  validating: SyncPhase.VALIDATING,
  fetching: SyncPhase.FETCHING,
  writing: SyncPhase.WRITING,
  done: SyncPhase.DONE,
};

const VERDICTS: Record<FreshnessVerdictKind, FreshnessVerdict> = {
  fresh: FreshnessVerdict.FRESH,
  stale: FreshnessVerdict.STALE,
  missing: FreshnessVerdict.MISSING,
};

const MARKET_TYPES: Record<MarketKind, MarketType> = {
  spot: MarketType.SPOT,
  swap: MarketType.SWAP,
  future: MarketType.FUTURE,
  option: MarketType.UNSPECIFIED,
  other: MarketType.UNSPECIFIED,
};

const GAP_KINDS: Record<StoredGap["kind"], GapKind> = {
  exchange: GapKind.EXCHANGE,
  unfetched: GapKind.UNFETCHED,
};

function gapMessage(gap: StoredGap): MessageInitShape<typeof GapSchema> {
  return {
    after: timestampFromMs(gap.afterMs),
    before: timestampFromMs(gap.beforeMs),
    missingCandles: BigInt(gap.missingCandles),
    kind: GAP_KINDS[gap.kind],
  };
}

function corruptSeriesMessage(entry: CorruptSeries): MessageInitShape<typeof CorruptSeriesSchema> {
  return { series: entry.key, file: entry.file, reason: entry.message };
}

function metadataMessage(info: StoredSeriesInfo): MessageInitShape<typeof SeriesMetadataSchema> {
  return {
    series: info.key,
    firstCandle: timestampFromMs(info.firstMs),
    lastCandle: timestampFromMs(info.lastMs),
    count: BigInt(info.count),
    gaps: info.gaps.map(gapMessage),
    sizeBytes: BigInt(info.sizeBytes),
  };
}

function batchMessage(candles: Candles, encoding: OhlcvEncoding) {
  if (encoding === OhlcvEncoding.F64LE) {
    return {
      count: candles.timestamps.length,
      columnsF64le: encodeOhlcvColumns(candles),
    };
  }
  return {
    count: candles.timestamps.length,
    timestampsMs: Array.from(candles.timestamps, (value) => BigInt(value)),
    open: Array.from(candles.open),
    high: Array.from(candles.high),
    low: Array.from(candles.low),
    close: Array.from(candles.close),
    volume: Array.from(candles.volume),
  };
}

/** The DataCollectionService Connect implementation over the core use cases. */
export function createDataCollectionHandlers(
  dependencies: DataCollectionHandlersDependencies,
): ServiceImpl<typeof DataCollectionService> {
  const { service, onInternalError } = dependencies;
  const mapError = (error: unknown): ConnectError => toDataCollectionConnectError(error, onInternalError);
  const unary =
    <I, O>(handler: (request: I, context: HandlerContext) => Promise<O>) =>
    async (request: I, context: HandlerContext): Promise<O> => {
      try {
        return await handler(request, context);
      } catch (error) {
        throw mapError(error);
      }
    };

  return {
    async *syncOhlcv(request, context) {
      try {
        const events = service.syncOhlcv(
          {
            exchange: request.exchange,
            symbols: request.symbols,
            timeframe: request.timeframe,
            startMs: requireStart(request.range),
            endMs: msOf(request.range?.end),
            fullRefresh: request.fullRefresh,
          },
          context.signal,
        );
        for await (const event of events) {
          yield {
            symbol: event.symbol,
            phase: PHASES[event.phase],
            candlesFetched: BigInt(event.candlesFetched),
            candlesExpected: BigInt(event.candlesExpected),
            percent: event.percent,
            etaSeconds: event.etaSeconds,
            gaps: event.gaps.map(gapMessage),
          };
        }
      } catch (error) {
        throw mapError(error);
      }
    },

    async *getOhlcv(request) {
      try {
        if (request.batchSize < 0)
          throw invalid("batch_size", `expected a positive number, got ${request.batchSize}`);
        for await (const batch of service.readOhlcv(
          seriesKeyFrom(request.series),
          rangeFrom(request.range),
          request.batchSize,
        )) {
          yield { batch: batchMessage(batch, request.encoding) };
        }
      } catch (error) {
        throw mapError(error);
      }
    },

    ensureData: unary(async (request, context) => {
      if (request.startupCandles < 0)
        throw invalid("startup_candles", `expected 0 or more, got ${request.startupCandles}`);
      const result = await service.ensureData(
        {
          exchange: request.exchange,
          symbols: request.symbols,
          timeframe: request.timeframe,
          startMs: requireStart(request.range),
          endMs: msOf(request.range?.end),
          startupCandles: request.startupCandles,
        },
        context.signal,
      );
      return {
        series: result.series.map(({ key, info }) =>
          info === undefined ? { series: key } : metadataMessage(info),
        ),
        candlesFetched: BigInt(result.candlesFetched),
      };
    }),

    checkFreshness: unary(async (request) => {
      const keys = request.series.map((key, index) => seriesKeyFrom(key, `series[${index}]`));
      const result = await service.checkFreshness(
        keys,
        request.maxAgePeriods === 0 ? undefined : request.maxAgePeriods,
      );
      return {
        series: result.series.map((entry) => ({
          series: entry.key,
          lastCandle: entry.lastCandleMs === undefined ? undefined : timestampFromMs(entry.lastCandleMs),
          ageSeconds: Number.isNaN(entry.ageSeconds) ? 0 : entry.ageSeconds,
          verdict: VERDICTS[entry.verdict],
        })),
        checkedAt: timestampFromMs(result.checkedAtMs),
        corruptSeries: result.corrupt.map(corruptSeriesMessage),
      };
    }),

    getDatasetMetadata: unary(async (request) => {
      const listing = await service.getMetadata({
        exchange: request.exchange,
        symbol: request.symbol,
        timeframe: request.timeframe,
      });
      return {
        series: listing.series.map(metadataMessage),
        corruptSeries: listing.corrupt.map(corruptSeriesMessage),
      };
    }),

    listMarkets: unary(async (request) => {
      if (request.exchange === "")
        throw invalid("exchange", 'expected a ccxt exchange id such as "binance", got ""');
      const snapshot = await service.listMarkets(request.exchange, request.quote);
      return {
        exchange: snapshot.exchange,
        markets: snapshot.markets.map((market) => ({ ...market, type: MARKET_TYPES[market.type] })),
        timeframes: snapshot.timeframes,
        fetchedAt: timestampFromMs(snapshot.fetchedAtMs),
      };
    }),

    importData: unary(async (request) => {
      const result = await service.importData(
        seriesKeyFrom(request.series),
        formatFrom(request.format),
        request.content,
      );
      return {
        series: metadataMessage(result.info),
        candlesImported: BigInt(result.candlesImported),
        duplicatesMerged: BigInt(result.duplicatesMerged),
      };
    }),

    exportData: unary(async (request) => {
      const result = await service.exportData(
        seriesKeyFrom(request.series),
        rangeFrom(request.range),
        formatFrom(request.format),
      );
      return {
        content: result.content,
        fileName: result.fileName,
        candlesExported: BigInt(result.candlesExported),
      };
    }),
  };
}
