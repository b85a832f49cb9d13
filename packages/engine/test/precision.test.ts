/**
 * Amount/price rounding and exact trade values against ccxt / Freqtrade themselves (fixture written
 * by bench/parity/precision_golden.py from the pinned Freqtrade 2025.10).
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { exactValueWithFee, toPrecision } from "../src/backtest/precision";

interface Golden {
  precision: {
    value: number;
    places: number;
    truncate: number;
    round: number;
    roundUp: number;
    roundDown: number;
  }[];
  values: { amount: number; rate: number; fee: number; plus: number; minus: number }[];
}

const golden = JSON.parse(
  readFileSync(
    path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures/precision-golden.json"),
    "utf8",
  ),
) as Golden;

describe("precision parity with ccxt / Freqtrade", () => {
  it("rounds to tick sizes exactly like amount_to_precision / price_to_precision", () => {
    const mismatches = golden.precision.flatMap((entry) =>
      (["truncate", "round", "roundUp", "roundDown"] as const)
        .map((mode) => ({
          mode,
          entry,
          got: toPrecision(entry.value, 1 / 10 ** entry.places, "tickSize", mode),
        }))
        .filter(({ mode, entry, got }) => got !== entry[mode]),
    );
    expect(golden.precision.length).toBe(250);
    expect(mismatches).toEqual([]);
  });

  it("computes amount × rate ± fee exactly like FtPrecise", () => {
    const mismatches = golden.values.filter(
      (entry) =>
        exactValueWithFee(entry.amount, entry.rate, entry.fee, 1) !== entry.plus ||
        exactValueWithFee(entry.amount, entry.rate, entry.fee, -1) !== entry.minus,
    );
    expect(mismatches).toEqual([]);
  });
});
