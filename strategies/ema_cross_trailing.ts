/**
 * EMA crossover with a trailing stop: long when the fast EMA crosses above the slow EMA (with
 * volume), exit when it crosses back. Once the trade is 3 % in profit the stop trails 1.5 % below
 * the highest price (trailing_only_offset_is_reached), otherwise the -5 % stoploss holds.
 * 300 startup candles let the EMAs forget their seed (the recursive check passes).
 */
import { crossedAbove, crossedBelow, defineStrategy, ema, intParameter } from "@tradai/engine";

export const tags = ["sample", "trend", "ema", "trailing-stop"];

export default defineStrategy({
  name: "EmaCrossTrailing",
  description: "Fast/slow EMA crossover, exits on the cross back or a trailing stop once 3 % up.",
  timeframe: "1h",
  startupCandleCount: 300,
  minimalRoi: { 0: 0.2 },
  stoploss: -0.05,
  trailingStop: true,
  trailingStopPositive: 0.015,
  trailingStopPositiveOffset: 0.03,
  trailingOnlyOffsetIsReached: true,
  parameters: {
    fastPeriod: intParameter({ default: 12, low: 3, high: 30, space: "buy" }),
    slowPeriod: intParameter({ default: 26, low: 10, high: 100, space: "buy" }),
  },
  populateIndicators(frame, { params }) {
    frame.set("ema_fast", ema(frame.close, params.fastPeriod));
    frame.set("ema_slow", ema(frame.close, params.slowPeriod));
  },
  populateEntryTrend(frame) {
    const up = crossedAbove(frame.get("ema_fast"), frame.get("ema_slow"));
    for (let index = 0; index < frame.length; index++) {
      if (up[index] === 1 && (frame.volume[index] as number) > 0) {
        frame.enterLong[index] = 1;
        frame.enterTag[index] = "ema_cross_up";
      }
    }
  },
  populateExitTrend(frame) {
    const down = crossedBelow(frame.get("ema_fast"), frame.get("ema_slow"));
    for (let index = 0; index < frame.length; index++) {
      if (down[index] === 1) {
        frame.exitLong[index] = 1;
        frame.exitTag[index] = "ema_cross_down";
      }
    }
  },
});
