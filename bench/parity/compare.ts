/**
 * Trade-by-trade and metric comparison of TradAI against a Freqtrade result (a golden file written
 * by run-parity.sh, or a fresh export). Shared by the CLI (bench/parity/run-parity.sh) and the
 * test packages/engine/test/parity.test.ts.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { gunzipSync, gzipSync } from "node:zlib";
import path from "node:path";
import { fileURLToPath } from "node:url";
import {
  emaCrossStrategy,
  generateBacktestStats,
  runBacktest,
  sampleStrategy,
  type BacktestStats,
  type CandleSeries,
  type MarketsSnapshot,
  type Strategy,
  type StrategyDefinition,
  defineStrategy,
} from "../../packages/engine/src/index";
import { loadCandles } from "../engine/load-candles";
import { emaLongShortStrategy } from "./long-short-strategy";
import type { ParityCase } from "./parity-cases";

const here = path.dirname(fileURLToPath(import.meta.url));

/** The subset of a Freqtrade result we keep as golden. */
export interface GoldenResult {
  readonly freqtradeVersion: string;
  readonly case: string;
  readonly trades: readonly {
    pair: string;
    open_timestamp: number;
    close_timestamp: number;
    open_rate: number;
    close_rate: number;
    amount: number;
    stake_amount: number;
    profit_abs: number;
    profit_ratio: number;
    exit_reason: string;
    enter_tag: string | null;
  }[];
  readonly metrics: Readonly<Record<string, number | string>>;
}

export const METRIC_KEYS = [
  "total_trades",
  "profit_total_abs",
  "profit_total",
  "profit_mean",
  "profit_median",
  "final_balance",
  "cagr",
  "sharpe",
  "sortino",
  "calmar",
  "sqn",
  "profit_factor",
  "expectancy",
  "expectancy_ratio",
  "max_drawdown_abs",
  "max_drawdown_account",
  "max_relative_drawdown",
  "drawdown_start_ts",
  "drawdown_end_ts",
  "csum_min",
  "csum_max",
  "winrate",
  "wins",
  "losses",
  "draws",
  "max_consecutive_wins",
  "max_consecutive_losses",
  "rejected_signals",
  "market_change",
  "backtest_start_ts",
  "backtest_end_ts",
  "backtest_days",
  "winning_days",
  "draw_days",
  "losing_days",
  "backtest_best_day_abs",
  "backtest_worst_day_abs",
  "holding_avg_s",
  "trades_per_day",
] as const;

/** Candle file stem for a pair: futures pairs ("BTC/USDT:USDT") use the spot candles of the coin. */
export function spotPair(pair: string): string {
  return pair.split(":")[0] as string;
}

export function loadMarkets(kind: "spot" | "futures" = "spot"): MarketsSnapshot {
  const file = path.join(here, `markets-binance-${kind}.json`);
  const raw = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
  return Object.fromEntries(Object.entries(raw).filter(([key]) => !key.startsWith("_"))) as MarketsSnapshot;
}

function strategyFor(parityCase: ParityCase): Strategy {
  const strategies: Record<string, unknown> = {
    SampleStrategy: sampleStrategy,
    EmaCross: emaCrossStrategy,
    EmaLongShort: emaLongShortStrategy,
    EmaCrossProtected: defineStrategy({
      ...(emaCrossStrategy as unknown as StrategyDefinition),
      name: "EmaCrossProtected",
      protections: [
        { method: "CooldownPeriod", stopDurationCandles: 2 },
        {
          method: "StoplossGuard",
          lookbackPeriodCandles: 24,
          tradeLimit: 2,
          stopDurationCandles: 12,
          onlyPerPair: false,
        },
        {
          method: "MaxDrawdown",
          lookbackPeriodCandles: 48,
          tradeLimit: 10,
          stopDurationCandles: 12,
          maxAllowedDrawdown: 0.05,
        },
        {
          method: "LowProfitPairs",
          lookbackPeriodCandles: 60,
          tradeLimit: 2,
          stopDuration: 60,
          requiredProfit: 0,
        },
      ],
    }),
  };
  return strategies[parityCase.freqtradeStrategy] as Strategy;
}

export function timeframeMs(timeframe: string): number {
  const unit = timeframe.slice(-1);
  return Number(timeframe.slice(0, -1)) * (unit === "m" ? 60_000 : unit === "h" ? 3_600_000 : 86_400_000);
}

export function runTradai(parityCase: ParityCase): BacktestStats {
  const from = parityCase.start - parityCase.startupCandles * timeframeMs(parityCase.timeframe);
  const candles: Record<string, CandleSeries> = {};
  for (const pair of parityCase.pairs) {
    candles[pair] = loadCandles("binance", spotPair(pair), parityCase.timeframe, from, parityCase.end);
  }
  const detailTimeframe = parityCase.timeframeDetail;
  const detail: Record<string, CandleSeries> = {};
  if (detailTimeframe !== undefined) {
    for (const pair of parityCase.pairs)
      detail[pair] = loadCandles("binance", pair, detailTimeframe, from, parityCase.end);
  }
  const run = runBacktest({
    strategy: strategyFor(parityCase),
    candles,
    pairs: parityCase.pairs,
    candleSource: (pair, timeframe) => (timeframe === detailTimeframe ? detail[pair] : undefined),
    config: {
      ...(detailTimeframe === undefined ? {} : { timeframeDetail: detailTimeframe }),
      stakeAmount: parityCase.stakeAmount,
      dryRunWallet: parityCase.dryRunWallet,
      maxOpenTrades: parityCase.maxOpenTrades,
      fee: parityCase.fee,
      markets: loadMarkets(parityCase.tradingMode ?? "spot"),
      tradingMode: parityCase.tradingMode ?? "spot",
      enableProtections: parityCase.enableProtections ?? false,
      timerange: { start: parityCase.start },
    },
  });
  return generateBacktestStats(run);
}

