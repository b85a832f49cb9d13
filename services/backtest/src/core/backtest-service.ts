// BacktestService's domain logic (the spec's §4 sequence): validate through the strategy service,
// ensure data through data collection, record the job QUEUED, hand it to the executor. A
// submission that fails after the record was written removes the record again — no half-written
// job is left behind.
import { randomUUID } from "node:crypto";
import { Code, ConnectError } from "@connectrpc/connect";
import { DomainError, invalidArgument, violationsOf, type FieldViolation, type Logger } from "@tradai/common";
import type { BacktestJobSubmitter } from "./backtest-job-submitter";
import { isFinalStatus, type BacktestConfig, type BacktestJob } from "./backtest-job";
import { parseTimerange, type Timerange } from "./timerange";
import {
  JobNotFoundError,
  type JobPage,
  type ListJobsQuery,
  type WorkflowStateRepository,
} from "./workflow-state-repository";

/** The strategy service, as the backtest service needs it. */
export interface StrategyCatalog {
  /**
   * Checks the run config (strategy exists, version, parameters, pairs, timerange, stake, fee) and
   * resolves the strategy version; returns every problem, each naming its field.
   */
  validate(
    config: BacktestConfig,
  ): Promise<{ violations: FieldViolation[]; version: string; startupCandles: number }>;
}

/** The data-collection service, as the backtest service needs it. */
export interface MarketData {
  /** Makes sure the candles exist (fetching them when missing); rejects naming what is missing. */
  ensure(request: {
    exchange: string;
    pairs: string[];
    timeframe: string;
    range: Timerange;
    startupCandles: number;
  }): Promise<void>;
  /**
   * The pairs of `pairs` that `exchange` does not list; asked only after `ensure` rejected with
   * NOT_FOUND on `symbol`, to name the unknown pairs by their index in the request.
   */
  unlistedPairs(exchange: string, pairs: string[]): Promise<string[]>;
}

/** Where workers put full results. */
export interface ResultReader {
  read(resultUri: string): Promise<unknown>;
}

export interface BacktestServiceDeps {
  repository: WorkflowStateRepository;
  submitter: BacktestJobSubmitter;
  strategies: StrategyCatalog;
  marketData: MarketData;
  results: ResultReader;
  logger: Logger;
  /** How often `watch` polls the state store; default 200 ms. */
  watchIntervalMs?: number;
}

export interface SubmitRequest {
  config: BacktestConfig;
  idempotencyKey?: string;
  traceHeaders: Record<string, string>;
}

function checkShape(config: BacktestConfig): FieldViolation[] {
  const violations: FieldViolation[] = [];
  const need = (field: keyof BacktestConfig, ok: boolean, expected: string) => {
    if (!ok)
      violations.push({ field, message: `invalid ${field}`, expected, found: JSON.stringify(config[field]) });
  };
  need("strategy", typeof config.strategy === "string" && config.strategy !== "", "a strategy name");
  need("exchange", typeof config.exchange === "string" && config.exchange !== "", "a ccxt exchange id");
  need("timeframe", typeof config.timeframe === "string" && config.timeframe !== "", "a timeframe like 5m");
  need("pairs", Array.isArray(config.pairs) && config.pairs.length > 0, "at least one pair");
  if (typeof config.timerange !== "string" || config.timerange === "") {
    violations.push({
      field: "timerange",
      message: "missing timerange",
      expected: '"YYYYMMDD-YYYYMMDD"',
      found: JSON.stringify(config.timerange),
    });
  } else {
    const { error } = parseTimerange(config.timerange);
    if (error !== undefined)
      violations.push({
        field: "timerange",
        message: error,
        expected: '"YYYYMMDD-YYYYMMDD", "YYYYMMDD-" or "-YYYYMMDD" with the start before the end',
        found: config.timerange,
      });
  }
  return violations;
}

/** Data collection's answer for a symbol the exchange does not list: NOT_FOUND naming `symbol`. */
function isUnknownSymbol(error: unknown): boolean {
  if (error instanceof ConnectError)
    return error.code === Code.NotFound && violationsOf(error).some((item) => item.field === "symbol");
  if (error instanceof DomainError)
    return error.code === Code.NotFound && error.violations.some((item) => item.field === "symbol");
  return false;
}

