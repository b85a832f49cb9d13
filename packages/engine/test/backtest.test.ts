/**
 * Simulation behaviour beyond the single-pair scenarios: fees, wallet, slots, precision,
 * protections, input errors, determinism. Expected values are computed by hand from Freqtrade's
 * formulas (reference/freqtrade-semantics.md §1), shown next to each assertion.
 */
import { describe, expect, it } from "vitest";
import {
  EngineInputError,
  StrategyRuntimeError,
  candlesFromRows,
  generateBacktestStats,
  runBacktest,
  serializeBacktestExport,
  toFreqtradeExport,
} from "../src/index";
import { HOUR, START, flat, hourly, signalStrategy } from "./helpers";

describe("fees and ROI", () => {
  it("exits at the fee-exact ROI price: profit_abs = stake × roi, ratio = roi / (1 + fee)", () => {
    // Entry at 100 (open of candle 1), ROI 4 % reached when high hits 105 at candle 2.
    const candles = hourly([...flat(2, 100), [100, 105, 100, 104], ...flat(2, 104)]);
    const strategy = signalStrategy({ "A/USDT": { enterLong: [0] } }, { minimalRoi: { 0: 0.04 } });
    const result = runBacktest({
      strategy,
      candles: { "A/USDT": candles },
      config: { stakeAmount: 100, fee: 0.0025 },
    });
    expect(result.trades).toHaveLength(1);
    const trade = result.trades[0]!;
    // close = 100 × (1 + 0.0025 + 0.04) / (1 − 0.0025)
    expect(trade.closeRate).toBeCloseTo((100 * 1.0425) / 0.9975, 10);
    expect(trade.profitAbs).toBeCloseTo(4, 8);
    expect(trade.profitRatio).toBeCloseTo(0.04 / 1.0025, 12); // 0.03990025 as in Freqtrade's sample export
    expect(trade.exitReason).toBe("roi");
    expect(result.finalBalance).toBeCloseTo(1004, 8);
  });

  it("a −10 % stop costs about −10.45 % with 0.25 % fees on both sides", () => {
    const candles = hourly([...flat(2, 100), [100, 100, 85, 86], ...flat(2, 86)]);
    const strategy = signalStrategy({ "A/USDT": { enterLong: [0] } }, { stoploss: -0.1 });
    const result = runBacktest({
      strategy,
      candles: { "A/USDT": candles },
      config: { stakeAmount: 100, fee: 0.0025 },
    });
    const trade = result.trades[0]!;
    expect(trade.exitReason).toBe("stop_loss");
    expect(trade.closeRate).toBe(90);
    // open value 100.25, close value 90 × 0.9975 = 89.775 → −10.475 / 100.25
    expect(trade.profitAbs).toBeCloseTo(-10.475, 8);
    expect(trade.profitRatio).toBeCloseTo(-10.475 / 100.25, 12);
  });

  it("takes the worst of maker/taker from the markets snapshot when no fee is configured", () => {
    const candles = hourly([...flat(2, 100), ...flat(2, 110)]);
    const strategy = signalStrategy({ "A/USDT": { enterLong: [0] } });
    const result = runBacktest({
      strategy,
      candles: { "A/USDT": candles },
      config: { stakeAmount: 100, markets: { "A/USDT": { maker: 0.0008, taker: 0.001 } } },
    });
    expect(result.fee).toBe(0.001);
    expect(result.trades[0]!.exitReason).toBe("force_exit");
    expect(result.trades[0]!.closeRate).toBe(110);
  });
});

