// The env of LOCAL workers (processes or containers): the same state store, result store, services
// and MLflow the backtest service uses. A worker writing to another state store than the service's
// leaves every job QUEUED there forever (issue #6 audit: dynamodb used to become sqlite here).
import type { BacktestSettings } from "./backtest-config";

export type WorkerEnvSettings = Pick<
  BacktestSettings,
  | "stateStore"
  | "sqlitePath"
  | "postgresUrl"
  | "workflowStateTable"
  | "awsRegion"
  | "awsEndpointUrl"
  | "resultStore"
  | "strategyServiceUrl"
  | "dataCollectionUrl"
  | "mlflowTrackingUri"
>;

export function workerEnv(settings: WorkerEnvSettings): Record<string, string> {
  return {
    WORKER_STATE_STORE: settings.stateStore,
    WORKER_SQLITE_PATH: settings.sqlitePath,
    ...(settings.postgresUrl === undefined ? {} : { WORKER_POSTGRES_URL: settings.postgresUrl }),
    WORKER_WORKFLOW_STATE_TABLE: settings.workflowStateTable,
    ...(settings.awsRegion === undefined ? {} : { WORKER_AWS_REGION: settings.awsRegion }),
    ...(settings.awsEndpointUrl === undefined ? {} : { WORKER_AWS_ENDPOINT_URL: settings.awsEndpointUrl }),
    WORKER_RESULT_STORE: settings.resultStore,
    WORKER_STRATEGY_SERVICE_URL: settings.strategyServiceUrl,
    WORKER_DATA_COLLECTION_URL: settings.dataCollectionUrl,
    ...(settings.mlflowTrackingUri === undefined
      ? {}
      : { WORKER_MLFLOW_TRACKING_URI: settings.mlflowTrackingUri }),
  };
}
