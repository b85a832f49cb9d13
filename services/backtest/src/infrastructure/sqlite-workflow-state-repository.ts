// WorkflowStateRepository on SQLite (better-sqlite3): the embedded default. Conditional writes are
// `UPDATE … WHERE status IN (…) [AND worker_id = ?]`; SQLite serializes writers (one write lock
// per database file, WAL mode), so of two racing writers — in one process or two — exactly one
// matches the WHERE clause.
import { randomUUID } from "node:crypto";
import { mkdirSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import type { BacktestJob } from "../core/backtest-job";
import {
  JOB_RECORD_COLUMNS,
  JobNotFoundError,
  conflictFor,
  jobFromRecord,
  newJobRecord,
  normalizeListQuery,
  pageFrom,
  planAnnotations,
  planProgress,
  planTransition,
  type CreateJobResult,
  type JobRecord,
  type WorkflowStateRepository,
  type WorkflowStateRepositoryOptions,
  type WritePlan,
} from "../core/workflow-state-repository";

export interface SqliteWorkflowStateRepositoryOptions extends WorkflowStateRepositoryOptions {
  /** Database file (its directory is created), or ":memory:". */
  path: string;
  /** Default "backtest_jobs". */
  tableName?: string;
  /** How long a writer waits for the write lock held by another connection, ms. Default 5000. */
  busyTimeoutMs?: number;
}

const SAFE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

export function createSqliteWorkflowStateRepository(
  options: SqliteWorkflowStateRepositoryOptions,
): WorkflowStateRepository {
  const table = options.tableName ?? "backtest_jobs";
  if (!SAFE_NAME.test(table)) throw new Error(`tableName: expected an SQL identifier, got "${table}"`);
  const clock = options.clock ?? Date.now;
  const generateId = options.generateId ?? randomUUID;
  if (options.path !== ":memory:") mkdirSync(path.dirname(path.resolve(options.path)), { recursive: true });
  const db = new Database(options.path, { timeout: options.busyTimeoutMs ?? 5000 });
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.exec(`
    CREATE TABLE IF NOT EXISTS ${table} (
      job_id TEXT PRIMARY KEY,
      status TEXT NOT NULL,
      strategy TEXT NOT NULL,
      config_json TEXT NOT NULL,
      idempotency_key TEXT UNIQUE,
      progress REAL NOT NULL,
      stage TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL,
      started_at INTEGER,
      finished_at INTEGER,
      summary_json TEXT NOT NULL,
      result_uri TEXT,
      error TEXT,
      executor TEXT,
      execution_id TEXT,
      mlflow_run_id TEXT,
      worker_id TEXT,
      attempts INTEGER NOT NULL,
      version INTEGER NOT NULL
    );
    CREATE INDEX IF NOT EXISTS ${table}_created ON ${table} (created_at DESC, job_id DESC);
    CREATE INDEX IF NOT EXISTS ${table}_strategy_created ON ${table} (strategy, created_at DESC, job_id DESC);
  `);

  const columns = JOB_RECORD_COLUMNS.join(", ");
  const insert = db.prepare(
    `INSERT INTO ${table} (${columns}) VALUES (${JOB_RECORD_COLUMNS.map((c) => `@${c}`).join(", ")})
     ON CONFLICT (idempotency_key) DO NOTHING`,
  );
  const selectById = db.prepare(`SELECT ${columns} FROM ${table} WHERE job_id = ?`);
  const selectByKey = db.prepare(`SELECT ${columns} FROM ${table} WHERE idempotency_key = ?`);

  // Statements are compiled once per distinct SQL text (a handful: one per write shape and filter set).
  const statements = new Map<string, Database.Statement>();
  const prepare = (sql: string) => {
    let statement = statements.get(sql);
    if (statement === undefined) {
      statement = db.prepare(sql);
      statements.set(sql, statement);
    }
    return statement;
  };

  const get = (jobId: string): BacktestJob | undefined => {
    const row = selectById.get(jobId) as JobRecord | undefined;
    return row === undefined ? undefined : jobFromRecord(row);
  };

  /** Runs the conditional UPDATE; returns the updated job, or undefined when the condition failed. */
  const conditionalUpdate = (jobId: string, plan: WritePlan | undefined, set: WritePlan["set"]) => {
    const assignments = Object.keys(set).map((column) => `${column} = @${column}`);
    assignments.push("updated_at = @updated_at", "version = version + 1");
    if (plan?.incrementAttempts === true) assignments.push("attempts = attempts + 1");
    const where = ["job_id = @job_id"];
    const parameters: Record<string, unknown> = { ...set, updated_at: clock(), job_id: jobId };
    if (plan !== undefined) {
      where.push(`status IN (${plan.expectedStatuses.map((_, index) => `@expected_${index}`).join(", ")})`);
      plan.expectedStatuses.forEach((status, index) => (parameters[`expected_${index}`] = status));
      if (plan.expectedWorkerId !== undefined) {
        where.push("worker_id = @expected_worker_id");
        parameters.expected_worker_id = plan.expectedWorkerId;
      }
    }
    const row = prepare(
      `UPDATE ${table} SET ${assignments.join(", ")} WHERE ${where.join(" AND ")} RETURNING ${columns}`,
    ).get(parameters) as JobRecord | undefined;
    return row === undefined ? undefined : jobFromRecord(row);
  };

  const insertOne = (record: JobRecord): CreateJobResult => {
    const inserted = insert.run(record).changes === 1;
    if (inserted) return { job: jobFromRecord(record), existing: false };
    const existing = selectByKey.get(record.idempotency_key) as JobRecord | undefined;
    if (existing === undefined)
      throw new Error(`job ${record.job_id}: insert ignored but no job holds its key`);
    return { job: jobFromRecord(existing), existing: true };
  };

  // Group commit: creates that arrive within one turn of the event loop share one transaction (one
  // WAL append instead of one per job: ~20 instead of ~60 µs per create under load). Each create
  // still gets its own outcome: a failing row does not fail the others.
  type PendingCreate = {
    record: JobRecord;
    resolve: (result: CreateJobResult) => void;
    reject: (error: unknown) => void;
  };
  let pendingCreates: PendingCreate[] = [];
  const insertBatch = db.transaction((batch: PendingCreate[]) =>
    batch.map((entry): { result: CreateJobResult } | { error: unknown } => {
      try {
        return { result: insertOne(entry.record) };
      } catch (error) {
        return { error };
      }
    }),
  );
  const flushCreates = () => {
    const batch = pendingCreates;
    pendingCreates = [];
    let outcomes: ({ result: CreateJobResult } | { error: unknown })[];
    try {
      outcomes = insertBatch(batch);
    } catch (error) {
      for (const entry of batch) entry.reject(error);
      return;
    }
    outcomes.forEach((outcome, index) => {
      const entry = batch[index];
      if (entry === undefined) return;
      if ("result" in outcome) entry.resolve(outcome.result);
      else entry.reject(outcome.error);
    });
  };

  return {
    create(input): Promise<CreateJobResult> {
      let record: JobRecord;
      try {
        record = newJobRecord(input, clock(), generateId);
      } catch (error) {
        return Promise.reject(error as Error);
      }
      return new Promise<CreateJobResult>((resolve, reject) => {
        if (pendingCreates.length === 0) setImmediate(flushCreates);
        pendingCreates.push({ record, resolve, reject });
      });
    },

    async get(jobId) {
      return get(jobId);
    },

    async findByIdempotencyKey(idempotencyKey) {
      const row = selectByKey.get(idempotencyKey) as JobRecord | undefined;
      return row === undefined ? undefined : jobFromRecord(row);
    },

    async delete(jobId) {
      return prepare(`DELETE FROM ${table} WHERE job_id = ?`).run(jobId).changes === 1;
    },

    async list(query) {
      const normalized = normalizeListQuery(query);
      const where: string[] = [];
      const parameters: unknown[] = [];
      if (normalized.strategy !== undefined) {
        where.push("strategy = ?");
        parameters.push(normalized.strategy);
      }
      if (normalized.statuses !== undefined) {
        where.push(`status IN (${normalized.statuses.map(() => "?").join(", ")})`);
        parameters.push(...normalized.statuses);
      }
      if (normalized.createdFrom !== undefined) {
        where.push("created_at >= ?");
        parameters.push(normalized.createdFrom);
      }
      if (normalized.createdTo !== undefined) {
        where.push("created_at < ?");
        parameters.push(normalized.createdTo);
      }
      if (normalized.after !== undefined) {
        where.push("(created_at, job_id) < (?, ?)");
        parameters.push(normalized.after.createdAt, normalized.after.jobId);
      }
      const rows = prepare(
        `SELECT ${columns} FROM ${table} ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""}
           ORDER BY created_at DESC, job_id DESC LIMIT ?`,
      ).all(...parameters, normalized.pageSize + 1) as JobRecord[];
      return pageFrom(rows, normalized.pageSize);
    },

    async transition(jobId, request) {
      const plan = planTransition(request, clock());
      const updated = conditionalUpdate(jobId, plan, plan.set);
      if (updated !== undefined) return updated;
      throw conflictFor(jobId, request.to, plan, get(jobId));
    },

    async updateProgress(jobId, update) {
      const plan = planProgress(update);
      const updated = conditionalUpdate(jobId, plan, plan.set);
      if (updated !== undefined) return updated;
      throw conflictFor(jobId, "PROGRESS", plan, get(jobId));
    },

    async annotate(jobId, annotations) {
      const updated = conditionalUpdate(jobId, undefined, planAnnotations(annotations));
      if (updated === undefined) throw new JobNotFoundError(jobId);
      return updated;
    },

    async close() {
      db.close();
    },
  };
}
