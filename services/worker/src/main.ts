// The worker (deployed as the spec's strategy-container): runs backtest jobs. One code path, three
// ways in:
//   --ipc            a process of the backtest service's LOCAL/SUBPROCESS pool (jobs over Node IPC)
//   --queue          a BullMQ consumer (QUEUE executor; also the k8s worker Deployment)
//   --job <json>     one job, then exit (ECS task with the job in WORKER_JOB / container overrides,
//                    a Kubernetes Job, or by hand)
import { hostname } from "node:os";
import {
  createLogger,
  currentTraceHeaders,
  enumField,
  inSpan,
  integerField,
  loadConfigOrExit,
  optionalStringField,
  startTelemetry,
  stringField,
  urlField,
  booleanField,
} from "@tradai/common";
import {
  createDynamoDbWorkflowStateRepository,
  createPostgresWorkflowStateRepository,
  createResultStore,
  createSqliteWorkflowStateRepository,
  decodeJobMessage,
  DEFAULT_BACKTEST_QUEUE,
  redisConnection,
  type JobHandler,
  type WorkflowStateRepository,
} from "@tradai/backtest";
import { createAwsClients } from "@tradai/aws";
import { createMlflowClient } from "@tradai/mlflow";
import path from "node:path";
import { createBacktestWork, type TrackedBacktest } from "./core/backtest-work";
import { createMlflowOutbox } from "./infrastructure/mlflow-outbox";
import { createJobRunner, type JobWork } from "./core/job-runner";
import { createMlflowRunTracker } from "./infrastructure/mlflow-run-tracker";
import { createSandboxedBacktestRunner } from "@tradai/strategy";
import { createDataServiceCandleLoader, createStrategyServiceLoader } from "./infrastructure/service-loaders";
import { runIpcConsumer } from "./infrastructure/ipc-consumer";
import { startQueueConsumer } from "./infrastructure/queue-consumer";
import { runOneShotJob, type DrainableOutbox } from "./infrastructure/one-shot-job";

const schema = {
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
      "where runs whose MLflow logging failed wait to be logged (must outlive one-shot workers: a persistent volume); default <result store>/mlflow-outbox, or .tradai/mlflow-outbox with an S3 result store",
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

const mode = process.argv.includes("--ipc") ? "ipc" : process.argv.includes("--queue") ? "queue" : "once";
const jobArgument = process.argv.indexOf("--job");

const config = loadConfigOrExit("worker", { prefix: "WORKER_", schema, env: process.env });
const telemetry = startTelemetry({
  serviceName: "worker",
  otlpEndpoint: process.env.OTEL_EXPORTER_OTLP_ENDPOINT,
  console: config.traceConsole,
});
const logger = createLogger({ service: "worker", level: config.logLevel });

const awsClients = () =>
  createAwsClients({
    region: config.awsRegion,
    ...(config.awsEndpointUrl === undefined ? {} : { endpoint: config.awsEndpointUrl }),
  });

async function openRepository(): Promise<WorkflowStateRepository> {
  if (config.stateStore === "dynamodb") {
    return createDynamoDbWorkflowStateRepository({
      clients: awsClients(),
      tableName: config.workflowStateTable,
    });
  }
  if (config.stateStore === "postgres") {
    if (config.postgresUrl === undefined)
      throw new Error(
        "WORKER_POSTGRES_URL: expected a PostgreSQL URL when WORKER_STATE_STORE=postgres, got nothing",
      );
    return createPostgresWorkflowStateRepository({ connectionString: config.postgresUrl });
  }
  return createSqliteWorkflowStateRepository({ path: config.sqlitePath });
}

const noopWork: JobWork = async (_message, context) => {
  if (config.noopDelayMs > 0) {
    context.reportProgress(50, "waiting");
    // Stops at once when the job is cancelled (the runner aborts the signal).
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, config.noopDelayMs);
      context.signal.addEventListener(
        "abort",
        () => {
          clearTimeout(timer);
          reject(context.signal.reason instanceof Error ? context.signal.reason : new Error("cancelled"));
        },
        { once: true },
      );
    });
  }
  context.reportProgress(100, "done");
  return { summary: [] };
};

