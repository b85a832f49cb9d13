// Tracks a backtest in MLflow (issue #6 §4): an experiment per strategy, the run config as params,
// every numeric summary metric, tags for job id / strategy version / data range, and artifacts —
// the result JSON, the trade list (CSV) and an equity/drawdown chart (SVG).
import { inSpan } from "@tradai/common";
import type { MlflowClient } from "@tradai/mlflow";
import type { BacktestStats } from "@tradai/engine";
import type { RunTracker, TrackedBacktest } from "../core/backtest-work";
import { renderEquityChart } from "./equity-chart";

export interface MlflowRunTrackerOptions {
  client: MlflowClient;
  /** Experiment name prefix; default "tradai/backtest/". */
  experimentPrefix?: string;
}

/** Every finite numeric top-level figure of the stats is a metric. */
export function metricsOf(stats: BacktestStats): { key: string; value: number }[] {
  return Object.entries(stats)
    .filter((entry): entry is [string, number] => typeof entry[1] === "number")
    .map(([key, value]) => ({ key, value }));
}

function tradesCsv(stats: BacktestStats): string {
  const columns = [
    "pair",
    "is_short",
    "open_date",
    "close_date",
    "open_rate",
    "close_rate",
    "amount",
    "stake_amount",
    "profit_ratio",
    "profit_abs",
    "exit_reason",
    "enter_tag",
    "leverage",
  ] as const;
  const escape = (value: unknown) => {
    const text = value === null || value === undefined ? "" : String(value);
    return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  };
  const rows = stats.trades.map((trade) =>
    columns.map((column) => escape((trade as unknown as Record<string, unknown>)[column])).join(","),
  );
  return [columns.join(","), ...rows].join("\n") + "\n";
}

export function createMlflowRunTracker(options: MlflowRunTrackerOptions): RunTracker {
  const { client } = options;
  return {
    logBacktest: (tracked: TrackedBacktest) => inSpan("mlflow.log_backtest", () => logBacktest(tracked)),
  };

  async function logBacktest({ message, stats, result, resultUri }: TrackedBacktest): Promise<string> {
    const { config } = message;
    const experiment = await client.getOrCreateExperiment(
      `${options.experimentPrefix ?? "tradai/backtest/"}${config.strategy}`,
    );
    const run = await client.createRun({
      experimentId: experiment.experimentId,
      runName: `${config.strategy} ${config.timerange} ${message.jobId.slice(0, 8)}`,
      tags: {
        "tradai.job_id": message.jobId,
        "tradai.strategy": config.strategy,
        "tradai.strategy_version": config.strategy_version,
        "tradai.exchange": config.exchange,
        "tradai.timeframe": config.timeframe,
        "tradai.data_range": `${stats.backtest_start} .. ${stats.backtest_end}`,
        "tradai.result_uri": resultUri,
      },
    });
    const runId = run.info.runId;
    try {
      await client.logBatch(runId, {
        params: {
          strategy: config.strategy,
          strategy_version: config.strategy_version,
          exchange: config.exchange,
          pairs: config.pairs.join(","),
          timeframe: config.timeframe,
          timerange: config.timerange,
          stake_amount: String(config.stake_amount),
          dry_run_wallet: config.dry_run_wallet,
          max_open_trades: config.max_open_trades,
          fee: stats.fee,
          ...Object.fromEntries(
            Object.entries(config.params).map(([key, value]) => [`params.${key}`, JSON.stringify(value)]),
          ),
        },
        metrics: metricsOf(stats),
      });
      await client.uploadArtifact(runId, "backtest-result.json", JSON.stringify(result), "application/json");
      await client.uploadArtifact(runId, "trades.csv", tradesCsv(stats), "text/csv");
      await client.uploadArtifact(runId, "equity.svg", renderEquityChart(stats), "image/svg+xml");
      await client.endRun(runId, "FINISHED");
    } catch (error) {
      await client.endRun(runId, "FAILED").catch(() => undefined);
      throw error;
    }
    return runId;
  }
}
