/**
 * Long/short mean reversion with leverage (futures): enter long when the close is more than
 * `entryZ` standard deviations below its 40-candle mean and RSI is oversold, short on the mirror
 * image; exit either side when price returns to the mean. Leverage 3x (capped by the exchange).
 * Needs trading_mode "futures" (canShort).
 */
import { bollingerBands, decimalParameter, defineStrategy, intParameter, rsi } from "@tradai/engine";
import { ratio } from "./lib/series";

export const tags = ["sample", "mean-reversion", "futures", "short"];

export default defineStrategy({
  name: "MeanReversionLongShort",
  description: "Z-score mean reversion on both sides with 3x leverage; exits at the mean.",
  timeframe: "15m",
  canShort: true,
  startupCandleCount: 200,
  minimalRoi: { 0: 0.05, 120: 0.02 },
  stoploss: -0.06,
  parameters: {
    window: intParameter({ default: 40, low: 10, high: 100, space: "buy" }),
    entryZ: decimalParameter({ default: 2.0, low: 1.0, high: 3.5, decimals: 1, space: "buy" }),
    rsiOversold: intParameter({ default: 30, low: 10, high: 45, space: "buy" }),
    rsiOverbought: intParameter({ default: 70, low: 55, high: 90, space: "sell" }),
    leverage: intParameter({ default: 3, low: 1, high: 10, space: "buy", optimize: false }),
  },
  populateIndicators(frame, { params }) {
    const bands = bollingerBands(frame.close, params.window, 1);
    // (close - mean) / std, std = upper - mid for one standard deviation.
    const std = new Float64Array(frame.length);
    for (let index = 0; index < frame.length; index++) {
      std[index] = (bands.upper[index] as number) - (bands.mid[index] as number);
    }
    frame.set("mean", bands.mid);
    frame.set("zscore", ratio(frame.close, bands.mid, std));
    frame.set("rsi", rsi(frame.close, 14));
  },
  populateEntryTrend(frame, { params }) {
    const z = frame.get("zscore");
    const rsiValues = frame.get("rsi");
    for (let index = 0; index < frame.length; index++) {
      if ((frame.volume[index] as number) <= 0) continue;
      if ((z[index] as number) < -params.entryZ && (rsiValues[index] as number) < params.rsiOversold) {
        frame.enterLong[index] = 1;
        frame.enterTag[index] = "below_mean";
      } else if (
        (z[index] as number) > params.entryZ &&
        (rsiValues[index] as number) > params.rsiOverbought
      ) {
        frame.enterShort[index] = 1;
        frame.enterTag[index] = "above_mean";
      }
    }
  },
  populateExitTrend(frame) {
    const z = frame.get("zscore");
    for (let index = 0; index < frame.length; index++) {
      if ((z[index] as number) >= 0) frame.exitLong[index] = 1;
      if ((z[index] as number) <= 0) frame.exitShort[index] = 1;
    }
  },
  leverage({ params, maxLeverage }) {
    return Math.min(params.leverage, maxLeverage);
  },
});
