export {
  booleanField,
  ConfigError,
  describeConfig,
  enumField,
  envName,
  integerField,
  listField,
  loadConfig,
  loadConfigOrExit,
  numberField,
  optionalStringField,
  portField,
  stringField,
  urlField,
  type ConfigField,
  type ConfigOf,
  type ConfigSchema,
  type LoadConfigOptions,
} from "./config";
export {
  DomainError,
  dispositionOf,
  httpStatusOf,
  invalidArgument,
  notFound,
  problem,
  toConnectError,
  toProblemDetails,
  violationsOf,
  type ErrorDisposition,
  type FieldViolation,
  type ProblemDetails,
} from "./errors";
export { createLogger, currentRequestId, withRequestId, type Logger, type LoggerOptions } from "./logger";
export {
  currentTraceHeaders,
  inSpan,
  startTelemetry,
  tracingClientInterceptor,
  tracingServerInterceptor,
  type Telemetry,
  type TelemetryOptions,
} from "./telemetry";
export {
  buildHealthDocument,
  createHealthHandlers,
  HealthRegistry,
  ServingStatus,
  type DependencyCheck,
  type DependencyStatus,
  type HealthDocument,
} from "./health";
export { createReflectionHandlers } from "./reflection";
export {
  createServiceServer,
  pendingHandlers,
  PortInUseError,
  registerService,
  type HttpRoute,
  type ServiceRegistration,
  type ServiceServer,
  type ServiceServerOptions,
} from "./server";
export {
  commonServiceFields,
  runService,
  type CommonServiceConfig,
  type RunServiceOptions,
  type ServiceParts,
} from "./run-service";
export { createServiceClient, type ServiceClientOptions } from "./clients";
export {
  OHLCV_COLUMN_ORDER,
  decodeOhlcvColumns,
  encodeOhlcvColumns,
  type DecodedOhlcvColumns,
  type OhlcvColumnArrays,
} from "./ohlcv-columns";
