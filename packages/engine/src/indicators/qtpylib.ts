// qtpylib helpers as Freqtrade vendors them (freqtrade/vendor/qtpylib/indicators.py):
// typical_price, bollinger_bands, crossed_above, crossed_below.

import { IndicatorParamError, MAX_PERIOD, sameLength } from "./util.ts";

/**
 * qtpylib.typical_price: (high + low + close) / 3, row by row (NaN where an input is NaN).
 */
export function typicalPrice(high: Float64Array, low: Float64Array, close: Float64Array): Float64Array {
  const n = sameLength("typicalPrice", ["high", "low", "close"], [high, low, close]);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = (high[i]! + low[i]! + close[i]!) / 3.0;
  return out;
}

export interface BollingerBandsResult {
  upper: Float64Array;
  mid: Float64Array;
  lower: Float64Array;
}

/**
 * qtpylib.bollinger_bands(series, window=20, stds=2), as Freqtrade strategies use it on
 * `typicalPrice(...)`:
 *
 *     ma  = series.rolling(window, min_periods=1).mean()
 *     std = series.rolling(window, min_periods=1).std()      # pandas: ddof = 1 (sample std)
 *     upper = ma + std * stds ; lower = ma - std * stds
 *
 * (qtpylib's rolling_mean/rolling_std take the pandas branch because min_periods != window.)
 * So there is no NaN prefix of `window - 1` rows: mid starts at row 0 as an expanding mean over the
 * first rows, and upper/lower start at row 1 (a one-value sample std is NaN). NaN inputs are
 * skipped inside the window, as pandas does. Reproduces pandas' (>= 3.0) rolling algorithms
 * operation by operation: Kahan-compensated running sum for the mean (with its "all values in the
 * window equal" and sign clamps) and Welford's online variance with Kahan compensation, recomputed
 * over the window when a removal loses too much precision; a negative variance gives std 0.
 * window: integer in [1, 100000]; stds: any finite number.
 */
export function bollingerBands(series: Float64Array, window = 20, stds = 2): BollingerBandsResult {
  if (!Number.isInteger(window) || window < 1 || window > MAX_PERIOD) {
    throw new IndicatorParamError("bollingerBands", "window", `an integer in [1, ${MAX_PERIOD}]`, window);
  }
  if (typeof stds !== "number" || !Number.isFinite(stds)) {
    throw new IndicatorParamError("bollingerBands", "stds", "a finite number", stds);
  }
  const n = series.length;
  const mid = new Float64Array(n);
  const std = new Float64Array(n);
  rollingMeanStd(series, window, mid, std);
  const upper = new Float64Array(n);
  const lower = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const m = mid[i]!;
    const d = std[i]! * stds;
    upper[i] = m + d;
    lower[i] = m - d;
  }
  return { upper, mid, lower };
}

const INV_COND_TOL = Number.EPSILON * 1e3;

/**
 * pandas `Series.rolling(window, min_periods=1).mean()` into `mean` and `.std()` (ddof 1) into
 * `std`, fixed windows [max(0, i + 1 − window), i].
 */
