// WorkflowStateRepository on PostgreSQL (`pg`), for compose and Kubernetes. Conditional writes are
// one `UPDATE … WHERE status = ANY($n) [AND worker_id = $m] RETURNING *`: under READ COMMITTED the
// second of two racing writers re-evaluates its WHERE clause against the winner's row and matches
// nothing, so exactly one wins.
import { randomUUID } from "node:crypto";
import pg from "pg";
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
  type JobRecord,
  type WorkflowStateRepository,
  type WorkflowStateRepositoryOptions,
  type WritePlan,
} from "../core/workflow-state-repository";

export interface PostgresWorkflowStateRepositoryOptions extends WorkflowStateRepositoryOptions {
  /** A pool to use (not ended by close()), or a connection string for a pool of our own. */
  pool?: pg.Pool;
  connectionString?: string;
  /** Default "public". Created when missing. */
  schema?: string;
  /** Default "backtest_jobs". */
  tableName?: string;
  /** Pool size when we create the pool. Default 10. */
  maxConnections?: number;
}

const SAFE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

function identifier(field: string, name: string): string {
  if (!SAFE_NAME.test(name)) throw new Error(`${field}: expected an SQL identifier, got "${name}"`);
  return `"${name}"`;
}

/** Creates the schema and table when missing, then returns the repository. */
export async function createPostgresWorkflowStateRepository(
  options: PostgresWorkflowStateRepositoryOptions,
): Promise<WorkflowStateRepository> {
  if (options.pool === undefined && options.connectionString === undefined) {
    throw new Error("postgres workflow state: expected a pool or a connectionString, got neither");
  }
  const schema = identifier("schema", options.schema ?? "public");
  const tableName = options.tableName ?? "backtest_jobs";
  const table = `${schema}.${identifier("tableName", tableName)}`;
  const ownPool = options.pool === undefined;
  const pool =
    options.pool ??
    new pg.Pool({ connectionString: options.connectionString, max: options.maxConnections ?? 10 });
  const clock = options.clock ?? Date.now;
  const generateId = options.generateId ?? randomUUID;

  try {
    await pool.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await pool.query(`
      CREATE TABLE IF NOT EXISTS ${table} (
        job_id TEXT COLLATE "C" PRIMARY KEY,
        status TEXT NOT NULL,
        strategy TEXT NOT NULL,
        config_json TEXT NOT NULL,
        idempotency_key TEXT UNIQUE,
        progress DOUBLE PRECISION NOT NULL,
        stage TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL,
        started_at BIGINT,
        finished_at BIGINT,
        summary_json TEXT NOT NULL,
        result_uri TEXT,
        error TEXT,
        executor TEXT,
        execution_id TEXT,
        mlflow_run_id TEXT,
        worker_id TEXT,
        attempts INTEGER NOT NULL,
        version INTEGER NOT NULL
      )`);
    await pool.query(
      `CREATE INDEX IF NOT EXISTS ${identifier("index", `${tableName}_created`)} ON ${table} (created_at DESC, job_id DESC)`,
    );
    await pool.query(
      `CREATE INDEX IF NOT EXISTS ${identifier("index", `${tableName}_strategy_created`)}
       ON ${table} (strategy, created_at DESC, job_id DESC)`,
    );
  } catch (error) {
    if (ownPool) await pool.end();
    throw error;
  }

  const columns = JOB_RECORD_COLUMNS.join(", ");

  const get = async (jobId: string): Promise<BacktestJob | undefined> => {
    const result = await pool.query<JobRecord>(`SELECT ${columns} FROM ${table} WHERE job_id = $1`, [jobId]);
    const row = result.rows[0];
    return row === undefined ? undefined : jobFromRecord(row);
  };

  const conditionalUpdate = async (jobId: string, plan: WritePlan | undefined, set: WritePlan["set"]) => {
    const parameters: unknown[] = [];
    const parameter = (value: unknown) => {
      parameters.push(value);
      return `$${parameters.length}`;
    };
    const assignments = Object.entries(set).map(([column, value]) => `${column} = ${parameter(value)}`);
    assignments.push(`updated_at = ${parameter(clock())}`, "version = version + 1");
    if (plan?.incrementAttempts === true) assignments.push("attempts = attempts + 1");
    const where = [`job_id = ${parameter(jobId)}`];
    if (plan !== undefined) {
      where.push(`status = ANY(${parameter(plan.expectedStatuses)}::text[])`);
      if (plan.expectedWorkerId !== undefined) where.push(`worker_id = ${parameter(plan.expectedWorkerId)}`);
    }
    const result = await pool.query<JobRecord>(
      `UPDATE ${table} SET ${assignments.join(", ")} WHERE ${where.join(" AND ")} RETURNING ${columns}`,
      parameters,
    );
    const row = result.rows[0];
    return row === undefined ? undefined : jobFromRecord(row);
  };

  return {
    async create(input) {
      const record = newJobRecord(input, clock(), generateId);
      const inserted = await pool.query(
        `INSERT INTO ${table} (${columns}) VALUES (${JOB_RECORD_COLUMNS.map((_, index) => `$${index + 1}`).join(", ")})
         ON CONFLICT (idempotency_key) DO NOTHING`,
        JOB_RECORD_COLUMNS.map((column) => record[column]),
      );
      if (inserted.rowCount === 1) return { job: jobFromRecord(record), existing: false };
      const existing = await pool.query<JobRecord>(
        `SELECT ${columns} FROM ${table} WHERE idempotency_key = $1`,
        [record.idempotency_key],
      );
      const row = existing.rows[0];
      if (row === undefined) throw new Error(`job ${record.job_id}: insert ignored but no job holds its key`);
      return { job: jobFromRecord(row), existing: true };
    },

    get,

    async findByIdempotencyKey(idempotencyKey) {
      const result = await pool.query<JobRecord>(
        `SELECT ${columns} FROM ${table} WHERE idempotency_key = $1`,
        [idempotencyKey],
      );
      const row = result.rows[0];
      return row === undefined ? undefined : jobFromRecord(row);
    },

    async delete(jobId) {
      const result = await pool.query(`DELETE FROM ${table} WHERE job_id = $1`, [jobId]);
      return result.rowCount === 1;
    },

    async list(query) {
      const normalized = normalizeListQuery(query);
      const parameters: unknown[] = [];
      const parameter = (value: unknown) => {
        parameters.push(value);
        return `$${parameters.length}`;
      };
      const where: string[] = [];
      if (normalized.strategy !== undefined) where.push(`strategy = ${parameter(normalized.strategy)}`);
      if (normalized.statuses !== undefined)
        where.push(`status = ANY(${parameter(normalized.statuses)}::text[])`);
      if (normalized.createdFrom !== undefined)
        where.push(`created_at >= ${parameter(normalized.createdFrom)}`);
      if (normalized.createdTo !== undefined) where.push(`created_at < ${parameter(normalized.createdTo)}`);
      if (normalized.after !== undefined) {
        where.push(
          `(created_at, job_id) < (${parameter(normalized.after.createdAt)}, ${parameter(normalized.after.jobId)})`,
        );
      }
      const result = await pool.query<JobRecord>(
        `SELECT ${columns} FROM ${table} ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""}
         ORDER BY created_at DESC, job_id DESC LIMIT ${parameter(normalized.pageSize + 1)}`,
        parameters,
      );
      return pageFrom(result.rows, normalized.pageSize);
    },

    async transition(jobId, request) {
      const plan = planTransition(request, clock());
      const updated = await conditionalUpdate(jobId, plan, plan.set);
      if (updated !== undefined) return updated;
      throw conflictFor(jobId, request.to, plan, await get(jobId));
    },

    async updateProgress(jobId, update) {
      const plan = planProgress(update);
      const updated = await conditionalUpdate(jobId, plan, plan.set);
      if (updated !== undefined) return updated;
      throw conflictFor(jobId, "PROGRESS", plan, await get(jobId));
    },

    async annotate(jobId, annotations) {
      const updated = await conditionalUpdate(jobId, undefined, planAnnotations(annotations));
      if (updated === undefined) throw new JobNotFoundError(jobId);
      return updated;
    },

    async close() {
      if (ownPool) await pool.end();
    },
  };
}
