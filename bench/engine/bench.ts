/**
 * Engine throughput on real candles, with Freqtrade measured on the same workload in the same run:
 *   (i)  one pair of 1m candles: FIL/USDT (the longest 1m series in shared/data, 347k rows incl. gaps
 *        that both engines fill), 2023-02-02 → 2023-12-01;
 *   (ii) the seven 5m USDT pairs over their common year 2025 (~7 × 105k candles).
 * Each with Freqtrade's sample strategy and an EMA cross with trailing stop. Prints candles/s,
 * indicator+signal time vs simulation time, peak RSS, and (with --with-freqtrade) Freqtrade's times
 * and the speed ratio, plus whether the trades agree.
 *
 *   npx tsx bench/engine/bench.ts [--workload=i|ii|iii|all] [--with-freqtrade]
 */
import {
  analyzePair,
  emaCrossStrategy,
  generateBacktestStats,
  resolveParameters,
  runBacktest,
  sampleStrategy,
  type CandleSeries,
  type Strategy,
} from "../../packages/engine/src/index";
import { compareWithGolden, loadMarkets, timeframeMs, toGolden } from "../parity/compare";
import { freqtradeInstalled, installFreqtrade, runFreqtrade } from "../parity/freqtrade";
import type { ParityCase } from "../parity/parity-cases";
import { loadCandles } from "./load-candles";

interface Workload {
  readonly name: string;
  readonly exchange: string;
  readonly pairs: readonly string[];
  readonly timeframe: string;
  readonly start: number;
  readonly end: number;
}

const WORKLOADS: Record<string, Workload> = {
  i: {
    name: "(i) FIL/USDT 1m",
    exchange: "binanceusdm",
    pairs: ["FIL/USDT"],
    timeframe: "1m",
    start: Date.UTC(2023, 1, 2),
    end: Date.UTC(2023, 11, 1),
  },
  ii: {
    name: "(ii) 7 pairs 5m, 2025",
    exchange: "binance",
    pairs: ["BTC/USDT", "ETH/USDT", "SOL/USDT", "XRP/USDT", "BNB/USDT", "DOGE/USDT", "ADA/USDT"],
    timeframe: "5m",
    start: Date.UTC(2025, 0, 1),
    end: Date.UTC(2026, 0, 1),
  },
};

/**
 * Workload (iii): 100 synthetic pairs × 1 year of 1m candles (52.6 M), built from real BTC/USDT 1m
 * returns (each pair starts at a different offset in the return series and compounds them).
 */
function syntheticYear(pairs: number): Record<string, CandleSeries> {
  const real = loadCandles("binance", "BTC/USDT", "1m");
  const returns = new Float64Array(real.close.length - 1);
  for (let index = 1; index < real.close.length; index++) {
    returns[index - 1] = (real.close[index] as number) / (real.close[index - 1] as number) - 1;
  }
  const length = 525_600;
  const start = Date.UTC(2025, 0, 1);
  const result: Record<string, CandleSeries> = {};
  for (let pair = 0; pair < pairs; pair++) {
    const columns = {
      date: new Float64Array(length),
      open: new Float64Array(length),
      high: new Float64Array(length),
      low: new Float64Array(length),
      close: new Float64Array(length),
      volume: new Float64Array(length),
    };
    let close = 100 + pair;
    const offset = (pair * 7919) % returns.length;
    for (let index = 0; index < length; index++) {
      const change = returns[(offset + index) % returns.length] as number;
      const wick = Math.abs(returns[(offset + index * 3 + 1) % returns.length] as number);
      const open = close;
      close = open * (1 + change);
      columns.date[index] = start + index * 60_000;
      columns.open[index] = open;
      columns.close[index] = close;
      columns.high[index] = Math.max(open, close) * (1 + wick);
      columns.low[index] = Math.min(open, close) * (1 - wick);
      columns.volume[index] = real.volume[(offset + index) % real.volume.length] as number;
    }
    result[`P${String(pair).padStart(3, "0")}/USDT`] = columns;
  }
  return result;
}

const STRATEGIES = [
  { strategy: sampleStrategy as unknown as Strategy, freqtrade: "SampleStrategy", path: "template" as const },
  { strategy: emaCrossStrategy as unknown as Strategy, freqtrade: "EmaCross", path: "ours" as const },
];

const selected =
  process.argv.find((argument) => argument.startsWith("--workload="))?.slice("--workload=".length) ?? "all";
const withFreqtrade = process.argv.includes("--with-freqtrade");
if (withFreqtrade && !freqtradeInstalled()) installFreqtrade();

