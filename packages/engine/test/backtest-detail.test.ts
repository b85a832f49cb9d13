/**
 * Freqtrade's backtest-detail scenarios (tests/optimize/test_backtest_detail.py): same candles,
 * same settings, same expected trades (exit reason, open/close candle, side, tag) and the same
 * 3-decimal sum of profit ratios.
 */
import { describe, expect, it } from "vitest";
import { candlesFromRows, defineStrategy, runBacktest, type StrategyFrame } from "../src/index";
import { SCENARIOS, type Scenario } from "./backtest-detail-scenarios";

const START = Date.UTC(2018, 9, 3);
const HOUR = 3_600_000;
const PAIR = "UNITTEST/BTC";

function copySignals(scenario: Scenario, frame: StrategyFrame, entry: boolean): void {
  scenario.data.forEach((row, index) => {
    if (entry) {
      frame.enterLong[index] = row[6] === 1 ? 1 : 0;
      frame.enterShort[index] = row[8] === 1 ? 1 : 0;
      const tag = row[10];
      frame.enterTag[index] = typeof tag === "string" ? tag : null;
    } else {
      frame.exitLong[index] = row[7] === 1 ? 1 : 0;
      frame.exitShort[index] = row[9] === 1 ? 1 : 0;
    }
  });
}

function run(scenario: Scenario) {
  const adjustments =
    scenario.adjustTradePosition === undefined ? undefined : [...scenario.adjustTradePosition];
  const adjustEntry = scenario.adjustEntryPrice ?? undefined;
  const adjustExit = scenario.adjustExitPrice;
  const strategy = defineStrategy({
    name: `Scenario_${scenario.name}`,
    timeframe: "1h",
    stoploss: scenario.stopLoss,
    minimalRoi: scenario.roi,
    trailingStop: scenario.trailingStop ?? false,
    trailingOnlyOffsetIsReached: scenario.trailingOnlyOffsetIsReached ?? false,
    trailingStopPositive: scenario.trailingStopPositive ?? null,
    trailingStopPositiveOffset: scenario.trailingStopPositiveOffset ?? 0,
    useExitSignal: scenario.useExitSignal ?? false,
    // Freqtrade's default custom_stoploss returns the strategy stoploss.
    useCustomStoploss: scenario.useCustomStoploss ?? false,
    customStoploss: () => scenario.stopLoss,
    canShort: true,
    positionAdjustmentEnable: adjustments !== undefined,
    populateIndicators: () => undefined,
    populateEntryTrend: (frame) => copySignals(scenario, frame, true),
    populateExitTrend: (frame) => copySignals(scenario, frame, false),
    leverage: () => scenario.leverage ?? 1,
    ...(scenario.customEntryPrice === undefined
      ? {}
      : { customEntryPrice: () => scenario.customEntryPrice as number }),
    ...(scenario.customExitPrice === undefined
      ? {}
      : { customExitPrice: () => scenario.customExitPrice as number }),
    ...(adjustments === undefined ? {} : { adjustTradePosition: () => adjustments.shift() ?? null }),
    adjustOrderPrice: ({ isEntry, currentOrderRate }) =>
      isEntry ? (adjustEntry ?? currentOrderRate) : (adjustExit ?? currentOrderRate),
  });
  const candles = candlesFromRows(
    scenario.data.map((row) => [START + row[0] * HOUR, row[1], row[2], row[3], row[4], row[5]]),
  );
  return runBacktest({
    strategy,
    candles: { [PAIR]: candles },
    config: {
      stakeAmount: 0.001,
      stakeCurrency: "BTC",
      dryRunWallet: 1000,
      fee: 0,
      maxOpenTrades: 10,
      tradingMode: "margin",
      markets: { [PAIR]: { limits: { leverage: { max: 100 } } } },
      strategyOverrides: {
        unfilledTimeout: {
          entry: scenario.timeout ?? 10,
          exit: scenario.timeout ?? 30,
          unit: "minutes",
        },
      },
    },
  });
}

describe("Freqtrade backtest-detail scenarios", () => {
  for (const scenario of SCENARIOS) {
    it(scenario.name, () => {
      const result = run(scenario);
      const actual = result.trades.map((trade) => ({
        exitReason: trade.exitReason,
        openTick: (trade.openDate - START) / HOUR,
        closeTick: (trade.closeDate - START) / HOUR,
        enterTag: trade.enterTag,
        isShort: trade.isShort,
      }));
      const expected = scenario.trades.map((trade) => ({
        exitReason: trade.exitReason,
        openTick: trade.openTick,
        closeTick: trade.closeTick,
        enterTag: trade.enterTag ?? null,
        isShort: trade.isShort ?? false,
      }));
      expect(actual).toEqual(expected);
      const profit = result.trades.reduce((sum, trade) => sum + trade.profitRatio, 0);
      // `+ 0` turns -0 into 0 (Python's round compares them equal).
      expect(Math.round(profit * 1000) + 0).toBe(Math.round(scenario.profitPerc * 1000) + 0);
    });
  }
});
