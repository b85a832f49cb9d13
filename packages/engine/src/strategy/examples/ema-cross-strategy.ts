/**
 * Example strategy: EMA cross with a trailing stop. Shows parameters, indicators, signals and tags.
 * The EMAs are TA-Lib's (seeded with the SMA of the first `period` closes) and the crosses
 * qtpylib's, as a Freqtrade strategy would write them.
 */
import { ema } from "../../indicators/overlap";
import { indicesWhere } from "../../indicators/indices-where";
import { crossedAbove, crossedBelow } from "../../indicators/qtpylib";
import { defineStrategy } from "../strategy";
import { intParameter } from "../parameters";

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
    // crossed_above: above now, at or below on the previous row. Only the crossing rows are visited.
    const up = indicesWhere(crossedAbove(frame.get("emaFast"), frame.get("emaSlow")));
    const volume = frame.volume;
    for (let k = 0; k < up.length; k++) {
      const index = up[k] as number;
      if ((volume[index] as number) > 0) {
        frame.enterLong[index] = 1;
        frame.enterTag[index] = "ema_cross";
      }
    }
  },
  populateExitTrend(frame) {
    const down = indicesWhere(crossedBelow(frame.get("emaFast"), frame.get("emaSlow")));
    for (let k = 0; k < down.length; k++) {
      const index = down[k] as number;
      frame.exitLong[index] = 1;
      frame.exitTag[index] = "ema_cross_down";
    }
  },
});
