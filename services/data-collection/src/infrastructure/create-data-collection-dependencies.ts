import { S3Client } from "@aws-sdk/client-s3";
import type { ServiceImpl } from "@connectrpc/connect";
import type { DataCollectionService as DataCollectionServiceDescriptor } from "@tradai/proto";
import { join, resolve } from "node:path";
import { createDataCollectionHandlers } from "../api/data-collection-handlers";
import type { Clock } from "../core/clock";
import { createDataCollectionService, type DataCollectionService } from "../core/data-collection-service";
import type { DataFileCodec } from "../core/data-file-codec";
import type { ExchangeClientProvider } from "../core/exchange-client";
import type { MarketDataStore } from "../core/market-data-store";
import { createCcxtExchangeClientProvider, type RetryOptions } from "./ccxt-exchange-client";
import { createStoredMarkets } from "../core/markets-snapshot-store";
import { createFileMarketsSnapshotStore } from "./file-markets-snapshot-store";
import { createDataFileCodec } from "./formats/data-file-codec";
import { createLocalMarketDataStore, createS3MarketDataStore } from "./store/create-market-data-store";

export type StoreKind = "local" | "s3";

/** Everything the data-collection service needs from configuration (read once by main.ts). */
export interface DataCollectionConfig {
  /** Root of the local store (store "local") and default parent of the S3 cache. */
  dataDirectory: string;
  /** "local" (embedded default) or "s3". */
  store: StoreKind;
  s3?: {
    bucket: string;
    /** Key prefix, default "ohlcv/". */
    prefix?: string;
    /** Default "us-east-1". */
    region?: string;
    /** Custom endpoint (moto, LocalStack, MinIO); path-style addressing is used with it. */
    endpoint?: string;
  };
  /** S3 partition cache; default <dataDirectory>/s3-cache. */
  cacheDirectory?: string;
  /** Exchange ids the service accepts; default every ccxt exchange. */
  exchanges?: string[];
  /** ccxt constructor overrides per exchange id (urls.api, options, timeout, ...). */
  exchangeOverrides?: Record<string, Record<string, unknown>>;
  retry?: RetryOptions;
  /** Candles buffered before an incremental sync writes (default 50 000). */
  flushEvery?: number;
  /**
   * Markets snapshots are stored in <dataDirectory>/markets; with one stored, ListMarkets waits this
   * long for the exchange before answering from it (default 1500 ms).
   */
  marketsLiveTimeoutMs?: number;
}

export interface DataCollectionDependencies {
  store: MarketDataStore;
  exchanges: ExchangeClientProvider;
  codec: DataFileCodec;
  service: DataCollectionService;
  /** Register with the Connect router: `router.service(DataCollectionService, handlers)`. */
  handlers: ServiceImpl<typeof DataCollectionServiceDescriptor>;
}

export interface DataCollectionDependencyOverrides {
  clock?: Clock;
  /** An S3 client to use instead of building one from config.s3. */
  s3Client?: S3Client;
  /** Replaces the ccxt provider (tests). */
  exchanges?: ExchangeClientProvider;
  onInternalError?: (error: unknown) => void;
  /** A stored markets snapshot that could not be read or written (logged as a warning). */
  onMarketsSnapshotProblem?: (message: string) => void;
}

/** Wires store, exchanges, codec, core service and Connect handlers from one config. */
export function createDataCollectionDependencies(
  config: DataCollectionConfig,
  overrides: DataCollectionDependencyOverrides = {},
): DataCollectionDependencies {
  const dataDirectory = resolve(config.dataDirectory);
  let store: MarketDataStore;
  if (config.store === "s3") {
    if (config.s3 === undefined || config.s3.bucket === "") {
      throw new Error(
        "DATA_COLLECTION_S3_BUCKET: expected a bucket name when DATA_COLLECTION_STORE=s3, got none",
      );
    }
    const client =
      overrides.s3Client ??
      new S3Client({
        region: config.s3.region ?? "us-east-1",
        ...(config.s3.endpoint === undefined ? {} : { endpoint: config.s3.endpoint, forcePathStyle: true }),
      });
    store = createS3MarketDataStore({
      client,
      bucket: config.s3.bucket,
      prefix: config.s3.prefix ?? "ohlcv/",
      cacheDirectory: resolve(config.cacheDirectory ?? join(dataDirectory, "s3-cache")),
    });
  } else {
    store = createLocalMarketDataStore({ directory: join(dataDirectory, "ohlcv") });
  }
  const exchanges =
    overrides.exchanges ??
    createCcxtExchangeClientProvider({
      exchangeConfig: config.exchangeOverrides,
      retry: config.retry,
      clock: overrides.clock,
      allowedExchanges: config.exchanges,
    });
  const codec = createDataFileCodec();
  const service = createDataCollectionService({
    store,
    exchanges,
    codec,
    clock: overrides.clock,
    flushEvery: config.flushEvery,
    storedMarkets: createStoredMarkets({
      store: createFileMarketsSnapshotStore(join(dataDirectory, "markets"), (file, reason) =>
        overrides.onMarketsSnapshotProblem?.(`markets snapshot ${file} ignored: ${reason}`),
      ),
      liveTimeoutMs: config.marketsLiveTimeoutMs ?? 1_500,
      onSaveError: (error) =>
        overrides.onMarketsSnapshotProblem?.(`markets snapshot not stored: ${(error as Error).message}`),
    }),
  });
  const handlers = createDataCollectionHandlers({ service, onInternalError: overrides.onInternalError });
  return { store, exchanges, codec, service, handlers };
}

