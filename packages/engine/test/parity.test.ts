/**
 * Parity with a pinned Freqtrade (2025.10) on real candles: the goldens in bench/parity/golden were
 * written by Freqtrade itself (`npx tsx bench/parity/bench.ts --regenerate`); here TradAI runs the
 * same strategy, data, fee, stake and markets and must give the same trades (pair, dates, exit
 * reason, rates/amounts/profits within 1e-8 relative) and the same summary metrics (1e-6).
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { compareWithGolden, readGolden, runTradai } from "../../../bench/parity/compare";
import { PARITY_CASES } from "../../../bench/parity/parity-cases";
import { sharedDir } from "../../../bench/engine/load-candles";

const haveData = existsSync(path.join(sharedDir(), "data", "ohlcv", "binance_BTC_USDT-5m.csv.gz"));

describe("parity with Freqtrade 2025.10 on real candles", () => {
  for (const parityCase of PARITY_CASES) {
    it.skipIf(!haveData)(parityCase.name, () => {
      const golden = readGolden(parityCase.name);
      const ours = runTradai(parityCase);
      expect(golden.trades.length).toBeGreaterThan(100);
      expect(compareWithGolden(ours, golden)).toEqual([]);
    });
  }
});
