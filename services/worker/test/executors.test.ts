// Jobs through the LOCAL/SUBPROCESS pool and the QUEUE executor (real Redis) to a real SQLite state
// store, with real worker processes: completion, duplicate delivery, a worker killed mid-job.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import {
  createDynamoDbWorkflowStateRepository,
  createLocalDockerSubmitter,
  createLocalSubprocessSubmitter,
  createQueueSubmitter,
  createSqliteWorkflowStateRepository,
  type BacktestJob,
  type BacktestJobSubmitter,
  type WorkflowStateRepository,
} from "@tradai/backtest";
import { createLogger } from "@tradai/common";
import { Queue } from "bullmq";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startPodmanService, TEST_NODE_IMAGE, type PodmanService } from "../../../test/support/podman";
import { motoClients, motoUrl, uniqueName } from "../../../test/support/moto-fixtures";
import { repoRoot, runEntry } from "../../../test/support/spawn-service";
import { createBacktestService } from "../../backtest/src/core/backtest-service";
import { workerEnv as serviceWorkerEnv } from "../../backtest/src/infrastructure/worker-env";
import { testBacktestConfig } from "../../backtest/test/support/backtest-config-fixture";

const workerEntry = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../src/main.ts");
const logger = createLogger({ service: "test", level: "silent" });
const config = testBacktestConfig();

let dir: string;
let repository: WorkflowStateRepository;
let dbPath: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), "tradai-executors-"));
  dbPath = path.join(dir, "state.db");
  repository = createSqliteWorkflowStateRepository({ path: dbPath });
});
afterAll(async () => {
  await repository.close();
  rmSync(dir, { recursive: true, force: true });
});

