/**
 * Parity CLI. `--regenerate` installs the pinned Freqtrade (setup-freqtrade-venv.sh), runs it on each
 * case and rewrites bench/parity/golden/<case>.json; without it, compares TradAI with the goldens.
 *
 *   npx tsx bench/parity/bench.ts [--regenerate] [--case=<name>]
 */
import {
  compareWithGolden,
  goldenPath,
  readGolden,
  runTradai,
  spotPair,
  toGolden,
  writeGolden,
} from "./compare";
import { installFreqtrade, runFreqtrade } from "./freqtrade";
import { PARITY_CASES } from "./parity-cases";

const regenerate = process.argv.includes("--regenerate");
const only = process.argv.find((argument) => argument.startsWith("--case="))?.slice("--case=".length);

let failures = 0;
for (const parityCase of PARITY_CASES) {
  if (only !== undefined && parityCase.name !== only) continue;
  const goldenFile = goldenPath(parityCase.name);
  if (regenerate) {
    installFreqtrade();
    const result = runFreqtrade({
      strategy: parityCase.freqtradeStrategy,
      strategyPath: parityCase.strategyPath,
      pairs: parityCase.pairs,
      files: Object.fromEntries(
        parityCase.pairs.map((pair) => [
          pair,
          `binance_${spotPair(pair).replace("/", "_")}-${parityCase.timeframe}.csv.gz`,
        ]),
      ),
      tradingMode: parityCase.tradingMode ?? "spot",
      enableProtections: parityCase.enableProtections ?? false,
      timeframe: parityCase.timeframe,
      start: parityCase.start,
      end: parityCase.end,
      startupCandles: parityCase.startupCandles,
      fee: parityCase.fee,
      stakeAmount: parityCase.stakeAmount,
      dryRunWallet: parityCase.dryRunWallet,
      maxOpenTrades: parityCase.maxOpenTrades,
      ...(parityCase.timeframeDetail === undefined
        ? {}
        : {
            timeframeDetail: parityCase.timeframeDetail,
            detailFiles: Object.fromEntries(
              parityCase.pairs.map((pair) => [
                pair,
                `binance_${pair.replace("/", "_")}-${parityCase.timeframeDetail}.csv.gz`,
              ]),
            ),
          }),
    });
    writeGolden(toGolden(parityCase, result.version, result.stats));
    console.log(`wrote ${goldenFile} (Freqtrade ${result.version}, ${result.wallSeconds.toFixed(1)} s)`);
  }
  const golden = readGolden(parityCase.name);
  const started = performance.now();
  const ours = runTradai(parityCase);
  const elapsed = performance.now() - started;
  const problems = compareWithGolden(ours, golden);
  console.log(
    `${parityCase.name}: Freqtrade ${golden.freqtradeVersion} ${golden.trades.length} trades, TradAI ${ours.trades.length} trades (${elapsed.toFixed(0)} ms) → ${problems.length === 0 ? "PARITY" : `${problems.length} differences`}`,
  );
  for (const problem of problems) console.log(`  ${problem}`);
  if (problems.length > 0) failures++;
}
process.exitCode = failures > 0 ? 1 : 0;
