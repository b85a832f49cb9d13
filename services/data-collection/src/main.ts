// DataCollectionService (port 8002): the spec's data-collection service (§3.2).
import {
  enumField,
  integerField,
  listField,
  optionalStringField,
  registerService,
  runService,
  stringField,
} from "@tradai/common";
import { DataCollectionService } from "@tradai/proto";
import { createDataCollectionDependencies } from "./index";

await runService({
  name: "data-collection",
  prefix: "DATA_COLLECTION_",
  defaultPort: 8002,
  schema: {
    dataDir: stringField({
      description: "local store root (store=local) and S3 cache parent",
      default: "./.tradai/data",
    }),
    store: enumField(["local", "s3"] as const, { description: "market-data store", default: "local" }),
    s3Bucket: optionalStringField({ description: "bucket of the S3 store (required when store=s3)" }),
    s3Prefix: stringField({ description: "key prefix in the bucket", default: "ohlcv/" }),
    s3Region: stringField({ description: "AWS region", default: "us-east-1" }),
    s3Endpoint: optionalStringField({ description: "S3 endpoint override (moto, LocalStack, MinIO)" }),
    cacheDir: optionalStringField({ description: "S3 partition cache (default <dataDir>/s3-cache)" }),
    exchanges: listField({ description: "allowed ccxt exchange ids (empty: all)", default: [] }),
    exchangeOverrides: optionalStringField({ description: "JSON: exchange id -> ccxt constructor config" }),
    retryMaxAttempts: integerField({
      description: "attempts per exchange call",
      default: 6,
      min: 1,
      max: 20,
    }),
    retryBaseDelayMs: integerField({ description: "first backoff delay", default: 500, min: 1, max: 60_000 }),
    retryMaxDelayMs: integerField({ description: "backoff cap", default: 30_000, min: 1, max: 600_000 }),
    marketsLiveTimeoutMs: integerField({
      description:
        "with a stored markets snapshot, how long ListMarkets waits for the exchange before answering from it",
      default: 1_500,
      min: 1,
      max: 600_000,
    }),
  },
  env: process.env,
  async build(config, logger) {
    const dependencies = createDataCollectionDependencies(
      {
        dataDirectory: config.dataDir,
        store: config.store,
        s3:
          config.s3Bucket === undefined
            ? undefined
            : {
                bucket: config.s3Bucket,
                prefix: config.s3Prefix,
                region: config.s3Region,
                endpoint: config.s3Endpoint,
              },
        cacheDirectory: config.cacheDir,
        exchanges: config.exchanges.length === 0 ? undefined : config.exchanges,
        exchangeOverrides:
          config.exchangeOverrides === undefined
            ? undefined
            : (JSON.parse(config.exchangeOverrides) as Record<string, Record<string, unknown>>),
        retry: {
          maxAttempts: config.retryMaxAttempts,
          baseDelayMs: config.retryBaseDelayMs,
          maxDelayMs: config.retryMaxDelayMs,
        },
        marketsLiveTimeoutMs: config.marketsLiveTimeoutMs,
      },
      {
        onInternalError: (error) => logger.error({ err: error }, "data-collection internal error"),
        onMarketsSnapshotProblem: (message) => logger.warn(message),
      },
    );
    return { services: [registerService(DataCollectionService, dependencies.handlers)] };
  },
});
