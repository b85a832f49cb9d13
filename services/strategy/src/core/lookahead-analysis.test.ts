// analyzeLookahead on hand-built strategies and candles whose bias is known by construction.
import { analyzePair, candlesFromRows, defineStrategy, type CandleSeries } from "@tradai/engine";
import { describe, expect, it } from "vitest";
import { analyzeLookahead, chooseCutPoints } from "./lookahead-analysis";

const STEP = 60_000;

/** 200 one-minute candles, close = 100 + i (distinct values, so any shift is visible). */
function candles(count = 200): CandleSeries {
  return candlesFromRows(
    Array.from({ length: count }, (_, index) => [
      index * STEP,
      100 + index,
      101 + index,
      99 + index,
      100 + index,
      1,
    ]),
  );
}

const hooks = { populateEntryTrend() {}, populateExitTrend() {} };

describe("analyzeLookahead", () => {
  it("reports a column built from the next candle at exactly one candle per cut", () => {
    const strategy = defineStrategy({
      name: "Peek",
      timeframe: "1m",
      stoploss: -0.1,
      populateIndicators(frame) {
        const next = new Float64Array(frame.length).fill(Number.NaN);
        for (let index = 0; index + 1 < frame.length; index++) next[index] = frame.close[index + 1] as number;
        frame.set("next", next);
        frame.set(
          "same",
          frame.close.map((value) => value * 2),
        );
      },
      ...hooks,
    });
    const result = analyzeLookahead({
      strategy,
      params: {},
      pair: "BTC/USDT",
      candles: candles(),
      rangeStartIndex: 20,
      samples: 5,
    });
    expect(result.samplesTested).toBe(5);
    expect(result.findings).toEqual([
      {
        column: "next",
        kind: "lookahead",
        affectedCandles: 5,
        maxRelativeDifference: 1, // NaN in the cut run, a value in the full run
        firstAffected: expect.any(Number) as number,
      },
    ]);
    expect(result.findings[0]!.firstAffected).toBeGreaterThanOrEqual(20 * STEP);
  });

  it("reports signals that use the future and a normalisation over the whole series", () => {
    const strategy = defineStrategy({
      name: "Normalised",
      timeframe: "1m",
      stoploss: -0.1,
      populateIndicators(frame) {
        const max = Math.max(...frame.close);
        frame.set(
          "scaled",
          frame.close.map((value) => value / max),
        );
      },
      populateEntryTrend(frame) {
        for (let index = 0; index + 1 < frame.length; index++) {
          if ((frame.close[index + 1] as number) > (frame.close[index] as number)) frame.enterLong[index] = 1;
        }
      },
      populateExitTrend() {},
    });
    const result = analyzeLookahead({
      strategy,
      params: {},
      pair: "BTC/USDT",
      candles: candles(),
      rangeStartIndex: 10,
      samples: 4,
    });
    expect(result.hasBias).toBe(true);
    expect(result.findings.map((finding) => finding.column)).toEqual(["enter_long", "scaled"]);
    // Truncated at cut c the maximum is close[c] = 100 + c, not 299: scaled differs at every row 0..c.
    const scaled = result.findings.find((finding) => finding.column === "scaled");
    expect(scaled?.firstAffected).toBe(0);
  });

  it("passes a causal rolling mean, and its recursive check passes with enough startup", () => {
    const strategy = defineStrategy({
      name: "Rolling",
      timeframe: "1m",
      stoploss: -0.1,
      startupCandleCount: 3,
      populateIndicators(frame) {
        const mean = new Float64Array(frame.length).fill(Number.NaN);
        for (let index = 2; index < frame.length; index++) {
          mean[index] =
            ((frame.close[index] as number) +
              (frame.close[index - 1] as number) +
              (frame.close[index - 2] as number)) /
            3;
        }
        frame.set("mean3", mean);
      },
      ...hooks,
    });
    expect(
      analyzeLookahead({
        strategy,
        params: {},
        pair: "BTC/USDT",
        candles: candles(),
        rangeStartIndex: 10,
        samples: 6,
        recursive: true,
      }),
    ).toEqual({
      hasBias: false,
      findings: [],
      samplesTested: 6,
    });
  });

  it("reports a cumulative indicator in the recursive check (depends on loaded history)", () => {
    const strategy = defineStrategy({
      name: "Cumulative",
      timeframe: "1m",
      stoploss: -0.1,
      startupCandleCount: 10,
      populateIndicators(frame) {
        let sum = 0;
        frame.set(
          "cumsum",
          frame.close.map((value) => (sum += value)),
        );
      },
      ...hooks,
    });
    const result = analyzeLookahead({
      strategy,
      params: {},
      pair: "BTC/USDT",
      candles: candles(),
      rangeStartIndex: 50,
      samples: 3,
      recursive: true,
    });
    expect(result.findings.map((finding) => [finding.column, finding.kind, finding.affectedCandles])).toEqual(
      [["cumsum", "recursive", 4]],
    );
    // At the last candle (i = 199): the full sum is sum(100..299) = 39 900; the window holds
    // candles 189..199: sum(289..299) = 3 234; relative difference (39 900 - 3 234) / 39 900.
    expect(result.findings[0]!.maxRelativeDifference).toBeCloseTo((39_900 - 3_234) / 39_900, 12);
  });
});

describe("chooseCutPoints", () => {
  it("takes distinct points inside the range, half of them at signal candles", () => {
    const strategy = defineStrategy({
      name: "Signals",
      timeframe: "1m",
      stoploss: -0.1,
      populateIndicators() {},
      populateEntryTrend(frame) {
        frame.enterLong[50] = 1;
        frame.enterLong[51] = 1;
      },
      populateExitTrend() {},
    });
    const frame = analyzePair({ strategy, params: {}, pair: "X/Y", candles: candles(100) });
    const points = chooseCutPoints(frame, 40, 6);
    expect(points).toContain(50);
    expect(points).toContain(51);
    expect(new Set(points).size).toBe(6);
    expect(points.every((point) => point >= 40 && point < 99)).toBe(true);
    expect(chooseCutPoints(frame, 95, 10)).toEqual([95, 96, 97, 98]);
  });
});
