/** Parity strategy: EMA 12/26 cross in both directions, 3x leverage (mirrors strategies/ema_cross_long_short.py). */
import { crossedAbove, crossedBelow, defineStrategy, ema } from "../../packages/engine/src/index";

export const emaLongShortStrategy = defineStrategy({
  name: "EmaLongShort",
  timeframe: "5m",
  canShort: true,
  startupCandleCount: 50,
  minimalRoi: { 0: 0.2 },
  stoploss: -0.1,
  leverage: () => 3,
  populateIndicators(frame) {
    frame.set("emaFast", ema(frame.close, 12));
    frame.set("emaSlow", ema(frame.close, 26));
  },
  populateEntryTrend(frame) {
    const up = crossedAbove(frame.get("emaFast"), frame.get("emaSlow"));
    const down = crossedBelow(frame.get("emaFast"), frame.get("emaSlow"));
    for (let index = 0; index < frame.length; index++) {
      if ((frame.volume[index] as number) <= 0) continue;
      if (up[index] === 1) {
        frame.enterLong[index] = 1;
        frame.enterTag[index] = "up";
      }
      if (down[index] === 1) {
        frame.enterShort[index] = 1;
        frame.enterTag[index] = "down";
      }
    }
  },
  populateExitTrend(frame) {
    frame.exitLong = crossedBelow(frame.get("emaFast"), frame.get("emaSlow"));
    frame.exitShort = crossedAbove(frame.get("emaFast"), frame.get("emaSlow"));
  },
});
