/** Runs the pinned Freqtrade (venv from setup-freqtrade-venv.sh) offline on the shared candles. */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { sharedDir } from "../engine/load-candles";

const here = path.dirname(fileURLToPath(import.meta.url));
export const freqtradeVenv =
  process.env["TRADAI_FREQTRADE_VENV"] ?? path.join(os.homedir(), ".cache/tradai/venv-freqtrade");
const python = path.join(freqtradeVenv, "bin/python");

export interface FreqtradeRun {
  readonly strategy: string;
  /** "template" = Freqtrade's bundled templates; "ours" = bench/parity/strategies. */
  readonly strategyPath: "template" | "ours";
  readonly pairs: readonly string[];
  /** pair → file name in shared/data/ohlcv. */
  readonly files: Readonly<Record<string, string>>;
  readonly timeframe: string;
  readonly start: number;
  readonly end: number;
  readonly startupCandles: number;
  readonly fee: number;
  readonly stakeAmount: number;
  readonly dryRunWallet: number;
  readonly maxOpenTrades: number;
  /** Optional `--timeframe-detail` with its files (pair → file name). */
  readonly timeframeDetail?: string;
  readonly detailFiles?: Readonly<Record<string, string>>;
  /** Default "spot"; "futures" uses markets-binance-futures.json and zero funding rates. */
  readonly tradingMode?: "spot" | "futures";
  /** `--enable-protections`. */
  readonly enableProtections?: boolean;
}

export interface FreqtradeResult {
  readonly version: string;
  readonly stats: Record<string, unknown>;
  readonly wallSeconds: number;
  /** indicators + signals + simulation (Backtesting.backtest_one_strategy). */
  readonly strategySeconds: number;
  /** signal shift + simulation loop (Backtesting.backtest). */
  readonly backtestSeconds: number;
}

export function freqtradeInstalled(): boolean {
  return existsSync(path.join(freqtradeVenv, "bin/freqtrade"));
}

export function installFreqtrade(): void {
  execFileSync("bash", [path.join(here, "setup-freqtrade-venv.sh")], { stdio: "inherit" });
}

export function runFreqtrade(run: FreqtradeRun): FreqtradeResult {
  const work = mkdtempSync(path.join(os.tmpdir(), "tradai-freqtrade-"));
  const templates = execFileSync(python, [
    "-c",
    "import freqtrade,os;print(os.path.join(os.path.dirname(freqtrade.__file__),'templates'))",
  ])
    .toString()
    .trim();
  const caseFile = path.join(work, "case.json");
  writeFileSync(
    caseFile,
    JSON.stringify({
      strategy: run.strategy,
      strategy_path: run.strategyPath === "template" ? templates : path.join(here, "strategies"),
      pairs: run.pairs,
      timeframe: run.timeframe,
      start: run.start,
      end: run.end,
      startup_candles: run.startupCandles,
      fee: run.fee,
      stake_amount: run.stakeAmount,
      dry_run_wallet: run.dryRunWallet,
      max_open_trades: run.maxOpenTrades,
      markets: path.join(here, `markets-binance-${run.tradingMode ?? "spot"}.json`),
      trading_mode: run.tradingMode ?? "spot",
      enable_protections: run.enableProtections ?? false,
      shared_dir: sharedDir(),
      exchange_files: run.files,
      timeframe_detail: run.timeframeDetail ?? null,
      detail_files: run.detailFiles ?? {},
    }),
  );
  const out = path.join(work, "result.json");
  execFileSync(python, [path.join(here, "freqtrade_runner.py"), "--case", caseFile, "--out", out], {
    stdio: ["ignore", "ignore", "ignore"],
    maxBuffer: 1 << 30,
  });
  const version = execFileSync(python, ["-c", "import freqtrade;print(freqtrade.__version__)"])
    .toString()
    .trim();
  const result = JSON.parse(readFileSync(out, "utf8")) as {
    strategy: Record<string, Record<string, unknown>>;
    _tradai: { freqtrade_wall_seconds: number; strategy_seconds: number; backtest_seconds: number };
  };
  return {
    version,
    stats: result.strategy[run.strategy] as Record<string, unknown>,
    wallSeconds: result._tradai.freqtrade_wall_seconds,
    strategySeconds: result._tradai.strategy_seconds,
    backtestSeconds: result._tradai.backtest_seconds,
  };
}
