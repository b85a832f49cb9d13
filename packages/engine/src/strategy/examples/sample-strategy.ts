/**
 * Freqtrade's sample strategy (freqtrade/templates/sample_strategy.py) ported to TradAI: RSI
 * crossing its thresholds, TEMA against the qtpylib Bollinger middle band, TEMA direction and
 * volume. Same settings: 5m, ROI {60: 0.01, 30: 0.02, 0: 0.04}, stoploss −0.10, startup 200,
 * limit entry/exit, market stop. Used by the parity and speed benchmarks.
 */
import { htSine } from "../../indicators/cycle";
import { indicesWhere } from "../../indicators/indices-where";
import { adx, macd, mfi, rsi, stochf } from "../../indicators/momentum";
import { sar, tema } from "../../indicators/overlap";
import { bollingerBands, crossedAbove, typicalPrice } from "../../indicators/qtpylib";
import { intParameter } from "../parameters";
import { defineStrategy } from "../strategy";

export const sampleStrategy = defineStrategy({
  name: "SampleStrategy",
  description: "Port of Freqtrade's sample strategy (RSI / TEMA / Bollinger bands).",
  timeframe: "5m",
  canShort: false,
  minimalRoi: { 60: 0.01, 30: 0.02, 0: 0.04 },
  stoploss: -0.1,
  trailingStop: false,
  startupCandleCount: 200,
  orderTypes: { entry: "limit", exit: "limit", stoploss: "market" },
  parameters: {
    buyRsi: intParameter({ default: 30, low: 1, high: 50, space: "buy" }),
    sellRsi: intParameter({ default: 70, low: 50, high: 100, space: "sell" }),
    shortRsi: intParameter({ default: 70, low: 51, high: 100, space: "sell" }),
    exitShortRsi: intParameter({ default: 30, low: 1, high: 50, space: "buy" }),
  },
  populateIndicators(frame) {
    // The template's full indicator set (only rsi, tema and bb_middleband drive the signals).
    frame.set("adx", adx(frame.high, frame.low, frame.close, 14));
    frame.set("rsi", rsi(frame.close, 14));
    const fast = stochf(frame.high, frame.low, frame.close);
    frame.set("fastd", fast.fastD);
    frame.set("fastk", fast.fastK);
    const macdResult = macd(frame.close);
    frame.set("macd", macdResult.macd);
    frame.set("macdsignal", macdResult.signal);
    frame.set("macdhist", macdResult.hist);
    frame.set("mfi", mfi(frame.high, frame.low, frame.close, frame.volume, 14));
    const bands = bollingerBands(typicalPrice(frame.high, frame.low, frame.close), 20, 2);
    frame.set("bb_lowerband", bands.lower);
    frame.set("bb_middleband", bands.mid);
    frame.set("bb_upperband", bands.upper);
    const length = frame.length;
    const close = frame.close;
    const { lower, mid, upper } = bands;
    const percent = new Float64Array(length);
    const width = new Float64Array(length);
    for (let index = 0; index < length; index++) {
      const low = lower[index] as number;
      const high = upper[index] as number;
      percent[index] = ((close[index] as number) - low) / (high - low);
      width[index] = (high - low) / (mid[index] as number);
    }
    frame.set("bb_percent", percent);
    frame.set("bb_width", width);
    frame.set("sar", sar(frame.high, frame.low));
    frame.set("tema", tema(frame.close, 9));
    const hilbert = htSine(frame.close);
    frame.set("htsine", hilbert.sine);
    frame.set("htleadsine", hilbert.leadSine);
  },
  populateEntryTrend(frame, { params }) {
    const temaValues = frame.get("tema");
    const middle = frame.get("bb_middleband");
    const volume = frame.volume;
    // Only the rows where RSI crosses matter (never row 0: crossedAbove leaves it 0).
    const crossed = indicesWhere(crossedAbove(frame.get("rsi"), params.buyRsi));
    for (let k = 0; k < crossed.length; k++) {
      const index = crossed[k] as number;
      const current = temaValues[index] as number;
      const previous = temaValues[index - 1] as number;
      if (current <= (middle[index] as number) && current > previous && (volume[index] as number) > 0) {
        frame.enterLong[index] = 1;
      }
    }
  },
  populateExitTrend(frame, { params }) {
    const temaValues = frame.get("tema");
    const middle = frame.get("bb_middleband");
    const volume = frame.volume;
    const crossed = indicesWhere(crossedAbove(frame.get("rsi"), params.sellRsi));
    for (let k = 0; k < crossed.length; k++) {
      const index = crossed[k] as number;
      const current = temaValues[index] as number;
      const previous = temaValues[index - 1] as number;
      if (current > (middle[index] as number) && current < previous && (volume[index] as number) > 0) {
        frame.exitLong[index] = 1;
      }
    }
  },
});
