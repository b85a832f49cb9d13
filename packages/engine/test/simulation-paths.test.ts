/**
 * The event-driven simulation against the general candle-by-candle loop: on real candles from
 * ../shared/data, for configurations that exercise every exit rule the fast path prefilters (ROI
 * steps, fixed and trailing stops with and without offset, exit signals with exit-profit-only,
 * shorts with leverage, one and several slots over several pairs, unlimited stake), both paths
 * must produce the byte-identical Freqtrade export. The general loop is itself checked against
 * Freqtrade in parity.test.ts and backtest-detail.test.ts.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadMarkets } from "../../../bench/parity/compare";
import { emaLongShortStrategy } from "../../../bench/parity/long-short-strategy";
import { loadCandles, sharedDir } from "../../../bench/engine/load-candles";
import {
  emaCrossStrategy,
  generateBacktestStats,
  runBacktest,
  sampleStrategy,
  serializeBacktestExport,
  toFreqtradeExport,
  type BacktestConfig,
  type BacktestRunResult,
  type CandleSeries,
  type Strategy,
} from "../src/index";
import { hourly, signalStrategy } from "./helpers";

const haveData = existsSync(path.join(sharedDir(), "data", "ohlcv", "binance_BTC_USDT-5m.csv.gz"));

const START = Date.UTC(2025, 0, 1);
const END = Date.UTC(2025, 2, 1);
const FIVE = ["BTC/USDT", "ETH/USDT", "SOL/USDT", "XRP/USDT", "DOGE/USDT"];

const cache = new Map<string, CandleSeries>();
function candles(
  pairs: readonly string[],
  timeframe: string,
  start = START,
  end = END,
): Record<string, CandleSeries> {
  const step = timeframe === "1m" ? 60_000 : 300_000;
  const result: Record<string, CandleSeries> = {};
  for (const pair of pairs) {
    const spot = pair.replace(/:.*$/, "");
    const key = `${spot}|${timeframe}|${start}|${end}`;
    let series = cache.get(key);
    if (series === undefined) {
      series = loadCandles("binance", spot, timeframe, start - 200 * step, end);
      cache.set(key, series);
    }
    result[pair] = series;
  }
  return result;
}

function exported(run: BacktestRunResult): string {
  return serializeBacktestExport(toFreqtradeExport([{ stats: generateBacktestStats(run) }]));
}

interface PathCase {
  readonly name: string;
  readonly strategy: Strategy;
  readonly pairs: readonly string[];
  readonly timeframe: string;
  readonly config: BacktestConfig;
  readonly minimumTrades: number;
  readonly start?: number;
  readonly end?: number;
}

const base = { stakeAmount: 100, dryRunWallet: 1000, fee: 0.001, timerange: { start: START } } as const;
const ema5m = { ...emaCrossStrategy, timeframe: "5m" } as unknown as Strategy;

const CASES: readonly PathCase[] = [
  {
    name: "EMA cross, trailing stop with only-offset, ROI, 5 pairs, 3 slots",
    strategy: ema5m,
    pairs: FIVE,
    timeframe: "5m",
    config: { ...base, maxOpenTrades: 3, markets: loadMarkets() },
    minimumTrades: 1000,
  },
  {
    name: "sample strategy (ROI steps, stop, exit signals), 3 pairs, 1 slot",
    strategy: sampleStrategy as unknown as Strategy,
    pairs: ["BTC/USDT", "ETH/USDT", "SOL/USDT"],
    timeframe: "5m",
    config: { ...base, maxOpenTrades: 1, markets: loadMarkets() },
    minimumTrades: 25,
  },
  {
    name: "ROI steps and a fixed stop, no trailing, 5 pairs, unlimited slots",
    strategy: ema5m,
    pairs: FIVE,
    timeframe: "5m",
    config: {
      ...base,
      maxOpenTrades: -1,
      strategyOverrides: {
        trailingStop: false,
        stoploss: -0.02,
        minimalRoi: { 0: 0.03, 30: 0.015, 120: 0.006, 600: -1 },
      },
    },
    minimumTrades: 1000,
  },
  {
    name: "trailing stop without offset rule, exit profit only, ROI ignored on entry signal",
    strategy: ema5m,
    pairs: FIVE,
    timeframe: "5m",
    config: {
      ...base,
      maxOpenTrades: 2,
      strategyOverrides: {
        trailingStop: true,
        trailingStopPositive: 0.005,
        trailingStopPositiveOffset: 0.01,
        trailingOnlyOffsetIsReached: false,
        exitProfitOnly: true,
        exitProfitOffset: 0.002,
        ignoreRoiIfEntrySignal: true,
        minimalRoi: { 0: 0.02, 60: 0.01 },
      },
    },
    minimumTrades: 200,
  },
  {
    name: "trailing at the stoploss distance (no positive), unlimited stake compounding",
    strategy: ema5m,
    pairs: FIVE,
    timeframe: "5m",
    config: {
      ...base,
      stakeAmount: "unlimited",
      maxOpenTrades: 3,
      strategyOverrides: { trailingStop: true, trailingStopPositive: null, stoploss: -0.015, minimalRoi: {} },
    },
    minimumTrades: 500,
  },
  {
    name: "long and short with 3x leverage on futures, 2 pairs, 2 slots",
    strategy: emaLongShortStrategy as unknown as Strategy,
    pairs: ["BTC/USDT:USDT", "ETH/USDT:USDT"],
    timeframe: "5m",
    config: {
      ...base,
      fee: 0.0005,
      maxOpenTrades: 2,
      tradingMode: "futures",
      markets: loadMarkets("futures"),
    },
    minimumTrades: 500,
  },
  {
    // (With trailingOnlyOffsetIsReached a same-candle trailing exit can price outside the candle and
    // stay unfilled — Freqtrade keeps such an order open; the event-driven path then hands the run
    // to the general loop, so this case trails from the start.)
    name: "shorts with trailing stop and ROI steps, 3 pairs, 1 slot",
    strategy: emaLongShortStrategy as unknown as Strategy,
    pairs: ["BTC/USDT:USDT", "ETH/USDT:USDT", "SOL/USDT:USDT"],
    timeframe: "5m",
    config: {
      ...base,
      maxOpenTrades: 1,
      tradingMode: "futures",
      markets: loadMarkets("futures"),
      strategyOverrides: {
        trailingStop: true,
        trailingStopPositive: 0.01,
        trailingStopPositiveOffset: 0.03,
        trailingOnlyOffsetIsReached: false,
        minimalRoi: { 0: 0.09, 45: 0.03 },
      },
    },
    minimumTrades: 300,
  },
  {
    name: "1m candles, EMA cross, 2 pairs, 1 slot",
    strategy: { ...emaCrossStrategy, timeframe: "1m" } as unknown as Strategy,
    pairs: ["BTC/USDT", "ETH/USDT"],
    timeframe: "1m",
    start: Date.UTC(2025, 5, 1),
    end: Date.UTC(2025, 5, 15),
    config: { ...base, maxOpenTrades: 1, markets: loadMarkets() },
    minimumTrades: 300,
  },
];

describe("event-driven simulation = general loop on real candles", () => {
  for (const pathCase of CASES) {
    it.skipIf(!haveData)(pathCase.name, () => {
      const input = candles(pathCase.pairs, pathCase.timeframe, pathCase.start, pathCase.end);
      const options = {
        strategy: pathCase.strategy,
        candles: input,
        pairs: pathCase.pairs,
        config: pathCase.config,
      };
      const fast = runBacktest(options);
      const general = runBacktest({ ...options, simulation: "general" });
      expect(fast.simulation).toBe("event-driven");
      expect(general.simulation).toBe("general");
      expect(general.trades.length).toBeGreaterThanOrEqual(pathCase.minimumTrades);
      expect(fast.rejectedSignals).toBe(general.rejectedSignals);
      expect(exported(fast)).toBe(exported(general));
    });
  }

  it.skipIf(!haveData)("pairs starting and ending at different times, with a timerange end", () => {
    const day = 86_400_000;
    const input = {
      ...candles(["BTC/USDT"], "5m"),
      ...candles(["ETH/USDT"], "5m", START + 10 * day, END - 12 * day),
      ...candles(["SOL/USDT"], "5m", START + 20 * day, END),
    };
    const pairs = ["BTC/USDT", "ETH/USDT", "SOL/USDT"];
    const config = { ...base, maxOpenTrades: 2, timerange: { start: START, end: END - 3 * day } };
    const fast = runBacktest({ strategy: ema5m, candles: input, pairs, config });
    const general = runBacktest({ strategy: ema5m, candles: input, pairs, config, simulation: "general" });
    expect(fast.simulation).toBe("event-driven");
    expect(general.trades.length).toBeGreaterThan(300);
    expect(exported(fast)).toBe(exported(general));
  });

  it.skipIf(!haveData)("a per-pair loader gives the same result as resident candles", () => {
    const input = candles(FIVE, "5m");
    const config = { ...base, maxOpenTrades: 3 };
    const resident = runBacktest({ strategy: ema5m, candles: input, pairs: FIVE, config });
    const loaded: string[] = [];
    const lazy = runBacktest({
      strategy: ema5m,
      pairs: FIVE,
      loadCandles: (pair) => {
        loaded.push(pair);
        return input[pair] as CandleSeries;
      },
      config,
    });
    expect(loaded).toEqual(FIVE);
    expect(exported(lazy)).toBe(exported(resident));
  });
});

describe("choice of simulation", () => {
  it("falls back to the general loop when an exit order cannot fill on its candle", () => {
    // Candle 3 opens above its high (bad data): the exit-signal order at the open stays unfilled.
    const series = hourly([
      [100, 101, 99, 100],
      [100, 101, 99, 100],
      [100, 101, 99, 100],
      [103, 102, 99, 100],
      [100, 101, 99, 100],
      [100, 101, 99, 100],
    ]);
    const strategy = signalStrategy({ "A/USDT": { enterLong: [0], exitLong: [2] } });
    const options = { strategy, candles: { "A/USDT": series }, config: { stakeAmount: 100, fee: 0.001 } };
    const fast = runBacktest(options);
    const general = runBacktest({ ...options, simulation: "general" });
    expect(fast.simulation).toBe("general");
    expect(exported(fast)).toBe(exported(general));
  });

  it("uses the general loop when a callback acts on open trades", () => {
    const series = hourly([
      [100, 101, 99, 100],
      [100, 101, 99, 100],
      [100, 101, 99, 100],
    ]);
    const strategy = signalStrategy({ "A/USDT": { enterLong: [0] } }, { customExit: () => null });
    const result = runBacktest({
      strategy,
      candles: { "A/USDT": series },
      config: { stakeAmount: 100, fee: 0.001 },
    });
    expect(result.simulation).toBe("general");
    expect(result.trades).toHaveLength(1);
  });
});