export function createBacktestService(deps: BacktestServiceDeps) {
  const { repository, submitter, logger } = deps;

  const submit = async ({
    config,
    idempotencyKey,
    traceHeaders,
  }: SubmitRequest): Promise<{ job: BacktestJob; existing: boolean }> => {
    if (idempotencyKey !== undefined && idempotencyKey !== "") {
      const previous = await repository.findByIdempotencyKey(idempotencyKey);
      if (previous) return { job: previous, existing: true };
    }
    if (submitter.unavailable !== undefined) throw submitter.unavailable;
    const shape = checkShape(config);
    if (shape.length > 0)
      throw invalidArgument(`invalid backtest request: ${shape.map((item) => item.field).join(", ")}`, shape);
    const { violations, version, startupCandles } = await deps.strategies.validate(config);
    if (violations.length > 0) {
      throw invalidArgument(
        `invalid backtest request: ${violations.map((item) => item.field).join(", ")}`,
        violations,
      );
    }
    const resolved: BacktestConfig = { ...config, strategy_version: version };
    try {
      await deps.marketData.ensure({
        exchange: resolved.exchange,
        pairs: resolved.pairs,
        timeframe: resolved.timeframe,
        range: parseTimerange(resolved.timerange).range ?? {},
        startupCandles,
      });
    } catch (error) {
      if (!isUnknownSymbol(error)) throw error;
      // Data collection names `symbol`, the request names `pairs`: say which entries are unknown.
      const unlisted = new Set(await deps.marketData.unlistedPairs(resolved.exchange, resolved.pairs));
      const violations: FieldViolation[] = resolved.pairs.flatMap((pair, index) =>
        unlisted.has(pair)
          ? [
              {
                field: `pairs[${index}]`,
                message: `unknown pair ${pair}`,
                expected: `a market listed by ${resolved.exchange}`,
                found: pair,
              },
            ]
          : [],
      );
      if (violations.length === 0) throw error;
      throw invalidArgument(
        `invalid backtest request: ${violations.map((item) => item.field).join(", ")}`,
        violations,
      );
    }
    const jobId = randomUUID();
    const plannedReference = submitter.plannedReference?.(jobId);
    const created = await repository.create({
      config: resolved,
      jobId,
      executor: submitter.executor,
      ...(plannedReference === undefined ? {} : { executionId: plannedReference }),
      ...(idempotencyKey === undefined || idempotencyKey === "" ? {} : { idempotencyKey }),
    });
    if (created.existing) return created;
    try {
      const receipt = await submitter.submit({ jobId, config: resolved, traceHeaders });
      const job =
        receipt.executor === created.job.executor && receipt.reference === created.job.executionId
          ? created.job
          : await repository.annotate(jobId, { executor: receipt.executor, executionId: receipt.reference });
      logger.debug(
        { job_id: job.jobId, executor: receipt.executor, reference: receipt.reference },
        "backtest queued",
      );
      return { job, existing: false };
    } catch (error) {
      await repository
        .delete(created.job.jobId)
        .catch((deleteError: unknown) =>
          logger.error(
            { err: deleteError, job_id: created.job.jobId },
            "could not remove the record of a job the executor refused",
          ),
        );
      throw error;
    }
  };

  const get = async (jobId: string): Promise<BacktestJob> => {
    const job = await repository.get(jobId);
    if (!job) throw new JobNotFoundError(jobId);
    return job;
  };

  const cancel = async (jobId: string): Promise<BacktestJob> => {
    const job = await get(jobId);
    if (isFinalStatus(job.status)) {
      throw new DomainError(Code.FailedPrecondition, `backtest job ${jobId} is already ${job.status}`);
    }
    const cancelled = await repository.transition(jobId, { to: "CANCELLED", error: "cancelled by request" });
    await submitter
      .cancel(jobId, job.executionId)
      .catch((error: unknown) =>
        logger.warn({ err: error, job_id: jobId }, "executor could not stop the job"),
      );
    return cancelled;
  };

  /** Yields the job now and after every change, until it reaches a final status or `signal` aborts. */
  async function* watch(jobId: string, signal: AbortSignal): AsyncGenerator<BacktestJob> {
    let last = -1;
    const interval = deps.watchIntervalMs ?? 200;
    while (!signal.aborted) {
      const job = await get(jobId);
      if (job.version !== last) {
        last = job.version;
        yield job;
      }
      if (isFinalStatus(job.status)) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, interval);
        signal.addEventListener(
          "abort",
          () => {
            clearTimeout(timer);
            resolve();
          },
          { once: true },
        );
      });
    }
  }

  const result = async (jobId: string): Promise<{ job: BacktestJob; result: unknown }> => {
    const job = await get(jobId);
    if (job.status !== "COMPLETED" || job.resultUri === undefined) {
      throw new DomainError(
        Code.FailedPrecondition,
        `backtest job ${jobId} has no result: it is ${job.status}`,
      );
    }
    return { job, result: await deps.results.read(job.resultUri) };
  };

  const list = (query: ListJobsQuery): Promise<JobPage> => repository.list(query);

  /** Called when an executor lost a job (worker process or container died): mark it FAILED. */
  const jobLost = async (jobId: string, reason: string): Promise<void> => {
    const job = await repository.get(jobId);
    if (!job || isFinalStatus(job.status)) return;
    await repository.transition(jobId, { to: "FAILED", error: reason });
  };

  /**
   * Start-up recovery for executors whose queue lives in this process (LOCAL): a previous instance
   * that stopped or crashed leaves QUEUED jobs nobody will run and RUNNING jobs whose worker is gone.
   * QUEUED jobs of this executor are dispatched again (nothing ran yet, so running them is safe);
   * orphaned RUNNING jobs are marked FAILED with the reason rather than re-run, since a half-run job
   * may already have written results or an MLflow run — resubmitting is the caller's decision.
   * LOCAL is one service instance per state store: a second instance would dispatch the first's jobs.
   */
  const recover = async (): Promise<{ redispatched: string[]; failed: string[] }> => {
    const outcome = { redispatched: [] as string[], failed: [] as string[] };
    const isWorkerAlive = submitter.isWorkerAlive?.bind(submitter);
    if (isWorkerAlive === undefined) return outcome;
    const open: BacktestJob[] = [];
    let pageToken: string | undefined;
    do {
      const page = await repository.list({
        status: ["QUEUED", "RUNNING"],
        pageSize: 1000,
        ...(pageToken === undefined ? {} : { pageToken }),
      });
      open.push(...page.jobs.filter((job) => job.executor === submitter.executor));
      pageToken = page.nextPageToken;
    } while (pageToken !== undefined);
    // Oldest first, as they were submitted.
    for (const job of open.reverse()) {
      try {
        if (job.status === "QUEUED") {
          await submitter.submit({ jobId: job.jobId, config: job.config, traceHeaders: {} });
          outcome.redispatched.push(job.jobId);
        } else if (!(await isWorkerAlive(job))) {
          await jobLost(
            job.jobId,
            `worker ${job.workerId ?? "unknown"} is gone: the backtest service restarted while the job ran; submit it again to re-run it`,
          );
          outcome.failed.push(job.jobId);
        }
      } catch (error) {
        logger.error({ err: error, job_id: job.jobId }, "could not recover the job");
      }
    }
    if (outcome.redispatched.length + outcome.failed.length > 0)
      logger.info(
        { redispatched: outcome.redispatched, failed: outcome.failed },
        "recovered the jobs a previous instance left",
      );
    return outcome;
  };

  /**
   * For executors with a queue of their own (QUEUE): compares the store's QUEUED/RUNNING jobs with
   * the queue. Failures the queue recorded while no instance listened to its events (QueueEvents
   * sees only events from "now") become FAILED with the queue's reason; a job the queue no longer
   * has, or completed without the worker recording a final status, becomes FAILED too. Jobs younger
   * than `graceMs` are left alone: a submission in flight records the job before queueing it.
   */
  const reconcile = async (graceMs = 60_000): Promise<{ failed: string[] }> => {
    const outcome = { failed: [] as string[] };
    const queuedJobState = submitter.queuedJobState?.bind(submitter);
    if (queuedJobState === undefined) return outcome;
    const open: BacktestJob[] = [];
    let pageToken: string | undefined;
    do {
      const page = await repository.list({
        status: ["QUEUED", "RUNNING"],
        pageSize: 1000,
        ...(pageToken === undefined ? {} : { pageToken }),
      });
      open.push(...page.jobs.filter((job) => job.executor === submitter.executor));
      pageToken = page.nextPageToken;
    } while (pageToken !== undefined);
    const now = Date.now();
    for (const job of open) {
      if (now - job.createdAt.getTime() < graceMs) continue;
      try {
        const queued = await queuedJobState(job.jobId);
        const reason =
          queued.state === "failed"
            ? `the queue failed the job: ${queued.reason}`
            : queued.state === "missing"
              ? "lost from the queue: the queue no longer holds the job; submit it again to re-run it"
              : queued.state === "completed"
                ? "the queue completed the job but its worker recorded no result"
                : undefined;
        if (reason === undefined) continue;
        // jobLost re-reads the job: one its worker finished meanwhile is left as it is.
        const before = await repository.get(job.jobId);
        await jobLost(job.jobId, reason);
        const after = await repository.get(job.jobId);
        if (before?.status !== after?.status && after?.status === "FAILED") outcome.failed.push(job.jobId);
      } catch (error) {
        logger.error({ err: error, job_id: job.jobId }, "could not reconcile the job with the queue");
      }
    }
    if (outcome.failed.length > 0)
      logger.info({ failed: outcome.failed }, "failed the jobs the queue failed or lost");
    return outcome;
  };

  return { submit, get, list, cancel, watch, result, jobLost, recover, reconcile };
}

export type BacktestServiceCore = ReturnType<typeof createBacktestService>;