describe("slots, order of pairs and wallet", () => {
  it("gives free slots in whitelist order and counts rejected signals", () => {
    const signals = { enterLong: [0] };
    const candles = hourly(flat(4, 10));
    const strategy = signalStrategy({ "A/USDT": signals, "B/USDT": signals, "C/USDT": signals });
    const result = runBacktest({
      strategy,
      candles: { "A/USDT": candles, "B/USDT": candles, "C/USDT": candles },
      pairs: ["B/USDT", "C/USDT", "A/USDT"],
      config: { stakeAmount: 10, maxOpenTrades: 2 },
    });
    expect(result.trades.map((trade) => trade.pair).sort()).toEqual(["B/USDT", "C/USDT"]);
    expect(result.rejectedSignals).toBe(1);
  });

  it("visits pairs with open trades first, so a slot freed by an exit goes to a pair visited later", () => {
    // C opens at candle 1 and is stopped at candle 3; A and B signal on candle 2 (act on 3).
    const cCandles = hourly([...flat(3, 100), [100, 100, 40, 50], ...flat(2, 50)]);
    const abCandles = hourly(flat(6, 10));
    const strategy = signalStrategy(
      { "C/USDT": { enterLong: [0] }, "A/USDT": { enterLong: [2] }, "B/USDT": { enterLong: [2] } },
      { stoploss: -0.1 },
    );
    const result = runBacktest({
      strategy,
      candles: { "A/USDT": abCandles, "B/USDT": abCandles, "C/USDT": cCandles },
      config: { stakeAmount: 10, maxOpenTrades: 1 },
    });
    expect(
      result.trades.map((trade) => [trade.pair, (trade.openDate - START) / HOUR, trade.exitReason]),
    ).toEqual([
      ["C/USDT", 1, "stop_loss"],
      ["A/USDT", 3, "force_exit"],
    ]);
    expect(result.rejectedSignals).toBe(1); // B at candle 3
  });

  it('"unlimited" stake splits (free + tied) × tradable_balance_ratio over max_open_trades, compounding', () => {
    const rising = hourly([...flat(2, 100), ...flat(2, 200), ...flat(3, 200)]);
    const strategy = signalStrategy({ "A/USDT": { enterLong: [0, 4], exitLong: [2] } });
    const result = runBacktest({
      strategy,
      candles: { "A/USDT": rising },
      config: { stakeAmount: "unlimited", maxOpenTrades: 2, dryRunWallet: 1000 },
    });
    // first stake: 1000 × 0.99 / 2 = 495 → doubles → +495 profit
    expect(result.trades[0]!.stakeAmount).toBeCloseTo(495, 10);
    expect(result.trades[0]!.profitAbs).toBeCloseTo(495, 8);
    // second: (1495 × 0.99) / 2 = 740.025
    expect(result.trades[1]!.stakeAmount).toBeCloseTo(740.025, 8);
  });
});

describe("exchange precision and limits", () => {
  const markets = {
    "A/USDT": {
      precision: { amount: 0.001, price: 0.01 },
      limits: { cost: { min: 10 }, amount: { min: 0.001 } },
    },
  };

  it("truncates the amount to the amount step and recomputes the stake", () => {
    const candles = hourly(flat(4, 33.33));
    const strategy = signalStrategy({ "A/USDT": { enterLong: [0] } });
    const result = runBacktest({
      strategy,
      candles: { "A/USDT": candles },
      config: { stakeAmount: 100, markets },
    });
    // 100 / 33.33 = 3.00030003 → 3.000; stake = 3 × 33.33 = 99.99
    expect(result.trades[0]!.amount).toBe(3);
    expect(result.trades[0]!.stakeAmount).toBeCloseTo(99.99, 10);
  });

  it("raises a stake below the minimum by up to 30 %, else skips the trade", () => {
    // min stake = 10 × (1.05 / 0.95) = 11.0526…; 9 × 1.3 = 11.7 ≥ min → raised; 8 × 1.3 = 10.4 < min → skipped
    const candles = hourly(flat(4, 1));
    const strategy = signalStrategy({ "A/USDT": { enterLong: [0] } });
    const raised = runBacktest({
      strategy,
      candles: { "A/USDT": candles },
      config: { stakeAmount: 9, markets },
    });
    expect(raised.trades[0]!.stakeAmount).toBeCloseTo(11.052, 3);
    const skipped = runBacktest({
      strategy,
      candles: { "A/USDT": candles },
      config: { stakeAmount: 8, markets },
    });
    expect(skipped.trades).toHaveLength(0);
  });

  it("derives the price tick from the candles by default, like Freqtrade's backtests", () => {
    // 33.33 prints as 33.329999999999998 with 15 decimals → tick 1e-15 → the stop stays 29.997.
    const candles = hourly(flat(4, 33.33));
    const strategy = signalStrategy({ "A/USDT": { enterLong: [0] } }, { stoploss: -0.1 });
    const result = runBacktest({
      strategy,
      candles: { "A/USDT": candles },
      config: { stakeAmount: 100, markets },
    });
    expect(result.trades[0]!.initialStopLossAbs).toBe(33.33 * 0.9);
    // 0.5 has one decimal → tick 0.1 → 0.45 rounds up to 0.5.
    const half = runBacktest({
      strategy,
      candles: { "A/USDT": hourly(flat(4, 0.5)) },
      config: { stakeAmount: 100 },
    });
    expect(half.trades[0]!.initialStopLossAbs).toBe(0.5);
  });

  it("rounds the stop price up to the market's price step when asked to", () => {
    const candles = hourly([...flat(2, 33.33), ...flat(2, 33.33)]);
    const strategy = signalStrategy({ "A/USDT": { enterLong: [0] } }, { stoploss: -0.1 });
    const result = runBacktest({
      strategy,
      candles: { "A/USDT": candles },
      config: { stakeAmount: 100, markets, pricePrecision: "markets" },
    });
    // 33.33 × 0.9 = 29.997 → 30.00
    expect(result.trades[0]!.initialStopLossAbs).toBe(30);
  });
});