/**
 * Reads DataCollectionConfig from environment-style variables (main.ts passes process.env):
 * DATA_COLLECTION_DATA_DIR (default ".tradai/data"), DATA_COLLECTION_STORE (local|s3, default
 * local), DATA_COLLECTION_S3_BUCKET, DATA_COLLECTION_S3_PREFIX (default "ohlcv/"),
 * DATA_COLLECTION_S3_REGION (default us-east-1), DATA_COLLECTION_S3_ENDPOINT,
 * DATA_COLLECTION_CACHE_DIR, DATA_COLLECTION_EXCHANGES (comma list),
 * DATA_COLLECTION_EXCHANGE_OVERRIDES (JSON object: exchange id → ccxt config),
 * DATA_COLLECTION_RETRY_MAX_ATTEMPTS (default 6), DATA_COLLECTION_RETRY_BASE_DELAY_MS (500),
 * DATA_COLLECTION_RETRY_MAX_DELAY_MS (30000). Errors name the variable.
 */
export function dataCollectionConfigFromEnv(env: Record<string, string | undefined>): DataCollectionConfig {
  const read = (name: string): string | undefined => {
    const value = env[name];
    return value === undefined || value === "" ? undefined : value;
  };
  const positiveInteger = (name: string): number | undefined => {
    const raw = read(name);
    if (raw === undefined) return undefined;
    const value = Number(raw);
    if (!Number.isInteger(value) || value <= 0)
      throw new Error(`${name}: expected a positive integer, got ${JSON.stringify(raw)}`);
    return value;
  };
  const store = read("DATA_COLLECTION_STORE") ?? "local";
  if (store !== "local" && store !== "s3")
    throw new Error(`DATA_COLLECTION_STORE: expected "local" or "s3", got ${JSON.stringify(store)}`);
  const bucket = read("DATA_COLLECTION_S3_BUCKET");
  if (store === "s3" && bucket === undefined)
    throw new Error(
      "DATA_COLLECTION_S3_BUCKET: expected a bucket name when DATA_COLLECTION_STORE=s3, got none",
    );
  let exchangeOverrides: Record<string, Record<string, unknown>> | undefined;
  const overridesRaw = read("DATA_COLLECTION_EXCHANGE_OVERRIDES");
  if (overridesRaw !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(overridesRaw);
    } catch {
      throw new Error(
        `DATA_COLLECTION_EXCHANGE_OVERRIDES: expected a JSON object, got ${JSON.stringify(overridesRaw.slice(0, 60))}`,
      );
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      throw new Error(
        `DATA_COLLECTION_EXCHANGE_OVERRIDES: expected a JSON object keyed by exchange id, got ${JSON.stringify(overridesRaw.slice(0, 60))}`,
      );
    }
    exchangeOverrides = parsed as Record<string, Record<string, unknown>>;
  }
  const exchanges = read("DATA_COLLECTION_EXCHANGES")
    ?.split(",")
    .map((value) => value.trim())
    .filter((value) => value !== "");
  const retry: RetryOptions = {};
  const maxAttempts = positiveInteger("DATA_COLLECTION_RETRY_MAX_ATTEMPTS");
  const baseDelayMs = positiveInteger("DATA_COLLECTION_RETRY_BASE_DELAY_MS");
  const maxDelayMs = positiveInteger("DATA_COLLECTION_RETRY_MAX_DELAY_MS");
  if (maxAttempts !== undefined) retry.maxAttempts = maxAttempts;
  if (baseDelayMs !== undefined) retry.baseDelayMs = baseDelayMs;
  if (maxDelayMs !== undefined) retry.maxDelayMs = maxDelayMs;
  return {
    dataDirectory: read("DATA_COLLECTION_DATA_DIR") ?? ".tradai/data",
    store,
    s3:
      bucket === undefined
        ? undefined
        : {
            bucket,
            prefix: read("DATA_COLLECTION_S3_PREFIX"),
            region: read("DATA_COLLECTION_S3_REGION"),
            endpoint: read("DATA_COLLECTION_S3_ENDPOINT"),
          },
    cacheDirectory: read("DATA_COLLECTION_CACHE_DIR"),
    exchanges,
    exchangeOverrides,
    retry,
    marketsLiveTimeoutMs: positiveInteger("DATA_COLLECTION_MARKETS_LIVE_TIMEOUT_MS"),
  };
}
