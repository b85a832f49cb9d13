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
  // One lookup per strategy per process; a failed lookup is forgotten so the next run asks again.
  const experiments = new Map<string, Promise<string>>();
  const experimentId = (name: string): Promise<string> => {
    let id = experiments.get(name);
    if (id === undefined) {
      id = client.getOrCreateExperiment(name).then((experiment) => experiment.experimentId);
      experiments.set(name, id);
      id.catch(() => experiments.delete(name));
    }
    return id;
  };
  return {
    logBacktest: (tracked: TrackedBacktest) => inSpan("mlflow.log_backtest", () => logBacktest(tracked)),
  };

  async function logBacktest({ message, stats, result, resultUri }: TrackedBacktest): Promise<string> {
    const { config } = message;
    const experimentName = `${options.experimentPrefix ?? "tradai/backtest/"}${config.strategy}`;
    const experiment = await experimentId(experimentName);
    const run = await client
      .createRun({
        experimentId: experiment,
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
      })
      .catch((error: unknown) => {
        // The experiment may have been deleted since it was looked up: look it up again next time.
        experiments.delete(experimentName);
        throw error;
      });
    const runId = run.info.runId;
    try {
      // Params/metrics and the three artifacts are independent: send them at once, and wait for
      // every one (so a failure ends the run FAILED only after nothing is still being written).
      const writes = await Promise.allSettled([
        client.logBatch(runId, {
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
        }),
        client.uploadArtifact(runId, "backtest-result.json", JSON.stringify(result), "application/json"),
        client.uploadArtifact(runId, "trades.csv", tradesCsv(stats), "text/csv"),
        client.uploadArtifact(runId, "equity.svg", renderEquityChart(stats), "image/svg+xml"),
      ]);
      for (const write of writes) if (write.status === "rejected") throw write.reason;
      await client.endRun(runId, "FINISHED");
    } catch (error) {
      await client.endRun(runId, "FAILED").catch(() => undefined);
      throw error;
    }
    return runId;
  }
}