/** The MLflow outbox, when runs are tracked; drained before a one-shot worker exits. */
let mlflowOutbox: DrainableOutbox | undefined;

function selectWork(repository: WorkflowStateRepository): JobWork {
  if (config.work === "noop") return noopWork;
  const tracker =
    config.mlflowTrackingUri === undefined
      ? undefined
      : createMlflowRunTracker({
          client: createMlflowClient({
            baseUrl: config.mlflowTrackingUri,
            requestHeaders: currentTraceHeaders,
          }),
        });
  const outbox =
    tracker === undefined
      ? undefined
      : createMlflowOutbox({
          directory:
            config.mlflowOutboxDir ??
            path.join(
              config.resultStore.startsWith("s3://") ? ".tradai" : config.resultStore,
              "mlflow-outbox",
            ),
          tracker,
          repository,
          logger,
        });
  mlflowOutbox = outbox;
  if (outbox !== undefined) {
    const drain = () =>
      void outbox
        .drain()
        .then((logged) => logged > 0 && logger.info({ logged }, "deferred MLflow runs logged"));
    drain();
    setInterval(drain, 60_000).unref();
  }
  return createBacktestWork({
    strategies: createStrategyServiceLoader(config.strategyServiceUrl, {
      runner: createSandboxedBacktestRunner({
        maxMemoryMb: config.sandboxMaxMemoryMb,
        backtestTimeoutMs: config.sandboxTimeoutMs,
      }),
    }),
    candles: createDataServiceCandleLoader(config.dataCollectionUrl),
    results: createResultStore(config.resultStore, awsClients),
    ...(tracker === undefined ? {} : { tracker }),
    ...(outbox === undefined ? {} : { deferTracking: (tracked: TrackedBacktest) => outbox.enqueue(tracked) }),
    logger,
  });
}

let repository: WorkflowStateRepository;
try {
  repository = await openRepository();
} catch (error) {
  // One readable line: the LOCAL/DOCKER executor and ECS surface the last log lines as the job's error.
  logger.fatal(`cannot open the state store: ${error instanceof Error ? error.message : String(error)}`);
  await telemetry.shutdown();
  process.exit(1);
}
const workerId = `${hostname()}:${process.pid}`;
const runner = createJobRunner({ repository, workerId, work: selectWork(repository), logger });
const traced: JobHandler = (message, context) =>
  inSpan("worker.run_job", () => runner(message, context), new Headers(message.traceHeaders));

const shutdown = async (code: number) => {
  await repository.close();
  await telemetry.shutdown();
  process.exit(code);
};

if (mode === "ipc") {
  await runIpcConsumer(traced, logger);
  await shutdown(0);
} else if (mode === "queue") {
  const consumer = startQueueConsumer(traced, {
    connection: redisConnection(config.redisUrl),
    queueName: config.queueName,
    concurrency: config.concurrency,
    logger,
  });
  logger.info({ queue: config.queueName, concurrency: config.concurrency }, "consuming");
  const stop = () => void consumer.close().then(() => shutdown(0));
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
} else {
  const raw = jobArgument !== -1 ? process.argv[jobArgument + 1] : config.job;
  if (raw === undefined) {
    logger.fatal("no job: pass --job <json>, set WORKER_JOB, or use --ipc / --queue");
    await shutdown(64);
  }
  const controller = new AbortController();
  process.once("SIGTERM", () => controller.abort(new Error("SIGTERM")));
  const outcome = await runOneShotJob({
    runner,
    message: decodeJobMessage(raw),
    env: process.env,
    signal: controller.signal,
    ...(mlflowOutbox === undefined ? {} : { outbox: mlflowOutbox }),
    drainTimeoutMs: config.mlflowDrainTimeoutMs,
    logger,
  });
  logger.info({ outcome }, "job finished");
  await shutdown(outcome === "failed" ? 1 : 0);
}
