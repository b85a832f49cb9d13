/**
 * Freqtrade's sample strategy (freqtrade/templates/sample_strategy.py, INTERFACE_VERSION 3) in
 * TradAI: RSI crossing its thresholds, guarded by TEMA against the Bollinger middle band (qtpylib,
 * typical price, 20, 2) and the TEMA direction. Same settings: 5m, ROI {60: 1 %, 30: 2 %, 0: 4 %},
 * stoploss -10 %, 200 startup candles, the four hyperoptable RSI thresholds. Like the template it
 * also computes ADX, stochastic fast, MACD and MFI for plotting; SAR and the Hilbert sine are left
 * out because they never forget their start (the recursive check would flag them at any startup).
 */
import {
  adx,
  bollingerBands,
  crossedAbove,
  defineStrategy,
  intParameter,
  macd,
  mfi,
  rsi,
  stochf,
  tema,
  typicalPrice,
} from "@tradai/engine";
import { shift } from "./lib/series";

export const tags = ["sample", "freqtrade", "rsi", "bollinger"];

export default defineStrategy({
  name: "SampleStrategy",
  description: "Freqtrade's sample strategy: RSI crosses with TEMA / Bollinger middle band guards.",
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
    frame.set("tema", tema(frame.close, 9));
  },
  populateEntryTrend(frame, { params }) {
    const rsiValues = frame.get("rsi");
    const temaValues = frame.get("tema");
    const previousTema = shift(temaValues, 1);
    const middle = frame.get("bb_middleband");
    const longCross = crossedAbove(rsiValues, params.buyRsi);
    const shortCross = crossedAbove(rsiValues, params.shortRsi);
    for (let index = 0; index < frame.length; index++) {
      const current = temaValues[index] as number;
      const previous = previousTema[index] as number;
      const volume = frame.volume[index] as number;
      if (
        longCross[index] === 1 &&
        current <= (middle[index] as number) &&
        current > previous &&
        volume > 0
      ) {
        frame.enterLong[index] = 1;
      }
      if (
        shortCross[index] === 1 &&
        current > (middle[index] as number) &&
        current < previous &&
        volume > 0
      ) {
        frame.enterShort[index] = 1;
      }
    }
  },
  populateExitTrend(frame, { params }) {
    const rsiValues = frame.get("rsi");
    const temaValues = frame.get("tema");
    const previousTema = shift(temaValues, 1);
    const middle = frame.get("bb_middleband");
    const longCross = crossedAbove(rsiValues, params.sellRsi);
    const shortCross = crossedAbove(rsiValues, params.exitShortRsi);
    for (let index = 0; index < frame.length; index++) {
      const current = temaValues[index] as number;
      const previous = previousTema[index] as number;
      const volume = frame.volume[index] as number;
      if (longCross[index] === 1 && current > (middle[index] as number) && current < previous && volume > 0) {
        frame.exitLong[index] = 1;
      }
      if (
        shortCross[index] === 1 &&
        current <= (middle[index] as number) &&
        current > previous &&
        volume > 0
      ) {
        frame.exitShort[index] = 1;
      }
    }
  },
});
