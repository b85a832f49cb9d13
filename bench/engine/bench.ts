/**
 * Engine throughput, with Freqtrade measured on the same workload in the same run:
 *   (i)   one pair of 1m candles: FIL/USDT (the longest 1m series in shared/data, 347k rows incl. gaps
 *         that both engines fill), 2023-02-02 → 2023-12-01;
 *   (ii)  the seven 5m USDT pairs over their common year 2025 (~7 × 105k candles);
 *   (iii) 100 synthetic pairs × 1 year of 1m (52.56 M candles), built per pair on demand
 *         (`--resident` builds them all first; `--strategy=EmaCross|SampleStrategy` runs one).
 * Each with Freqtrade's sample strategy and an EMA cross with trailing stop. Prints candles/s, the
 * engine's phases (candle checks + indicators + signals, simulation) best of several warm runs, the
 * cold run, generateBacktestStats time, peak RSS, and (with --with-freqtrade, (i) and (ii))
 * Freqtrade's times, the speed ratios, and whether the trades agree.
 *
 *   npx tsx bench/engine/bench.ts [--workload=i|ii|iii|all] [--with-freqtrade] [--with-vectorbt] [--resident] [--strategy=…]
 */
import {
  emaCrossStrategy,
  generateBacktestStats,
  runBacktest,
  sampleStrategy,
  type CandleSeries,
  type Strategy,
} from "../../packages/engine/src/index";
import { compareWithGolden, loadMarkets, timeframeMs, toGolden } from "../parity/compare";
import { freqtradeInstalled, installFreqtrade, runFreqtrade } from "../parity/freqtrade";
import type { ParityCase } from "../parity/parity-cases";
import { loadCandles } from "./load-candles";
import { WORKLOADS } from "./workloads";
import { describeVectorbt, installVectorbt, runVectorbt, vectorbtInstalled } from "./vectorbt";

/**
 * Workload (iii): 100 synthetic pairs × 1 year of 1m candles (52.6 M), built from real BTC/USDT 1m
 * returns (each pair starts at a different offset in the return series and compounds them).
 * `syntheticPair(index)` builds one pair, so the engine can load pairs one at a time.
 */
const SYNTHETIC_LENGTH = 525_600;
const SYNTHETIC_PAIRS = 100;

function syntheticPairs(): { readonly names: string[]; readonly build: (pair: string) => CandleSeries } {
  const real = loadCandles("binance", "BTC/USDT", "1m");
  const returns = new Float64Array(real.close.length - 1);
  for (let index = 1; index < real.close.length; index++) {
    returns[index - 1] = (real.close[index] as number) / (real.close[index - 1] as number) - 1;
  }
  const volumes = real.volume;
  const start = Date.UTC(2025, 0, 1);
  const names = Array.from(
    { length: SYNTHETIC_PAIRS },
    (_, pair) => `P${String(pair).padStart(3, "0")}/USDT`,
  );
  const build = (name: string): CandleSeries => {
    const pair = names.indexOf(name);
    const length = SYNTHETIC_LENGTH;
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
      columns.volume[index] = volumes[(offset + index) % volumes.length] as number;
    }
    return columns;
  };
  return { names, build };
}

const STRATEGIES = [
  { strategy: sampleStrategy as unknown as Strategy, freqtrade: "SampleStrategy", path: "template" as const },
  { strategy: emaCrossStrategy as unknown as Strategy, freqtrade: "EmaCross", path: "ours" as const },
];

const selected =
  process.argv.find((argument) => argument.startsWith("--workload="))?.slice("--workload=".length) ?? "all";
const withFreqtrade = process.argv.includes("--with-freqtrade");
if (withFreqtrade && !freqtradeInstalled()) installFreqtrade();
const withVectorbt = process.argv.includes("--with-vectorbt");
if (withVectorbt && !vectorbtInstalled()) installVectorbt();

const WARM_RUNS = 7;
const megabytes = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
const peakRss = (): string => megabytes(process.resourceUsage().maxRSS * 1024);

