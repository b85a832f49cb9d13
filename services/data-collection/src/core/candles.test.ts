import { describe, expect, it } from "vitest";
import {
  candlesFromRows,
  candlesToRows,
  mergeCandles,
  normalizeCandles,
  validateCandleValues,
} from "./candles";

const row = (time: number, value: number): number[] => [
  time,
  value,
  value + 1,
  value - 1,
  value + 0.5,
  value * 10,
];

/** Reference: a Map keyed by timestamp, later writes replacing earlier ones, then sorted. */
function referenceMerge(existing: number[][], incoming: number[][]): number[][] {
  const map = new Map<number, number[]>();
  for (const entry of [...existing, ...incoming]) map.set(entry[0] ?? 0, entry);
  return [...map.values()].sort((left, right) => (left[0] ?? 0) - (right[0] ?? 0));
}

describe("mergeCandles", () => {
  it("matches a map-based reference on random overlapping series", () => {
    let seed = 7;
    const random = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let round = 0; round < 200; round++) {
      const pick = (size: number, offset: number): number[][] => {
        const times = new Set<number>();
        for (let index = 0; index < size; index++) times.add(Math.floor(random() * 60) + offset);
        return [...times]
          .sort((left, right) => left - right)
          .map((time) => row(time * 60_000, Math.floor(random() * 1000)));
      };
      const existing = pick(Math.floor(random() * 40), 0);
      const incoming = pick(Math.floor(random() * 40), Math.floor(random() * 30));
      const merged = mergeCandles(candlesFromRows(existing), candlesFromRows(incoming));
      expect(candlesToRows(merged)).toEqual(referenceMerge(existing, incoming));
    }
  });
});

describe("normalizeCandles", () => {
  it("sorts and keeps the last duplicate by default", () => {
    const result = normalizeCandles(candlesFromRows([row(120_000, 3), row(0, 1), row(60_000, 2), row(0, 9)]));
    expect(result.duplicatesMerged).toBe(1);
    expect(candlesToRows(result.candles)).toEqual([row(0, 9), row(60_000, 2), row(120_000, 3)]);
  });

  it("aggregates duplicates like Freqtrade's clean_ohlcv_dataframe (first open, max high, min low, last close, max volume)", () => {
    const rows = [
      [0, 10, 12, 9, 11, 5],
      [0, 20, 30, 1, 21, 3],
      [0, 30, 13, 8, 31, 7],
    ];
    const result = normalizeCandles(candlesFromRows(rows), "freqtrade");
    expect(candlesToRows(result.candles)).toEqual([[0, 10, 30, 1, 31, 7]]);
    expect(result.duplicatesMerged).toBe(2);
  });
});

describe("validateCandleValues", () => {
  it("names the row and column of a bad value", () => {
    expect(() =>
      validateCandleValues(candlesFromRows([row(0, 1), [60_000, 1, Number.POSITIVE_INFINITY, 1, 1, 1]])),
    ).toThrow("candles[1].high: expected a finite number, got Infinity");
    expect(() => validateCandleValues(candlesFromRows([[0.5, 1, 1, 1, 1, 1]]))).toThrow(
      "candles[0].timestamp: expected an integer epoch-millisecond time, got 0.5",
    );
  });
});
