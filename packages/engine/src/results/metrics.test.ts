/**
 * Summary metrics on a hand-made trade list, each expected value computed by hand from the
 * formulas in reference/freqtrade-semantics.md §2 (Freqtrade's data/metrics.py).
 */
import { describe, expect, it } from "vitest";
import {
  cagr,
  calmar,
  dailyStats,
  expectancy,
  formatDuration,
  maxDrawdown,
  pairMetrics,
  sharpe,
  sortino,
  streaks,
  type MetricsTrade,
} from "./metrics";

const DAY = 86_400_000;
const T0 = Date.UTC(2024, 0, 1);
const trade = (day: number, profitAbs: number, profitRatio: number, pair = "A/USDT"): MetricsTrade => ({
  pair,
  closeDate: T0 + day * DAY,
  profitAbs,
  profitRatio,
  tradeDuration: 60,
  stakeAmount: 100,
  isShort: false,
  enterTag: null,
  exitReason: "roi",
});

// Balance 1000; profits +20, −30, −10, +40 closing on days 1, 2, 3, 5 (window: 10 days).
const trades = [trade(1, 20, 0.2), trade(2, -30, -0.3, "B/USDT"), trade(3, -10, -0.1), trade(5, 40, 0.4)];
const start = T0;
const end = T0 + 10 * DAY;

describe("summary metrics (hand-computed)", () => {
  it("drawdown: absolute, account (at the worst absolute point), dates and values", () => {
    // cumulative 20, −10, −20, 20; peak 20 after trade 1; trough −20 after trade 3 → abs 40.
    const drawdown = maxDrawdown(trades, { value: "profitAbs", startingBalance: 1000 })!;
    expect(drawdown.drawdownAbs).toBe(40);
    expect(drawdown.highValue).toBe(20);
    expect(drawdown.lowValue).toBe(-20);
    expect(drawdown.highDate).toBe(T0 + DAY);
    expect(drawdown.lowDate).toBe(T0 + 3 * DAY);
    // (1020 − 980) / 1020
    expect(drawdown.relativeAccountDrawdown).toBeCloseTo(40 / 1020, 15);
    // The peak starts at the starting balance, so a first losing trade is a drawdown (Freqtrade 2025.x).
    const first = maxDrawdown([trade(1, -5, -0.05), trade(2, 5, 0.05)], {
      value: "profitAbs",
      startingBalance: 1000,
    });
    expect(first?.drawdownAbs).toBe(5);
    expect(first?.relativeAccountDrawdown).toBeCloseTo(5 / 1000, 15);
    expect(maxDrawdown([], { value: "profitAbs" })).toBeNull();
  });

  it("Sharpe, Sortino and Calmar", () => {
    // returns r = [0.02, −0.03, −0.01, 0.04]; mean daily = 0.02 / 10 = 0.002
    const returns = [0.02, -0.03, -0.01, 0.04];
    const mean = 0.005;
    const std = Math.sqrt(returns.reduce((sum, r) => sum + (r - mean) ** 2, 0) / 4);
    expect(sharpe(trades, start, end, 1000)).toBeCloseTo((0.002 / std) * Math.sqrt(365), 12);
    // downside: std of [−0.03, −0.01] = 0.01
    expect(sortino(trades, start, end, 1000)).toBeCloseTo((0.002 / 0.01) * Math.sqrt(365), 10);
    // (0.02 / 10 × 100) / (40 / 1020) × √365
    expect(calmar(trades, start, end, 1000)).toBeCloseTo((0.2 / (40 / 1020)) * Math.sqrt(365), 10);
    expect(sharpe([], start, end, 1000)).toBe(0);
    expect(sortino([trade(1, 5, 0.05)], start, end, 1000)).toBe(-100);
  });

  it("expectancy, CAGR, streaks, daily stats", () => {
    // avg win 30, avg loss 20, winrate 0.5 → 0.5 × 30 − 0.5 × 20 = 5; ratio (1 + 1.5) × 0.5 − 1 = 0.25
    expect(expectancy(trades)).toEqual([5, 0.25]);
    expect(expectancy([])).toEqual([0, 100]);
    // 1020 / 1000 over 10 days → 1.02^(36.5) − 1
    expect(cagr(10, 1000, 1020)).toBeCloseTo(1.02 ** 36.5 - 1, 12);
    expect(streaks(trades)).toEqual([1, 2]);
    const daily = dailyStats(trades);
    // days 1..5: +20, −30, −10, 0 (empty day counts as draw), +40
    expect(daily.daily_profit.map(([, value]) => value)).toEqual([20, -30, -10, 0, 40]);
    expect([daily.winning_days, daily.draw_days, daily.losing_days]).toEqual([2, 1, 2]);
    expect(daily.backtest_best_day_abs).toBe(40);
    expect(daily.backtest_worst_day_abs).toBe(-30);
  });

  it("per-pair table sorted by profit with a TOTAL line", () => {
    const table = pairMetrics(["B/USDT", "A/USDT", "C/USDT"], trades, 1000);
    expect(table.map((line) => [line.key, line.trades, line.profit_total_abs])).toEqual([
      ["A/USDT", 3, 50],
      ["C/USDT", 0, 0],
      ["B/USDT", 1, -30],
      ["TOTAL", 4, 20],
    ]);
    expect(table[0]).toMatchObject({
      wins: 2,
      losses: 1,
      draws: 0,
      duration_avg: "1:00:00",
      profit_total_pct: 5,
    });
    expect(formatDuration(1500)).toBe("1 day, 1:00:00");
  });
});
