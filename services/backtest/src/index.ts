// What the worker and the lambdas use from the backtest service: the job message, the handler
// contract and the state store.
export {
  decodeJobMessage,
  encodeJobMessage,
  EXECUTOR_MODES,
  ExecutorMode,
  JobMessageError,
  LocalExecutionMode,
  type BacktestJobMessage,
  type BacktestJobSubmitter,
  type QueuedJobState,
  type EncodedJobMessage,
  type SubmissionReceipt,
} from "./core/backtest-job-submitter";
export type { JobContext, JobHandler, PoolToWorker, WorkerToPool } from "./core/job-handler";
export {
  createQueueSubmitter,
  DEFAULT_BACKTEST_QUEUE,
  redisConnection,
  type RedisEndpoint,
} from "./infrastructure/queue-submitter";
export type { BacktestConfig, BacktestJob, JobMetric, JobStatus } from "./core/backtest-job";
export {
  JobConflictError,
  JobNotFoundError,
  type CreateJobInput,
  type ListJobsQuery,
  type WorkflowStateRepository,
} from "./core/workflow-state-repository";
export { createSqliteWorkflowStateRepository } from "./infrastructure/sqlite-workflow-state-repository";
export { createPostgresWorkflowStateRepository } from "./infrastructure/postgres-workflow-state-repository";
export {
  createDynamoDbWorkflowStateRepository,
  workflowStateTableDefinition,
} from "./infrastructure/dynamodb-workflow-state-repository";
export { createLocalSubprocessSubmitter } from "./infrastructure/local-subprocess-submitter";
export { createLocalDockerSubmitter } from "./infrastructure/local-docker-submitter";
export {
  createEcsSubmitter,
  createSqsSubmitter,
  createStepFunctionsSubmitter,
} from "./infrastructure/cloud-submitters";
export { createResultStore, type ResultStore } from "./infrastructure/result-store";
export { parseTimerange, type Timerange } from "./core/timerange";
