// /api/v1/backtest(s): REST over BacktestService (the spec's §4 sequence). Snake_case JSON, as in
// the spec's API and Freqtrade's.
import { timestampDate, timestampFromMs, type Timestamp } from "@bufbuild/protobuf/wkt";
import type { JsonObject } from "@bufbuild/protobuf";
import { invalidArgument, toProblemDetails } from "@tradai/common";
import { JobStatus, type BacktestJob } from "@tradai/proto";
import type { FastifyInstance } from "fastify";
import type { ServiceDirectory } from "../service-directory";

const STATUS_NAMES = ["QUEUED", "RUNNING", "COMPLETED", "FAILED", "CANCELLED"] as const;

const iso = (timestamp: Timestamp | undefined) =>
  timestamp === undefined ? null : timestampDate(timestamp).toISOString();

export function jobToJson(job: BacktestJob | undefined) {
  if (job === undefined) return null;
  const config = job.config;
  return {
    job_id: job.jobId,
    status: JobStatus[job.status],
    progress: job.progress,
    stage: job.stage,
    created_at: iso(job.createdAt),
    started_at: iso(job.startedAt),
    finished_at: iso(job.finishedAt),
    error: job.error === "" ? null : job.error,
    executor: job.executor,
    mlflow_run_id: job.mlflowRunId === "" ? null : job.mlflowRunId,
    idempotency_key: job.idempotencyKey === "" ? null : job.idempotencyKey,
    summary: Object.fromEntries(job.summary.map((metric) => [metric.name, metric.value])),
    config: config && {
      strategy: config.strategy,
      strategy_version: config.strategyVersion,
      exchange: config.exchange,
      pairs: config.pairs,
      timeframe: config.timeframe,
      timerange: config.timerange,
      stake_amount: config.stakeAmount === "unlimited" ? "unlimited" : Number(config.stakeAmount),
      dry_run_wallet: config.dryRunWallet,
      max_open_trades: config.maxOpenTrades,
      fee: config.fee ?? null,
      params: config.params ?? {},
      stake_currency: config.stakeCurrency,
    },
  };
}

const submitSchema = {
  type: "object",
  additionalProperties: false,
  required: ["strategy", "exchange", "pairs", "timeframe", "timerange"],
  properties: {
    strategy: { type: "string", minLength: 1 },
    strategy_version: { type: "string", description: "default: the latest registered version" },
    exchange: { type: "string", minLength: 1, description: "ccxt exchange id, e.g. binance" },
    pairs: { type: "array", minItems: 1, items: { type: "string", minLength: 3 } },
    timeframe: { type: "string", minLength: 2 },
    timerange: { type: "string", description: "Freqtrade syntax: YYYYMMDD-YYYYMMDD" },
    // Checked by stakeAmountOf: a JSON-schema anyOf reports one error per branch (three entries
    // for one bad value); one entry saying what is expected reads better.
    stake_amount: {
      description: 'a positive number in the stake currency, or "unlimited" (default "unlimited")',
    },
    stake_currency: { type: "string" },
    dry_run_wallet: { type: "number", exclusiveMinimum: 0 },
    max_open_trades: { type: "integer", minimum: -1, description: "-1 = unlimited; default 3" },
    fee: { type: "number", minimum: 0, maximum: 0.1 },
    params: { type: "object" },
    timeframe_detail: { type: "string" },
    idempotency_key: { type: "string", maxLength: 200 },
  },
} as const;

interface SubmitBody {
  strategy: string;
  strategy_version?: string;
  exchange: string;
  pairs: string[];
  timeframe: string;
  timerange: string;
  stake_amount?: unknown;
  stake_currency?: string;
  dry_run_wallet?: number;
  max_open_trades?: number;
  fee?: number;
  params?: Record<string, unknown>;
  timeframe_detail?: string;
  idempotency_key?: string;
}

/** stake_amount: a positive number or "unlimited"; one field violation otherwise. */
function stakeAmountOf(value: unknown): string {
  if (value === undefined || value === "unlimited") return "unlimited";
  if (typeof value === "number" && Number.isFinite(value) && value > 0) return String(value);
  throw invalidArgument('invalid request: body/stake_amount must be a positive number or "unlimited"', [
    {
      field: "body.stake_amount",
      message: 'must be a positive number or "unlimited"',
      expected: 'a positive number or "unlimited"',
      found: JSON.stringify(value),
    },
  ]);
}

/**
 * max_open_trades: -1 (unlimited) or at least 1; absent means the default (3). 0 is refused here:
 * the contract's 0 means "unset", so a 0 sent on purpose would silently become 3.
 */
function maxOpenTradesOf(value: number | undefined): number {
  if (value !== 0) return value ?? 0;
  throw invalidArgument("invalid request: body/max_open_trades must be -1 (unlimited) or at least 1", [
    {
      field: "body.max_open_trades",
      message: "must be -1 (unlimited) or at least 1",
      expected: "-1 (unlimited) or an integer >= 1",
      found: "0",
    },
  ]);
}