function rollingMeanStd(values: Float64Array, window: number, mean: Float64Array, std: Float64Array): void {
  const n = values.length;
  // roll_mean state
  let nobs = 0;
  let sumX = 0;
  let negCt = 0;
  let compAdd = 0;
  let compRemove = 0;
  let prevValue = 0;
  let consecutive = 0;
  // roll_var state
  const v: VarState = { nobs: 0, mean: 0, ssqdm: 0, compAdd: 0, compRemove: 0, unstable: false };

  for (let i = 0; i < n; i++) {
    v.unstable = false;
    if (i >= window) {
      const old = values[i - window]!;
      if (old === old) {
        nobs--;
        const y = -old - compRemove;
        const t = sumX + y;
        compRemove = t - sumX - y;
        sumX = t;
        if (old < 0 || Object.is(old, -0)) negCt--;
        removeVar(v, old);
      }
    }
    if (i === 0) {
      prevValue = values[0]!;
      consecutive = 0;
    }
    const val = values[i]!;
    if (val === val) {
      nobs++;
      const y = val - compAdd;
      const t = sumX + y;
      compAdd = t - sumX - y;
      sumX = t;
      if (val < 0 || Object.is(val, -0)) negCt++;
      if (val === prevValue) consecutive++;
      else {
        consecutive = 1;
        prevValue = val;
      }
    }
    addVar(v, val);
    if (v.unstable) {
      v.nobs = 0;
      v.mean = 0;
      v.ssqdm = 0;
      v.compAdd = 0;
      v.compRemove = 0;
      for (let j = i + 1 > window ? i + 1 - window : 0; j <= i; j++) addVar(v, values[j]!);
    }

    let m: number;
    if (nobs >= 1) {
      m = sumX / nobs;
      if (consecutive >= nobs) m = prevValue;
      else if (negCt === 0 && m < 0) m = 0;
      else if (negCt === nobs && m > 0) m = 0;
    } else {
      m = Number.NaN;
    }
    mean[i] = m;
    const variance = v.nobs > 1 ? v.ssqdm / (v.nobs - 1) : Number.NaN;
    std[i] = variance < 0 ? 0 : Math.sqrt(variance);
  }
}

interface VarState {
  nobs: number;
  mean: number;
  ssqdm: number;
  compAdd: number;
  compRemove: number;
  unstable: boolean;
}

function addVar(s: VarState, val: number): void {
  if (val !== val) return;
  s.nobs += 1;
  const prevM2 = s.ssqdm;
  const prevMean = s.mean - s.compAdd;
  const y = val - s.compAdd;
  const t = y - s.mean;
  s.compAdd = t + s.mean - y;
  s.mean = s.nobs !== 0 ? s.mean + t / s.nobs : 0;
  s.ssqdm = s.ssqdm + (val - prevMean) * (val - s.mean);
  if (prevM2 * INV_COND_TOL > s.ssqdm) s.unstable = true;
}

function removeVar(s: VarState, val: number): void {
  s.nobs -= 1;
  if (s.nobs !== 0) {
    const prevM2 = s.ssqdm;
    const prevMean = s.mean - s.compRemove;
    const y = val - s.compRemove;
    const t = y - s.mean;
    s.compRemove = t + s.mean - y;
    s.mean = s.mean - t / s.nobs;
    s.ssqdm = s.ssqdm - (val - prevMean) * (val - s.mean);
    if (prevM2 * INV_COND_TOL > s.ssqdm) s.unstable = true;
  } else {
    s.mean = 0;
    s.ssqdm = 0;
    s.unstable = false;
  }
}

/**
 * qtpylib.crossed_above(a, b): 1 at row i when a[i] > b[i] and a[i−1] <= b[i−1], else 0. Row 0 is
 * always 0, and any comparison with NaN is false (pandas semantics). `b` may be a number.
 */
export function crossedAbove(a: Float64Array, b: Float64Array | number): Uint8Array {
  return crossed("crossedAbove", a, b, true);
}

/**
 * qtpylib.crossed_below(a, b): 1 at row i when a[i] < b[i] and a[i−1] >= b[i−1], else 0. Row 0 is
 * always 0, and any comparison with NaN is false. `b` may be a number.
 */
export function crossedBelow(a: Float64Array, b: Float64Array | number): Uint8Array {
  return crossed("crossedBelow", a, b, false);
}

function crossed(fn: string, a: Float64Array, b: Float64Array | number, above: boolean): Uint8Array {
  const n = a.length;
  const out = new Uint8Array(n);
  if (typeof b === "number") {
    for (let i = 1; i < n; i++) {
      const cur = a[i]!;
      const prev = a[i - 1]!;
      if (above ? cur > b && prev <= b : cur < b && prev >= b) out[i] = 1;
    }
    return out;
  }
  sameLength(fn, ["a", "b"], [a, b]);
  for (let i = 1; i < n; i++) {
    const cur = a[i]!;
    const prev = a[i - 1]!;
    const bc = b[i]!;
    const bp = b[i - 1]!;
    if (above ? cur > bc && prev <= bp : cur < bc && prev >= bp) out[i] = 1;
  }
  return out;
}
