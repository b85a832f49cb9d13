// A backtest job's work (ARCHITECTURE.md §4.5): strategy → candles → engine → result store →
// MLflow. Progress is reported per stage; the result is the engine's Freqtrade-layout export.
import { parseTimerange, type BacktestJobMessage } from "@tradai/backtest";
import type { Logger } from "@tradai/common";
import {
  generateBacktestStats,
  runBacktest,
  timeframeToMilliseconds,
  toFreqtradeExport,
  type BacktestOptions,
  type BacktestRunResult,
  type BacktestStats,
  type CandleSeries,
  type MarketsSnapshot,
  type Strategy,
} from "@tradai/engine";
import type { JobWork, WorkResult } from "./job-runner";

export interface StrategyLoader {
  /**
   * The strategy for a registered name and version: sandboxed for registered (untrusted) code, or
   * a strategy object of this process for trusted code (built-ins, tests).
   */
  load(name: string, version: string): Promise<Strategy | SandboxedStrategy>;
}

/** What runBacktest takes besides the strategy. */
export type StrategyBacktestOptions = Pick<BacktestOptions, "params" | "pairs" | "candles" | "config">;

/**
 * A strategy whose code runs only in its own sandbox (service-loaders.ts): the worker sees its
 * description and asks the sandbox to run the backtest; it never holds a function of the strategy.
 */
export interface SandboxedStrategy {
  readonly sandboxed: true;
  readonly name: string;
  readonly startupCandleCount: number;
  /** runBacktest inside the sandbox; rejects with a clear error (or the signal's reason when cancelled). */
  runBacktest(options: StrategyBacktestOptions, signal: AbortSignal): Promise<BacktestRunResult>;
}

function isSandboxed(strategy: Strategy | SandboxedStrategy): strategy is SandboxedStrategy {
  return (strategy as Partial<SandboxedStrategy>).sandboxed === true;
}

/** The backtest of a loaded strategy: in its sandbox, or in this process for a trusted one. */
function runStrategyBacktest(
  strategy: Strategy | SandboxedStrategy,
  options: StrategyBacktestOptions,
  signal: AbortSignal,
): Promise<BacktestRunResult> | BacktestRunResult {
  return isSandboxed(strategy)
    ? strategy.runBacktest(options, signal)
    : runBacktest({ strategy, ...options });
}

export interface CandleRequest {
  exchange: string;
  pair: string;
  timeframe: string;
  /** Epoch ms, inclusive; undefined = from the first stored candle. */
  startMs?: number;
  /** Epoch ms, exclusive; undefined = up to the last stored candle. */
  endMs?: number;
}

export interface CandleLoader {
  load(request: CandleRequest): Promise<CandleSeries>;
  /** The exchange's markets snapshot (precision, limits, fees), when available. */
  markets?(exchange: string): Promise<MarketsSnapshot | undefined>;
}

export interface ResultWriter {
  write(jobId: string, result: unknown): Promise<string>;
}

export interface RunTracker {
  /** Logs the run (params, metrics, tags, artifacts); returns its run id. */
  logBacktest(input: TrackedBacktest): Promise<string>;
}

export interface TrackedBacktest {
  message: BacktestJobMessage;
  stats: BacktestStats;
  /** The full export (the result JSON artifact). */
  result: unknown;
  resultUri: string;
}

export interface BacktestWorkDeps {
  strategies: StrategyLoader;
  candles: CandleLoader;
  results: ResultWriter;
  /** Optional: without it, runs are not tracked. */
  tracker?: RunTracker;
  /** Where a run goes when tracking fails, to be logged later (MLflow down must not lose it). */
  deferTracking?: (tracked: TrackedBacktest) => Promise<void> | void;
  logger: Logger;
  now?: () => number;
}

/** The summary metrics stored on the job (a subset of Freqtrade's SUMMARY METRICS). */
export const SUMMARY_METRICS = [
  "total_trades",
  "profit_total",
  "profit_total_abs",
  "cagr",
  "sharpe",
  "sortino",
  "calmar",
  "profit_factor",
  "expectancy",
  "expectancy_ratio",
  "max_drawdown_account",
  "max_drawdown_abs",
  "winrate",
  "wins",
  "losses",
  "draws",
  "market_change",
  "rejected_signals",
  "final_balance",
] as const satisfies readonly (keyof BacktestStats)[];