async function waitForStatus(jobId: string, statuses: string[], timeoutMs = 20_000): Promise<BacktestJob> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = await repository.get(jobId);
    if (job && statuses.includes(job.status)) return job;
    if (Date.now() > deadline)
      throw new Error(`job ${jobId} is ${job?.status}, expected ${statuses.join("|")}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const workerEnv = (extra: Record<string, string> = {}) => ({
  WORKER_WORK: "noop",
  WORKER_SQLITE_PATH: dbPath,
  WORKER_LOG_LEVEL: "warn",
  ...extra,
});

/**
 * The backtest service's core over a real executor; the strategy and data services are in-memory
 * stand-ins (these tests are about the executor, not about validation).
 */
const serviceOver = (submitter: BacktestJobSubmitter) =>
  createBacktestService({
    repository,
    submitter,
    strategies: { validate: async () => ({ violations: [], version: "v1", startupCandles: 0 }) },
    marketData: { ensure: async () => undefined, unlistedPairs: async () => [] },
    results: { read: async () => null },
    logger,
  });

/**
 * Cancels a RUNNING job through the service and checks that the (single) worker stopped it: the job
 * stays CANCELLED, and the next job gets the worker long before the first job's 120 s would end.
 */
async function cancelRunningJobs(service: ReturnType<typeof serviceOver>) {
  const first = await service.submit({ config, traceHeaders: {} });
  const running = await waitForStatus(first.job.jobId, ["RUNNING"], 30_000);
  expect(running.stage).toBe("waiting");
  const cancelled = await service.cancel(first.job.jobId);
  expect(cancelled.status).toBe("CANCELLED");
  const second = await service.submit({ config, traceHeaders: {} });
  await waitForStatus(second.job.jobId, ["RUNNING"], 30_000);
  const after = await repository.get(first.job.jobId);
  expect(after?.status).toBe("CANCELLED");
  expect(after?.error).toBe("cancelled by request");
  expect(after?.version).toBe(cancelled.version);
  await service.cancel(second.job.jobId);
}

describe("LOCAL/SUBPROCESS pool", () => {
  it("cancels a RUNNING job: it ends CANCELLED and its worker is free for the next job", async () => {
    const pool = createLocalSubprocessSubmitter({
      workerEntry,
      workers: 1,
      env: workerEnv({ WORKER_NOOP_DELAY_MS: "120000" }),
      logger,
      onJobLost: () => undefined,
    });
    try {
      await cancelRunningJobs(serviceOver(pool));
    } finally {
      await pool.close();
    }
  }, 90_000);

  it("runs a job in a worker process to COMPLETED", async () => {
    const lost: string[] = [];
    const pool = createLocalSubprocessSubmitter({
      workerEntry,
      workers: 1,
      env: workerEnv(),
      logger,
      onJobLost: (jobId) => void lost.push(jobId),
    });
    try {
      const { job } = await repository.create({ config });
      const receipt = await pool.submit({ jobId: job.jobId, config, traceHeaders: {} });
      expect(receipt).toEqual({ executor: "LOCAL/SUBPROCESS", reference: `local:${job.jobId}` });
      const done = await waitForStatus(job.jobId, ["COMPLETED", "FAILED"]);
      expect(done.status).toBe("COMPLETED");
      expect(done.progress).toBe(100);
      expect(done.attempts).toBe(1);
      expect(lost).toEqual([]);
    } finally {
      await pool.close();
    }
  });

  it("reports the job of a worker killed mid-job as lost, and replaces the worker", async () => {
    const lost: { jobId: string; reason: string }[] = [];
    const pool = createLocalSubprocessSubmitter({
      workerEntry,
      workers: 1,
      env: workerEnv({ WORKER_NOOP_DELAY_MS: "30000" }),
      logger,
      onJobLost: async (jobId, reason) => {
        lost.push({ jobId, reason });
        await repository.transition(jobId, { to: "FAILED", error: reason });
      },
    });
    try {
      const { job } = await repository.create({ config });
      await pool.submit({ jobId: job.jobId, config, traceHeaders: {} });
      const running = await waitForStatus(job.jobId, ["RUNNING"]);
      const pid = Number(running.workerId?.split(":").at(-1));
      expect(pid).toBeGreaterThan(0);
      process.kill(pid, "SIGKILL");
      const failed = await waitForStatus(job.jobId, ["FAILED"]);
      expect(failed.error).toMatch(/exited \(SIGKILL\) while running the job/);
      expect(lost.map((entry) => entry.jobId)).toEqual([job.jobId]);
    } finally {
      await pool.close();
    }
  });
});

describe.runIf(process.env.TRADAI_TEST_MOTO_URL)(
  "LOCAL/SUBPROCESS on the DynamoDB state store (moto)",
  () => {
    it("hands the service's DynamoDB store to the workers, which run the job to COMPLETED there", async () => {
      const tableName = uniqueName("workflow-state");
      const aws = motoClients();
      const dynamo = await createDynamoDbWorkflowStateRepository({
        clients: aws,
        tableName,
        createTable: true,
      });
      // The env the backtest service gives its LOCAL workers for BACKEND_STATE_STORE=dynamodb.
      const env = serviceWorkerEnv({
        stateStore: "dynamodb",
        sqlitePath: path.join(dir, "not-this-one.db"),
        postgresUrl: undefined,
        workflowStateTable: tableName,
        awsRegion: "us-east-1",
        awsEndpointUrl: motoUrl(),
        resultStore: path.join(dir, "results"),
        strategyServiceUrl: "http://127.0.0.1:8003",
        dataCollectionUrl: "http://127.0.0.1:8002",
        mlflowTrackingUri: undefined,
      });
      expect(env).toMatchObject({
        WORKER_STATE_STORE: "dynamodb",
        WORKER_WORKFLOW_STATE_TABLE: tableName,
        WORKER_AWS_ENDPOINT_URL: motoUrl(),
      });
      const pool = createLocalSubprocessSubmitter({
        workerEntry,
        workers: 1,
        env: {
          ...env,
          WORKER_WORK: "noop",
          WORKER_LOG_LEVEL: "warn",
          AWS_ACCESS_KEY_ID: "test",
          AWS_SECRET_ACCESS_KEY: "test",
        },
        logger,
        onJobLost: () => undefined,
      });
      try {
        const { job } = await dynamo.create({ config, executor: "LOCAL/SUBPROCESS" });
        await pool.submit({ jobId: job.jobId, config, traceHeaders: {} });
        const deadline = Date.now() + 30_000;
        let current = await dynamo.get(job.jobId);
        while (current?.status !== "COMPLETED" && current?.status !== "FAILED" && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 100));
          current = await dynamo.get(job.jobId);
        }
        expect(current?.status).toBe("COMPLETED");
        expect(current?.progress).toBe(100);
        expect(current?.workerId).toMatch(/:\d+$/);
      } finally {
        await pool.close();
        await dynamo.close();
        aws.destroy();
      }
    }, 60_000);
  },
);

describe.runIf(process.env.TRADAI_TEST_REDIS_URL)("QUEUE (BullMQ on Redis)", () => {
  const redisUrl = process.env.TRADAI_TEST_REDIS_URL ?? "";
  const queueName = `backtests-${process.pid}-${Date.now()}`;
  const workers: ReturnType<typeof runEntry>[] = [];
  const startWorker = (extra: Record<string, string> = {}) => {
    const worker = runEntry({
      entry: "services/worker/src/main.ts",
      args: ["--queue"],
      env: workerEnv({ WORKER_REDIS_URL: redisUrl, WORKER_QUEUE_NAME: queueName, ...extra }),
    });
    workers.push(worker);
    return worker;
  };
  afterEach(() => {
    for (const worker of workers.splice(0)) worker.process.kill("SIGKILL");
  });

  it("runs a submitted job to COMPLETED, and a duplicate delivery of the same job runs once", async () => {
    const submitter = createQueueSubmitter({ redisUrl, queueName });
    startWorker();
    try {
      const { job } = await repository.create({ config });
      const receipt = await submitter.submit({
        jobId: job.jobId,
        config,
        traceHeaders: { traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" },
      });
      expect(receipt.reference).toBe(`${queueName}/${job.jobId}`);
      const done = await waitForStatus(job.jobId, ["COMPLETED", "FAILED"]);
      expect(done.status).toBe("COMPLETED");
      // The same job delivered again under another queue id (e.g. a re-sent message): skipped.
      const queue = new Queue(queueName, { connection: { url: redisUrl } });
      const duplicate = await queue.add(
        "backtest",
        { job_id: job.jobId, config, trace: {} },
        { jobId: `${job.jobId}-again` },
      );
      for (let i = 0; i < 100 && !(await duplicate.isCompleted()); i += 1)
        await new Promise((resolve) => setTimeout(resolve, 50));
      expect(await duplicate.isCompleted()).toBe(true);
      const after = await repository.get(job.jobId);
      expect(after?.attempts).toBe(1);
      expect(after?.version).toBe(done.version);
      await queue.close();
    } finally {
      await submitter.close();
    }
  });

  it("hands the job of a killed worker to another worker (stalled job), which completes it", async () => {
    const submitter = createQueueSubmitter({ redisUrl, queueName });
    const first = startWorker({ WORKER_NOOP_DELAY_MS: "60000" });
    try {
      const { job } = await repository.create({ config });
      await submitter.submit({ jobId: job.jobId, config, traceHeaders: {} });
      await waitForStatus(job.jobId, ["RUNNING"]);
      first.process.kill("SIGKILL");
      startWorker();
      const done = await waitForStatus(job.jobId, ["COMPLETED", "FAILED"], 40_000);
      expect(done.status).toBe("COMPLETED");
      expect(done.attempts).toBe(2);
    } finally {
      await submitter.close();
    }
  }, 60_000);

  it("marks a job FAILED in the state store when BullMQ fails it after its workers were killed twice", async () => {
    // Its own queue, so no worker of the other tests picks the job up.
    const ownQueue = `${queueName}-stalls`;
    const failedByQueue: { jobId: string; reason: string }[] = [];
    const submitter = createQueueSubmitter({
      redisUrl,
      queueName: ownQueue,
      // What the backtest service wires in (BacktestService.jobLost): FAILED unless already final.
      onJobFailed: async (jobId, reason) => {
        failedByQueue.push({ jobId, reason });
        const current = await repository.get(jobId);
        if (current && !["COMPLETED", "FAILED", "CANCELLED"].includes(current.status))
          await repository.transition(jobId, { to: "FAILED", error: reason });
      },
    });
    try {
      const { job } = await repository.create({ config });
      await submitter.submit({ jobId: job.jobId, config, traceHeaders: {} });
      const slow = { WORKER_NOOP_DELAY_MS: "120000", WORKER_QUEUE_NAME: ownQueue };
      const first = startWorker(slow);
      const running = await waitForStatus(job.jobId, ["RUNNING"], 30_000);
      first.process.kill("SIGKILL");
      // BullMQ notices the stall (lock expired) and hands the job to the next worker: attempt 2.
      const second = startWorker(slow);
      for (let deadline = Date.now() + 60_000; ;) {
        const current = await repository.get(job.jobId);
        if (current?.status === "RUNNING" && current.workerId !== running.workerId) break;
        if (Date.now() > deadline) throw new Error(`job was not taken over: ${JSON.stringify(current)}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      second.process.kill("SIGKILL");
      // Stalled twice (maxStalledCount 1): the next worker to see it fails it without running it.
      startWorker({ WORKER_QUEUE_NAME: ownQueue });
      const failed = await waitForStatus(job.jobId, ["FAILED", "COMPLETED"], 60_000);
      expect(failed.status).toBe("FAILED");
      expect(failed.error).toBe("the queue failed the job: job stalled more than allowable limit");
      expect(failedByQueue.map((entry) => entry.jobId)).toEqual([job.jobId]);
    } finally {
      await submitter.close();
    }
  }, 180_000);

  it("cancels a RUNNING job: the worker sees CANCELLED in the store, stops, and takes the next job", async () => {
    const ownQueue = `${queueName}-cancel`;
    const submitter = createQueueSubmitter({ redisUrl, queueName: ownQueue });
    startWorker({ WORKER_NOOP_DELAY_MS: "120000", WORKER_QUEUE_NAME: ownQueue });
    try {
      await cancelRunningJobs(serviceOver(submitter));
    } finally {
      await submitter.close();
    }
  }, 90_000);

  it("fails fast with UNAVAILABLE when Redis is unreachable", async () => {
    const submitter = createQueueSubmitter({ redisUrl: "redis://127.0.0.1:1", queueName });
    const started = Date.now();
    await expect(submitter.submit({ jobId: "x", config, traceHeaders: {} })).rejects.toMatchObject({
      code: 14,
    });
    expect(Date.now() - started).toBeLessThan(5_000);
    await submitter.close().catch(() => undefined);
  });
});

