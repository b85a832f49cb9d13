// The QUEUE executor wired as main.ts wires it (createBacktestApplication → ExecutorFactory →
// BacktestService.jobLost), on real Redis: a job BullMQ fails while the service listens becomes
// FAILED through the queue's events; one BullMQ fails, or loses, while no service runs becomes FAILED
// at the next start-up (QueueEvents only sees events from "now").
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createLogger } from "@tradai/common";
import { Queue, UnrecoverableError, Worker } from "bullmq";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { BacktestJob } from "../src/core/backtest-job";
import type { WorkflowStateRepository } from "../src/core/workflow-state-repository";
import {
  createBacktestApplication,
  type BacktestApplication,
} from "../src/infrastructure/backtest-application";
import { ExecutorMode, LocalExecutionMode } from "../src/core/backtest-job-submitter";
import { createSqliteWorkflowStateRepository } from "../src/infrastructure/sqlite-workflow-state-repository";
import { testBacktestConfig } from "./support/backtest-config-fixture";

const redisUrl = process.env.TRADAI_TEST_REDIS_URL;
const logger = createLogger({ service: "test", level: "silent" });
const config = testBacktestConfig();

describe.runIf(redisUrl)("QUEUE jobs failed or lost by BullMQ (real Redis)", () => {
  let dir: string;
  let repository: WorkflowStateRepository;
  const open: { close(): Promise<void> }[] = [];
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), "tradai-reconcile-"));
  });
  // Each test its own store: reconciliation looks at every open QUEUE job in it.
  beforeEach(() => {
    repository = createSqliteWorkflowStateRepository({ path: path.join(dir, `${randomUUID()}.db`) });
    open.push(repository);
  });
  afterEach(async () => {
    for (const item of open.splice(0).reverse()) await item.close().catch(() => undefined);
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const application = (queueName: string, reconcileGraceMs = 0): BacktestApplication => {
    const app = createBacktestApplication({
      executor: {
        mode: ExecutorMode.QUEUE,
        localExecutionMode: LocalExecutionMode.SUBPROCESS,
        redisUrl: redisUrl ?? "",
        queueName,
      },
      repository,
      strategies: { validate: async () => ({ violations: [], version: "v1", startupCandles: 0 }) },
      marketData: { ensure: async () => undefined, unlistedPairs: async () => [] },
      results: { read: async () => null },
      logger,
      reconcileGraceMs,
    });
    open.push(app);
    return app;
  };

  /** A BullMQ worker that fails every job for good, as a worker hitting a fatal error does. */
  const failingWorker = (queueName: string) => {
    const worker = new Worker(
      queueName,
      async () => {
        throw new UnrecoverableError("strategy image is missing");
      },
      { connection: { url: redisUrl ?? "" } },
    );
    open.push(worker);
    return worker;
  };

  async function waitForStatus(jobId: string, status: string, timeoutMs = 30_000): Promise<BacktestJob> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const job = await repository.get(jobId);
      if (job?.status === status) return job;
      if (Date.now() > deadline)
        throw new Error(`job ${jobId} is ${JSON.stringify(job)}, expected ${status}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  const uniqueQueue = (name: string) => `${name}-${process.pid}-${Date.now()}`;

  it("marks a job FAILED when BullMQ fails it while the service runs (ExecutorFactory's onJobFailed → jobLost)", async () => {
    const queueName = uniqueQueue("wired");
    const app = application(queueName, 60_000);
    await app.start();
    // The queue's event stream is read from "now": let its reader connect before the failure.
    await app.submitter.check?.(AbortSignal.timeout(5_000));
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const { job } = await app.service.submit({ config, traceHeaders: {} });
    expect(job.status).toBe("QUEUED");
    expect(job.executor).toBe("QUEUE");
    failingWorker(queueName);
    const failed = await waitForStatus(job.jobId, "FAILED");
    expect(failed.error).toBe("the queue failed the job: strategy image is missing");
  }, 60_000);

  it("at start-up, fails the jobs BullMQ failed or lost while no service ran, and leaves waiting ones", async () => {
    const queueName = uniqueQueue("reconcile");
    const first = application(queueName);
    const { job: failedJob } = await first.service.submit({ config, traceHeaders: {} });
    await first.close();
    // No service runs: BullMQ fails the job, and nobody hears of it.
    const worker = failingWorker(queueName);
    const queue = new Queue(queueName, { connection: { url: redisUrl ?? "" } });
    open.push(queue);
    for (let i = 0; i < 300 && (await queue.getJob(failedJob.jobId))?.failedReason === undefined; i += 1)
      await new Promise((resolve) => setTimeout(resolve, 50));
    expect((await queue.getJob(failedJob.jobId))?.failedReason).toBe("strategy image is missing");
    await worker.close();
    expect((await repository.get(failedJob.jobId))?.status).toBe("QUEUED");
    // A job the store has but the queue lost (e.g. Redis flushed), and one still waiting in the queue.
    const { job: lostJob } = await repository.create({ config, executor: "QUEUE" });
    await repository.transition(lostJob.jobId, { to: "RUNNING", workerId: "gone:1" });
    const second = application(queueName);
    const { job: waitingJob } = await second.service.submit({ config, traceHeaders: {} });

    await second.start();
    const failed = await repository.get(failedJob.jobId);
    expect(failed?.status).toBe("FAILED");
    expect(failed?.error).toBe("the queue failed the job: strategy image is missing");
    const lost = await repository.get(lostJob.jobId);
    expect(lost?.status).toBe("FAILED");
    expect(lost?.error).toBe(
      "lost from the queue: the queue no longer holds the job; submit it again to re-run it",
    );
    expect((await repository.get(waitingJob.jobId))?.status).toBe("QUEUED");
  }, 60_000);

  it("leaves jobs younger than the grace period alone (a submission may still be queueing them)", async () => {
    const queueName = uniqueQueue("grace");
    const { job } = await repository.create({ config, executor: "QUEUE" });
    const app = application(queueName, 60_000);
    await app.start();
    expect((await repository.get(job.jobId))?.status).toBe("QUEUED");
    expect(await app.service.reconcile(0)).toEqual({ failed: [job.jobId] });
  }, 30_000);
});
