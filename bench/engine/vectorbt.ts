/**
 * vectorbt (PyPI, numba engine) as a second speed baseline for bench/engine: the same candles and
 * strategies as bench.ts, run with `vbt.Portfolio.from_signals` by vectorbt_runner.py in the venv
 * that setup-vectorbt-venv.sh installs (~/.cache/tradai/venv-vectorbt; never part of the product).
 *
 * Library use (from bench.ts):
 *   if (!vectorbtInstalled()) installVectorbt();
 *   const result = runVectorbt({ strategy: "sample", pairs, candles, timeframe: "5m", start,
 *     stakeAmount: 100, dryRunWallet: 1000, fee: 0.001, maxOpenTrades: 3 });
 *   for (const line of describeVectorbt(result, { coldMs, warmMs, trades: run.trades.length })) console.log(line);
 *
 * Standalone, vectorbt alone (the TradAI comparison, measured the same way as the other baselines, is
 * `npx tsx bench/engine/bench.ts --with-vectorbt`):
 *   npx tsx bench/engine/vectorbt.ts [--workload=i|ii|all] [--strategy=sample|ema-cross|all]
 *     [--stops=freqtrade|plain]
 *   npx tsx bench/engine/vectorbt.ts --check-goldens [--stops=…]   (trade overlap with bench/parity goldens)
 */
import { execFileSync } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import {
  emaCrossStrategy,
  sampleStrategy,
  type CandleSeries,
  type Strategy,
} from "../../packages/engine/src/index";
import { readGolden, timeframeMs } from "../parity/compare";
import { PARITY_CASES } from "../parity/parity-cases";
import { loadCandles } from "./load-candles";
import { WORKLOADS } from "./workloads";

const here = path.dirname(fileURLToPath(import.meta.url));
/** Keep in step with VECTORBT_VERSION in setup-vectorbt-venv.sh (its marker file names the version). */
export const vectorbtVersion = "1.2.0";
export const vectorbtVenv =
  process.env["TRADAI_VECTORBT_VENV"] ?? path.join(os.homedir(), ".cache/tradai/venv-vectorbt");

/** "sample" = Freqtrade's sample strategy (sampleStrategy), "ema-cross" = emaCrossStrategy. */
export type VectorbtStrategy = "sample" | "ema-cross";
/**
 * "freqtrade": ROI table by trade age with Freqtrade's fee-exact exit price, stoploss from the fill
 * price, trailing stop with offset (vectorbt callbacks); "plain": tp_stop = first ROI step, sl_stop
 * = |stoploss|, sl_trail = trailingStop.
 */
export type VectorbtStops = "freqtrade" | "plain";

export interface VectorbtRunOptions {
  readonly strategy: VectorbtStrategy;
  readonly pairs: readonly string[];
  /** pair → candles, startup candles included (as bench.ts loads them for runBacktest). */
  readonly candles: Readonly<Record<string, CandleSeries>>;
  readonly timeframe: string;
  /** Timerange start (epoch ms): candles before it only warm up the indicators. */
  readonly start?: number;
  readonly stakeAmount: number;
  readonly dryRunWallet: number;
  readonly fee: number;
  /**
   * Freqtrade's global `max_open_trades`, enforced by a vectorbt signal function (see
   * vectorbt_runner.py); default unlimited (plain entries/exits arrays).
   */
  readonly maxOpenTrades?: number;
  /** Default "freqtrade". */
  readonly stops?: VectorbtStops;
  /** Also return the trade list (pair, open and close candle times). Default false. */
  readonly withTradeList?: boolean;
  /** Runs in the one Python process (≥ 2); the first is cold, the others warm. Default 3. */
  readonly runs?: number;
  /** Default 600 000 (10 min). */
  readonly timeoutMs?: number;
}

export interface VectorbtRunTimes {
  /** TA-Lib indicators + numpy signals for all pairs. */
  readonly indicatorSeconds: number;
  /** `Portfolio.from_signals` + building the trade records. */
  readonly portfolioSeconds: number;
  readonly totalSeconds: number;
}

