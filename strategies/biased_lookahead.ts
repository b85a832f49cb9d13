/**
 * DELIBERATELY BIASED — do not trade this. It shows what the look-ahead analysis catches:
 * `next_close` is the NEXT candle's close (Freqtrade's `shift(-1)`) and `centered_mean` is a
 * rolling mean centred on the candle (it averages two future candles). Both look great in a
 * backtest and cannot exist live. AnalyzeLookahead reports next_close, centered_mean and the
 * enter_long / exit_long signals built on them.
 */
import { defineStrategy, sma } from "@tradai/engine";
import { shift } from "./lib/series";

export const tags = ["sample", "biased", "do-not-trade"];

export default defineStrategy({
  name: "BiasedLookahead",
  description: "Uses the next candle's close and a centred mean: look-ahead bias on purpose.",
  timeframe: "5m",
  startupCandleCount: 30,
  minimalRoi: { 0: 0.01 },
  stoploss: -0.05,
  populateIndicators(frame) {
    frame.set("sma_short", sma(frame.close, 10));
    frame.set("next_close", shift(frame.close, -1));
    const centered = new Float64Array(frame.length).fill(Number.NaN);
    for (let index = 2; index + 2 < frame.length; index++) {
      let sum = 0;
      for (let offset = -2; offset <= 2; offset++) sum += frame.close[index + offset] as number;
      centered[index] = sum / 5;
    }
    frame.set("centered_mean", centered);
  },
  populateEntryTrend(frame) {
    const next = frame.get("next_close");
    for (let index = 0; index < frame.length; index++) {
      if ((next[index] as number) > (frame.close[index] as number) * 1.002) frame.enterLong[index] = 1;
    }
  },
  populateExitTrend(frame) {
    const centered = frame.get("centered_mean");
    for (let index = 0; index < frame.length; index++) {
      if ((frame.close[index] as number) > (centered[index] as number)) frame.exitLong[index] = 1;
    }
  },
});
