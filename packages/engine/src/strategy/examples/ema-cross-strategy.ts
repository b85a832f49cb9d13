/**
 * Example strategy: EMA cross with a trailing stop. Shows parameters, indicators, signals and tags.
 * The EMA is computed inline (TA-Lib seeding: SMA of the first `period` values) so the example does
 * not depend on the indicator module.
 */
import { defineStrategy } from "../strategy";
import { intParameter } from "../parameters";

function ema(values: Float64Array, period: number): Float64Array {
  const result = new Float64Array(values.length).fill(Number.NaN);
  if (values.length < period) return result;
  let sum = 0;
  for (let index = 0; index < period; index++) sum += values[index] as number;
  let previous = sum / period;
  result[period - 1] = previous;
  const k = 2 / (period + 1);
  for (let index = period; index < values.length; index++) {
    previous = ((values[index] as number) - previous) * k + previous;
    result[index] = previous;
  }
  return result;
}

export const emaCrossStrategy = defineStrategy({
  name: "EmaCross",
  description: "Long when the fast EMA crosses above the slow EMA; exit on the cross back.",
  timeframe: "5m",
  startupCandleCount: 50,
  minimalRoi: { 0: 0.1 },
  stoploss: -0.05,
  trailingStop: true,
  trailingStopPositive: 0.01,
  trailingStopPositiveOffset: 0.02,
  trailingOnlyOffsetIsReached: true,
  parameters: {
    fastPeriod: intParameter({ default: 12, low: 3, high: 30, space: "buy" }),
    slowPeriod: intParameter({ default: 26, low: 10, high: 100, space: "buy" }),
  },
  populateIndicators(frame, { params }) {
    frame.set("emaFast", ema(frame.close, params.fastPeriod));
    frame.set("emaSlow", ema(frame.close, params.slowPeriod));
  },
  populateEntryTrend(frame) {
    const fast = frame.get("emaFast");
    const slow = frame.get("emaSlow");
    for (let index = 1; index < frame.length; index++) {
      // crossed_above: above now, at or below on the previous row.
      if (
        (fast[index] as number) > (slow[index] as number) &&
        (fast[index - 1] as number) <= (slow[index - 1] as number) &&
        (frame.volume[index] as number) > 0
      ) {
        frame.enterLong[index] = 1;
        frame.enterTag[index] = "ema_cross";
      }
    }
  },
  populateExitTrend(frame) {
    const fast = frame.get("emaFast");
    const slow = frame.get("emaSlow");
    for (let index = 1; index < frame.length; index++) {
      if (
        (fast[index] as number) < (slow[index] as number) &&
        (fast[index - 1] as number) >= (slow[index - 1] as number)
      ) {
        frame.exitLong[index] = 1;
        frame.exitTag[index] = "ema_cross_down";
      }
    }
  },
});