describe("shorts and leverage", () => {
  it("profits from a fall, with profit ratio multiplied by leverage", () => {
    const candles = hourly([...flat(2, 100), ...flat(3, 90)]);
    const strategy = signalStrategy(
      { "A/USDT": { enterShort: [0], exitShort: [2] } },
      { canShort: true, leverage: () => 3 },
    );
    const result = runBacktest({
      strategy,
      candles: { "A/USDT": candles },
      config: {
        stakeAmount: 100,
        tradingMode: "futures",
        markets: { "A/USDT": { limits: { leverage: { max: 5 } } } },
      },
    });
    const trade = result.trades[0]!;
    expect(trade.isShort).toBe(true);
    expect(trade.leverage).toBe(3);
    expect(trade.amount).toBeCloseTo(3, 12); // 100 / 100 × 3
    expect(trade.profitAbs).toBeCloseTo(30, 8); // 3 × (100 − 90)
    expect(trade.profitRatio).toBeCloseTo(0.3, 12); // (1 − 90/100) × 3
  });

  it("ignores short signals in spot mode", () => {
    const candles = hourly(flat(4, 100));
    const strategy = signalStrategy({ "A/USDT": { enterShort: [0] } }, { canShort: true });
    const result = runBacktest({ strategy, candles: { "A/USDT": candles }, config: { stakeAmount: 100 } });
    expect(result.trades).toHaveLength(0);
  });
});

describe("position adjustment", () => {
  it("adds to a position (average price) and exits part of it", () => {
    const candles = hourly([...flat(2, 100), ...flat(1, 50), ...flat(1, 80), ...flat(2, 80)]);
    let call = 0;
    const strategy = signalStrategy(
      { "A/USDT": { enterLong: [0] } },
      {
        // Freqtrade keeps the stop computed from the first entry (it never moves down after a DCA
        // entry), so keep it out of the way here.
        stoploss: -0.9,
        positionAdjustmentEnable: true,
        // candle 1: nothing, candle 2: buy 100 more at 50, candle 3: sell a quarter of the stake
        adjustTradePosition: () => [null, 100, -50][call++] ?? null,
      },
    );
    const result = runBacktest({ strategy, candles: { "A/USDT": candles }, config: { stakeAmount: 100 } });
    const trade = result.trades[0]!;
    // entries: 1 @ 100 and 2 @ 50 → 3 units, average 66.666…; partial exit of 50/200 of 3 = 0.75 @ 80
    expect(trade.orders.map((order) => [order.isEntry, order.amount, order.safePrice])).toEqual([
      [true, 1, 100],
      [true, 2, 50],
      [false, 0.75, 80],
      [false, 2.25, 80],
    ]);
    // profit = 3 × 80 − 200 = 40; ratio = 40 / 200 (total entry value, fee 0)
    expect(trade.profitAbs).toBeCloseTo(40, 8);
    expect(trade.profitRatio).toBeCloseTo(40 / 200, 10);
  });
});

