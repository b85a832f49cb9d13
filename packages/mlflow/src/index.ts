export {
  createMlflowClient,
  artifactProxyRoot,
  type MlflowClient,
  type MlflowClientOptions,
} from "./mlflow-client";
export type {
  CreateModelVersionOptions,
  CreateRunOptions,
  Page,
  SearchRegistryOptions,
  SearchRunsOptions,
} from "./mlflow-client";
export {
  INVALID_PARAMETER_VALUE,
  isMlflowError,
  MlflowError,
  RESOURCE_ALREADY_EXISTS,
  RESOURCE_DOES_NOT_EXIST,
} from "./mlflow-error";
export { createMlflowHttp, type MlflowHttp, type MlflowHttpOptions, type MlflowRequest } from "./mlflow-http";
export {
  MAX_ENTITIES_PER_BATCH,
  MAX_KEY_LENGTH,
  MAX_METRICS_PER_BATCH,
  MAX_PARAM_VALUE_LENGTH,
  MAX_PARAMS_PER_BATCH,
  MAX_TAG_VALUE_LENGTH,
  MAX_TAGS_PER_BATCH,
  splitLogBatch,
  type LogBatchInput,
  type LogBatchOptions,
  type MetricInput,
} from "./log-batch";
export type {
  ArtifactFile,
  Experiment,
  Metric,
  ModelStage,
  ModelVersion,
  RegisteredModel,
  Run,
  RunInfo,
  RunStatus,
  ViewType,
} from "./mlflow-types";
