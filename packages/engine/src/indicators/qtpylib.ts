// qtpylib helpers as Freqtrade vendors them (freqtrade/vendor/qtpylib/indicators.py):
// typical_price, bollinger_bands, crossed_above, crossed_below.

import { IndicatorParamError, MAX_PERIOD, blockEnd, firstBlockEnd, sameLength } from "./util.ts";

/**
 * qtpylib.typical_price: (high + low + close) / 3, row by row (NaN where an input is NaN).
 */
export function typicalPrice(high: Float64Array, low: Float64Array, close: Float64Array): Float64Array {
  const n = sameLength("typicalPrice", ["high", "low", "close"], [high, low, close]);
  const out = new Float64Array(n);
  for (let from = 0, to = firstBlockEnd(0, n); from < n; from = to, to = blockEnd(to, n)) {
    typicalPriceRows(high, low, close, from, to, out);
  }
  return out;
}

/** typicalPrice over rows [from, to) (see CHUNK_ROWS). */
function typicalPriceRows(
  high: Float64Array,
  low: Float64Array,
  close: Float64Array,
  from: number,
  to: number,
  out: Float64Array,
): void {
  for (let i = from; i < to; i++) out[i] = (high[i]! + low[i]! + close[i]!) / 3.0;
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
  const upper = new Float64Array(n);
  const mid = new Float64Array(n);
  const lower = new Float64Array(n);
  rollingBands(series, window, stds, upper, mid, lower);
  return { upper, mid, lower };
}

const INV_COND_TOL = Number.EPSILON * 1e3;

/**
 * pandas `Series.rolling(window, min_periods=1).mean()` (into `mid`) and `.std()` (ddof 1), over
 * fixed windows [max(0, i + 1 − window), i], with `upper = mean + std·stds` and
 * `lower = mean − std·stds` written in the same pass. pandas' roll_mean and roll_var state is kept
 * in local variables (its add_mean/remove_mean and add_var/remove_var steps are written inline).
 */
function rollingBands(
  values: Float64Array,
  window: number,
  stds: number,
  upper: Float64Array,
  mid: Float64Array,
  lower: Float64Array,
): void {
  const n = values.length;
  // roll_mean state: nobs, sumX, negCt, compAdd, compRemove, prevValue, consecutive;
  // roll_var state: nobs, mean, ssqdm, compAdd, compRemove. (pandas starts prevValue at the first
  // value with consecutive 0.)
  const state = new Float64Array(12);
  if (n > 0) state[5] = values[0]!;
  for (let from = 0, to = firstBlockEnd(0, n); from < n; from = to, to = blockEnd(to, n)) {
    rollingBandsRows(values, from, to, window, stds, upper, mid, lower, state);
  }
}

