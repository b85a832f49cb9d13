// QUEUE executor: BullMQ on Redis. The job id is the BullMQ job id, so a resubmission of the same
// job is a no-op; the trace context travels in the job data. Redis down → fail fast (UNAVAILABLE),
// never a job record without a queue entry (the service deletes the record when submit throws).
import { Code, ConnectError } from "@connectrpc/connect";
import type { Logger } from "@tradai/common";
import { Queue, QueueEvents } from "bullmq";
import {
  encodeJobMessage,
  type BacktestJobMessage,
  type BacktestJobSubmitter,
  type QueuedJobState,
  type SubmissionReceipt,
} from "../core/backtest-job-submitter";

export const DEFAULT_BACKTEST_QUEUE = "tradai-backtests";

export interface QueueSubmitterOptions {
  /** redis://host:port[/db] */
  redisUrl: string;
  /** BullMQ queue name; default "tradai-backtests". */
  queueName?: string;
  /** Longest a submission waits for Redis before failing with UNAVAILABLE; default 2000 ms. */
  submitTimeoutMs?: number;
  /** Attempts per job when the worker crashes or hits a retryable error; default 2. */
  attempts?: number;
  /**
   * Called when BullMQ moves a job to its failed set for good (stalled too often — its workers were
   * killed —, a bad message, retries exhausted): paths on which the worker never wrote FAILED. The
   * service marks the job FAILED with the reason unless it is already final. Without it, such a job
   * would stay RUNNING in the state store forever.
   */
  onJobFailed?(jobId: string, reason: string): Promise<void> | void;
  logger?: Logger;
}

export interface RedisEndpoint {
  host: string;
  port: number;
  db: number;
  password?: string;
  username?: string;
}

/** Parses redis://[user:password@]host:port[/db] into BullMQ connection options. */
export function redisConnection(redisUrl: string): RedisEndpoint {
  const url = new URL(redisUrl);
  return {
    host: url.hostname,
    port: Number(url.port === "" ? 6379 : url.port),
    db: url.pathname.length > 1 ? Number(url.pathname.slice(1)) : 0,
    ...(url.password === "" ? {} : { password: decodeURIComponent(url.password) }),
    ...(url.username === "" ? {} : { username: decodeURIComponent(url.username) }),
  };
}

function withTimeout<T>(promise: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    }),
  ]).finally(() => clearTimeout(timer));
}

export function createQueueSubmitter(options: QueueSubmitterOptions): BacktestJobSubmitter {
  const queueName = options.queueName ?? DEFAULT_BACKTEST_QUEUE;
  const queue = new Queue(queueName, {
    connection: {
      ...redisConnection(options.redisUrl),
      // Fail fast instead of buffering commands while Redis is down.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 2_000,
    },
    defaultJobOptions: {
      attempts: options.attempts ?? 2,
      backoff: { type: "exponential", delay: 1_000 },
      removeOnComplete: { count: 10_000 },
      removeOnFail: { count: 10_000 },
    },
  });
  // Connection errors surface through add(); keep them from crashing the process as unhandled events.
  queue.on("error", () => undefined);

  // Final failures, from any worker (QueueEvents reads the queue's event stream on its own connection).
  let events: QueueEvents | undefined;
  const onJobFailed = options.onJobFailed;
  if (onJobFailed !== undefined) {
    events = new QueueEvents(queueName, { connection: redisConnection(options.redisUrl) });
    events.on("error", (error) => options.logger?.warn({ err: error }, "queue events connection error"));
    events.on("failed", ({ jobId: queueJobId, failedReason }) => {
      void (async () => {
        // The queue job id is the backtest job id, except for hand-made duplicates: read the message.
        const queued = await queue.getJob(queueJobId).catch(() => undefined);
        const data = queued?.data as { job_id?: unknown } | undefined;
        const jobId = typeof data?.job_id === "string" ? data.job_id : queueJobId;
        await onJobFailed(jobId, `the queue failed the job: ${failedReason}`);
      })().catch((error: unknown) =>
        options.logger?.error({ err: error, job_id: queueJobId }, "could not record a job the queue failed"),
      );
    });
  }

  const unavailable = (error: unknown) =>
    new ConnectError(
      `the backtest queue (Redis at ${new URL(options.redisUrl).host}) is unreachable: ${error instanceof Error ? error.message : String(error)}`,
      Code.Unavailable,
      undefined,
      undefined,
      error,
    );

  return {
    executor: "QUEUE",
    plannedReference: (jobId: string) => `${queueName}/${jobId}`,
    async submit(message: BacktestJobMessage): Promise<SubmissionReceipt> {
      try {
        const job = await withTimeout(
          queue.add("backtest", encodeJobMessage(message), { jobId: message.jobId }),
          options.submitTimeoutMs ?? 2_000,
        );
        return { executor: "QUEUE", reference: `${queueName}/${job.id ?? message.jobId}` };
      } catch (error) {
        throw unavailable(error);
      }
    },
    async cancel(jobId: string): Promise<void> {
      const job = await queue.getJob(jobId);
      // A waiting or delayed job is removed; an active one sees CANCELLED in the state store.
      if (job && ((await job.isWaiting()) || (await job.isDelayed()))) await job.remove();
    },
    async queuedJobState(jobId: string): Promise<QueuedJobState> {
      const job = await queue.getJob(jobId);
      if (job === undefined) return { state: "missing" };
      const state = await job.getState();
      if (state === "failed") return { state: "failed", reason: job.failedReason };
      if (state === "completed") return { state: "completed" };
      // getJob read the hash but the job left every list since (removed): as good as missing.
      if (state === "unknown") return { state: "missing" };
      return { state: "pending" };
    },
    async check(): Promise<void> {
      await queue.getJobCountByTypes("waiting");
    },
    async close(): Promise<void> {
      await events?.close();
      await queue.close();
    },
  };
}