export interface VectorbtTrade {
  readonly pair: string;
  readonly openTimestamp: number;
  readonly closeTimestamp: number | null;
}

export interface VectorbtResult {
  readonly versions: Readonly<Record<string, string>>;
  readonly strategy: VectorbtStrategy;
  readonly stops: VectorbtStops;
  readonly maxOpenTrades: number | null;
  /** Candles handed over (startup candles included), the figure bench.ts counts. */
  readonly candles: number;
  /** Rows × pairs in the portfolio (after the timerange start, gaps filled). */
  readonly simulatedCandles: number;
  /** First run in a fresh process: numba compiles (or loads its cache) here. */
  readonly coldSeconds: number;
  /** The fastest of the later runs in the same process. */
  readonly warmSeconds: number;
  /** Split of that warm run. */
  readonly indicatorSeconds: number;
  readonly portfolioSeconds: number;
  readonly runs: readonly VectorbtRunTimes[];
  /** vectorbt trades (positions), open ones at the end included. */
  readonly trades: number;
  readonly openTrades: number;
  readonly tradesPerPair: Readonly<Record<string, number>>;
  readonly finalValue: number;
  /** With `withTradeList`: each trade's pair, open candle time and close candle time (null: open). */
  readonly tradeList: readonly VectorbtTrade[] | null;
  /** Wall time of the Python process (start-up, imports, file loading and all runs). */
  readonly processSeconds: number;
}

export function vectorbtInstalled(): boolean {
  return (
    existsSync(path.join(vectorbtVenv, "bin/python")) &&
    existsSync(path.join(vectorbtVenv, `.tradai-vectorbt-${vectorbtVersion}`))
  );
}

export function installVectorbt(): void {
  execFileSync("bash", [path.join(here, "setup-vectorbt-venv.sh")], {
    stdio: "inherit",
    env: { ...process.env, VECTORBT_VERSION: vectorbtVersion, TRADAI_VECTORBT_VENV: vectorbtVenv },
  });
}

function strategySettings(strategy: VectorbtStrategy): Record<string, unknown> {
  const source = (strategy === "sample" ? sampleStrategy : emaCrossStrategy) as unknown as Strategy;
  return {
    minimal_roi: source.minimalRoi,
    stoploss: source.stoploss,
    trailing_stop: source.trailingStop,
    trailing_stop_positive: source.trailingStopPositive,
    trailing_stop_positive_offset: source.trailingStopPositiveOffset,
    trailing_only_offset_is_reached: source.trailingOnlyOffsetIsReached,
  };
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) {
    throw new Error(`runVectorbt: expected ${name} a positive finite number, got ${String(value)}`);
  }
  return value;
}

function feeRatio(value: number): number {
  if (!Number.isFinite(value) || value < 0 || value >= 1) {
    throw new Error(`runVectorbt: expected fee a ratio in [0, 1), got ${String(value)}`);
  }
  return value;
}

/**
 * Writes the manifest and one raw float64 file per pair (date, open, high, low, close, volume, one
 * column after the other) into `directory`; returns the total candle count.
 */