/** rollingBands' loop over rows [from, to) (see CHUNK_ROWS); state: pandas' roll_mean and roll_var. */
function rollingBandsRows(
  values: Float64Array,
  from: number,
  to: number,
  window: number,
  stds: number,
  upper: Float64Array,
  mid: Float64Array,
  lower: Float64Array,
  state: Float64Array,
): void {
  const invCondTol = INV_COND_TOL;
  // Read here, not where used: the NaN of the first row(s) must not be V8's first lookup of
  // Number.NaN in this function when it is already optimised (see CHUNK_ROWS).
  const nan = Number.NaN;
  let nobs = state[0]!;
  let sumX = state[1]!;
  let negCt = state[2]!;
  let compAdd = state[3]!;
  let compRemove = state[4]!;
  let prevValue = state[5]!;
  let consecutive = state[6]!;
  let vNobs = state[7]!;
  let vMean = state[8]!;
  let vSsqdm = state[9]!;
  let vCompAdd = state[10]!;
  let vCompRemove = state[11]!;
  for (let i = from; i < to; i++) {
    let unstable = false;
    if (i >= window) {
      const old = values[i - window]!;
      if (old === old) {
        nobs--;
        const y = -old - compRemove;
        const t = sumX + y;
        compRemove = t - sumX - y;
        sumX = t;
        if (old < 0 || Object.is(old, -0)) negCt--;
        // remove_var
        vNobs -= 1;
        if (vNobs !== 0) {
          const prevM2 = vSsqdm;
          const prevMean = vMean - vCompRemove;
          const yv = old - vCompRemove;
          const tv = yv - vMean;
          vCompRemove = tv + vMean - yv;
          vMean = vMean - tv / vNobs;
          vSsqdm = vSsqdm - (old - prevMean) * (old - vMean);
          if (prevM2 * invCondTol > vSsqdm) unstable = true;
        } else {
          vMean = 0;
          vSsqdm = 0;
          unstable = false;
        }
      }
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
      // add_var
      vNobs += 1;
      const prevM2 = vSsqdm;
      const prevMean = vMean - vCompAdd;
      const yv = val - vCompAdd;
      const tv = yv - vMean;
      vCompAdd = tv + vMean - yv;
      vMean = vNobs !== 0 ? vMean + tv / vNobs : 0;
      vSsqdm = vSsqdm + (val - prevMean) * (val - vMean);
      if (prevM2 * invCondTol > vSsqdm) unstable = true;
    }
    if (unstable) {
      // Too much precision lost: recompute the variance state over the window (pandas).
      vNobs = 0;
      vMean = 0;
      vSsqdm = 0;
      vCompAdd = 0;
      vCompRemove = 0;
      for (let j = i + 1 > window ? i + 1 - window : 0; j <= i; j++) {
        const x = values[j]!;
        if (x !== x) continue;
        vNobs += 1;
        const prevMean = vMean - vCompAdd;
        const yv = x - vCompAdd;
        const tv = yv - vMean;
        vCompAdd = tv + vMean - yv;
        vMean = vNobs !== 0 ? vMean + tv / vNobs : 0;
        vSsqdm = vSsqdm + (x - prevMean) * (x - vMean);
      }
    }

    let m: number;
    if (nobs >= 1) {
      m = sumX / nobs;
      if (consecutive >= nobs) m = prevValue;
      else if (negCt === 0 && m < 0) m = 0;
      else if (negCt === nobs && m > 0) m = 0;
    } else {
      m = nan;
    }
    const variance = vNobs > 1 ? vSsqdm / (vNobs - 1) : nan;
    const d = (variance < 0 ? 0 : Math.sqrt(variance)) * stds;
    mid[i] = m;
    upper[i] = m + d;
    lower[i] = m - d;
  }
  state[0] = nobs;
  state[1] = sumX;
  state[2] = negCt;
  state[3] = compAdd;
  state[4] = compRemove;
  state[5] = prevValue;
  state[6] = consecutive;
  state[7] = vNobs;
  state[8] = vMean;
  state[9] = vSsqdm;
  state[10] = vCompAdd;
  state[11] = vCompRemove;
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
  if (typeof b !== "number") sameLength(fn, ["a", "b"], [a, b]);
  for (let from = 1, to = firstBlockEnd(1, n); from < n; from = to, to = blockEnd(to, n)) {
    if (typeof b === "number") {
      if (above) crossedAboveLevel(a, b, from, to, out);
      else crossedBelowLevel(a, b, from, to, out);
    } else if (above) crossedAboveSeries(a, b, from, to, out);
    else crossedBelowSeries(a, b, from, to, out);
  }
  return out;
}

// One loop per case over rows [from, to), from >= 1 (see CHUNK_ROWS).

function crossedAboveLevel(a: Float64Array, b: number, from: number, to: number, out: Uint8Array): void {
  let prev = a[from - 1]!;
  for (let i = from; i < to; i++) {
    const cur = a[i]!;
    if (cur > b && prev <= b) out[i] = 1;
    prev = cur;
  }
}

function crossedBelowLevel(a: Float64Array, b: number, from: number, to: number, out: Uint8Array): void {
  let prev = a[from - 1]!;
  for (let i = from; i < to; i++) {
    const cur = a[i]!;
    if (cur < b && prev >= b) out[i] = 1;
    prev = cur;
  }
}

function crossedAboveSeries(
  a: Float64Array,
  b: Float64Array,
  from: number,
  to: number,
  out: Uint8Array,
): void {
  let prevA = a[from - 1]!;
  let prevB = b[from - 1]!;
  for (let i = from; i < to; i++) {
    const curA = a[i]!;
    const curB = b[i]!;
    if (curA > curB && prevA <= prevB) out[i] = 1;
    prevA = curA;
    prevB = curB;
  }
}

function crossedBelowSeries(
  a: Float64Array,
  b: Float64Array,
  from: number,
  to: number,
  out: Uint8Array,
): void {
  let prevA = a[from - 1]!;
  let prevB = b[from - 1]!;
  for (let i = from; i < to; i++) {
    const curA = a[i]!;
    const curB = b[i]!;
    if (curA < curB && prevA >= prevB) out[i] = 1;
    prevA = curA;
    prevB = curB;
  }
}
