import { describe, expect, it } from "vitest";
import { isInside, mergeRanges, missingRanges, storedRanges, subtractRanges } from "./coverage";
import { timeframeGrid } from "./timeframe";

const HOUR = 3_600_000;
const t = Date.UTC(2025, 0, 1);
const at = (hours: number) => t + hours * HOUR;
const range = (from: number, to: number) => ({ startMs: at(from), endMs: at(to) });
const hourly = timeframeGrid("1h");

describe("mergeRanges / subtractRanges / isInside", () => {
  it("sorts, joins overlapping and touching ranges, drops empty ones", () => {
    expect(mergeRanges([range(5, 7), range(0, 2), range(2, 3), range(6, 9), range(4, 4)])).toEqual([
      range(0, 3),
      range(5, 9),
    ]);
  });

  it("subtracts covered ranges from a range", () => {
    expect(subtractRanges(range(0, 10), [range(-5, 1), range(3, 4), range(8, 20)])).toEqual([
      range(1, 3),
      range(4, 8),
    ]);
    expect(subtractRanges(range(0, 10), [])).toEqual([range(0, 10)]);
    expect(subtractRanges(range(2, 4), [range(0, 10)])).toEqual([]);
  });

  it("tells whether a range lies inside one merged range", () => {
    const covered = [range(0, 3), range(5, 9)];
    expect(isInside(range(5, 9), covered)).toBe(true);
    expect(isInside(range(1, 2), covered)).toBe(true);
    expect(isInside(range(2, 6), covered)).toBe(false);
    expect(isInside(range(3, 5), covered)).toBe(false);
    expect(isInside(range(9, 10), covered)).toBe(false);
  });
});

describe("missingRanges", () => {
  // Stored: hours 0..2 and 6..7 (a hole of hours 3..5), nothing confirmed empty.
  const span = {
    firstMs: at(0),
    lastMs: at(7),
    gaps: [{ afterMs: at(2), beforeMs: at(6), missingCandles: 3 }],
  };

  it("turns stored candles into the slot ranges they fill", () => {
    expect(storedRanges(span, hourly)).toEqual([range(0, 3), range(6, 8)]);
  });

  it("finds the head, the holes and the tail of a range that nothing covers", () => {
    expect(missingRanges(span, [], range(-2, 10), hourly)).toEqual([range(-2, 0), range(3, 6), range(8, 10)]);
    expect(missingRanges(undefined, [], range(0, 4), hourly)).toEqual([range(0, 4)]);
  });

  it("leaves out ranges confirmed empty by the exchange", () => {
    expect(missingRanges(span, [range(3, 6), range(-2, 0)], range(-2, 10), hourly)).toEqual([range(8, 10)]);
    expect(missingRanges(span, [range(4, 5)], range(0, 8), hourly)).toEqual([range(3, 4), range(5, 6)]);
    expect(missingRanges(undefined, [range(0, 4)], range(1, 3), hourly)).toEqual([]);
  });
});
