// The QUEUE measurements: no-op jobs submitted the way BacktestService submits them (record QUEUED
// in the state store → BullMQ add → annotate the execution id), run by the worker's job runner
// (claim RUNNING → no-op work reporting progress 100 → COMPLETED) — and, as the baseline, the same
// jobs through a bare BullMQ Queue/Worker pair with no state store.
import { randomUUID } from "node:crypto";
import path from "node:path";
import {
  createPostgresWorkflowStateRepository,
  createQueueSubmitter,
  createSqliteWorkflowStateRepository,
  encodeJobMessage,
  redisConnection,
  type BacktestConfig,
  type BacktestJobMessage,
  type BacktestJobSubmitter,
  type WorkflowStateRepository,
} from "@tradai/backtest";
import { createLogger } from "@tradai/common";
import { Queue, Worker } from "bullmq";
import { createJobRunner, type JobWork } from "../../services/worker/src/core/job-runner";
import { startQueueConsumer } from "../../services/worker/src/infrastructure/queue-consumer";
import { runEntry, exited } from "../../test/support/spawn-service";
import {
  cpuMeter,
  rate,
  runBounded,
  runPaced,
  summarize,
  waitUntil,
  type LatencySummary,
} from "./bench-support";

export interface StoreSettings {
  kind: "sqlite" | "postgres";
  /** Directory for SQLite files (one per run). */
  directory: string;
  postgresUrl?: string;
}

export interface QueueEnvironment {
  redisUrl: string;
  store: StoreSettings;
}

/** A small but complete backtest config: the payload every job carries. */
export const NOOP_CONFIG: BacktestConfig = {
  strategy: "SampleStrategy",
  strategy_version: "",
  exchange: "binance",
  pairs: ["BTC/USDT"],
  timeframe: "5m",
  timerange: "20250101-20250201",
  stake_amount: 100,
  dry_run_wallet: 1000,
  max_open_trades: 1,
  fee: 0.001,
  params: {},
  stake_currency: "USDT",
  timeframe_detail: "",
};

/** The worker's `WORKER_WORK=noop` work (services/worker/src/main.ts) with no delay. */
const noopWork: JobWork = (_message, context) => {
  context.reportProgress(100, "done");
  return Promise.resolve({ summary: [] });
};

const silentLogger = createLogger({ service: "bench-queue", level: "warn" });

interface StoreHandle {
  open(): Promise<WorkflowStateRepository>;
  /** Env for a worker process using the same store. */
  workerEnv: Record<string, string>;
}

function storeFor(settings: StoreSettings, run: string): StoreHandle {
  if (settings.kind === "postgres") {
    const url = settings.postgresUrl;
    if (url === undefined) throw new Error("postgres store: expected a connection URL, got nothing");
    return {
      open: () => Promise.resolve(createPostgresWorkflowStateRepository({ connectionString: url })),
      workerEnv: { WORKER_STATE_STORE: "postgres", WORKER_POSTGRES_URL: url },
    };
  }
  const file = path.join(settings.directory, `${run}.db`);
  return {
    open: () => Promise.resolve(createSqliteWorkflowStateRepository({ path: file })),
    workerEnv: { WORKER_STATE_STORE: "sqlite", WORKER_SQLITE_PATH: file },
  };
}

export interface ThroughputResult {
  jobs: number;
  ms: number;
  jobsPerSecond: number;
  /** Submit call → RUNNING (state store's started_at), when there is a state store. */
  latency?: LatencySummary;
  /** Submit call → processor start, for the bare BullMQ runs. */
  pickupLatency?: LatencySummary;
  /** Time spent in the three submission writes, summed over jobs (ms), split by step. */
  submitSteps?: { create: number; add: number; annotate: number };
  /** CPU ms used during the run, per process. */
  cpu: Record<string, number>;
}

const jobOptions = {
  attempts: 2,
  backoff: { type: "exponential" as const, delay: 1_000 },
  removeOnComplete: { count: 10_000 },
  removeOnFail: { count: 10_000 },
};

/**
 * Baseline: the same messages through a bare BullMQ Queue/Worker (same job options as the QUEUE
 * submitter, a no-op processor, no state store). Submission either bounded (throughput) or paced.
 */
