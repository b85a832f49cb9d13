// The port through which the backtest service hands a QUEUED job to wherever it runs (the spec's
// BacktestJobSubmitter, §4), and the message every executor carries to the worker.
import type { BacktestConfig } from "./backtest-job";

/** Where jobs run (the spec's ExecutorMode). */
export const ExecutorMode = {
  LOCAL: "LOCAL",
  QUEUE: "QUEUE",
  SQS: "SQS",
  ECS: "ECS",
  STEPFUNCTIONS: "STEPFUNCTIONS",
} as const;
export type ExecutorMode = (typeof ExecutorMode)[keyof typeof ExecutorMode];
export const EXECUTOR_MODES = Object.values(ExecutorMode);

/** Sub-modes of LOCAL (the spec's BACKEND_LOCAL_EXECUTION_MODE). */
export const LocalExecutionMode = { SUBPROCESS: "SUBPROCESS", DOCKER: "DOCKER" } as const;
export type LocalExecutionMode = (typeof LocalExecutionMode)[keyof typeof LocalExecutionMode];

/** What an executor carries to the worker: the job id, its config and the caller's trace context. */
export interface BacktestJobMessage {
  jobId: string;
  config: BacktestConfig;
  /** W3C trace context (traceparent, tracestate) of the submitting request. */
  traceHeaders: Record<string, string>;
}

export interface SubmissionReceipt {
  /** The executor's name, recorded on the job ("LOCAL/SUBPROCESS", "QUEUE", "ECS", ...). */
  executor: string;
  /** The executor's own reference: BullMQ job id, SQS message id, task ARN, execution ARN. */
  reference: string;
}

/** A job as its executor's queue sees it (`BacktestJobSubmitter.queuedJobState`). */
export type QueuedJobState =
  { state: "pending" } | { state: "completed" } | { state: "failed"; reason: string } | { state: "missing" };

export interface BacktestJobSubmitter {
  readonly executor: string;
  /**
   * Set when the executor cannot take any job (not configured): submissions fail with this error
   * before validation and EnsureData, so nothing is downloaded for a job that cannot run.
   */
  readonly unavailable?: Error;
  /** Hands the job over; resolves once the executor has durably accepted it. */
  submit(message: BacktestJobMessage): Promise<SubmissionReceipt>;
  /**
   * The receipt's reference when the executor names jobs after their id (a queue job id): the
   * service then records it with the job and skips a second write after submission.
   */
  plannedReference?(jobId: string): string;
  /**
   * Best effort: stops the job where the executor can (the state store is the source of truth).
   * `reference` is the executor reference recorded with the job (task ARN, execution ARN, container
   * id), so a job submitted by another instance or before a restart can be stopped too.
   */
  cancel(jobId: string, reference?: string): Promise<void>;
  /**
   * Executors whose jobs live only in this process (LOCAL): whether the worker of a RUNNING job
   * still exists. The service uses it at start-up to recover jobs a previous instance left behind.
   */
  isWorkerAlive?(job: { jobId: string; workerId?: string; executionId?: string }): Promise<boolean>;
  /**
   * Executors with a queue of their own (QUEUE): where the queue has the job. The service uses it at
   * start-up and periodically to fail jobs the queue failed or lost while no instance was listening.
   */
  queuedJobState?(jobId: string): Promise<QueuedJobState>;
  /** Liveness of what the submitter depends on (Redis, the queue, ...), for the health document. */
  check?(signal: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

/** The job message as it travels: queue payloads, IPC, ECS overrides, Step Functions input. */
export interface EncodedJobMessage {
  job_id: string;
  config: BacktestConfig;
  trace: Record<string, string>;
}

export function encodeJobMessage(message: BacktestJobMessage): EncodedJobMessage {
  return { job_id: message.jobId, config: message.config, trace: message.traceHeaders };
}

export class JobMessageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "JobMessageError";
  }
}

/** Parses a job message (object or JSON text); the config was validated at submission, so only its shape is checked. */
export function decodeJobMessage(value: unknown): BacktestJobMessage {
  let body: unknown = value;
  if (typeof value === "string") {
    try {
      body = JSON.parse(value);
    } catch (error) {
      throw new JobMessageError(`job message: expected JSON, got ${value.slice(0, 80)} (${String(error)})`);
    }
  }
  if (body === null || typeof body !== "object")
    throw new JobMessageError(`job message: expected an object, got ${JSON.stringify(body)}`);
  const record = body as Record<string, unknown>;
  if (typeof record.job_id !== "string" || record.job_id === "") {
    throw new JobMessageError(
      `job message field job_id: expected a non-empty string, got ${JSON.stringify(record.job_id)}`,
    );
  }
  const config = record.config as Record<string, unknown> | null;
  if (config === null || typeof config !== "object") {
    throw new JobMessageError(
      `job message field config: expected an object, got ${JSON.stringify(record.config)}`,
    );
  }
  for (const field of ["strategy", "exchange", "timeframe"] as const) {
    if (typeof config[field] !== "string" || config[field] === "") {
      throw new JobMessageError(
        `job message field config.${field}: expected a non-empty string, got ${JSON.stringify(config[field])}`,
      );
    }
  }
  if (!Array.isArray(config.pairs) || !config.pairs.every((pair) => typeof pair === "string")) {
    throw new JobMessageError(
      `job message field config.pairs: expected a list of pairs, got ${JSON.stringify(config.pairs)}`,
    );
  }
  const trace: Record<string, string> = {};
  if (record.trace !== null && typeof record.trace === "object") {
    for (const [key, item] of Object.entries(record.trace)) if (typeof item === "string") trace[key] = item;
  }
  return { jobId: record.job_id, config: config as unknown as BacktestConfig, traceHeaders: trace };
}
