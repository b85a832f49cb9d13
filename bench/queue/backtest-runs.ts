// (d) A real backtest end to end (issue 6 target: sample strategy, 1 pair, 1 year of 5m, POST to
// COMPLETED in under 2 s with the LOCAL executor, MLflow logging included). The stack is the one of
// (c) with BACKEND_EXECUTOR_MODE=LOCAL (a pool of worker processes, no Redis) and the real MLflow
// server; the clock runs from just before the POST until GET /api/v1/backtests/{id} reads COMPLETED,
// polled every `pollMs`. The worker logs the MLflow run (params, metrics, tags, result/trade/chart
// artifacts) before it marks the job COMPLETED, and each run is checked afterwards on the MLflow
// server (status FINISHED, metrics present). Baseline: the same backtest with the engine alone in
// this process (load candles from shared/data, analyze, simulate, compute the statistics).
import {
  generateBacktestStats,
  runBacktest,
  sampleStrategy,
  timeframeToMilliseconds,
  type CandleSeries,
  type Strategy,
} from "../../packages/engine/src/index";
import { loadCandles } from "../engine/load-candles";
import { summarize, type LatencySummary } from "./bench-support";
import { callOnce } from "./gateway-runs";

export const YEAR_BODY = {
  strategy: "SampleStrategy",
  exchange: "binance",
  pairs: ["BTC/USDT"],
  timeframe: "5m",
  timerange: "20250101-20260101",
  stake_amount: 100,
  dry_run_wallet: 1000,
  max_open_trades: 1,
  fee: 0.001,
};

interface JobView {
  job_id: string;
  status: string;
  created_at?: string;
  started_at?: string;
  finished_at?: string;
  error?: string;
  mlflow_run_id?: string;
  summary?: Record<string, unknown>;
}

export interface EndToEndRun {
  jobId: string;
  ms: number;
  /** POST answered (202) after this many ms. */
  acceptedMs: number;
  /** created_at → started_at (dispatch to the worker), started_at → finished_at (the worker's run), ms. */
  queuedMs: number;
  runningMs: number;
  trades: number;
  mlflowRunId: string;
  mlflowMetrics: number;
}

export interface EndToEndResult {
  runs: EndToEndRun[];
  latency: LatencySummary;
}

async function getJson<T>(url: string): Promise<T> {
  const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  const text = await response.text();
  if (!response.ok) throw new Error(`GET ${url}: ${response.status} ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}

/** POST → COMPLETED for `runs` backtests, one after the other; fails on any FAILED job. */
export async function runEndToEnd(options: {
  gatewayUrl: string;
  mlflowUrl: string;
  body: Record<string, unknown>;
  runs: number;
  pollMs: number;
  deadlineMs: number;
}): Promise<EndToEndResult> {
  const runs: EndToEndRun[] = [];
  for (let index = 0; index < options.runs; index++) {
    const started = performance.now();
    const answer = await callOnce(options.gatewayUrl, {
      method: "POST",
      path: "/api/v1/backtest",
      body: options.body,
      expect: [202],
    });
    const acceptedMs = performance.now() - started;
    const jobId = (JSON.parse(answer.body) as { job_id: string }).job_id;
    let job: JobView;
    for (;;) {
      job = await getJson<JobView>(`${options.gatewayUrl}/api/v1/backtests/${jobId}`);
      if (job.status === "COMPLETED") break;
      if (job.status === "FAILED" || job.status === "CANCELLED")
        throw new Error(`backtest ${jobId} ended ${job.status}: ${job.error ?? "no error given"}`);
      if (performance.now() - started > options.deadlineMs)
        throw new Error(`backtest ${jobId} still ${job.status} after ${options.deadlineMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, options.pollMs));
    }
    const ms = performance.now() - started;
    const mlflowRunId = job.mlflow_run_id ?? "";
    if (mlflowRunId === "") throw new Error(`backtest ${jobId} COMPLETED without an MLflow run id`);
    const mlflow = await getJson<{ run: { info: { status: string }; data: { metrics?: unknown[] } } }>(
      `${options.mlflowUrl}/api/2.0/mlflow/runs/get?run_id=${mlflowRunId}`,
    );
    if (mlflow.run.info.status !== "FINISHED")
      throw new Error(
        `MLflow run ${mlflowRunId} of ${jobId} is ${mlflow.run.info.status}, expected FINISHED`,
      );
    const metrics = mlflow.run.data.metrics?.length ?? 0;
    if (metrics === 0) throw new Error(`MLflow run ${mlflowRunId} of ${jobId} has no metrics`);
    const trades = Number(job.summary?.total_trades);
    const at = (iso: string | undefined) => (iso === undefined ? Number.NaN : Date.parse(iso));
    runs.push({
      jobId,
      ms,
      acceptedMs,
      queuedMs: at(job.started_at) - at(job.created_at),
      runningMs: at(job.finished_at) - at(job.started_at),
      trades,
      mlflowRunId,
      mlflowMetrics: metrics,
    });
  }
  return { runs, latency: summarize(runs.map((run) => run.ms)) };
}

export interface EngineBaseline {
  candles: number;
  trades: number;
  coldMs: number;
  warmMs: number;
}

/** The same backtest with the engine alone, in this process: first (cold JIT) and second run, candles in memory. */
export function engineBaseline(body: typeof YEAR_BODY, startMs: number, endMs: number): EngineBaseline {
  const pair = body.pairs[0] ?? "BTC/USDT";
  const strategy = sampleStrategy as unknown as Strategy;
  // Startup candles before the range, as the worker loads them; loading is not timed (gunzip + CSV).
  const warmupMs = strategy.startupCandleCount * timeframeToMilliseconds(body.timeframe);
  const candles: Record<string, CandleSeries> = {
    [pair]: loadCandles(body.exchange, pair, body.timeframe, startMs - warmupMs, endMs),
  };
  const once = () => {
    const started = performance.now();
    const run = runBacktest({
      strategy,
      candles,
      pairs: [pair],
      config: {
        stakeAmount: body.stake_amount,
        dryRunWallet: body.dry_run_wallet,
        maxOpenTrades: body.max_open_trades,
        fee: body.fee,
        timerange: { start: startMs, end: endMs },
      },
    });
    generateBacktestStats(run);
    return {
      ms: performance.now() - started,
      trades: run.trades.length,
      candles: candles[pair]?.date.length ?? 0,
    };
  };
  const cold = once();
  const warm = once();
  return { candles: cold.candles, trades: warm.trades, coldMs: cold.ms, warmMs: warm.ms };
}
