// The worker (deployed as the spec's strategy-container): runs backtest jobs. One code path, three
// ways in:
//   --ipc            a process of the backtest service's LOCAL/SUBPROCESS pool (jobs over Node IPC)
//   --queue          a BullMQ consumer (QUEUE executor; also the k8s worker Deployment)
//   --job <json>     one job, then exit (ECS task with the job in WORKER_JOB / container overrides,
//                    a Kubernetes Job, or by hand)
import { hostname } from "node:os";
import { createLogger, currentTraceHeaders, inSpan, loadConfigOrExit, startTelemetry } from "@tradai/common";
import {
  createDynamoDbWorkflowStateRepository,
  createPostgresWorkflowStateRepository,
  createResultStore,
  createSqliteWorkflowStateRepository,
  decodeJobMessage,
  redisConnection,
  type JobHandler,
  type WorkflowStateRepository,
} from "@tradai/backtest";
import { createAwsClients } from "@tradai/aws";
import { createMlflowClient } from "@tradai/mlflow";
import { createBacktestWork, type TrackedBacktest } from "./core/backtest-work";
import { createMlflowOutbox, createOutboxStore, defaultOutboxLocation } from "./infrastructure/mlflow-outbox";
import { createJobRunner, type JobWork } from "./core/job-runner";
import { createMlflowRunTracker } from "./infrastructure/mlflow-run-tracker";
import { createSandboxedBacktestRunner } from "@tradai/strategy";
import { createDataServiceCandleLoader, createStrategyServiceLoader } from "./infrastructure/service-loaders";
import { runIpcConsumer } from "./infrastructure/ipc-consumer";
import { startQueueConsumer } from "./infrastructure/queue-consumer";
import { runOneShotJob, type DrainableOutbox } from "./infrastructure/one-shot-job";
import { workerConfigSchema } from "./infrastructure/worker-config";

const mode = process.argv.includes("--ipc") ? "ipc" : process.argv.includes("--queue") ? "queue" : "once";
const jobArgument = process.argv.indexOf("--job");

const config = loadConfigOrExit("worker", {
  prefix: "WORKER_",
  schema: workerConfigSchema,
  env: process.env,
});
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
          store: createOutboxStore(
            config.mlflowOutboxDir ?? defaultOutboxLocation(config.resultStore),
            awsClients,
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
        .then((logged) => logged > 0 && logger.info({ logged }, "deferred MLflow runs logged"))
        .catch((error: unknown) => logger.warn({ err: error }, "draining the MLflow outbox failed"));
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
