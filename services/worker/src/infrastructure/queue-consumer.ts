// The worker side of the QUEUE executor: a BullMQ Worker. A worker that crashes mid-job leaves the
// job stalled; BullMQ moves it back to waiting (once, maxStalledCount 1) and then fails it, so a job
// is retried or FAILED — never RUNNING forever. Non-retryable errors fail at once (UnrecoverableError).
import { decodeJobMessage, JobMessageError, type JobHandler } from "@tradai/backtest";
import { dispositionOf, type Logger } from "@tradai/common";
import { UnrecoverableError, Worker, type ConnectionOptions } from "bullmq";

export interface QueueConsumerOptions {
  connection: ConnectionOptions;
  queueName: string;
  /** Jobs processed at once by this process; default 1 (a backtest uses a whole core). */
  concurrency?: number;
  logger: Logger;
}

export interface QueueConsumer {
  close(): Promise<void>;
}

export function startQueueConsumer(handler: JobHandler, options: QueueConsumerOptions): QueueConsumer {
  const worker = new Worker(
    options.queueName,
    async (job, _token, signal) => {
      let message;
      try {
        message = decodeJobMessage(job.data);
      } catch (error) {
        throw new UnrecoverableError(error instanceof JobMessageError ? error.message : String(error));
      }
      const controller = new AbortController();
      signal?.addEventListener("abort", () => controller.abort(signal.reason), { once: true });
      try {
        await handler(message, {
          signal: controller.signal,
          redelivered: job.attemptsMade > 0 || job.stalledCounter > 0,
          reportProgress: (percent, stage) =>
            void job.updateProgress({ percent, stage }).catch(() => undefined),
        });
      } catch (error) {
        if (dispositionOf(error) !== "retryable")
          throw new UnrecoverableError(error instanceof Error ? error.message : String(error));
        throw error;
      }
    },
    {
      connection: options.connection,
      concurrency: options.concurrency ?? 1,
      maxStalledCount: 1,
      stalledInterval: 5_000,
      lockDuration: 10_000,
    },
  );
  worker.on("error", (error) => options.logger.error({ err: error }, "queue consumer error"));
  worker.on("failed", (job, error) =>
    options.logger.warn({ job_id: job?.id, err: error.message }, "job failed"),
  );
  return { close: () => worker.close() };
}