describe("LOCAL/DOCKER (Docker Engine API on podman)", () => {
  let podman: PodmanService;
  beforeAll(async () => {
    podman = await startPodmanService();
  }, 120_000);
  afterAll(() => podman?.stop());

  const dockerSubmitter = (extraEnv: Record<string, string>, lost: string[] = []) =>
    createLocalDockerSubmitter({
      socketPath: podman.socketPath,
      image: TEST_NODE_IMAGE,
      command: ["/usr/bin/node", "--import", "tsx", path.join(repoRoot, "services/worker/src/main.ts")],
      workingDir: repoRoot,
      binds: [`${repoRoot}:${repoRoot}:ro`, `${dir}:${dir}`],
      env: { ...workerEnv(extraEnv), HOME: "/tmp" },
      logger,
      onJobLost: async (jobId, reason) => {
        lost.push(reason);
        await repository.transition(jobId, { to: "FAILED", error: reason }).catch(() => undefined);
      },
    });

  it("runs the job in a container of the worker image to COMPLETED", async () => {
    const submitter = dockerSubmitter({});
    try {
      await submitter.check?.(AbortSignal.timeout(2_000));
      const { job } = await repository.create({ config });
      const receipt = await submitter.submit({ jobId: job.jobId, config, traceHeaders: {} });
      expect(receipt.executor).toBe("LOCAL/DOCKER");
      expect(receipt.reference).toMatch(/^[0-9a-f]{64}$/);
      const done = await waitForStatus(job.jobId, ["COMPLETED", "FAILED"], 60_000);
      expect(done.status).toBe("COMPLETED");
      expect(done.workerId).toMatch(/:\d+$/);
    } finally {
      await submitter.close();
    }
  }, 90_000);

  it("reports a container that exits without finishing its job as lost, with its logs", async () => {
    const lost: string[] = [];
    const submitter = dockerSubmitter({ WORKER_STATE_STORE: "postgres" }, lost);
    try {
      const { job } = await repository.create({ config });
      await submitter.submit({ jobId: job.jobId, config, traceHeaders: {} });
      const failed = await waitForStatus(job.jobId, ["FAILED"], 60_000);
      expect(failed.error).toMatch(/worker container exited with code 1/);
      expect(lost[0]).toContain("WORKER_POSTGRES_URL");
    } finally {
      await submitter.close();
    }
  }, 90_000);
});