for (const [key, workload] of Object.entries(WORKLOADS)) {
  if (selected !== "all" && selected !== key) continue;
  for (const entry of STRATEGIES) {
    const strategy = { ...entry.strategy, timeframe: workload.timeframe } as Strategy;
    const from = workload.start - strategy.startupCandleCount * timeframeMs(workload.timeframe);
    const candles: Record<string, CandleSeries> = {};
    for (const pair of workload.pairs)
      candles[pair] = loadCandles(workload.exchange, pair, workload.timeframe, from, workload.end);
    const total = workload.pairs.reduce((sum, pair) => sum + (candles[pair] as CandleSeries).date.length, 0);
    const config = {
      stakeAmount: 100,
      dryRunWallet: 1000,
      maxOpenTrades: 3,
      fee: 0.001,
      markets: loadMarkets(),
      timerange: { start: workload.start },
    };
    // Cold run (fresh JIT, as a worker process sees it), then the best of WARM_RUNS warm runs (the
    // machine is shared: the minimum is the least disturbed run). The engine reports its phases.
    let started = performance.now();
    runBacktest({ strategy, candles, pairs: workload.pairs, config });
    const coldMs = performance.now() - started;
    let warmMs = Number.POSITIVE_INFINITY;
    let analysisMs = Number.POSITIVE_INFINITY;
    let simulationMs = Number.POSITIVE_INFINITY;
    let statsMs = Number.POSITIVE_INFINITY;
    let run: ReturnType<typeof runBacktest> | undefined;
    for (let attempt = 0; attempt < WARM_RUNS; attempt++) {
      const phases: Record<string, number> = {};
      started = performance.now();
      run = runBacktest({
        strategy,
        candles,
        pairs: workload.pairs,
        config,
        onPhase: (phase) => (phases[phase] = performance.now()),
      });
      warmMs = Math.min(warmMs, performance.now() - started);
      analysisMs = Math.min(analysisMs, (phases["simulation"] ?? 0) - (phases["analysis"] ?? 0));
      simulationMs = Math.min(simulationMs, (phases["done"] ?? 0) - (phases["simulation"] ?? 0));
      started = performance.now();
      generateBacktestStats(run);
      statsMs = Math.min(statsMs, performance.now() - started);
    }
    if (run === undefined) throw new Error("no warm run");
    const rate = (ms: number): string => `${((total / ms) * 1000).toExponential(2)} candles/s`;
    console.log(
      `${workload.name} | ${entry.freqtrade}: ${total.toLocaleString("en-US")} candles, ${run.trades.length} trades, ${run.simulation} simulation`,
    );
    console.log(
      `  TradAI cold ${coldMs.toFixed(0)} ms (${rate(coldMs)}), warm best of ${WARM_RUNS} ${warmMs.toFixed(1)} ms (${rate(warmMs)})`,
    );
    console.log(
      `  TradAI phases (best): candle checks+indicators+signals ${analysisMs.toFixed(1)} ms, simulation ${simulationMs.toFixed(1)} ms (${rate(simulationMs)}); generateBacktestStats ${statsMs.toFixed(1)} ms`,
    );
    console.log(`  peak RSS so far ${peakRss()}`);
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
    if (withVectorbt) {
      const vectorbt = runVectorbt({
        strategy: entry.freqtrade === "SampleStrategy" ? "sample" : "ema-cross",
        pairs: workload.pairs,
        candles,
        timeframe: workload.timeframe,
        start: workload.start,
        stakeAmount: config.stakeAmount,
        dryRunWallet: config.dryRunWallet,
        fee: config.fee,
        maxOpenTrades: config.maxOpenTrades,
      });
      for (const line of describeVectorbt(vectorbt, { coldMs, warmMs, trades: run.trades.length }))
        console.log(line);
    }
  }
}

// Workload (iii) last: its peak RSS is the process high-water mark.
if (selected === "iii" || selected === "all") {
  // --resident builds every pair's input before the run (all 52.6 M candles held at once); by
  // default the engine loads each pair through `loadCandles` just before analysing it.
  const resident = process.argv.includes("--resident");
  const only = process.argv
    .find((argument) => argument.startsWith("--strategy="))
    ?.slice("--strategy=".length);
  const synthetic = syntheticPairs();
  const pairs = synthetic.names;
  let buildMs = 0;
  const build = (pair: string): CandleSeries => {
    const started = performance.now();
    const series = synthetic.build(pair);
    buildMs += performance.now() - started;
    return series;
  };
  const residentCandles: Record<string, CandleSeries> | undefined = resident
    ? Object.fromEntries(pairs.map((pair) => [pair, build(pair)]))
    : undefined;
  const total = pairs.length * SYNTHETIC_LENGTH;
  for (const entry of STRATEGIES) {
    if (only !== undefined && entry.freqtrade !== only) continue;
    const strategy = { ...entry.strategy, timeframe: "1m" } as Strategy;
    buildMs = resident ? buildMs : 0;
    const runStarted = performance.now();
    const run = runBacktest({
      strategy,
      pairs,
      ...(residentCandles === undefined ? { loadCandles: build } : { candles: residentCandles }),
      config: {
        stakeAmount: 100,
        dryRunWallet: 10_000,
        maxOpenTrades: 10,
        fee: 0.001,
        pricePrecision: "markets",
      },
    });
    const runMs = performance.now() - runStarted - (resident ? 0 : buildMs);
    console.log(
      `(iii) 100 synthetic pairs × 1 year 1m | ${entry.freqtrade}: ${total.toLocaleString("en-US")} candles, ${run.trades.length} trades, ${run.simulation} simulation`,
    );
    console.log(
      `  inputs ${resident ? "all resident" : "built per pair on demand"} (${buildMs.toFixed(0)} ms building); backtest ${runMs.toFixed(0)} ms → ${((total / runMs) * 1000).toExponential(2)} candles/s`,
    );
    console.log(`  peak RSS so far ${peakRss()} (target < 4096 MB)`);
  }
}
