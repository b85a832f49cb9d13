// WorkflowStateRepository (the spec's name, §4): where backtest jobs and their status live.
// Implementations: SQLite (embedded default), PostgreSQL (compose/k8s), DynamoDB (AWS, the spec's
// tradai-workflow-state-{env} table), all in infrastructure/ and all held to one contract suite
// (test/workflow-state-repository.contract.test.ts).
//
// Every status change is a conditional write: the write names the statuses (and, out of RUNNING,
// the worker) it expects, and a writer that lost a race gets a JobConflictError instead of
// overwriting the winner — two workers can never both claim or both complete one job.
//
// The helpers below (record layout, transition plans, page tokens) are shared by the three
// implementations so they store the same columns and behave the same way.
import { Code } from "@connectrpc/connect";
import { DomainError, invalidArgument } from "@tradai/common";
import {
  TRANSITION_SOURCES,
  isJobStatus,
  type BacktestConfig,
  type BacktestJob,
  type JobMetric,
  type JobStatus,
} from "./backtest-job";

export interface CreateJobInput {
  config: BacktestConfig;
  /** A second create with the same key returns the first job (and `existing: true`). */
  idempotencyKey?: string;
  /** Default: a random UUID. */
  jobId?: string;
  executor?: string;
  /** The executor's reference, when known before submission. */
  executionId?: string;
}

export interface CreateJobResult {
  job: BacktestJob;
  /** True when the idempotency key matched a job that already existed. */
  existing: boolean;
}

export interface TransitionRequest {
  to: JobStatus;
  /**
   * To RUNNING: the claiming worker (required). Out of RUNNING: when given, the write succeeds
   * only if this worker holds the job (a cancel from the API leaves it out).
   */
  workerId?: string;
  /** Narrows the allowed source statuses (default: every source TRANSITION_SOURCES allows). */
  from?: JobStatus | readonly JobStatus[];
  /** Why the job FAILED (required for FAILED), was CANCELLED or was handed back to QUEUED. */
  error?: string;
  /** Summary metrics, for COMPLETED. */
  summary?: JobMetric[];
  /** Where the full result was written, for COMPLETED. */
  resultUri?: string;
  /** Stage label to set with the move (default: "running", "completed", "failed", "cancelled", "queued"). */
  stage?: string;
}

export interface ProgressUpdate {
  /** 0..100. */
  progress: number;
  stage?: string;
  /** When given, the update succeeds only if this worker holds the job. */
  workerId?: string;
}

/** Facts about a job that do not change its status. */
export interface JobAnnotations {
  executor?: string;
  executionId?: string;
  mlflowRunId?: string;
}

export interface ListJobsQuery {
  strategy?: string;
  status?: JobStatus | readonly JobStatus[];
  /** Created at or after (inclusive). */
  createdFrom?: Date;
  /** Created before (exclusive). */
  createdTo?: Date;
  /** Default 50, at most 1000. */
  pageSize?: number;
  /** The `nextPageToken` of the previous page. */
  pageToken?: string;
}

export interface JobPage {
  /** Newest first (by creation time, then job id). */
  jobs: BacktestJob[];
  /** Absent on the last page. */
  nextPageToken?: string;
}

