import { describe, expect, it } from "vitest";
import { evaluateFreshness } from "./freshness";
import { candlesFromRows, candlesToRows } from "./candles";
import { detectGaps, fillGaps } from "./gaps";
import { parseTimeframe, timeframeGrid } from "./timeframe";

describe("parseTimeframe", () => {
  it.each([
    ["1m", 60_000],
    ["15m", 900_000],
    ["4h", 14_400_000],
    ["1d", 86_400_000],
    ["1w", 604_800_000],
    ["1M", 2_592_000_000],
  ])("%s is %d ms", (timeframe, milliseconds) => {
    expect(parseTimeframe(timeframe)).toBe(milliseconds);
  });

  it.each(["", "m", "0m", "1x", "1 m", "5min"])("rejects %j naming the field", (timeframe) => {
    expect(() => parseTimeframe(timeframe, "series.timeframe")).toThrow(
      /^series\.timeframe: expected a ccxt timeframe/,
    );
  });
});

describe("timeframeGrid", () => {
  it("floors to the open of the candle still open at now", () => {
    const now = Date.UTC(2025, 0, 1, 10, 30, 15);
    expect(timeframeGrid("1m").floor(now)).toBe(Date.UTC(2025, 0, 1, 10, 30));
    expect(timeframeGrid("1h").floor(now)).toBe(Date.UTC(2025, 0, 1, 10));
    expect(timeframeGrid("4h").ceil(now)).toBe(Date.UTC(2025, 0, 1, 12));
  });

  it("opens weekly candles on Mondays 00:00 UTC", () => {
    const week = timeframeGrid("1w");
    // 2024-01-01 and 2024-01-08 are Mondays; 2024-01-04 is a Thursday (on the epoch-based 7-day grid).
    expect(week.floor(Date.UTC(2024, 0, 4, 12))).toBe(Date.UTC(2024, 0, 1));
    expect(week.contains(Date.UTC(2024, 0, 8))).toBe(true);
    expect(week.contains(Date.UTC(2024, 0, 4))).toBe(false);
    expect(week.add(Date.UTC(2024, 0, 1), 2)).toBe(Date.UTC(2024, 0, 15));
  });

  it("opens monthly candles on the 1st, with calendar-length steps", () => {
    const month = timeframeGrid("1M");
    expect(month.floor(Date.UTC(2024, 1, 29, 23))).toBe(Date.UTC(2024, 1, 1));
    expect(month.ceil(Date.UTC(2024, 1, 2))).toBe(Date.UTC(2024, 2, 1));
    expect(month.add(Date.UTC(2024, 0, 1), 13)).toBe(Date.UTC(2025, 1, 1));
    expect(month.add(Date.UTC(2024, 0, 1), -1)).toBe(Date.UTC(2023, 11, 1));
    expect(month.stepsBetween(Date.UTC(2024, 0, 1), Date.UTC(2024, 11, 1))).toBe(11);
    // January (31 days) to February is no gap; January to March misses one candle.
    expect(
      detectGaps(
        Float64Array.from([Date.UTC(2024, 0, 1), Date.UTC(2024, 1, 1), Date.UTC(2024, 3, 1)]),
        month,
      ),
    ).toEqual([{ afterMs: Date.UTC(2024, 1, 1), beforeMs: Date.UTC(2024, 3, 1), missingCandles: 1 }]);
  });
});

describe("detectGaps", () => {
  it("reports the candles missing between neighbours", () => {
    const hour = 3_600_000;
    const gaps = detectGaps(Float64Array.from([0, hour, 4 * hour, 5 * hour, 7 * hour]), hour);
    expect(gaps).toEqual([
      { afterMs: hour, beforeMs: 4 * hour, missingCandles: 2 },
      { afterMs: 5 * hour, beforeMs: 7 * hour, missingCandles: 1 },
    ]);
  });
});

describe("evaluateFreshness", () => {
  const minute = 60_000;
  const now = Date.UTC(2025, 0, 1, 12, 0, 20);
  it("is fresh up to maxAgePeriods candles behind and stale beyond", () => {
    // Latest closed candle opened at 11:59 (closed 12:00): age 20 s.
    expect(
      evaluateFreshness({ lastCandleMs: Date.UTC(2025, 0, 1, 11, 59), grid: minute, nowMs: now }),
    ).toEqual({ verdict: "fresh", ageSeconds: 20 });
    expect(
      evaluateFreshness({ lastCandleMs: Date.UTC(2025, 0, 1, 11, 58), grid: minute, nowMs: now }).verdict,
    ).toBe("fresh");
    expect(
      evaluateFreshness({ lastCandleMs: Date.UTC(2025, 0, 1, 11, 57), grid: minute, nowMs: now }),
    ).toEqual({ verdict: "stale", ageSeconds: 140 });
    expect(
      evaluateFreshness({
        lastCandleMs: Date.UTC(2025, 0, 1, 11, 57),
        grid: minute,
        nowMs: now,
        maxAgePeriods: 3,
      }).verdict,
    ).toBe("fresh");
    expect(evaluateFreshness({ lastCandleMs: undefined, grid: minute, nowMs: now }).verdict).toBe("missing");
  });
});

describe("fillGaps", () => {
  it("fills missing candles Freqtrade's way: previous close for OHLC, zero volume", () => {
    const hour = 3_600_000;
    const candles = candlesFromRows([
      [0, 1, 2, 0.5, 1.5, 10],
      [3 * hour, 2, 3, 1, 2.5, 20],
    ]);
    const result = fillGaps(candles, hour);
    expect(result.filled).toBe(2);
    expect(candlesToRows(result.candles)).toEqual([
      [0, 1, 2, 0.5, 1.5, 10],
      [hour, 1.5, 1.5, 1.5, 1.5, 0],
      [2 * hour, 1.5, 1.5, 1.5, 1.5, 0],
      [3 * hour, 2, 3, 1, 2.5, 20],
    ]);
  });
});