describe("timeframe-detail", () => {
  it("resolves stop vs ROI inside the main candle with the detail candles", () => {
    // 1h: entry at 01:00 @ 100; the 02:00 candle touches both 106 and 94.
    const main = hourly([...flat(2, 100), [100, 106, 94, 100], ...flat(2, 100)]);
    const quarter = (time: number, open: number, high: number, low: number, close: number) => [
      time,
      open,
      high,
      low,
      close,
      1,
    ];
    const detailRows: number[][] = [];
    for (let index = 0; index < 5 * 4; index++) {
      const time = START + index * 900_000;
      // 02:00–02:15 rises to 106 first, 02:15–02:30 falls to 94.
      if (time === START + 2 * HOUR) detailRows.push(quarter(time, 100, 106, 100, 105));
      else if (time === START + 2 * HOUR + 900_000) detailRows.push(quarter(time, 105, 105, 94, 95));
      else detailRows.push(quarter(time, 100, 100, 100, 100));
    }
    const detail = candlesFromRows(detailRows);
    const strategy = signalStrategy(
      { "A/USDT": { enterLong: [0] } },
      { stoploss: -0.05, minimalRoi: { 0: 0.05 } },
    );
    const plain = runBacktest({ strategy, candles: { "A/USDT": main }, config: { stakeAmount: 10 } });
    expect(plain.trades[0]!.exitReason).toBe("stop_loss"); // stop is checked before ROI on one candle
    const detailed = runBacktest({
      strategy,
      candles: { "A/USDT": main },
      candleSource: (pair, timeframe) => (pair === "A/USDT" && timeframe === "15m" ? detail : undefined),
      config: { stakeAmount: 10, timeframeDetail: "15m" },
    });
    const trade = detailed.trades[0]!;
    expect(trade.exitReason).toBe("roi");
    expect(trade.closeRate).toBeCloseTo(105, 10);
    expect(trade.closeDate).toBe(START + 2 * HOUR);
    expect(detailed.timeframeDetail).toBe("15m");
  });
});

describe("protections", () => {
  it("CooldownPeriod locks the pair for N candles after an exit", () => {
    const candles = hourly([...flat(2, 100), [100, 100, 80, 85], ...flat(6, 85)]);
    const strategy = signalStrategy(
      { "A/USDT": { enterLong: [0, 2, 3, 4, 5, 6] } },
      { stoploss: -0.1, protections: [{ method: "CooldownPeriod", stopDurationCandles: 2 }] },
    );
    const run = (enableProtections: boolean) =>
      runBacktest({
        strategy,
        candles: { "A/USDT": candles },
        config: { stakeAmount: 10, enableProtections },
      });
    // Stopped at candle 2 (02:00). Without protections it re-enters at 3; with a 2-candle cooldown the
    // lock ends at the candle after 04:00, i.e. 05:00, and a lock still holds at its end time
    // (Freqtrade: lock_end_time >= now), so the next entry is at 06:00.
    expect((run(false).trades[1]!.openDate - START) / HOUR).toBe(3);
    const locked = run(true);
    expect((locked.trades[1]!.openDate - START) / HOUR).toBe(6);
    // One lock per exit (the force-exit at the end runs protections too).
    expect(locked.locks[0]).toMatchObject({
      pair: "A/USDT",
      lockTime: START + 2 * HOUR,
      lockEndTime: START + 5 * HOUR,
    });
  });
});

describe("StoplossGuard", () => {
  it("locks every pair once tradeLimit stop-losses closed within the lookback", () => {
    // A and B are both stopped at candle 2; with tradeLimit 2 the global lock blocks C's signal at 3.
    const falling = hourly([...flat(2, 100), [100, 100, 80, 85], ...flat(6, 85)]);
    const strategy = signalStrategy(
      { "A/USDT": { enterLong: [0] }, "B/USDT": { enterLong: [0] }, "C/USDT": { enterLong: [2, 6] } },
      {
        stoploss: -0.1,
        protections: [
          { method: "StoplossGuard", tradeLimit: 2, lookbackPeriodCandles: 5, stopDurationCandles: 3 },
        ],
      },
    );
    const result = runBacktest({
      strategy,
      candles: { "A/USDT": falling, "B/USDT": falling, "C/USDT": hourly(flat(9, 10)) },
      config: { stakeAmount: 10, enableProtections: true },
    });
    const cTrades = result.trades.filter((trade) => trade.pair === "C/USDT");
    // lock until the candle after 02:00 + 3 h → 06:00; C's second signal (candle 6) opens at 07:00.
    expect(cTrades.map((trade) => (trade.openDate - START) / HOUR)).toEqual([7]);
    expect(result.locks.some((lock) => lock.pair === "*" && lock.lockEndTime === START + 6 * HOUR)).toBe(
      true,
    );
  });
});

