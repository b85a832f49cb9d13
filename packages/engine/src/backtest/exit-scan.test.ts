import { describe, expect, it } from "vitest";
import { nextExitCandidate, type ExitScan } from "./exit-scan";
import { MinHeap, NumberMinHeap } from "./min-heap";

function candles(rows: readonly (readonly [number, number])[]): { high: Float64Array; low: Float64Array } {
  return {
    high: Float64Array.from(rows.map((row) => row[0])),
    low: Float64Array.from(rows.map((row) => row[1])),
  };
}

function longScan(overrides: Partial<ExitScan> = {}): ExitScan {
  return {
    isShort: false,
    stopLoss: 90,
    trailFactor: 0,
    baseTrailFactor: 0,
    trailThreshold: Number.NEGATIVE_INFINITY,
    roiStarts: [],
    roiThresholds: [],
    exitSignal: null,
    maxRate: 100,
    minRate: 100,
    ...overrides,
  };
}

describe("nextExitCandidate", () => {
  // Rows are [high, low].
  const quiet = candles([
    [101, 99],
    [102, 98],
    [103, 97],
    [101, 91],
    [100, 89.5],
    [104, 95],
  ]);

  it("stops at the first candle whose low reaches the stop, with min/max of the skipped candles", () => {
    const scan = longScan();
    expect(nextExitCandidate(quiet, scan, 0, 6)).toBe(4); // low 89.5 ≤ stop 90
    expect(scan.maxRate).toBe(103);
    expect(scan.minRate).toBe(91);
  });

  it("returns the end when nothing can happen", () => {
    const scan = longScan({ stopLoss: 80 });
    expect(nextExitCandidate(quiet, scan, 0, 6)).toBe(6);
    expect(scan.maxRate).toBe(104);
    expect(scan.minRate).toBe(89.5);
  });

  it("stops on an exit signal of the previous candle", () => {
    const exitSignal = new Uint8Array(6);
    exitSignal[1] = 1; // signal on candle 1 acts on candle 2
    expect(nextExitCandidate(quiet, longScan({ stopLoss: 80, exitSignal }), 1, 6)).toBe(2);
  });

  it("applies each ROI step's threshold from its start candle", () => {
    // Step 0 (from candle 0) needs a high above 105; step 1 (from candle 2) above 102.5.
    const scan = longScan({ stopLoss: 80, roiStarts: [0, 2], roiThresholds: [105, 102.5] });
    expect(nextExitCandidate(quiet, scan, 0, 6)).toBe(2); // high 103 > 102.5
    // Starting later, inside step 1, the next candle above 102.5 is candle 5 (104).
    expect(
      nextExitCandidate(
        quiet,
        longScan({ stopLoss: 80, roiStarts: [0, 2], roiThresholds: [105, 102.5] }),
        3,
        6,
      ),
    ).toBe(5);
  });

  it("ignores ROI before the first step starts", () => {
    const scan = longScan({ stopLoss: 80, roiStarts: [5], roiThresholds: [103.5] });
    expect(nextExitCandidate(quiet, scan, 0, 6)).toBe(5);
  });

  it("stops where a trailing stop could move: below the offset price only with the base factor", () => {
    // Base factor 0.9 (trail at 10 % below): 0.9 × high > 91.5 first at high 102 (91.8).
    const base = longScan({ stopLoss: 91.5, trailFactor: 0.99, baseTrailFactor: 0.9, trailThreshold: 110 });
    expect(nextExitCandidate(quiet, base, 0, 6)).toBe(1);
    // Only-offset (base 0): nothing moves below the 103.5 offset price; candle 5 (104) passes it.
    const onlyOffset = longScan({
      stopLoss: 80,
      trailFactor: 0.99,
      baseTrailFactor: 0,
      trailThreshold: 103.5,
    });
    expect(nextExitCandidate(quiet, onlyOffset, 0, 6)).toBe(5);
  });

  it("mirrors everything for shorts", () => {
    const scan: ExitScan = {
      isShort: true,
      stopLoss: 103.5,
      trailFactor: Number.POSITIVE_INFINITY,
      baseTrailFactor: Number.POSITIVE_INFINITY,
      trailThreshold: Number.POSITIVE_INFINITY,
      roiStarts: [0],
      roiThresholds: [90],
      exitSignal: null,
      maxRate: 100,
      minRate: 100,
    };
    expect(nextExitCandidate(quiet, scan, 0, 6)).toBe(4); // low 89.5 < ROI threshold 90
    expect(scan.maxRate).toBe(103);
    expect(nextExitCandidate(quiet, { ...scan, stopLoss: 102.5, roiThresholds: [80] }, 0, 6)).toBe(2); // high 103 ≥ stop
  });

  it("treats a zero high or low (bad data) as a candle to check exactly", () => {
    const zeroHigh = candles([
      [101, 99],
      [0, 5],
    ]);
    expect(nextExitCandidate(zeroHigh, longScan({ stopLoss: 1 }), 0, 2)).toBe(1);
    const zeroLow = candles([
      [101, 99],
      [101, 0],
    ]);
    const short: ExitScan = {
      ...longScan({ stopLoss: 200, trailFactor: Number.POSITIVE_INFINITY }),
      isShort: true,
      baseTrailFactor: Number.POSITIVE_INFINITY,
      trailThreshold: Number.POSITIVE_INFINITY,
    };
    expect(nextExitCandidate(zeroLow, short, 0, 2)).toBe(1);
  });
});

describe("heaps", () => {
  it("MinHeap pops in comparator order, ties by the comparator's second key", () => {
    const heap = new MinHeap<[number, number]>((left, right) => left[0] - right[0] || left[1] - right[1]);
    for (const item of [
      [5, 1],
      [3, 2],
      [5, 0],
      [1, 9],
      [3, 1],
    ] as [number, number][])
      heap.push(item);
    const order: [number, number][] = [];
    while (heap.size > 0) order.push(heap.pop() as [number, number]);
    expect(order).toEqual([
      [1, 9],
      [3, 1],
      [3, 2],
      [5, 0],
      [5, 1],
    ]);
    expect(heap.pop()).toBeUndefined();
  });

  it("NumberMinHeap sorts numbers and grows past its initial capacity", () => {
    const heap = new NumberMinHeap();
    const values = Array.from({ length: 200 }, (_, index) => (index * 7919) % 211);
    for (const value of values) heap.push(value);
    const popped: number[] = [];
    while (heap.size > 0) popped.push(heap.pop());
    expect(popped).toEqual([...values].sort((left, right) => left - right));
    expect(heap.pop()).toBeNaN();
  });
});