export interface WorkflowStateRepository {
  /** Records a new job as QUEUED, or returns the job its idempotency key already names. */
  create(input: CreateJobInput): Promise<CreateJobResult>;
  /** The job, or undefined when there is none with that id. */
  get(jobId: string): Promise<BacktestJob | undefined>;
  /** The job created with this idempotency key, or undefined. */
  findByIdempotencyKey(idempotencyKey: string): Promise<BacktestJob | undefined>;
  list(query?: ListJobsQuery): Promise<JobPage>;
  /**
   * Moves the job to `request.to` by a conditional write.
   * @throws JobNotFoundError when there is no such job.
   * @throws JobConflictError when the job is not in an allowed source status (or held by another worker).
   */
  transition(jobId: string, request: TransitionRequest): Promise<BacktestJob>;
  /**
   * Sets progress and stage while RUNNING. A JobConflictError tells the worker the job was
   * cancelled or taken over, so it should stop.
   */
  updateProgress(jobId: string, update: ProgressUpdate): Promise<BacktestJob>;
  /** Records the executor, execution handle or MLflow run id, in any status. */
  annotate(jobId: string, annotations: JobAnnotations): Promise<BacktestJob>;
  /**
   * Removes the job and frees its idempotency key — for a job the executor refused right after it
   * was recorded (issue 6: bad input leaves no job record behind). True when there was one.
   */
  delete(jobId: string): Promise<boolean>;
  /** Releases connections (not the underlying database or table). */
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Errors

export class JobNotFoundError extends DomainError {
  constructor(readonly jobId: string) {
    super(Code.NotFound, `backtest job ${jobId} not found`);
    this.name = "JobNotFoundError";
  }
}

/** A conditional write lost: the job was not in the status (or held by the worker) the writer expected. */
export class JobConflictError extends DomainError {
  constructor(
    readonly jobId: string,
    readonly attempted: JobStatus | "PROGRESS",
    readonly expectedStatuses: readonly JobStatus[],
    readonly actualStatus: JobStatus,
    readonly expectedWorkerId?: string,
    readonly actualWorkerId?: string,
  ) {
    const statusOk = expectedStatuses.includes(actualStatus);
    const what = attempted === "PROGRESS" ? "report progress" : `move to ${attempted}`;
    const detail = statusOk
      ? `expected worker ${expectedWorkerId ?? "(any)"}, got ${actualWorkerId ?? "(none)"}`
      : `expected status ${expectedStatuses.join(" or ")}, got ${actualStatus}`;
    super(Code.FailedPrecondition, `backtest job ${jobId}: cannot ${what}: ${detail}`);
    this.name = "JobConflictError";
  }
}

// ---------------------------------------------------------------------------------------------
// The stored record: one flat row/item, the same columns in every implementation.

export interface JobRecord {
  job_id: string;
  status: JobStatus;
  strategy: string;
  config_json: string;
  idempotency_key: string | null;
  progress: number;
  stage: string;
  created_at: number;
  updated_at: number;
  started_at: number | null;
  finished_at: number | null;
  summary_json: string;
  result_uri: string | null;
  error: string | null;
  executor: string | null;
  execution_id: string | null;
  mlflow_run_id: string | null;
  worker_id: string | null;
  attempts: number;
  version: number;
}

export const JOB_RECORD_COLUMNS = [
  "job_id",
  "status",
  "strategy",
  "config_json",
  "idempotency_key",
  "progress",
  "stage",
  "created_at",
  "updated_at",
  "started_at",
  "finished_at",
  "summary_json",
  "result_uri",
  "error",
  "executor",
  "execution_id",
  "mlflow_run_id",
  "worker_id",
  "attempts",
  "version",
] as const satisfies readonly (keyof JobRecord)[];

/** JSON has no ±Infinity/NaN (a profit factor with no losing trade is Infinity): keep them as strings. */
export function encodeMetrics(metrics: readonly JobMetric[]): string {
  return JSON.stringify(
    metrics.map(({ name, value }) => ({ name, value: Number.isFinite(value) ? value : String(value) })),
  );
}

export function decodeMetrics(json: string): JobMetric[] {
  const parsed = JSON.parse(json) as { name: string; value: number | string }[];
  return parsed.map(({ name, value }) => ({
    name,
    value: typeof value === "number" ? value : Number(value),
  }));
}

const MAX_KEY_LENGTH = 256;

function requireText(field: string, value: unknown, maxLength = MAX_KEY_LENGTH): string {
  if (typeof value !== "string" || value.length === 0 || value.length > maxLength) {
    const found = typeof value === "string" ? `a string of ${value.length} characters` : typeof value;
    throw invalidArgument(
      `${field}: expected a non-empty string of at most ${maxLength} characters, got ${found}`,
      [{ field, message: "invalid", expected: `1..${maxLength} characters`, found }],
    );
  }
  return value;
}

/** Validates a create request and lays out the new QUEUED record. */
export function newJobRecord(input: CreateJobInput, now: number, generateId: () => string): JobRecord {
  const config = input.config as BacktestConfig | undefined;
  if (config === undefined || typeof config !== "object") {
    throw invalidArgument(`config: expected a backtest config object, got ${typeof config}`);
  }
  requireText("config.strategy", config.strategy);
  const jobId = requireText("job_id", input.jobId ?? generateId());
  const idempotencyKey =
    input.idempotencyKey === undefined ? null : requireText("idempotency_key", input.idempotencyKey);
  return {
    job_id: jobId,
    status: "QUEUED",
    strategy: config.strategy,
    config_json: JSON.stringify(config),
    idempotency_key: idempotencyKey,
    progress: 0,
    stage: "queued",
    created_at: now,
    updated_at: now,
    started_at: null,
    finished_at: null,
    summary_json: "[]",
    result_uri: null,
    error: null,
    executor: input.executor ?? null,
    execution_id: input.executionId ?? null,
    mlflow_run_id: null,
    worker_id: null,
    attempts: 0,
    version: 1,
  };
}

const optionalDate = (ms: number | null | undefined) =>
  ms === null || ms === undefined ? undefined : new Date(ms);
const optionalText = (text: string | null | undefined) =>
  text === null || text === undefined ? undefined : text;

export function jobFromRecord(record: JobRecord): BacktestJob {
  const job: BacktestJob = {
    jobId: record.job_id,
    status: record.status,
    config: JSON.parse(record.config_json) as BacktestConfig,
    progress: Number(record.progress),
    stage: record.stage,
    createdAt: new Date(Number(record.created_at)),
    updatedAt: new Date(Number(record.updated_at)),
    summary: decodeMetrics(record.summary_json),
    attempts: Number(record.attempts),
    version: Number(record.version),
  };
  const optional: Partial<BacktestJob> = {
    idempotencyKey: optionalText(record.idempotency_key),
    startedAt: optionalDate(record.started_at === null ? null : Number(record.started_at)),
    finishedAt: optionalDate(record.finished_at === null ? null : Number(record.finished_at)),
    resultUri: optionalText(record.result_uri),
    error: optionalText(record.error),
    executor: optionalText(record.executor),
    executionId: optionalText(record.execution_id),
    mlflowRunId: optionalText(record.mlflow_run_id),
    workerId: optionalText(record.worker_id),
  };
  for (const [key, value] of Object.entries(optional)) {
    if (value !== undefined) (job as unknown as Record<string, unknown>)[key] = value;
  }
  return job;
}

// ---------------------------------------------------------------------------------------------
// Conditional writes as plans: what must hold, and what to set.

export interface WritePlan {
  /** The job must be in one of these statuses... */
  expectedStatuses: readonly JobStatus[];
  /** ...and, when set, held by this worker. */
  expectedWorkerId?: string;
  /** Columns to set (null clears). `updated_at` and `version` are always set too. */
  set: Partial<Omit<JobRecord, "job_id" | "version" | "attempts" | "updated_at">>;
  /** Add one to `attempts` (a worker claimed the job). */
  incrementAttempts: boolean;
}

const DEFAULT_STAGE: Record<JobStatus, string> = {
  QUEUED: "queued",
  RUNNING: "running",
  COMPLETED: "completed",
  FAILED: "failed",
  CANCELLED: "cancelled",
};

function checkProgress(progress: unknown): number {
  if (typeof progress !== "number" || !Number.isFinite(progress) || progress < 0 || progress > 100) {
    throw invalidArgument(`progress: expected a number in 0..100, got ${String(progress)}`, [
      { field: "progress", message: "out of range", expected: "0..100", found: String(progress) },
    ]);
  }
  return progress;
}

export function planTransition(request: TransitionRequest, now: number): WritePlan {
  if (!isJobStatus(request.to)) {
    throw invalidArgument(
      `to: expected one of QUEUED, RUNNING, COMPLETED, FAILED, CANCELLED, got ${String(request.to)}`,
    );
  }
  const allowed = TRANSITION_SOURCES[request.to];
  const narrowed =
    request.from === undefined ? allowed : typeof request.from === "string" ? [request.from] : request.from;
  const expectedStatuses = narrowed.filter((status) => allowed.includes(status));
  if (expectedStatuses.length === 0) {
    throw invalidArgument(
      `from: expected a subset of ${allowed.join(", ")} for a move to ${request.to}, got ${[narrowed].flat().join(", ")}`,
    );
  }
  const stage = request.stage ?? DEFAULT_STAGE[request.to];
  const base = { expectedStatuses, incrementAttempts: false };
  switch (request.to) {
    case "RUNNING":
      return {
        ...base,
        set: {
          status: "RUNNING",
          worker_id: requireText("worker_id", request.workerId),
          started_at: now,
          finished_at: null,
          progress: 0,
          stage,
        },
        incrementAttempts: true,
      };
    case "COMPLETED":
      return {
        ...base,
        expectedWorkerId: request.workerId,
        set: {
          status: "COMPLETED",
          finished_at: now,
          progress: 100,
          stage,
          summary_json: encodeMetrics(request.summary ?? []),
          result_uri: request.resultUri ?? null,
        },
      };
    case "FAILED":
      return {
        ...base,
        expectedWorkerId: request.workerId,
        set: {
          status: "FAILED",
          finished_at: now,
          stage,
          error: requireText("error", request.error, 64_000),
        },
      };
    case "CANCELLED":
      return {
        ...base,
        expectedWorkerId: request.workerId,
        set: { status: "CANCELLED", finished_at: now, stage, error: request.error ?? null },
      };
    case "QUEUED":
      return {
        ...base,
        expectedWorkerId: request.workerId,
        set: { status: "QUEUED", worker_id: null, progress: 0, stage, error: request.error ?? null },
      };
  }
}

export function planProgress(update: ProgressUpdate): WritePlan {
  const set: WritePlan["set"] = { progress: checkProgress(update.progress) };
  if (update.stage !== undefined) set.stage = update.stage;
  return { expectedStatuses: ["RUNNING"], expectedWorkerId: update.workerId, set, incrementAttempts: false };
}

export function planAnnotations(annotations: JobAnnotations): WritePlan["set"] {
  const set: WritePlan["set"] = {};
  if (annotations.executor !== undefined) set.executor = annotations.executor;
  if (annotations.executionId !== undefined) set.execution_id = annotations.executionId;
  if (annotations.mlflowRunId !== undefined) set.mlflow_run_id = annotations.mlflowRunId;
  return set;
}

/** The error for a conditional write that did not apply, given the job as it is now. */
export function conflictFor(
  jobId: string,
  attempted: JobStatus | "PROGRESS",
  plan: WritePlan,
  current: BacktestJob | undefined,
) {
  if (current === undefined) return new JobNotFoundError(jobId);
  return new JobConflictError(
    jobId,
    attempted,
    plan.expectedStatuses,
    current.status,
    plan.expectedWorkerId,
    current.workerId,
  );
}

// ---------------------------------------------------------------------------------------------
// Listing: newest first, keyset paging on (created_at, job_id) with an opaque token.

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 1000;

export interface PageCursor {
  createdAt: number;
  jobId: string;
}

export interface NormalizedListQuery {
  strategy?: string;
  statuses?: readonly JobStatus[];
  createdFrom?: number;
  createdTo?: number;
  pageSize: number;
  after?: PageCursor;
}

export function encodePageToken(cursor: PageCursor): string {
  return Buffer.from(JSON.stringify([cursor.createdAt, cursor.jobId])).toString("base64url");
}

export function decodePageToken(token: string): PageCursor {
  try {
    const parsed = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as unknown;
    if (Array.isArray(parsed) && typeof parsed[0] === "number" && typeof parsed[1] === "string") {
      return { createdAt: parsed[0], jobId: parsed[1] };
    }
  } catch {
    // fall through to the error below
  }
  throw invalidArgument(`page_token: expected a token returned by a previous page, got "${token}"`, [
    { field: "page_token", message: "not a page token", expected: "a next_page_token", found: token },
  ]);
}

export function normalizeListQuery(query: ListJobsQuery = {}): NormalizedListQuery {
  const pageSize = query.pageSize ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > MAX_PAGE_SIZE) {
    throw invalidArgument(`page_size: expected an integer in 1..${MAX_PAGE_SIZE}, got ${pageSize}`, [
      {
        field: "page_size",
        message: "out of range",
        expected: `1..${MAX_PAGE_SIZE}`,
        found: String(pageSize),
      },
    ]);
  }
  const statuses =
    query.status === undefined ? undefined : typeof query.status === "string" ? [query.status] : query.status;
  for (const status of statuses ?? []) {
    if (!isJobStatus(status)) throw invalidArgument(`status: expected a job status, got ${String(status)}`);
  }
  const normalized: NormalizedListQuery = { pageSize };
  if (query.strategy !== undefined && query.strategy !== "") normalized.strategy = query.strategy;
  if (statuses !== undefined && statuses.length > 0) normalized.statuses = statuses;
  if (query.createdFrom !== undefined) normalized.createdFrom = query.createdFrom.getTime();
  if (query.createdTo !== undefined) normalized.createdTo = query.createdTo.getTime();
  if (query.pageToken !== undefined && query.pageToken !== "")
    normalized.after = decodePageToken(query.pageToken);
  return normalized;
}

/** Builds the page from up to pageSize + 1 rows fetched in order (the extra row says "there is more"). */
export function pageFrom(records: readonly JobRecord[], pageSize: number): JobPage {
  const jobs = records.slice(0, pageSize).map(jobFromRecord);
  const last = jobs.at(-1);
  if (records.length <= pageSize || last === undefined) return { jobs };
  return { jobs, nextPageToken: encodePageToken({ createdAt: last.createdAt.getTime(), jobId: last.jobId }) };
}

/** Options every implementation accepts. */
export interface WorkflowStateRepositoryOptions {
  /** Milliseconds since the epoch. Default Date.now. */
  clock?: () => number;
  /** Default crypto.randomUUID. */
  generateId?: () => string;
}