if (selected === "iii") {
  const started = performance.now();
  const candles = syntheticYear(100);
  const pairs = Object.keys(candles);
  const buildMs = performance.now() - started;
  const strategy = { ...emaCrossStrategy, timeframe: "1m" } as unknown as Strategy;
  const runStarted = performance.now();
  const run = runBacktest({
    strategy,
    candles,
    pairs,
    config: {
      stakeAmount: 100,
      dryRunWallet: 10_000,
      maxOpenTrades: 10,
      fee: 0.001,
      pricePrecision: "markets",
    },
  });
  const runMs = performance.now() - runStarted;
  const total = pairs.length * 525_600;
  console.log(
    `(iii) 100 synthetic pairs × 1 year 1m | EmaCross: ${total.toLocaleString("en-US")} candles, ${run.trades.length} trades`,
  );
  console.log(
    `  built in ${buildMs.toFixed(0)} ms; backtest ${runMs.toFixed(0)} ms → ${((total / runMs) * 1000).toExponential(2)} candles/s`,
  );
  console.log(`  peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB (target < 4096 MB)`);
}

for (const [key, workload] of Object.entries(WORKLOADS)) {
  if (selected !== "all" && selected !== key) continue;
  for (const entry of STRATEGIES) {
    const strategy = { ...entry.strategy, timeframe: workload.timeframe } as Strategy;
    const from = workload.start - strategy.startupCandleCount * timeframeMs(workload.timeframe);
    const candles: Record<string, CandleSeries> = {};
    for (const pair of workload.pairs)
      candles[pair] = loadCandles(workload.exchange, pair, workload.timeframe, from, workload.end);
    const total = workload.pairs.reduce((sum, pair) => sum + (candles[pair] as CandleSeries).date.length, 0);
    const params = resolveParameters(strategy, {});
    const config = {
      stakeAmount: 100,
      dryRunWallet: 1000,
      maxOpenTrades: 3,
      fee: 0.001,
      markets: loadMarkets(),
      timerange: { start: workload.start },
    };
    // Cold run (fresh JIT, as a worker process sees it), then the analysis-only baseline, then warm.
    let started = performance.now();
    runBacktest({ strategy, candles, pairs: workload.pairs, config });
    const coldMs = performance.now() - started;
    started = performance.now();
    for (const pair of workload.pairs)
      analyzePair({ strategy, params, pair, candles: candles[pair] as CandleSeries });
    const analysisMs = performance.now() - started;
    started = performance.now();
    const run = runBacktest({ strategy, candles, pairs: workload.pairs, config });
    const warmMs = performance.now() - started;
    const simulationMs = Math.max(warmMs - analysisMs, 0.001);
    const rate = (ms: number): string => `${((total / ms) * 1000).toExponential(2)} candles/s`;
    console.log(
      `${workload.name} | ${entry.freqtrade}: ${total.toLocaleString("en-US")} candles, ${run.trades.length} trades`,
    );
    console.log(
      `  TradAI cold ${coldMs.toFixed(0)} ms (${rate(coldMs)}), warm ${warmMs.toFixed(0)} ms (${rate(warmMs)})`,
    );
    console.log(
      `  TradAI indicators+signals ${analysisMs.toFixed(0)} ms (${((analysisMs / warmMs) * 100).toFixed(0)} %), simulation ${simulationMs.toFixed(0)} ms (${rate(simulationMs)})`,
    );
    console.log(`  peak RSS so far ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
    if (withFreqtrade) {
      const freqtrade = runFreqtrade({
        strategy: entry.freqtrade,
        strategyPath: entry.path,
        pairs: workload.pairs,
        files: Object.fromEntries(
          workload.pairs.map((pair) => [
            pair,
            `${workload.exchange}_${pair.replace("/", "_")}-${workload.timeframe}.csv.gz`,
          ]),
        ),
        timeframe: workload.timeframe,
        start: workload.start,
        end: workload.end,
        startupCandles: strategy.startupCandleCount,
        fee: config.fee,
        stakeAmount: config.stakeAmount,
        dryRunWallet: config.dryRunWallet,
        maxOpenTrades: config.maxOpenTrades,
      });
      const parityCase: ParityCase = {
        name: workload.name,
        freqtradeStrategy: entry.freqtrade,
        strategyPath: entry.path,
        pairs: workload.pairs,
        timeframe: workload.timeframe,
        start: workload.start,
        end: workload.end,
        startupCandles: strategy.startupCandleCount,
        fee: config.fee,
        stakeAmount: config.stakeAmount,
        dryRunWallet: config.dryRunWallet,
        maxOpenTrades: config.maxOpenTrades,
      };
      const differences = compareWithGolden(
        generateBacktestStats(run),
        toGolden(parityCase, freqtrade.version, freqtrade.stats),
      );
      const strategyMs = freqtrade.strategySeconds * 1000;
      const loopMs = freqtrade.backtestSeconds * 1000;
      console.log(
        `  Freqtrade ${freqtrade.version}: strategy run ${strategyMs.toFixed(0)} ms (${rate(strategyMs)}), of which backtest loop ${loopMs.toFixed(0)} ms; command ${freqtrade.wallSeconds.toFixed(1)} s`,
      );
      console.log(
        `  ratio TradAI/Freqtrade: warm ${(strategyMs / warmMs).toFixed(0)}×, cold ${(strategyMs / coldMs).toFixed(0)}×, loop only ${(loopMs / simulationMs).toFixed(0)}×; trades ${differences.length === 0 ? "identical" : `differ (${differences.length}: ${differences[0]})`}`,
      );
    }
  }
}
