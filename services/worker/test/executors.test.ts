// Jobs through the LOCAL/SUBPROCESS pool and the QUEUE executor (real Redis) to a real SQLite state
// store, with real worker processes: completion, duplicate delivery, a worker killed mid-job.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import {
  createLocalDockerSubmitter,
  createLocalSubprocessSubmitter,
  createQueueSubmitter,
  createSqliteWorkflowStateRepository,
  type BacktestConfig,
  type BacktestJob,
  type WorkflowStateRepository,
} from "@tradai/backtest";
import { createLogger } from "@tradai/common";
import { Queue } from "bullmq";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startPodmanService, TEST_NODE_IMAGE, type PodmanService } from "../../../test/support/podman";
import { repoRoot, runEntry } from "../../../test/support/spawn-service";

const workerEntry = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../src/main.ts");
const logger = createLogger({ service: "test", level: "silent" });
const config: BacktestConfig = {
  strategy: "noop",
  strategy_version: "",
  exchange: "binance",
  pairs: ["BTC/USDT"],
  timeframe: "5m",
  timerange: "20250101-20250201",
  stake_amount: 100,
  dry_run_wallet: 1000,
  max_open_trades: 1,
  params: {},
  stake_currency: "USDT",
  timeframe_detail: "",
};

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

describe("LOCAL/SUBPROCESS pool", () => {
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