export async function runBareBullmq(
  env: QueueEnvironment,
  jobs: number,
  submission: { concurrency: number } | { ratePerSecond: number },
  workerConcurrency: number,
): Promise<ThroughputResult> {
  const queueName = `bench-bare-${randomUUID()}`;
  const connection = redisConnection(env.redisUrl);
  const queue = new Queue(queueName, { connection, defaultJobOptions: jobOptions });
  const submittedAt = new Map<string, number>();
  const pickup: number[] = [];
  let completed = 0;
  const worker = new Worker(
    queueName,
    (job) => {
      const at = submittedAt.get(job.id ?? "");
      if (at !== undefined) pickup.push(Date.now() - at);
      return Promise.resolve();
    },
    { connection, concurrency: workerConcurrency },
  );
  worker.on("completed", () => {
    completed++;
  });
  try {
    await Promise.all([queue.waitUntilReady(), worker.waitUntilReady()]);
    const submit = async (index: number) => {
      const message: BacktestJobMessage = { jobId: randomUUID(), config: NOOP_CONFIG, traceHeaders: {} };
      submittedAt.set(message.jobId, Date.now());
      await queue.add("backtest", encodeJobMessage(message), { jobId: message.jobId });
      void index;
    };
    const meter = await cpuMeter(env.redisUrl, () => ({}));
    const start = performance.now();
    if ("concurrency" in submission) await runBounded(jobs, submission.concurrency, submit);
    else await runPaced(jobs, submission.ratePerSecond, submit);
    await waitUntil(`bare BullMQ: ${jobs} jobs completed`, () => completed >= jobs, 120_000, 5);
    const ms = performance.now() - start;
    const cpu = await meter();
    return { jobs, ms, jobsPerSecond: rate(jobs, ms), pickupLatency: summarize(pickup), cpu };
  } finally {
    await worker.close();
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
  }
}

interface Producer {
  submit(index: number): Promise<void>;
  submittedAt: Map<string, number>;
  jobIds: string[];
  steps: { create: number; add: number; annotate: number };
}

/** BacktestService's submission minus validation and EnsureData: create QUEUED → add → annotate. */
function createProducer(repository: WorkflowStateRepository, submitter: BacktestJobSubmitter): Producer {
  const submittedAt = new Map<string, number>();
  const jobIds: string[] = [];
  const steps = { create: 0, add: 0, annotate: 0 };
  return {
    submittedAt,
    jobIds,
    steps,
    async submit() {
      const t0 = performance.now();
      const at = Date.now();
      const created = await repository.create({ config: NOOP_CONFIG, executor: submitter.executor });
      const jobId = created.job.jobId;
      submittedAt.set(jobId, at);
      jobIds.push(jobId);
      const t1 = performance.now();
      const receipt = await submitter.submit({ jobId, config: NOOP_CONFIG, traceHeaders: {} });
      const t2 = performance.now();
      await repository.annotate(jobId, { executor: receipt.executor, executionId: receipt.reference });
      const t3 = performance.now();
      steps.create += t1 - t0;
      steps.add += t2 - t1;
      steps.annotate += t3 - t2;
    },
  };
}

/** Waits until every job is COMPLETED in the state store (jobs finish roughly in order). */
async function waitAllCompleted(repository: WorkflowStateRepository, jobIds: readonly string[]) {
  let index = 0;
  await waitUntil(
    `${jobIds.length} jobs COMPLETED in the state store`,
    async () => {
      while (index < jobIds.length) {
        const job = await repository.get(jobIds[index] as string);
        if (job?.status === "FAILED") throw new Error(`job ${job.jobId} FAILED: ${job.error ?? ""}`);
        if (job?.status !== "COMPLETED") return false;
        index++;
      }
      return true;
    },
    180_000,
    10,
  );
}

async function runningLatency(
  repository: WorkflowStateRepository,
  producer: Producer,
): Promise<LatencySummary> {
  const samples: number[] = [];
  for (const jobId of producer.jobIds) {
    const job = await repository.get(jobId);
    const at = producer.submittedAt.get(jobId);
    if (job?.startedAt === undefined || at === undefined) throw new Error(`job ${jobId}: no started_at`);
    samples.push(job.startedAt.getTime() - at);
  }
  return summarize(samples);
}

/** Profile only: a no-op that reports no progress (no progress write, no BullMQ updateProgress). */
const silentNoopWork: JobWork = () => Promise.resolve({ summary: [] });

export type WorkerPlacement =
  | { kind: "in-process"; concurrency: number; withoutProgress?: boolean }
  | { kind: "processes"; count: number; concurrency: number };

