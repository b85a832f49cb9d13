// One job's life in a worker (ARCHITECTURE.md §4.5): claim it by conditional write (a duplicate
// delivery of a job another worker holds or finished is skipped — "the same message twice runs
// once"), do the work while reporting progress, then complete or fail it. A progress write that
// loses (the job was CANCELLED) aborts the work; the job never stays RUNNING after the worker.
import type { JobContext, JobHandler, BacktestJobMessage } from "@tradai/backtest";
import type { Logger } from "@tradai/common";
import type { JobMetric, WorkflowStateRepository } from "../ports";
import { JobConflictError } from "../ports";

export interface WorkResult {
  summary: JobMetric[];
  resultUri?: string;
  mlflowRunId?: string;
}

export interface WorkContext extends JobContext {
  jobId: string;
}

/** The job's actual work (a backtest, or nothing for queue benchmarks). */
export type JobWork = (message: BacktestJobMessage, context: WorkContext) => Promise<WorkResult>;

export interface JobRunnerOptions {
  repository: WorkflowStateRepository;
  /** Identifies this worker in the state store (host:pid:n). */
  workerId: string;
  work: JobWork;
  logger: Logger;
  /** Least time between two progress writes; default 250 ms. */
  progressIntervalMs?: number;
  /**
   * How often a running job re-reads its status, so a cancellation reaches the work even between
   * progress writes (QUEUE, ECS and Step Functions workers have no other channel); default 1000 ms.
   */
  cancelCheckIntervalMs?: number;
  now?: () => number;
}

export interface RunOptions {
  /** Take over a job left RUNNING by a worker that died (BullMQ redelivers only after the lock expired). */
  takeOver?: boolean;
}

export type JobRunner = JobHandler & {
  run(
    message: BacktestJobMessage,
    context: JobContext,
    options?: RunOptions,
  ): Promise<"completed" | "failed" | "cancelled" | "skipped">;
};

export function createJobRunner(options: JobRunnerOptions): JobRunner {
  const { repository, workerId, logger } = options;
  const interval = options.progressIntervalMs ?? 250;
  const now = options.now ?? Date.now;

  const claim = async (jobId: string, takeOver: boolean): Promise<boolean> => {
    try {
      await repository.transition(jobId, { to: "RUNNING", workerId });
      return true;
    } catch (error) {
      if (!(error instanceof JobConflictError)) throw error;
      if (takeOver && error.actualStatus === "RUNNING") {
        logger.warn(
          { job_id: jobId, previous_worker: error.actualWorkerId },
          "taking over a job whose worker died",
        );
        await repository.transition(jobId, { to: "QUEUED", from: "RUNNING", error: "worker lost; retrying" });
        return claim(jobId, false);
      }
      // A one-shot worker exits 0 after this: nothing failed, the job is simply not this worker's.
      logger.info(
        { job_id: jobId, status: error.actualStatus },
        `job already ${error.actualStatus}, nothing to do (duplicate delivery, or cancelled before it ran)`,
      );
      return false;
    }
  };

  const run: JobRunner["run"] = async (message, context, runOptions = {}) => {
    const { jobId } = message;
    if (!(await claim(jobId, runOptions.takeOver ?? context.redelivered ?? false))) return "skipped";
    const controller = new AbortController();
    const abortFromCaller = () => controller.abort(context.signal.reason);
    context.signal.addEventListener("abort", abortFromCaller, { once: true });
    let lastWrite = 0;
    let writing: Promise<unknown> = Promise.resolve();
    const reportProgress = (percent: number, stage: string) => {
      context.reportProgress(percent, stage);
      const at = now();
      // 100 % is written by the COMPLETED transition itself; other reports are throttled.
      if (percent >= 100 || at - lastWrite < interval) return;
      lastWrite = at;
      writing = writing
        .then(() =>
          repository.updateProgress(jobId, {
            progress: Math.max(0, Math.min(100, percent)),
            stage,
            workerId,
          }),
        )
        .catch((error: unknown) => {
          if (error instanceof JobConflictError) controller.abort(new Error(`job is ${error.actualStatus}`));
          else logger.warn({ job_id: jobId, err: error }, "progress write failed");
        });
    };
    // A cancelled job is seen here within one interval; the work stops at its next stage boundary.
    const cancelCheck = setInterval(() => {
      if (controller.signal.aborted) return;
      repository.get(jobId).then(
        (current) => {
          if (current?.status === "CANCELLED") controller.abort(new Error("job is CANCELLED"));
        },
        (error: unknown) => logger.warn({ job_id: jobId, err: error }, "cancellation check failed"),
      );
    }, options.cancelCheckIntervalMs ?? 1_000);
    cancelCheck.unref();
    try {
      const result = await options.work(message, { jobId, signal: controller.signal, reportProgress });
      await writing;
      if (controller.signal.aborted) throw controller.signal.reason ?? new Error("aborted");
      await repository.transition(jobId, {
        to: "COMPLETED",
        workerId,
        summary: result.summary,
        ...(result.resultUri === undefined ? {} : { resultUri: result.resultUri }),
      });
      if (result.mlflowRunId !== undefined)
        await repository.annotate(jobId, { mlflowRunId: result.mlflowRunId });
      return "completed";
    } catch (error) {
      await writing;
      const current = await repository.get(jobId);
      if (current?.status === "CANCELLED") {
        logger.info({ job_id: jobId }, "job cancelled");
        return "cancelled";
      }
      const reason = error instanceof Error ? error.message : String(error);
      logger.error({ job_id: jobId, err: error }, "job failed");
      try {
        await repository.transition(jobId, { to: "FAILED", workerId, error: reason });
      } catch (transitionError) {
        if (!(transitionError instanceof JobConflictError)) throw transitionError;
      }
      return "failed";
    } finally {
      clearInterval(cancelCheck);
      context.signal.removeEventListener("abort", abortFromCaller);
    }
  };

  const handler = (async (message: BacktestJobMessage, context: JobContext) => {
    await run(message, context);
  }) as JobRunner;
  handler.run = run;
  return handler;
}
