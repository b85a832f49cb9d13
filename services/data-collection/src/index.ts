// @tradai/data-collection: the data-collection service's building blocks (ARCHITECTURE.md §4.2).
export {
  createDataCollectionHandlers,
  toDataCollectionConnectError,
  type DataCollectionHandlersDependencies,
} from "./api/data-collection-handlers";
export {
  createDataCollectionDependencies,
  dataCollectionConfigFromEnv,
  type DataCollectionConfig,
  type DataCollectionDependencies,
  type DataCollectionDependencyOverrides,
  type StoreKind,
} from "./infrastructure/create-data-collection-dependencies";
export {
  createDataCollectionService,
  type DataCollectionService,
  type DataCollectionServiceOptions,
  type FreshnessReport,
  type SeriesListing,
} from "./core/data-collection-service";
export { CANDLE_COLUMNS, createCandles, type Candles, type TimeRangeMs } from "./core/candles";
export type {
  CorruptSeries,
  MarketDataStore,
  SeriesCoverage,
  StoredGap,
  StoredSeriesInfo,
  StoreReadOptions,
  StoreWriteOptions,
  SeriesFilter,
} from "./core/market-data-store";
export type {
  ExchangeClient,
  ExchangeClientProvider,
  MarketInfo,
  MarketsSnapshot,
} from "./core/exchange-client";
export type { SeriesKey } from "./core/series-key";
export { DataCollectionError, type DataCollectionErrorKind } from "./core/errors";
export { parseTimeframe } from "./core/timeframe";
export { detectGaps, fillGaps, type CandleGap } from "./core/gaps";
export {
  createLocalMarketDataStore,
  createS3MarketDataStore,
} from "./infrastructure/store/create-market-data-store";
export { CcxtExchangeClient, createCcxtExchangeClientProvider } from "./infrastructure/ccxt-exchange-client";
export { createDataFileCodec } from "./infrastructure/formats/data-file-codec";