describe("bad input", () => {
  const strategy = signalStrategy({});
  const run = (candles: ReturnType<typeof candlesFromRows>) =>
    runBacktest({ strategy, candles: { "A/USDT": candles }, config: { stakeAmount: 10 } });

  it("names pair, candle time and field for unsorted and non-finite candles", () => {
    const unsorted = candlesFromRows([
      [START, 1, 1, 1, 1, 1],
      [START + 2 * HOUR, 1, 1, 1, 1, 1],
      [START + HOUR, 1, 1, 1, 1, 1],
    ]);
    expect(() => run(unsorted)).toThrow(
      /pair A\/USDT, candle 2024-01-01T01:00:00.000Z, field date: expected dates in ascending order/,
    );
    const missing = candlesFromRows([
      [START, 1, 1, 1, 1, 1],
      [START + HOUR, 1, 1, 1, Number.NaN, 1],
    ]);
    expect(() => run(missing)).toThrow(
      "pair A/USDT, candle 2024-01-01T01:00:00.000Z, field close: expected a finite number, got NaN",
    );
  });

  it("rejects candles of another timeframe", () => {
    const fiveMinutes = candlesFromRows(
      Array.from({ length: 5 }, (_, index) => [START + index * 300_000, 1, 1, 1, 1, 1]),
    );
    expect(() => run(fiveMinutes)).toThrow(EngineInputError);
    expect(() => run(fiveMinutes)).toThrow(/field date: expected a multiple of the 1h timeframe/);
    const fourHours = candlesFromRows(
      Array.from({ length: 5 }, (_, index) => [START + index * 4 * HOUR, 1, 1, 1, 1, 1]),
    );
    expect(() => run(fourHours)).toThrow(
      "pair A/USDT, field timeframe: expected 1h candles, got candles at least 240 minutes apart",
    );
  });

  it("merges duplicate candles and fills gaps as Freqtrade's loader does", () => {
    const rows = [
      [START, 10, 11, 9, 10, 1],
      [START + HOUR, 10, 12, 9, 11, 1],
      [START + HOUR, 10, 13, 8, 12, 2],
      [START + 3 * HOUR, 12, 12, 12, 12, 1],
    ];
    const strategy = signalStrategy({ "A/USDT": { enterLong: [1] } });
    const result = runBacktest({
      strategy,
      candles: { "A/USDT": candlesFromRows(rows) },
      config: { stakeAmount: 10 },
    });
    // merged 01:00 candle: open 10, high 13, low 8, close 12; 02:00 filled with close 12, volume 0.
    const trade = result.trades[0]!;
    expect((trade.openDate - START) / HOUR).toBe(2);
    expect(trade.openRate).toBe(12);
  });

  it("wraps a throwing callback with strategy, hook, pair and candle", () => {
    const throwing = signalStrategy(
      { "A/USDT": { enterLong: [0] } },
      {
        confirmTradeEntry: () => {
          throw new Error("no");
        },
      },
    );
    expect(() =>
      runBacktest({
        strategy: throwing,
        candles: { "A/USDT": hourly(flat(3, 1)) },
        config: { stakeAmount: 10 },
      }),
    ).toThrow(
      new StrategyRuntimeError(
        { strategy: "SignalStrategy", hook: "confirmTradeEntry", pair: "A/USDT", candleTime: START + HOUR },
        new Error("no"),
      ).message,
    );
  });

  it("rejects out-of-range parameters and config values naming the field", () => {
    expect(() =>
      runBacktest({ strategy, candles: { "A/USDT": hourly(flat(3, 1)) }, config: { stakeAmount: -1 } }),
    ).toThrow('field config.stakeAmount: expected a positive number or "unlimited", got -1');
    expect(() =>
      runBacktest({
        strategy,
        params: { nope: 1 },
        candles: { "A/USDT": hourly(flat(3, 1)) },
        config: { stakeAmount: 1 },
      }),
    ).toThrow(/parameters\.nope: expected no parameters/);
  });
});

describe("determinism and export", () => {
  it("gives byte-identical exports for identical input", () => {
    const candles = hourly([...flat(2, 100), [100, 110, 95, 108], ...flat(3, 104)]);
    const strategy = signalStrategy({
      "A/USDT": { enterLong: [0, 3], exitLong: [2], enterTag: { 0: "first" } },
    });
    const once = () =>
      serializeBacktestExport(
        toFreqtradeExport([
          {
            stats: generateBacktestStats(
              runBacktest({
                strategy,
                candles: { "A/USDT": candles },
                config: { stakeAmount: 10, fee: 0.001 },
              }),
            ),
          },
        ]),
      );
    const first = once();
    expect(once()).toBe(first);
    const parsed = JSON.parse(first) as {
      strategy: Record<string, { trades: { open_date: string; enter_tag: string | null }[] }>;
    };
    expect(parsed.strategy["SignalStrategy"]!.trades[0]).toMatchObject({
      open_date: "2024-01-01 01:00:00+00:00",
      enter_tag: "first",
    });
  });
});
