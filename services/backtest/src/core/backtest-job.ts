// The backtest job as the orchestration layer sees it (ARCHITECTURE.md §4.4, issue 6).
// `BacktestConfig` keeps the snake_case names of proto tradai.backtest.v1.BacktestConfig and of
// the REST body: it is persisted as that JSON document, so the stored form, the REST form and the
// proto field names are one and the same.

/** The lifecycle of a job: QUEUED → RUNNING → COMPLETED | FAILED | CANCELLED. */
export type JobStatus = "QUEUED" | "RUNNING" | "COMPLETED" | "FAILED" | "CANCELLED";

export const JOB_STATUSES: readonly JobStatus[] = ["QUEUED", "RUNNING", "COMPLETED", "FAILED", "CANCELLED"];

/** Statuses a job never leaves. */
export const FINAL_JOB_STATUSES: readonly JobStatus[] = ["COMPLETED", "FAILED", "CANCELLED"];

/**
 * The allowed moves, keyed by TARGET status: the statuses a job must be in to move there.
 * - QUEUED → RUNNING: a worker claims the job.
 * - RUNNING → COMPLETED | FAILED | CANCELLED: the claiming worker finishes, or the user cancels.
 * - QUEUED → CANCELLED: cancelled before any worker claimed it.
 * - QUEUED → FAILED: the job could not be launched (the executor refused it).
 * - RUNNING → QUEUED: a crashed worker's job is handed back for a retry (issue 6 §4).
 */
export const TRANSITION_SOURCES: Readonly<Record<JobStatus, readonly JobStatus[]>> = {
  QUEUED: ["RUNNING"],
  RUNNING: ["QUEUED"],
  COMPLETED: ["RUNNING"],
  FAILED: ["QUEUED", "RUNNING"],
  CANCELLED: ["QUEUED", "RUNNING"],
};

export function isFinalStatus(status: JobStatus): boolean {
  return FINAL_JOB_STATUSES.includes(status);
}

export function isJobStatus(value: unknown): value is JobStatus {
  return typeof value === "string" && (JOB_STATUSES as readonly string[]).includes(value);
}

/** A JSON value, as strategy parameter overrides are. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** What to backtest: proto tradai.backtest.v1.BacktestConfig, field for field. */
export interface BacktestConfig {
  strategy: string;
  /** Empty means the latest registered version. */
  strategy_version: string;
  /** ccxt exchange id, e.g. "binance". */
  exchange: string;
  pairs: string[];
  timeframe: string;
  /** Freqtrade's timerange syntax: "YYYYMMDD-YYYYMMDD", "YYYYMMDD-" or "-YYYYMMDD". */
  timerange: string;
  /** A stake in the stake currency, or "unlimited". */
  stake_amount: number | "unlimited";
  /** Starting balance in the stake currency. */
  dry_run_wallet: number;
  /** -1 means unlimited. */
  max_open_trades: number;
  /** Fee fraction per side; absent uses the exchange's fee. */
  fee?: number;
  /** Strategy parameter overrides. */
  params: Record<string, JsonValue>;
  stake_currency: string;
  /** Lower timeframe for intra-candle resolution (Freqtrade's --timeframe-detail); "" for none. */
  timeframe_detail: string;
}

/** A named summary metric (proto tradai.common.v1.Metric); values may be ±Infinity or NaN. */
export interface JobMetric {
  name: string;
  value: number;
}

/** One backtest job as stored in the WorkflowStateRepository. */
export interface BacktestJob {
  jobId: string;
  status: JobStatus;
  config: BacktestConfig;
  /** The client's idempotency key; a second submission with it returns this job. */
  idempotencyKey?: string;
  /** 0..100. */
  progress: number;
  /** Human-readable stage ("loading data", "simulating", ...); "" before any. */
  stage: string;
  createdAt: Date;
  updatedAt: Date;
  /** When a worker last claimed it (QUEUED → RUNNING). */
  startedAt?: Date;
  /** When it reached a final status. */
  finishedAt?: Date;
  /** Summary metrics, set when COMPLETED. */
  summary: JobMetric[];
  /** Where the full result was written (file path or s3:// URI), set when COMPLETED. */
  resultUri?: string;
  /** Why it FAILED (or was CANCELLED, when a reason was given). */
  error?: string;
  /** The executor mode that runs it ("LOCAL", "QUEUE", "SQS", "ECS", "STEPFUNCTIONS"). */
  executor?: string;
  /** The executor's handle: task ARN, SQS message id, execution ARN, container id, BullMQ job id. */
  executionId?: string;
  /** The MLflow run that tracks it. */
  mlflowRunId?: string;
  /** The worker holding the job while RUNNING; only it may finish the job or report progress. */
  workerId?: string;
  /** How many times a worker claimed it (1 on the first run, +1 per retry). */
  attempts: number;
  /** Incremented on every write; for clients that want to detect changes cheaply. */
  version: number;
}