export function writeVectorbtInput(directory: string, options: VectorbtRunOptions): number {
  if (options.strategy !== "sample" && options.strategy !== "ema-cross") {
    throw new Error(
      `runVectorbt: expected strategy "sample" or "ema-cross", got ${String(options.strategy)}`,
    );
  }
  const stops = options.stops ?? "freqtrade";
  if (stops !== "freqtrade" && stops !== "plain") {
    throw new Error(`runVectorbt: expected stops "freqtrade" or "plain", got ${String(stops)}`);
  }
  const minutes = timeframeMs(options.timeframe) / 60_000;
  if (!Number.isInteger(minutes) || minutes < 1) {
    throw new Error(`runVectorbt: expected timeframe like "1m", "5m" or "1h", got ${options.timeframe}`);
  }
  const maxOpenTrades = options.maxOpenTrades;
  if (maxOpenTrades !== undefined && (!Number.isInteger(maxOpenTrades) || maxOpenTrades < 1)) {
    throw new Error(`runVectorbt: expected maxOpenTrades a positive integer, got ${maxOpenTrades}`);
  }
  if (options.pairs.length === 0) throw new Error("runVectorbt: expected at least one pair, got none");
  const entries: {
    pair: string;
    file: string;
    length: number;
  }[] = [];
  let total = 0;
  options.pairs.forEach((pair, index) => {
    const series = options.candles[pair];
    if (series === undefined) throw new Error(`runVectorbt: expected candles for pair ${pair}, got none`);
    const columns = [series.date, series.open, series.high, series.low, series.close, series.volume];
    const length = series.date.length;
    if (length < 2) throw new Error(`runVectorbt: pair ${pair}: expected at least 2 candles, got ${length}`);
    const names = ["date", "open", "high", "low", "close", "volume"];
    columns.forEach((column, position) => {
      if (column.length !== length) {
        throw new Error(
          `runVectorbt: pair ${pair}: expected ${names[position]} of length ${length} (as date), got ${column.length}`,
        );
      }
    });
    const file = `pair-${index}.f64`;
    const handle = openSync(path.join(directory, file), "w");
    try {
      for (const column of columns) {
        const bytes = new Uint8Array(column.buffer, column.byteOffset, column.byteLength);
        let written = 0;
        while (written < bytes.length) written += writeSync(handle, bytes, written);
      }
    } finally {
      closeSync(handle);
    }
    entries.push({ pair, file, length });
    total += length;
  });
  writeFileSync(
    path.join(directory, "manifest.json"),
    JSON.stringify({
      strategy: options.strategy,
      stops,
      timeframe_minutes: minutes,
      start: options.start ?? null,
      stake_amount: positive("stakeAmount", options.stakeAmount),
      dry_run_wallet: positive("dryRunWallet", options.dryRunWallet),
      fee: feeRatio(options.fee),
      max_open_trades: maxOpenTrades ?? null,
      trade_list: options.withTradeList ?? false,
      settings: strategySettings(options.strategy),
      pairs: entries,
    }),
  );
  return total;
}

interface RunnerOutput {
  versions: Record<string, string>;
  strategy: VectorbtStrategy;
  stops: VectorbtStops;
  maxOpenTrades: number | null;
  candles: number;
  simulatedCandles: number;
  runs: VectorbtRunTimes[];
  trades: number;
  openTrades: number;
  tradesPerPair: Record<string, number>;
  finalValue: number;
  tradeList: [number, number, number | null][] | null;
}

