// What a worker does with one job, independent of how the job arrived (BullMQ, the LOCAL pool's
// IPC, an ECS task's environment, the CLI).
import type { BacktestJobMessage } from "./backtest-job-submitter";

export interface JobContext {
  /** Aborted when the job is cancelled or the worker shuts down. */
  signal: AbortSignal;
  /** Reports progress (0..100) and the current stage; cheap enough to call often. */
  reportProgress(percent: number, stage: string): void;
  /**
   * True when the executor redelivers a job whose previous worker died (BullMQ stalled-job
   * recovery): the runner may take over a job still marked RUNNING.
   */
  redelivered?: boolean;
}

export type JobHandler = (message: BacktestJobMessage, context: JobContext) => Promise<void>;

/** Messages between the LOCAL pool (parent) and a worker process (child) over Node IPC. */
export type PoolToWorker =
  { type: "run"; job: unknown } | { type: "cancel"; jobId: string } | { type: "shutdown" };
export type WorkerToPool =
  | { type: "ready" }
  | { type: "progress"; jobId: string; percent: number; stage: string }
  | { type: "done"; jobId: string; error?: string };
