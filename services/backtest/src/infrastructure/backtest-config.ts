// BACKEND_* settings of the backtest service (the spec's backend-api names where it has them).
import path from "node:path";
import { fileURLToPath } from "node:url";
import {
  booleanField,
  enumField,
  integerField,
  listField,
  optionalStringField,
  stringField,
  urlField,
  type ConfigOf,
} from "@tradai/common";
import { EXECUTOR_MODES } from "../core/backtest-job-submitter";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../..");

export const backtestConfigSchema = {
  executorMode: enumField(EXECUTOR_MODES, {
    description: "where backtests run",
    default: "LOCAL",
    caseInsensitive: true,
  }),
  localExecutionMode: enumField(["SUBPROCESS", "DOCKER"], {
    description: "LOCAL sub-mode: worker processes or worker containers",
    default: "SUBPROCESS",
    caseInsensitive: true,
  }),
  localWorkers: integerField({
    description: "worker processes for LOCAL/SUBPROCESS",
    default: 1,
    min: 1,
    max: 64,
  }),
  workerEntry: stringField({
    description: "worker entry for LOCAL/SUBPROCESS",
    default: path.join(repoRoot, "services/worker/src/main.ts"),
  }),
  workerImage: optionalStringField({ description: "worker image for LOCAL/DOCKER" }),
  workerNetwork: stringField({
    description:
      "Docker network of LOCAL/DOCKER worker containers (compose: the project network, so service names resolve)",
    default: "host",
  }),
  workerVolumes: listField({
    description: "volumes for LOCAL/DOCKER worker containers (`volume:/path`, e.g. the shared result store)",
    default: [],
  }),
  dockerSocket: stringField({ description: "Docker Engine API socket", default: "/var/run/docker.sock" }),
  redisUrl: optionalStringField({ description: "Redis for the QUEUE executor (redis://host:port)" }),
  queueName: stringField({ description: "BullMQ queue", default: "tradai-backtests" }),
  awsRegion: optionalStringField({ description: "AWS region (SQS, ECS, STEPFUNCTIONS, DynamoDB, S3)" }),
  awsEndpointUrl: optionalStringField({ description: "AWS endpoint override (moto, LocalStack)" }),
  backtestQueueUrl: optionalStringField({ description: "SQS FIFO queue URL (SQS executor)" }),
  ecsCluster: optionalStringField({ description: "ECS cluster (ECS executor)" }),
  ecsSubnets: listField({ description: "subnets for RunTask", default: [] }),
  ecsSecurityGroups: listField({ description: "security groups for RunTask", default: [] }),
  ecsTaskDefinition: optionalStringField({ description: "strategy-container task definition" }),
  stepfunctionsStateMachineArn: optionalStringField({
    description: "backtest state machine (STEPFUNCTIONS executor)",
  }),
  stateStore: enumField(["sqlite", "postgres", "dynamodb"], {
    description: "WorkflowStateRepository",
    default: "sqlite",
  }),
  sqlitePath: stringField({ description: "SQLite state database", default: ".tradai/state/backtests.db" }),
  postgresUrl: optionalStringField({ description: "PostgreSQL URL (state store postgres)", secret: true }),
  workflowStateTable: stringField({
    description: "DynamoDB workflow-state table",
    default: "tradai-workflow-state-dev",
  }),
  resultStore: stringField({
    description: "results directory or s3://bucket/prefix/",
    default: ".tradai/results",
  }),
  strategyServiceUrl: urlField({ description: "StrategyService", default: "http://127.0.0.1:8003" }),
  dataCollectionUrl: urlField({ description: "DataCollectionService", default: "http://127.0.0.1:8002" }),
  ensureDataCacheMs: integerField({
    description:
      "how long (ms) a candle range data collection confirmed is trusted before it is asked again; 0 asks every time",
    default: 30_000,
    min: 0,
    max: 3_600_000,
  }),
  mlflowTrackingUri: optionalStringField({ description: "MLflow tracking URI (passed to workers)" }),
  devMode: booleanField({
    description: "dev mode: an unconfigured executor disables backtests instead of failing start-up",
    default: true,
  }),
};

export type BacktestSettings = ConfigOf<typeof backtestConfigSchema>;
