// StrategyService (port 8003): the spec's strategy-service (§3.3). Loads the strategies directory
// (or S3 prefix) into the versioned registry at start, then serves the registry, validation,
// config preparation and look-ahead analysis. A broken strategy file is logged, never fatal.
import { integerField, optionalStringField, registerService, runService, stringField } from "@tradai/common";
import { StrategyService } from "@tradai/proto";
import { createStrategyHandlers } from "./api/strategy-handlers";
import { createStaticExchangeCatalog } from "./core/exchange-catalog";
import { createStrategyService } from "./core/strategy-service";
import { createCsvCandleSource } from "./infrastructure/csv-candle-source";
import { createDirectoryStrategySource } from "./infrastructure/directory-strategy-source";
import { createEsbuildStrategyCompiler } from "./infrastructure/esbuild-strategy-compiler";
import { createFileStrategyRegistryStore } from "./infrastructure/file-strategy-registry-store";
import { createS3Client } from "./infrastructure/s3-client";
import { isS3Url, parseS3Url } from "./infrastructure/s3-location";
import { createS3StrategyRegistryStore } from "./infrastructure/s3-strategy-registry-store";
import { createS3StrategySource } from "./infrastructure/s3-strategy-source";
import { createWorkerStrategySandbox } from "./infrastructure/worker-strategy-sandbox";

await runService({
  name: "strategy",
  prefix: "STRATEGY_SERVICE_",
  defaultPort: 8003,
  schema: {
    strategiesDir: stringField({
      description: "strategy files: a directory or s3://bucket/prefix",
      default: "./strategies",
    }),
    registryDir: stringField({
      description: "where registered versions are kept: a directory or s3://bucket/prefix",
      default: "./.tradai/strategies",
    }),
    dataDir: stringField({
      description:
        "candles for the look-ahead analysis: a directory of <exchange>_<BASE>_<QUOTE>-<tf>.csv.gz",
      default: "./data/ohlcv",
    }),
    s3Endpoint: optionalStringField({ description: "S3 endpoint override (moto, LocalStack)" }),
    awsRegion: stringField({ description: "AWS region of the S3 buckets", default: "us-east-1" }),
    loadTimeoutMs: integerField({
      description: "time limit for loading and checking one strategy",
      default: 5_000,
      min: 100,
      max: 600_000,
    }),
    analysisTimeoutMs: integerField({
      description: "time limit for one look-ahead analysis",
      default: 60_000,
      min: 100,
      max: 3_600_000,
    }),
    sandboxConcurrency: integerField({
      description: "strategy sandboxes running at once",
      default: 2,
      min: 1,
      max: 64,
    }),
  },
  env: process.env,
  async build(config, logger) {
    const needsS3 = isS3Url(config.strategiesDir) || isS3Url(config.registryDir);
    const s3 = needsS3
      ? createS3Client({
          region: config.awsRegion,
          ...(config.s3Endpoint === undefined ? {} : { endpoint: config.s3Endpoint }),
        })
      : undefined;
    const source =
      s3 !== undefined && isS3Url(config.strategiesDir)
        ? createS3StrategySource(s3, parseS3Url(config.strategiesDir))
        : createDirectoryStrategySource(config.strategiesDir);
    const store =
      s3 !== undefined && isS3Url(config.registryDir)
        ? createS3StrategyRegistryStore(s3, parseS3Url(config.registryDir))
        : createFileStrategyRegistryStore(config.registryDir);
    const sandbox = createWorkerStrategySandbox({
      loadTimeoutMs: config.loadTimeoutMs,
      analysisTimeoutMs: config.analysisTimeoutMs,
      maxConcurrency: config.sandboxConcurrency,
    });
    const service = createStrategyService({
      compiler: createEsbuildStrategyCompiler(),
      sandbox,
      store,
      catalog: createStaticExchangeCatalog(),
      candles: createCsvCandleSource(config.dataDir),
    });
    const started = performance.now();
    try {
      const report = await service.loadRepository(source);
      for (const entry of report.registered) {
        logger.info(
          { file: entry.entry, strategy: entry.name, version: entry.version, created: entry.created },
          "strategy loaded",
        );
      }
      for (const entry of report.failed) {
        logger.warn({ file: entry.entry, issues: entry.issues }, "strategy rejected");
      }
      logger.info(
        {
          source: source.location,
          registry: store.location,
          loaded: report.registered.length,
          rejected: report.failed.length,
          duration_ms: Math.round(performance.now() - started),
        },
        "strategies loaded",
      );
    } catch (error) {
      // An unreadable strategies location must not keep the registry (and uploads) from serving.
      logger.error({ err: error, source: source.location }, "could not load the strategies location");
    }
    return {
      services: [registerService(StrategyService, createStrategyHandlers(service))],
      dependencyChecks: [{ name: "strategy-registry", critical: true, check: () => store.ping() }],
      dispose: async () => {
        await sandbox.close();
        s3?.destroy();
      },
    };
  },
});