async function startWorkers(
  placement: WorkerPlacement,
  store: StoreHandle,
  env: QueueEnvironment,
  queueName: string,
): Promise<{ stop: () => Promise<void>; pids: Record<string, number> }> {
  if (placement.kind === "in-process") {
    const repository = await store.open();
    const runner = createJobRunner({
      repository,
      workerId: `bench:${process.pid}`,
      work: placement.withoutProgress === true ? silentNoopWork : noopWork,
      logger: silentLogger,
    });
    const consumer = startQueueConsumer(runner, {
      connection: redisConnection(env.redisUrl),
      queueName,
      concurrency: placement.concurrency,
      logger: silentLogger,
    });
    const stop = async () => {
      await consumer.close();
      await repository.close();
    };
    return { stop, pids: {} };
  }
  const children = Array.from({ length: placement.count }, () =>
    runEntry({
      entry: "services/worker/src/main.ts",
      args: ["--queue"],
      env: {
        ...store.workerEnv,
        WORKER_WORK: "noop",
        WORKER_REDIS_URL: env.redisUrl,
        WORKER_QUEUE_NAME: queueName,
        WORKER_CONCURRENCY: String(placement.concurrency),
        WORKER_LOG_LEVEL: "warn",
      },
    }),
  );
  const stop = async () => {
    for (const child of children) child.process.kill("SIGTERM");
    await Promise.all(children.map((child) => exited(child.process)));
  };
  try {
    // With WORKER_LOG_LEVEL=warn the "consuming" line is not printed: wait for the BullMQ
    // worker's connection instead (a client named after the queue appears in Redis).
    await waitUntil(
      "worker processes connected to Redis",
      async () => {
        for (const child of children) {
          if (child.process.exitCode !== null)
            throw new Error(`worker exited with ${child.process.exitCode}:\n${child.output.join("\n")}`);
        }
        return (await bullmqWorkerCount(env.redisUrl, queueName)) >= children.length;
      },
      30_000,
      100,
    );
  } catch (error) {
    await stop();
    throw error;
  }
  const pids = Object.fromEntries(
    children.map((child, index) => [`worker process ${index + 1}`, child.process.pid ?? -1]),
  );
  return { stop, pids };
}

/** Workers BullMQ lists for the queue (Queue.getWorkers reads CLIENT LIST). */
async function bullmqWorkerCount(redisUrl: string, queueName: string): Promise<number> {
  const queue = new Queue(queueName, { connection: redisConnection(redisUrl) });
  try {
    return (await queue.getWorkers()).length;
  } finally {
    await queue.close();
  }
}

/** No-op jobs through QUEUE with our submission, runner and state store. */
export async function runQueue(
  env: QueueEnvironment,
  jobs: number,
  submission: { concurrency: number } | { ratePerSecond: number },
  placement: WorkerPlacement,
  runName: string,
): Promise<ThroughputResult> {
  const queueName = `bench-${runName}-${randomUUID()}`;
  const store = storeFor(env.store, `${runName}-${randomUUID()}`);
  const repository = await store.open();
  const submitter = createQueueSubmitter({ redisUrl: env.redisUrl, queueName, submitTimeoutMs: 30_000 });
  const producer = createProducer(repository, submitter);
  const workers = await startWorkers(placement, store, env, queueName);
  try {
    const meter = await cpuMeter(env.redisUrl, () => workers.pids);
    const start = performance.now();
    if ("concurrency" in submission) await runBounded(jobs, submission.concurrency, producer.submit);
    else await runPaced(jobs, submission.ratePerSecond, producer.submit);
    await waitAllCompleted(repository, producer.jobIds);
    const ms = performance.now() - start;
    const cpu = await meter();
    return {
      jobs,
      ms,
      jobsPerSecond: rate(jobs, ms),
      cpu,
      latency: await runningLatency(repository, producer),
      submitSteps: producer.steps,
    };
  } finally {
    await workers.stop();
    await submitter.close();
    await repository.close();
  }
}

export interface StoreCost {
  /** One create (QUEUED) as the producer does it, µs. */
  createMicros: number;
  /** One transition QUEUED→RUNNING, µs. */
  runningMicros: number;
  /** One progress write, µs. */
  progressMicros: number;
  /** One transition RUNNING→COMPLETED, µs. */
  completedMicros: number;
  /** One annotate, µs. */
  annotateMicros: number;
}

/** The state store alone, sequential: what each write of a job's life costs. */
export async function measureStoreCost(env: QueueEnvironment, jobs: number): Promise<StoreCost> {
  const store = storeFor(env.store, `cost-${randomUUID()}`);
  const repository = await store.open();
  const ids: string[] = [];
  const time = async (task: (jobId: string, index: number) => Promise<unknown>) => {
    const start = performance.now();
    for (let index = 0; index < jobs; index++) await task(ids[index] as string, index);
    return ((performance.now() - start) / jobs) * 1000;
  };
  try {
    const createMicros = await time(async () => {
      ids.push((await repository.create({ config: NOOP_CONFIG, executor: "QUEUE" })).job.jobId);
    });
    const annotateMicros = await time((jobId) =>
      repository.annotate(jobId, { executor: "QUEUE", executionId: `q/${jobId}` }),
    );
    const runningMicros = await time((jobId) =>
      repository.transition(jobId, { to: "RUNNING", workerId: "w" }),
    );
    const progressMicros = await time((jobId) =>
      repository.updateProgress(jobId, { progress: 100, stage: "done", workerId: "w" }),
    );
    const completedMicros = await time((jobId) =>
      repository.transition(jobId, { to: "COMPLETED", workerId: "w", summary: [] }),
    );
    return { createMicros, runningMicros, progressMicros, completedMicros, annotateMicros };
  } finally {
    await repository.close();
  }
}
