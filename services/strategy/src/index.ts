// @tradai/strategy — the strategy service's parts, for other services and tools (the backtest
// service and worker compile and load strategies the same way).
export { createStrategyHandlers, toStrategyMetadata } from "./api/strategy-handlers";
export type { CandleRequest, CandleSource } from "./core/candle-source";
export {
  CCXT_TIMEFRAMES,
  createStaticExchangeCatalog,
  type ExchangeCatalog,
  type ExchangeSnapshot,
} from "./core/exchange-catalog";
export {
  analyzeLookahead,
  type ColumnFinding,
  type LookaheadAnalysisOptions,
  type LookaheadAnalysisResult,
} from "./core/lookahead-analysis";
export {
  parseTimerange,
  prepareRunConfig,
  RUN_CONFIG_DEFAULTS,
  toFreqtradeConfig,
  validateRunConfig,
  type ConfigLayer,
  type ConfigValues,
  type PreparedRunConfig,
} from "./core/run-config";
export type { StoredStrategyVersion, StrategyRegistryStore } from "./core/strategy-registry-store";
export type { CompiledStrategy, StrategyCompiler, StrategySandbox } from "./core/strategy-sandbox";
export {
  createStrategyService,
  type StrategyService,
  type StrategyServiceDependencies,
} from "./core/strategy-service";
export type { StrategySourceFiles, StrategySourceRepository } from "./core/strategy-source";
export {
  checkUpload,
  DEFAULT_UPLOAD_LIMITS,
  type UploadedFile,
  type UploadLimits,
} from "./core/strategy-upload";
export { strategyVersion } from "./core/strategy-version";
export type { ValidationIssue } from "./core/validation-issue";
export { createCsvCandleSource } from "./infrastructure/csv-candle-source";
export { createDirectoryStrategySource } from "./infrastructure/directory-strategy-source";
export { createEsbuildStrategyCompiler } from "./infrastructure/esbuild-strategy-compiler";
export { createFileStrategyRegistryStore } from "./infrastructure/file-strategy-registry-store";
export { createS3Client } from "./infrastructure/s3-client";
export { parseS3Url } from "./infrastructure/s3-location";
export { createS3StrategyRegistryStore } from "./infrastructure/s3-strategy-registry-store";
export { createS3StrategySource } from "./infrastructure/s3-strategy-source";
export {
  createSandboxedBacktestRunner,
  type SandboxedBacktestOptions,
  type SandboxedBacktestRequest,
  type SandboxedBacktestRunner,
  type SandboxedResult,
} from "./infrastructure/sandboxed-backtest";
export {
  createWorkerStrategySandbox,
  type WorkerStrategySandbox,
} from "./infrastructure/worker-strategy-sandbox";
