// Maps each golden case (TA-Lib function name and Python keyword parameters) to our implementation,
// and compares outputs. Shared by indicators.test.ts and the dev scripts.

import * as ind from "../../src/indicators/index.ts";

export type Outputs = Record<string, Float64Array>;
export type Impl = (inputs: Float64Array[], p: Record<string, number>) => Outputs;

const arg = (inputs: Float64Array[], i: number): Float64Array => inputs[i]!;

export const IMPLS: Record<string, Impl> = {
  SMA: (x, p) => ({ real: ind.sma(arg(x, 0), p["timeperiod"]) }),
  EMA: (x, p) => ({ real: ind.ema(arg(x, 0), p["timeperiod"]) }),
  WMA: (x, p) => ({ real: ind.wma(arg(x, 0), p["timeperiod"]) }),
  DEMA: (x, p) => ({ real: ind.dema(arg(x, 0), p["timeperiod"]) }),
  TEMA: (x, p) => ({ real: ind.tema(arg(x, 0), p["timeperiod"]) }),
  RSI: (x, p) => ({ real: ind.rsi(arg(x, 0), p["timeperiod"]) }),
  MACD: (x, p) => {
    const r = ind.macd(arg(x, 0), {
      fastPeriod: p["fastperiod"],
      slowPeriod: p["slowperiod"],
      signalPeriod: p["signalperiod"],
    });
    return { macd: r.macd, macdsignal: r.signal, macdhist: r.hist };
  },
  BBANDS: (x, p) => {
    const r = ind.bbands(arg(x, 0), {
      timePeriod: p["timeperiod"],
      nbDevUp: p["nbdevup"],
      nbDevDn: p["nbdevdn"],
      maType: p["matype"] as ind.MaType,
    });
    return { upperband: r.upper, middleband: r.middle, lowerband: r.lower };
  },
  ATR: (x, p) => ({ real: ind.atr(arg(x, 0), arg(x, 1), arg(x, 2), p["timeperiod"]) }),
  NATR: (x, p) => ({ real: ind.natr(arg(x, 0), arg(x, 1), arg(x, 2), p["timeperiod"]) }),
  TRANGE: (x) => ({ real: ind.trange(arg(x, 0), arg(x, 1), arg(x, 2)) }),
  ADX: (x, p) => ({ real: ind.adx(arg(x, 0), arg(x, 1), arg(x, 2), p["timeperiod"]) }),
  PLUS_DI: (x, p) => ({ real: ind.plusDi(arg(x, 0), arg(x, 1), arg(x, 2), p["timeperiod"]) }),
  MINUS_DI: (x, p) => ({ real: ind.minusDi(arg(x, 0), arg(x, 1), arg(x, 2), p["timeperiod"]) }),
  STOCH: (x, p) => {
    const r = ind.stoch(arg(x, 0), arg(x, 1), arg(x, 2), {
      fastKPeriod: p["fastk_period"],
      slowKPeriod: p["slowk_period"],
      slowKMaType: p["slowk_matype"] as ind.MaType,
      slowDPeriod: p["slowd_period"],
      slowDMaType: p["slowd_matype"] as ind.MaType,
    });
    return { slowk: r.slowK, slowd: r.slowD };
  },
  STOCHF: (x, p) => {
    const r = ind.stochf(arg(x, 0), arg(x, 1), arg(x, 2), {
      fastKPeriod: p["fastk_period"],
      fastDPeriod: p["fastd_period"],
      fastDMaType: p["fastd_matype"] as ind.MaType,
    });
    return { fastk: r.fastK, fastd: r.fastD };
  },
  MFI: (x, p) => ({ real: ind.mfi(arg(x, 0), arg(x, 1), arg(x, 2), arg(x, 3), p["timeperiod"]) }),
  SAR: (x, p) => ({
    real: ind.sar(arg(x, 0), arg(x, 1), { acceleration: p["acceleration"], maximum: p["maximum"] }),
  }),
  CCI: (x, p) => ({ real: ind.cci(arg(x, 0), arg(x, 1), arg(x, 2), p["timeperiod"]) }),
  OBV: (x) => ({ real: ind.obv(arg(x, 0), arg(x, 1)) }),
  ROC: (x, p) => ({ real: ind.roc(arg(x, 0), p["timeperiod"]) }),
  MOM: (x, p) => ({ real: ind.mom(arg(x, 0), p["timeperiod"]) }),
  WILLR: (x, p) => ({ real: ind.willr(arg(x, 0), arg(x, 1), arg(x, 2), p["timeperiod"]) }),
  HT_SINE: (x) => {
    const r = ind.htSine(arg(x, 0));
    return { sine: r.sine, leadsine: r.leadSine };
  },
  "qtpylib.typical_price": (x) => ({ real: ind.typicalPrice(arg(x, 0), arg(x, 1), arg(x, 2)) }),
  "qtpylib.bollinger_bands(series)": (x, p) => {
    const r = ind.bollingerBands(arg(x, 0), p["window"], p["stds"]);
    return { upper: r.upper, mid: r.mid, lower: r.lower };
  },
  "qtpylib.crossed": (x) => {
    const close = arg(x, 0);
    const sma20 = ind.sma(close, 20);
    const rsi14 = ind.rsi(close, 14);
    const f64 = (u: Uint8Array): Float64Array => Float64Array.from(u);
    return {
      close_above_sma20: f64(ind.crossedAbove(close, sma20)),
      close_below_sma20: f64(ind.crossedBelow(close, sma20)),
      rsi14_above_30: f64(ind.crossedAbove(rsi14, 30)),
      rsi14_below_30: f64(ind.crossedBelow(rsi14, 30)),
    };
  },
  "qtpylib.bollinger_bands": (x, p) => {
    const r = ind.bollingerBands(ind.typicalPrice(arg(x, 0), arg(x, 1), arg(x, 2)), p["window"], p["stds"]);
    return { upper: r.upper, mid: r.mid, lower: r.lower };
  },
};

export const REL_TOL = 1e-9;

export interface Mismatch {
  row: number;
  expected: number | null;
  got: number;
}

/** Rows where `got` differs from the golden values: NaN-ness must agree, values to REL_TOL. */
export function compare(expected: (number | null)[], got: Float64Array, rows: number[]): Mismatch[] {
  const bad: Mismatch[] = [];
  for (let j = 0; j < rows.length; j++) {
    const row = rows[j]!;
    const e = expected[j]!;
    const g = got[row]!;
    if (e === null) {
      if (!Number.isNaN(g)) bad.push({ row, expected: e, got: g });
    } else if (Number.isNaN(g) || Math.abs(g - e) > REL_TOL * Math.max(Math.abs(e), Math.abs(g))) {
      bad.push({ row, expected: e, got: g });
    }
  }
  return bad;
}