function relativeDifference(left: number, right: number): number {
  if (left === right) return 0;
  return Math.abs(left - right) / Math.max(Math.abs(left), Math.abs(right));
}

/** Every difference between ours and Freqtrade's, as readable lines (empty = parity). */
export function compareWithGolden(ours: BacktestStats, golden: GoldenResult, tolerance = 1e-8): string[] {
  const problems: string[] = [];
  const count = Math.max(ours.trades.length, golden.trades.length);
  for (let index = 0; index < count && problems.length < 20; index++) {
    const mine = ours.trades[index];
    const theirs = golden.trades[index];
    if (mine === undefined || theirs === undefined) {
      problems.push(
        `trade ${index}: only in ${mine === undefined ? "Freqtrade" : "TradAI"}: ${JSON.stringify(mine ?? theirs)}`,
      );
      continue;
    }
    const label = `trade ${index} (${theirs.pair} ${new Date(theirs.open_timestamp).toISOString()})`;
    if (mine.pair !== theirs.pair) problems.push(`${label}: pair ${mine.pair} ≠ ${theirs.pair}`);
    if (mine.open_timestamp !== theirs.open_timestamp) {
      problems.push(
        `${label}: open ${new Date(mine.open_timestamp).toISOString()} ≠ ${new Date(theirs.open_timestamp).toISOString()}`,
      );
    }
    if (mine.close_timestamp !== theirs.close_timestamp) {
      problems.push(
        `${label}: close ${new Date(mine.close_timestamp).toISOString()} ≠ ${new Date(theirs.close_timestamp).toISOString()}`,
      );
    }
    if (mine.exit_reason !== theirs.exit_reason)
      problems.push(`${label}: exit ${mine.exit_reason} ≠ ${theirs.exit_reason}`);
    if ((mine.enter_tag ?? "") !== (theirs.enter_tag ?? ""))
      problems.push(`${label}: tag ${mine.enter_tag} ≠ ${theirs.enter_tag}`);
    for (const key of [
      "open_rate",
      "close_rate",
      "amount",
      "stake_amount",
      "profit_abs",
      "profit_ratio",
    ] as const) {
      const difference = relativeDifference(mine[key], theirs[key]);
      const absolute = Math.abs(mine[key] - theirs[key]);
      if (difference > tolerance && absolute > 1e-8)
        problems.push(`${label}: ${key} ${mine[key]} ≠ ${theirs[key]}`);
    }
  }
  for (const key of METRIC_KEYS) {
    const theirs = golden.metrics[key];
    const mine = ours[key];
    if (theirs === undefined) continue;
    if (typeof theirs === "number" && typeof mine === "number") {
      if (relativeDifference(mine, theirs) > 1e-6 && Math.abs(mine - theirs) > 1e-9) {
        problems.push(`metric ${key}: ${mine} ≠ ${theirs}`);
      }
    } else if (mine !== theirs) problems.push(`metric ${key}: ${String(mine)} ≠ ${String(theirs)}`);
  }
  return problems;
}

/** Reduce a Freqtrade export to the golden subset. */
export function toGolden(
  parityCase: ParityCase,
  freqtradeVersion: string,
  stats: Record<string, unknown>,
): GoldenResult {
  const trades = (stats["trades"] as Record<string, unknown>[]).map((trade) => ({
    pair: trade["pair"] as string,
    open_timestamp: trade["open_timestamp"] as number,
    close_timestamp: trade["close_timestamp"] as number,
    open_rate: trade["open_rate"] as number,
    close_rate: trade["close_rate"] as number,
    amount: trade["amount"] as number,
    stake_amount: trade["stake_amount"] as number,
    profit_abs: trade["profit_abs"] as number,
    profit_ratio: trade["profit_ratio"] as number,
    exit_reason: trade["exit_reason"] as string,
    enter_tag: (trade["enter_tag"] as string | null) ?? null,
  }));
  const metrics: Record<string, number | string> = {};
  for (const key of METRIC_KEYS) {
    const value = stats[key];
    if (typeof value === "number" || typeof value === "string") metrics[key] = value;
  }
  return { freqtradeVersion, case: parityCase.name, trades, metrics };
}

/** Goldens are stored gzipped (`golden/<case>.json.gz`) to keep the repository small. */
export function goldenPath(name: string): string {
  return path.join(here, "golden", `${name}.json.gz`);
}

export function readGolden(name: string): GoldenResult {
  return JSON.parse(gunzipSync(readFileSync(goldenPath(name))).toString("utf8")) as GoldenResult;
}

export function writeGolden(golden: GoldenResult): void {
  writeFileSync(goldenPath(golden.case), gzipSync(`${JSON.stringify(golden)}\n`, { level: 9 }));
}