/** Runs vectorbt_runner.py in the venv on the given candles (synchronously; bounded by timeoutMs). */
export function runVectorbt(options: VectorbtRunOptions): VectorbtResult {
  const python = path.join(vectorbtVenv, "bin/python");
  if (!existsSync(python)) {
    throw new Error(
      `runVectorbt: expected a venv at ${vectorbtVenv} (run bench/engine/setup-vectorbt-venv.sh), got none`,
    );
  }
  const runs = options.runs ?? 3;
  if (!Number.isInteger(runs) || runs < 2 || runs > 20) {
    throw new Error(`runVectorbt: expected runs an integer in [2, 20], got ${runs}`);
  }
  const work = mkdtempSync(path.join(os.tmpdir(), "tradai-vectorbt-"));
  try {
    writeVectorbtInput(work, options);
    const started = performance.now();
    let stdout: string;
    try {
      stdout = execFileSync(
        python,
        [path.join(here, "vectorbt_runner.py"), "--input", work, "--runs", String(runs)],
        {
          stdio: ["ignore", "pipe", "pipe"],
          timeout: options.timeoutMs ?? 600_000,
          maxBuffer: 1 << 26,
          env: { ...process.env, PYTHONWARNINGS: "ignore" },
        },
      ).toString();
    } catch (error) {
      const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim() ?? "";
      const detail = stderr.length > 0 ? stderr.split("\n").slice(-5).join("\n") : String(error);
      throw new Error(`runVectorbt: vectorbt_runner.py failed: ${detail}`, { cause: error });
    }
    const processSeconds = (performance.now() - started) / 1000;
    const output = JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}") as RunnerOutput;
    const cold = output.runs[0];
    const warm = output.runs
      .slice(1)
      .reduce<VectorbtRunTimes | undefined>(
        (best, run) => (best === undefined || run.totalSeconds < best.totalSeconds ? run : best),
        undefined,
      );
    if (cold === undefined || warm === undefined) {
      throw new Error(`runVectorbt: expected run times from vectorbt_runner.py, got ${stdout.slice(0, 200)}`);
    }
    return {
      ...output,
      coldSeconds: cold.totalSeconds,
      warmSeconds: warm.totalSeconds,
      indicatorSeconds: warm.indicatorSeconds,
      portfolioSeconds: warm.portfolioSeconds,
      tradeList:
        output.tradeList?.map(([column, openTimestamp, closeTimestamp]) => ({
          pair: options.pairs[column] ?? String(column),
          openTimestamp,
          closeTimestamp,
        })) ?? null,
      processSeconds,
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * Report lines for one vectorbt run (indented like bench.ts's), with the speed ratios and trade
 * counts against TradAI's run on the same workload when given.
 */
export function describeVectorbt(
  result: VectorbtResult,
  tradai?: { readonly coldMs: number; readonly warmMs: number; readonly trades: number },
): string[] {
  const rate = (seconds: number): string => `${(result.candles / seconds).toExponential(2)} candles/s`;
  const milliseconds = (seconds: number): string => `${(seconds * 1000).toFixed(0)} ms`;
  const cold = result.runs[0];
  const lines = [
    `  vectorbt ${result.versions["vectorbt"] ?? "?"} (numba ${result.versions["numba"] ?? "?"}; stops ${result.stops}, max open trades ${result.maxOpenTrades ?? "unlimited"}): cold ${milliseconds(result.coldSeconds)} (${rate(result.coldSeconds)}), warm ${milliseconds(result.warmSeconds)} (${rate(result.warmSeconds)})`,
    `  vectorbt indicators+signals ${milliseconds(result.indicatorSeconds)}, portfolio ${milliseconds(result.portfolioSeconds)} (cold: ${milliseconds(cold?.indicatorSeconds ?? 0)} / ${milliseconds(cold?.portfolioSeconds ?? 0)}, numba compiling); Python process ${result.processSeconds.toFixed(1)} s`,
  ];
  if (tradai === undefined) {
    lines.push(`  vectorbt trades ${result.trades} (${result.openTrades} open at the end)`);
    return lines;
  }
  lines.push(
    `  ratio vectorbt time / TradAI time (≥ 1: TradAI faster): warm ${((result.warmSeconds * 1000) / tradai.warmMs).toFixed(2)}×, cold ${((result.coldSeconds * 1000) / tradai.coldMs).toFixed(1)}×; trades TradAI ${tradai.trades}, vectorbt ${result.trades} (${result.openTrades} open at the end)`,
  );
  return lines;
}

// --- standalone entry ------------------------------------------------------------------------------

function option(name: string, fallback: string): string {
  return (
    process.argv.find((argument) => argument.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback
  );
}

/**
 * How close the vectorbt translation comes to Freqtrade: runs it on the committed Freqtrade goldens
 * of bench/parity (2025-Q1, 7 × 5m) and counts trades with the same pair and open candle, and with
 * the same close candle as well (vectorbt leaves the last trades open; Freqtrade force-exits them).
 */
function checkGoldens(stops: VectorbtStops): void {
  const cases = [
    { name: "sample-strategy-7x5m-2025q1", strategy: "sample" as const },
    { name: "ema-cross-trailing-7x5m-2025q1", strategy: "ema-cross" as const },
  ];
  for (const entry of cases) {
    const parityCase = PARITY_CASES.find((candidate) => candidate.name === entry.name);
    if (parityCase === undefined) throw new Error(`expected parity case ${entry.name}, got none`);
    const from = parityCase.start - parityCase.startupCandles * timeframeMs(parityCase.timeframe);
    const candles: Record<string, CandleSeries> = {};
    for (const pair of parityCase.pairs) {
      candles[pair] = loadCandles("binance", pair, parityCase.timeframe, from, parityCase.end);
    }
    const result = runVectorbt({
      strategy: entry.strategy,
      pairs: parityCase.pairs,
      candles,
      timeframe: parityCase.timeframe,
      start: parityCase.start,
      stakeAmount: parityCase.stakeAmount,
      dryRunWallet: parityCase.dryRunWallet,
      fee: parityCase.fee,
      maxOpenTrades: parityCase.maxOpenTrades,
      stops,
      withTradeList: true,
      runs: 2,
    });
    const golden = readGolden(entry.name);
    const closes = new Map(
      golden.trades.map((trade) => [`${trade.pair} ${trade.open_timestamp}`, trade.close_timestamp]),
    );
    let sameOpen = 0;
    let sameTrade = 0;
    for (const trade of result.tradeList ?? []) {
      const close = closes.get(`${trade.pair} ${trade.openTimestamp}`);
      if (close === undefined) continue;
      sameOpen++;
      if (close === trade.closeTimestamp) sameTrade++;
    }
    console.log(
      `${entry.name} (stops ${stops}): Freqtrade ${golden.freqtradeVersion} ${golden.trades.length} trades, vectorbt ${result.trades}; same pair+open ${sameOpen}, same pair+open+close ${sameTrade}; final balance Freqtrade ${String(golden.metrics["final_balance"])}, vectorbt ${result.finalValue.toFixed(2)}`,
    );
  }
}

function main(): void {
  const selectedWorkload = option("workload", "all");
  const selectedStrategy = option("strategy", "all");
  const stops = option("stops", "freqtrade") as VectorbtStops;
  if (selectedWorkload !== "all" && WORKLOADS[selectedWorkload] === undefined) {
    throw new Error(`expected --workload=i|ii|all, got ${selectedWorkload}`);
  }
  if (!["all", "sample", "ema-cross"].includes(selectedStrategy)) {
    throw new Error(`expected --strategy=sample|ema-cross|all, got ${selectedStrategy}`);
  }
  if (!vectorbtInstalled()) installVectorbt();
  if (process.argv.includes("--check-goldens")) {
    checkGoldens(stops);
    return;
  }
  const strategies: { key: VectorbtStrategy; strategy: Strategy }[] = [
    { key: "sample", strategy: sampleStrategy as unknown as Strategy },
    { key: "ema-cross", strategy: emaCrossStrategy as unknown as Strategy },
  ];
  for (const [key, workload] of Object.entries(WORKLOADS)) {
    if (selectedWorkload !== "all" && selectedWorkload !== key) continue;
    for (const entry of strategies) {
      if (selectedStrategy !== "all" && selectedStrategy !== entry.key) continue;
      const strategy = { ...entry.strategy, timeframe: workload.timeframe } as Strategy;
      const from = workload.start - strategy.startupCandleCount * timeframeMs(workload.timeframe);
      const candles: Record<string, CandleSeries> = {};
      for (const pair of workload.pairs) {
        candles[pair] = loadCandles(workload.exchange, pair, workload.timeframe, from, workload.end);
      }
      const vectorbt = runVectorbt({
        strategy: entry.key,
        pairs: workload.pairs,
        candles,
        timeframe: workload.timeframe,
        start: workload.start,
        stakeAmount: 100,
        dryRunWallet: 1000,
        fee: 0.001,
        maxOpenTrades: 3,
        stops,
      });
      console.log(`${workload.name} | ${strategy.name}: ${vectorbt.candles.toLocaleString("en-US")} candles`);
      for (const line of describeVectorbt(vectorbt)) console.log(line);
    }
  }
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