export function registerBacktestRoutes(app: FastifyInstance, services: ServiceDirectory): void {
  app.post(
    "/api/v1/backtest",
    { schema: { summary: "Submit a backtest", tags: ["backtests"], body: submitSchema } },
    async (request, reply) => {
      const body = request.body as SubmitBody;
      const response = await services.backtest.submitBacktest({
        config: {
          strategy: body.strategy,
          strategyVersion: body.strategy_version ?? "",
          exchange: body.exchange,
          pairs: body.pairs,
          timeframe: body.timeframe,
          timerange: body.timerange,
          stakeAmount: stakeAmountOf(body.stake_amount),
          stakeCurrency: body.stake_currency ?? "",
          dryRunWallet: body.dry_run_wallet ?? 0,
          maxOpenTrades: maxOpenTradesOf(body.max_open_trades),
          ...(body.fee === undefined ? {} : { fee: body.fee }),
          params: (body.params ?? {}) as JsonObject,
          timeframeDetail: body.timeframe_detail ?? "",
        },
        idempotencyKey: body.idempotency_key ?? "",
      });
      void reply.code(response.existing ? 200 : 202);
      return { job_id: response.jobId, status: JobStatus[response.status], existing: response.existing };
    },
  );

  app.get(
    "/api/v1/backtests",
    {
      schema: {
        summary: "List backtests, newest first",
        tags: ["backtests"],
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: {
            strategy: { type: "string" },
            status: { type: "string", enum: [...STATUS_NAMES] },
            created_after: { type: "string", format: "date-time" },
            created_before: { type: "string", format: "date-time" },
            page_size: { type: "integer", minimum: 1, maximum: 500 },
            page_token: { type: "string" },
          },
        },
      },
    },
    async (request) => {
      const query = request.query as Record<string, string | number | undefined>;
      const response = await services.backtest.listBacktests({
        strategy: (query.strategy as string | undefined) ?? "",
        status:
          query.status === undefined
            ? JobStatus.UNSPECIFIED
            : JobStatus[query.status as (typeof STATUS_NAMES)[number]],
        created: {
          ...(query.created_after === undefined
            ? {}
            : { start: timestampFromMs(Date.parse(String(query.created_after))) }),
          ...(query.created_before === undefined
            ? {}
            : { end: timestampFromMs(Date.parse(String(query.created_before))) }),
        },
        page: {
          pageSize: Number(query.page_size ?? 50),
          pageToken: (query.page_token as string | undefined) ?? "",
        },
      });
      return {
        backtests: response.jobs.map(jobToJson),
        next_page_token: (response.page?.nextPageToken ?? "") === "" ? null : response.page?.nextPageToken,
      };
    },
  );

  const jobParams = {
    type: "object",
    required: ["job_id"],
    properties: { job_id: { type: "string", minLength: 1 } },
  } as const;

  app.get(
    "/api/v1/backtests/:job_id",
    {
      schema: {
        summary: "A backtest's status, progress and summary",
        tags: ["backtests"],
        params: jobParams,
      },
    },
    async (request) => {
      const { job_id: jobId } = request.params as { job_id: string };
      return jobToJson((await services.backtest.getBacktest({ jobId })).job);
    },
  );

  app.delete(
    "/api/v1/backtests/:job_id",
    { schema: { summary: "Cancel a backtest", tags: ["backtests"], params: jobParams } },
    async (request) => {
      const { job_id: jobId } = request.params as { job_id: string };
      return jobToJson((await services.backtest.cancelBacktest({ jobId })).job);
    },
  );

  app.get(
    "/api/v1/backtests/:job_id/result",
    {
      schema: { summary: "Trades, tables, metrics and equity curve", tags: ["backtests"], params: jobParams },
    },
    async (request) => {
      const { job_id: jobId } = request.params as { job_id: string };
      const response = await services.backtest.getBacktestResult({ jobId });
      return {
        job_id: response.jobId,
        metrics: Object.fromEntries(response.metrics.map((metric) => [metric.name, metric.value])),
        result:
          response.freqtradeResultJson === "" ? null : (JSON.parse(response.freqtradeResultJson) as unknown),
      };
    },
  );

  app.get(
    "/api/v1/backtests/:job_id/events",
    {
      schema: {
        summary: "Server-sent events: the job on every change until it finishes",
        tags: ["backtests"],
        params: jobParams,
      },
    },
    async (request, reply) => {
      const { job_id: jobId } = request.params as { job_id: string };
      const controller = new AbortController();
      request.raw.once("close", () => controller.abort());
      const stream = services.backtest.watchBacktest(
        { jobId },
        { signal: controller.signal, timeoutMs: 24 * 3600_000 },
      );
      const iterator = stream[Symbol.asyncIterator]();
      // Fetch the first event before answering, so an unknown job is a plain 404 problem.
      const first = await iterator.next();
      reply.hijack();
      reply.raw.writeHead(200, {
        "content-type": "text/event-stream",
        "cache-control": "no-cache",
        connection: "keep-alive",
        "x-request-id": request.id,
      });
      const send = (event: string, data: unknown) =>
        reply.raw.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      try {
        for (let next = first; next.done !== true; next = await iterator.next())
          send("job", jobToJson(next.value.job));
        send("end", { job_id: jobId });
      } catch (error) {
        if (!controller.signal.aborted) send("error", toProblemDetails(error, request.url));
      } finally {
        reply.raw.end();
      }
    },
  );
}