export function summaryOf(stats: BacktestStats): { name: string; value: number }[] {
  return SUMMARY_METRICS.map((name) => ({ name, value: Number(stats[name]) }));
}

export function createBacktestWork(deps: BacktestWorkDeps): JobWork {
  const now = deps.now ?? Date.now;
  return async (message, context): Promise<WorkResult> => {
    const { config } = message;
    const throwIfCancelled = () => {
      if (context.signal.aborted) throw context.signal.reason ?? new Error("cancelled");
    };
    const runStart = now();
    // Wall time per stage, logged with the job (where a slow backtest spends its time).
    const stagesMs: Record<string, number> = {};
    let stageStart = performance.now();
    const stageDone = (stage: string) => {
      const at = performance.now();
      stagesMs[stage] = Math.round(at - stageStart);
      stageStart = at;
    };
    context.reportProgress(5, "loading strategy");
    const strategy = await deps.strategies.load(config.strategy, config.strategy_version);
    throwIfCancelled();
    stageDone("strategy");

    context.reportProgress(10, "loading data");
    // Validated at submission; an unparsable range here means a hand-made job message.
    const { range, error } = parseTimerange(config.timerange);
    if (range === undefined) throw new Error(`job config field timerange: ${error ?? "invalid"}`);
    const { startMs, endMs } = range;
    const warmupMs = strategy.startupCandleCount * timeframeToMilliseconds(config.timeframe);
    const candles: Record<string, CandleSeries> = {};
    for (const [index, pair] of config.pairs.entries()) {
      candles[pair] = await deps.candles.load({
        exchange: config.exchange,
        pair,
        timeframe: config.timeframe,
        ...(startMs === undefined ? {} : { startMs: startMs - warmupMs }),
        ...(endMs === undefined ? {} : { endMs }),
      });
      context.reportProgress(10 + (30 * (index + 1)) / config.pairs.length, "loading data");
      throwIfCancelled();
    }
    stageDone("data");
    const markets = (await deps.candles.markets?.(config.exchange)) ?? undefined;
    stageDone("markets");

    context.reportProgress(40, "simulating");
    const run = await runStrategyBacktest(
      strategy,
      {
        params: config.params,
        pairs: config.pairs,
        candles,
        config: {
          stakeAmount: config.stake_amount,
          dryRunWallet: config.dry_run_wallet,
          stakeCurrency: config.stake_currency,
          maxOpenTrades: config.max_open_trades,
          ...(config.fee === undefined ? {} : { fee: config.fee }),
          ...(markets === undefined ? {} : { markets }),
          ...(config.timeframe_detail === "" ? {} : { timeframeDetail: config.timeframe_detail }),
          timerange: {
            ...(startMs === undefined ? {} : { start: startMs }),
            ...(endMs === undefined ? {} : { end: endMs - 1 }),
          },
        },
      },
      context.signal,
    );
    throwIfCancelled();
    stageDone("simulation");

    context.reportProgress(85, "writing results");
    const stats = generateBacktestStats(run, {
      runStartTime: Math.floor(runStart / 1000),
      runEndTime: Math.floor(now() / 1000),
    });
    const result = toFreqtradeExport([{ stats, runId: message.jobId }]);
    const resultUri = await deps.results.write(message.jobId, result);
    stageDone("results");

    let mlflowRunId: string | undefined;
    if (deps.tracker) {
      context.reportProgress(95, "tracking in MLflow");
      const tracked: TrackedBacktest = { message, stats, result, resultUri };
      try {
        mlflowRunId = await deps.tracker.logBacktest(tracked);
      } catch (error) {
        // The backtest itself succeeded and its result is stored: tracking is retried later.
        deps.logger.error({ job_id: message.jobId, err: error }, "MLflow logging failed; deferring it");
        try {
          await deps.deferTracking?.(tracked);
        } catch (deferError) {
          deps.logger.error(
            { job_id: message.jobId, err: deferError },
            "could not write the run to the MLflow outbox; its tracking is lost",
          );
        }
      }
      stageDone("mlflow");
    }
    deps.logger.info(
      { job_id: message.jobId, trades: run.trades.length, stages_ms: stagesMs },
      "backtest finished",
    );
    context.reportProgress(100, "completed");
    return { summary: summaryOf(stats), resultUri, ...(mlflowRunId === undefined ? {} : { mlflowRunId }) };
  };
}
