// WORKER_* settings of the worker (strategy-container), read once at start by main.ts; infra/ and
// charts/ tests load each deployment's WORKER_* variables through it.
import {
  booleanField,
  enumField,
  integerField,
  optionalStringField,
  stringField,
  urlField,
  type ConfigOf,
} from "@tradai/common";
import { DEFAULT_BACKTEST_QUEUE } from "@tradai/backtest";

export const workerConfigSchema = {
  stateStore: enumField(["sqlite", "postgres", "dynamodb"], {
    description: "where job state lives (dynamodb: the ECS worker, beside the backtest service's table)",
    default: "sqlite",
  }),
  sqlitePath: stringField({ description: "SQLite state database", default: ".tradai/state/backtests.db" }),
  postgresUrl: optionalStringField({ description: "PostgreSQL URL (state store postgres)" }),
  workflowStateTable: stringField({
    description: "DynamoDB workflow-state table (state store dynamodb)",
    default: "tradai-workflow-state-dev",
  }),
  redisUrl: urlField({
    description: "Redis for --queue",
    default: "redis://127.0.0.1:6379",
    protocols: ["redis", "rediss"],
  }),
  queueName: stringField({ description: "BullMQ queue", default: DEFAULT_BACKTEST_QUEUE }),
  concurrency: integerField({ description: "jobs at once (--queue)", default: 1, min: 1, max: 64 }),
  work: enumField(["backtest", "noop"], {
    description: "what a job does; noop is for queue benchmarks",
    default: "backtest",
  }),
  noopDelayMs: integerField({
    description: "how long a noop job takes (benchmarks, fault tests)",
    default: 0,
    min: 0,
  }),
  resultStore: stringField({
    description: "results directory or s3://bucket/prefix/",
    default: ".tradai/results",
  }),
  sandboxMaxMemoryMb: integerField({
    description:
      "heap cap of the sandbox thread a strategy's backtest runs in (MiB; keep below the task's memory)",
    default: 4096,
    min: 64,
  }),
  sandboxTimeoutMs: integerField({
    description: "longest a strategy's backtest may run in its sandbox (ms)",
    default: 3_600_000,
    min: 1000,
  }),
  strategyServiceUrl: urlField({
    description: "StrategyService (strategy sources)",
    default: "http://127.0.0.1:8003",
  }),
  dataCollectionUrl: urlField({
    description: "DataCollectionService (candles)",
    default: "http://127.0.0.1:8002",
  }),
  mlflowTrackingUri: optionalStringField({
    description: "MLflow tracking URI; unset = runs are not tracked",
  }),
  mlflowOutboxDir: optionalStringField({
    description:
      "where runs whose MLflow logging failed wait to be logged: a directory (must outlive one-shot workers: a persistent volume) or s3://bucket/prefix/; default <result store>/mlflow-outbox, or s3://<results prefix>/mlflow-outbox/ with an S3 result store",
  }),
  mlflowDrainTimeoutMs: integerField({
    description:
      "how long a one-shot (--job) worker keeps trying to log deferred MLflow runs before it exits",
    default: 10_000,
    min: 0,
    max: 600_000,
  }),
  awsRegion: stringField({
    description: "AWS region (S3 result store, DynamoDB state store)",
    default: "eu-central-1",
  }),
  awsEndpointUrl: optionalStringField({ description: "AWS endpoint override (moto, LocalStack)" }),
  job: optionalStringField({ description: "the job message for --job mode (JSON)" }),
  logLevel: enumField(["trace", "debug", "info", "warn", "error", "fatal", "silent"], {
    description: "log level",
    default: "info",
  }),
  traceConsole: booleanField({ description: "print spans to stderr", default: false }),
};

export type WorkerSettings = ConfigOf<typeof workerConfigSchema>;
