import { describe, expect, it } from "vitest";
import { StrategyValidationError } from "../errors";
import { analyzePair } from "./analyze";
import { emaCrossStrategy } from "./examples/ema-cross-strategy";
import { candlesFromRows } from "./frame";
import { informativeMergeDates, mergeInformative } from "./informative";
import { categoricalParameter, decimalParameter, intParameter } from "./parameters";
import { createStrategyFrame } from "./frame";
import {
  defineStrategy,
  describeStrategy,
  resolveParameters,
  validateParameters,
  type Strategy,
} from "./strategy";

const HOUR = 3_600_000;
const noop = (): void => undefined;

describe("defineStrategy", () => {
  it("fills Freqtrade's defaults and sorts the ROI table", () => {
    const strategy = defineStrategy({
      name: "Plain",
      timeframe: "1h",
      stoploss: -0.1,
      minimalRoi: { 60: 0.01, 0: 0.04, 30: 0.02 },
      populateIndicators: noop,
      populateEntryTrend: noop,
      populateExitTrend: noop,
    });
    expect(Object.keys(strategy.minimalRoi)).toEqual(["0", "30", "60"]);
    expect(strategy.useExitSignal).toBe(true);
    expect(strategy.trailingStop).toBe(false);
    expect(strategy.maxEntryPositionAdjustment).toBe(-1);
    expect(strategy.orderTypes).toEqual({ entry: "limit", exit: "limit", stoploss: "market" });
    expect(Object.isFrozen(strategy)).toBe(true);
  });

  it("lists every problem, each naming field, expected and found", () => {
    let caught: unknown;
    try {
      defineStrategy({
        name: "Bad",
        timeframe: "7x",
        stoploss: 0.1,
        minimalRoi: { 0: Number.NaN },
        parameters: { rsi: intParameter({ default: 80, low: 1, high: 50 }) },
        populateIndicators: noop,
        populateEntryTrend: noop,
        populateExitTrend: noop,
      });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(StrategyValidationError);
    const problems = (caught as StrategyValidationError).problems;
    expect(problems.map((problem) => problem.field)).toEqual([
      "timeframe",
      "stoploss",
      "minimalRoi.0",
      "parameters.rsi.default",
    ]);
    expect(problems[1]).toMatchObject({ expected: "a negative ratio from -1 to below 0", found: "0.1" });
    expect(problems[3]?.message).toBe("parameters.rsi.default: expected an integer from 1 to 50, got 80");
  });

  it("rejects an informative timeframe faster than the strategy timeframe", () => {
    expect(() =>
      defineStrategy({
        name: "Informative",
        timeframe: "1h",
        stoploss: -0.1,
        informative: [{ timeframe: "5m" }],
        populateIndicators: noop,
        populateEntryTrend: noop,
        populateExitTrend: noop,
      }),
    ).toThrow(
      /informative\.0\.timeframe: expected a timeframe of at least the strategy timeframe 1h, got "5m"/,
    );
  });
});

describe("parameters", () => {
  const strategy = defineStrategy({
    name: "Params",
    timeframe: "5m",
    stoploss: -0.1,
    parameters: {
      buyRsi: intParameter({ default: 30, low: 1, high: 50 }),
      factor: decimalParameter({ default: 1.5, low: 1, high: 3, decimals: 1, space: "sell" }),
      mode: categoricalParameter({ default: "fast", choices: ["fast", "slow"] }),
    },
    populateIndicators: noop,
    populateEntryTrend: noop,
    populateExitTrend: noop,
  });

  it("validateParameters returns every problem", () => {
    expect(validateParameters(strategy, { buyRsi: 51, factor: 1.25, mode: "medium", other: 1 })).toEqual([
      {
        field: "parameters.buyRsi",
        expected: "an integer from 1 to 50",
        found: "51",
        message: "parameters.buyRsi: expected an integer from 1 to 50, got 51",
      },
      {
        field: "parameters.factor",
        expected: "a number with at most 1 decimals",
        found: "1.25",
        message: "parameters.factor: expected a number with at most 1 decimals, got 1.25",
      },
      {
        field: "parameters.mode",
        expected: 'one of "fast", "slow"',
        found: '"medium"',
        message: 'parameters.mode: expected one of "fast", "slow", got "medium"',
      },
      {
        field: "parameters.other",
        expected: "one of buyRsi, factor, mode",
        found: "an unknown parameter",
        message: "parameters.other: expected one of buyRsi, factor, mode, got an unknown parameter",
      },
    ]);
  });

  it("resolveParameters overlays values on defaults", () => {
    const values = resolveParameters(strategy, { buyRsi: 20 });
    expect(values).toEqual({ buyRsi: 20, factor: 1.5, mode: "fast" });
    expect(() => resolveParameters(strategy, { buyRsi: 0 })).toThrow(StrategyValidationError);
  });

  it("describeStrategy returns JSON-safe metadata", () => {
    const description = describeStrategy(emaCrossStrategy as unknown as Strategy);
    const roundTrip: unknown = JSON.parse(JSON.stringify(description));
    expect(roundTrip).toEqual(description);
    expect(description.parameters[0]).toEqual({
      name: "fastPeriod",
      type: "int",
      default: 12,
      low: 3,
      high: 30,
      space: "buy",
      optimize: true,
    });
    expect(description.callbacks).toEqual([]);
    expect(description.trailingStop).toBe(true);
  });
});

describe("merge informative (no look-ahead)", () => {
  it("shifts a 1h candle to the 15m candle that closes with it", () => {
    const shifted = informativeMergeDates(Float64Array.of(0, HOUR), "15m", "1h");
    expect([...shifted]).toEqual([45 * 60_000, HOUR + 45 * 60_000]);
  });

  it("exposes a 1h close only from the 15m candle that closes at the same time, forward-filled", () => {
    const rows15m = Array.from({ length: 8 }, (_, index) => [index * 15 * 60_000, 1, 1, 1, 1, 1]);
    const main = createStrategyFrame("BTC/USDT", "15m", candlesFromRows(rows15m));
    const informative = createStrategyFrame(
      "BTC/USDT",
      "1h",
      candlesFromRows([
        [0, 10, 10, 10, 11, 1],
        [HOUR, 20, 20, 20, 21, 1],
      ]),
    );
    informative.set("double", Float64Array.of(22, 42));
    mergeInformative(main, informative);
    // Candle 00:00-01:00 (close 11) becomes visible on the 00:45 main candle (it closes at 01:00).
    expect([...main.get("close_1h")]).toEqual([NaN, NaN, NaN, 11, 11, 11, 11, 21]);
    expect([...main.get("double_1h")]).toEqual([NaN, NaN, NaN, 22, 22, 22, 22, 42]);
    expect([...main.get("date_1h")]).toEqual([NaN, NaN, NaN, 0, 0, 0, 0, HOUR]);
  });
});

describe("analyzePair", () => {
  const candles = candlesFromRows(Array.from({ length: 4 }, (_, index) => [index * HOUR, 1, 2, 0.5, 1, 10]));

  it("names pair, candle and field for signal values other than 0/1", () => {
    const strategy = defineStrategy({
      name: "Twos",
      timeframe: "1h",
      stoploss: -0.1,
      populateIndicators: noop,
      populateEntryTrend(frame) {
        frame.enterLong[2] = 2;
      },
      populateExitTrend: noop,
    });
    expect(() => analyzePair({ strategy, params: {}, pair: "ETH/USDT", candles })).toThrow(
      "pair ETH/USDT, candle 1970-01-01T02:00:00.000Z, field enterLong (after populateEntryTrend): expected 0 or 1, got 2",
    );
  });

  it("rejects wrong-length signal arrays and names the hook that threw", () => {
    const wrongLength = defineStrategy({
      name: "Short",
      timeframe: "1h",
      stoploss: -0.1,
      populateIndicators: noop,
      populateEntryTrend: noop,
      populateExitTrend(frame) {
        frame.exitLong = new Uint8Array(3);
      },
    });
    expect(() => analyzePair({ strategy: wrongLength, params: {}, pair: "ETH/USDT", candles })).toThrow(
      "pair ETH/USDT, field exitLong (after populateExitTrend): expected 4 values (one per candle), got 3 values",
    );
    const throwing = defineStrategy({
      name: "Throws",
      timeframe: "1h",
      stoploss: -0.1,
      populateIndicators() {
        throw new Error("boom");
      },
      populateEntryTrend: noop,
      populateExitTrend: noop,
    });
    expect(() => analyzePair({ strategy: throwing, params: {}, pair: "ETH/USDT", candles })).toThrow(
      "strategy Throws threw in populateIndicators (pair ETH/USDT): boom",
    );
  });

  it("merges declared informative timeframes before populateIndicators, from the candle source", () => {
    const quarter = candlesFromRows(
      Array.from({ length: 8 }, (_, index) => [index * 900_000, 1, 1, 1, index, 1]),
    );
    const hourly = candlesFromRows([
      [0, 10, 10, 10, 11, 1],
      [HOUR, 20, 20, 20, 21, 1],
    ]);
    let seen: number[] = [];
    const strategy = defineStrategy({
      name: "WithInformative",
      timeframe: "15m",
      stoploss: -0.1,
      informative: [
        {
          timeframe: "1h",
          populate(frame) {
            frame.set(
              "twice",
              frame.close.map((close) => close * 2),
            );
          },
        },
      ],
      populateIndicators(frame) {
        seen = [...frame.get("twice_1h")];
      },
      populateEntryTrend: noop,
      populateExitTrend: noop,
    });
    analyzePair({
      strategy,
      params: {},
      pair: "BTC/USDT",
      candles: quarter,
      candleSource: (pair, timeframe) => (pair === "BTC/USDT" && timeframe === "1h" ? hourly : undefined),
    });
    expect(seen).toEqual([NaN, NaN, NaN, 22, 22, 22, 22, 42]);
    expect(() => analyzePair({ strategy, params: {}, pair: "BTC/USDT", candles: quarter })).toThrow(
      "pair BTC/USDT, field informative.0: expected candles for BTC/USDT 1h, got none loaded",
    );
  });

  it("runs the example strategy and sets tagged signals", () => {
    const closes = [
      ...Array.from({ length: 40 }, () => 100),
      ...Array.from({ length: 40 }, (_, i) => 100 + i),
    ];
    const rows = closes.map((close, index) => [index * 300_000, close, close, close, close, 1]);
    const frame = analyzePair({
      strategy: emaCrossStrategy,
      params: resolveParameters(emaCrossStrategy, { fastPeriod: 3, slowPeriod: 10 }),
      pair: "BTC/USDT",
      candles: candlesFromRows(rows),
    });
    const entries = [...frame.enterLong.keys()].filter((index) => frame.enterLong[index] === 1);
    // Flat then rising: the fast EMA first exceeds the slow one on the first rising close.
    expect(entries).toEqual([41]);
    expect(frame.enterTag[41]).toBe("ema_cross");
  });
});
