// Overlap studies: SMA, EMA, WMA, DEMA, TEMA, BBANDS, SAR.
//
// Every function follows TA-Lib (the C library as bundled by the PyPI `ta-lib` wheel that the
// golden vectors pin, see packages/engine/test/golden/SOURCES.md) operation by operation, so the
// results agree to the last bits in nearly every row, and as called through TA-Lib's Python
// wrapper, as Freqtrade strategies call it:
//  - the output has the input's length; rows before `firstValid + lookback` are NaN, where
//    `firstValid` is the first row with no NaN in any input (leading NaNs are skipped);
//  - TA-Lib's unstable periods are at their default of 0;
//  - a NaN after `firstValid` goes through TA-Lib's arithmetic (see index.ts for each function).

import {
  MaType,
  TA_EPSILON,
  checkMaType,
  checkPeriod,
  checkReal,
  firstValid1,
  firstValid2,
  outputColumn,
  sameLength,
} from "./util.ts";

// ---------------------------------------------------------------------------------------------
// Internal cores. Indices are absolute; `from` is the first row of the computation.
// ---------------------------------------------------------------------------------------------

/**
 * TA_INT_SMA over src[from..to]: writes dst[from + period - 1 .. to]. Running sum: add the new
 * value, take the sum, subtract the oldest.
 */
export function smaCore(
  src: Float64Array,
  from: number,
  to: number,
  period: number,
  dst: Float64Array,
): void {
  const start = from + period - 1;
  if (start > to) return;
  let total = 0;
  let i = from;
  let trailing = from;
  if (period > 1) while (i < start) total += src[i++]!;
  while (i <= to) {
    total += src[i++]!;
    const t = total;
    total -= src[trailing++]!;
    dst[i - 1] = t / period;
  }
}

/**
 * TA_MA with an SMA type: period 1 copies the input (TA_MA's special case), else TA_INT_SMA.
 */
export function maSmaCore(
  src: Float64Array,
  from: number,
  to: number,
  period: number,
  dst: Float64Array,
): void {
  if (period === 1) {
    for (let i = from; i <= to; i++) dst[i] = src[i]!;
    return;
  }
  smaCore(src, from, to, period, dst);
}

/**
 * TA_INT_EMA seeded at `seedEnd`: the seed is the plain mean of src[seedEnd - period + 1 .. seedEnd]
 * (TA-Lib's default, non-Metastock seeding), written at dst[seedEnd]; then
 * `prev = ((x - prev) * k) + prev` up to `to`.
 */
export function emaCore(
  src: Float64Array,
  seedEnd: number,
  to: number,
  period: number,
  k: number,
  dst: Float64Array,
): void {
  if (seedEnd > to) return;
  let today = seedEnd - period + 1;
  let sum = 0;
  for (let i = period; i > 0; i--) sum += src[today++]!;
  let prev = sum / period;
  dst[seedEnd] = prev;
  for (let i = seedEnd + 1; i <= to; i++) {
    prev = (src[i]! - prev) * k + prev;
    dst[i] = prev;
  }
}

/** TA-Lib's PER_TO_K: 2 / (period + 1). */
export function perToK(period: number): number {
  return 2.0 / (period + 1);
}

// ---------------------------------------------------------------------------------------------
// Public functions
// ---------------------------------------------------------------------------------------------

/**
 * SMA, simple moving average. TA-Lib `SMA(real, timeperiod=30)`.
 * Lookback `timePeriod - 1`. timePeriod: integer in [2, 100000].
 */
export function sma(real: Float64Array, timePeriod = 30): Float64Array {
  checkPeriod("sma", "timePeriod", timePeriod, 2);
  const n = real.length;
  const b = firstValid1(real);
  const out = outputColumn(n, b + timePeriod - 1);
  smaCore(real, b, n - 1, timePeriod, out);
  return out;
}

/**
 * EMA, exponential moving average. TA-Lib `EMA(real, timeperiod=30)`.
 * k = 2 / (timePeriod + 1); the first value (row firstValid + timePeriod - 1) is the SMA of the
 * first timePeriod values. Lookback `timePeriod - 1`. timePeriod: integer in [2, 100000].
 */
export function ema(real: Float64Array, timePeriod = 30): Float64Array {
  checkPeriod("ema", "timePeriod", timePeriod, 2);
  const n = real.length;
  const b = firstValid1(real);
  const out = outputColumn(n, b + timePeriod - 1);
  emaCore(real, b + timePeriod - 1, n - 1, timePeriod, perToK(timePeriod), out);
  return out;
}

/**
 * WMA, linearly weighted moving average (weights 1..timePeriod, newest heaviest).
 * TA-Lib `WMA(real, timeperiod=30)`: running sums, re-summed from the window every 8·timePeriod
 * rows as TA-Lib >= 0.7 does. Lookback `timePeriod - 1`. timePeriod: integer in [2, 100000].
 */
export function wma(real: Float64Array, timePeriod = 30): Float64Array {
  checkPeriod("wma", "timePeriod", timePeriod, 2);
  const n = real.length;
  const b = firstValid1(real);
  const out = outputColumn(n, b + timePeriod - 1);
  wmaCore(real, b, n - 1, timePeriod, out);
  return out;
}

function wmaCore(src: Float64Array, from: number, to: number, period: number, dst: Float64Array): void {
  const start = from + period - 1;
  if (start > to) return;
  const divider = (period * (period + 1)) / 2;
  // TA-Lib >= 0.7 re-sums the window from scratch every 8·period outputs, which bounds the drift
  // of the running sums (and lets a NaN leave the window).
  const resync = 8 * period;
  let trailing = from;
  let periodSub = 0;
  let periodSum = 0;
  let inIdx = from;
  let w = 1;
  while (inIdx < start) {
    const v = src[inIdx++]!;
    periodSub += v;
    periodSum += v * w;
    w++;
  }
  let trailingValue = 0;
  let k = 0;
  while (inIdx <= to) {
    if (++k === resync) {
      k = 0;
      periodSub = 0;
      periodSum = 0;
      const first = inIdx - period + 1;
      for (let j = 0; j < period - 1; j++) {
        const v = src[first + j]!;
        periodSub += v;
        periodSum += v * (j + 1);
      }
      trailingValue = 0;
      trailing = first;
    }
    const v = src[inIdx]!;
    periodSub += v;
    periodSub -= trailingValue;
    periodSum += v * period;
    trailingValue = src[trailing++]!;
    dst[inIdx] = periodSum / divider;
    periodSum -= periodSub;
    inIdx++;
  }
}

/**
 * DEMA, double exponential moving average: 2·EMA − EMA(EMA). TA-Lib `DEMA(real, timeperiod=30)`.
 * Both EMAs are seeded with an SMA like EMA. Lookback `2·(timePeriod − 1)`.
 * timePeriod: integer in [2, 100000].
 */
export function dema(real: Float64Array, timePeriod = 30): Float64Array {
  checkPeriod("dema", "timePeriod", timePeriod, 2);
  const n = real.length;
  const b = firstValid1(real);
  const lb = timePeriod - 1;
  const start = b + 2 * lb;
  const out = outputColumn(n, start);
  if (start > n - 1) return out;
  const k = perToK(timePeriod);
  const e1 = new Float64Array(n);
  const e2 = new Float64Array(n);
  emaCore(real, b + lb, n - 1, timePeriod, k, e1);
  emaCore(e1, start, n - 1, timePeriod, k, e2);
  for (let i = start; i < n; i++) out[i] = 2.0 * e1[i]! - e2[i]!;
  return out;
}

/**
 * TEMA, triple exponential moving average: 3·EMA − 3·EMA(EMA) + EMA(EMA(EMA)).
 * TA-Lib `TEMA(real, timeperiod=30)`. Lookback `3·(timePeriod − 1)`. timePeriod: integer in [2, 100000].
 */
export function tema(real: Float64Array, timePeriod = 30): Float64Array {
  checkPeriod("tema", "timePeriod", timePeriod, 2);
  const n = real.length;
  const b = firstValid1(real);
  const lb = timePeriod - 1;
  const start = b + 3 * lb;
  const out = outputColumn(n, start);
  if (start > n - 1) return out;
  const k = perToK(timePeriod);
  const e1 = new Float64Array(n);
  const e2 = new Float64Array(n);
  const e3 = new Float64Array(n);
  emaCore(real, b + lb, n - 1, timePeriod, k, e1);
  emaCore(e1, b + 2 * lb, n - 1, timePeriod, k, e2);
  emaCore(e2, start, n - 1, timePeriod, k, e3);
  for (let i = start; i < n; i++) out[i] = e3[i]! + (3.0 * e1[i]! - 3.0 * e2[i]!);
  return out;
}

export interface BbandsOptions {
  /** Default 5. Integer in [2, 100000]. */
  timePeriod?: number;
  /** Multiplier of the standard deviation for the upper band. Default 2. */
  nbDevUp?: number;
  /** Multiplier of the standard deviation for the lower band. Default 2. */
  nbDevDn?: number;
  /** Moving average type; only MaType.SMA (0, the default) is implemented. */
  maType?: MaType;
}

export interface BbandsResult {
  upper: Float64Array;
  middle: Float64Array;
  lower: Float64Array;
}

/**
 * BBANDS, Bollinger bands. TA-Lib `BBANDS(real, timeperiod=5, nbdevup=2, nbdevdn=2, matype=0)`.
 * middle = SMA(timePeriod); dev = population standard deviation of the window (divide by
 * timePeriod), 0 where the variance is below TA-Lib's epsilon (1e-14);
 * upper = middle + nbDevUp·dev, lower = middle − nbDevDn·dev. Lookback `timePeriod − 1`.
 */
export function bbands(real: Float64Array, options: BbandsOptions = {}): BbandsResult {
  const timePeriod = checkPeriod("bbands", "timePeriod", options.timePeriod ?? 5, 2);
  const nbDevUp = checkReal("bbands", "nbDevUp", options.nbDevUp ?? 2, -3e37, 3e37);
  const nbDevDn = checkReal("bbands", "nbDevDn", options.nbDevDn ?? 2, -3e37, 3e37);
  checkMaType("bbands", "maType", options.maType ?? MaType.SMA);
  const n = real.length;
  const b = firstValid1(real);
  const start = b + timePeriod - 1;
  const upper = outputColumn(n, start);
  const middle = outputColumn(n, start);
  const lower = outputColumn(n, start);
  if (start > n - 1) return { upper, middle, lower };
  smaCore(real, b, n - 1, timePeriod, middle);
  // Population variance of the window, O(1) per row: running sums of the deviations from an
  // anchor value K taken inside the window (re-anchored, with the sums recomputed, every
  // timePeriod rows), so there is no cancellation between squares of prices as in TA-Lib < 0.7's
  // mean(x²) − mean² formula. TA-Lib >= 0.7 sums the squared deviations from the mean window by
  // window: both give the same deviation to ~1e-14, and exactly 0 when every value in the window is
  // the same (tracked with `equalRun`).
  const p = timePeriod;
  let anchor = 0;
  let s1 = 0;
  let s2 = 0;
  let sinceAnchor = p;
  let equalRun = 0;
  for (let i = b; i < start; i++) equalRun = i > b && real[i] === real[i - 1] ? equalRun + 1 : 1;
  for (let i = start; i < n; i++) {
    const x = real[i]!;
    equalRun = x === real[i - 1] ? equalRun + 1 : 1;
    if (sinceAnchor >= p) {
      anchor = x;
      s1 = 0;
      s2 = 0;
      for (let j = i - p + 1; j <= i; j++) {
        const d = real[j]! - anchor;
        s1 += d;
        s2 += d * d;
      }
      sinceAnchor = 0;
    } else {
      const dIn = x - anchor;
      const dOut = real[i - p]! - anchor;
      s1 += dIn - dOut;
      s2 += dIn * dIn - dOut * dOut;
    }
    sinceAnchor++;
    const m = middle[i]!;
    let dev: number;
    if (equalRun >= p) {
      dev = 0.0;
    } else {
      const mean = s1 / p;
      const variance = s2 / p - mean * mean;
      dev = !(variance < TA_EPSILON) ? Math.sqrt(variance) : 0.0;
    }
    upper[i] = m + dev * nbDevUp;
    lower[i] = m - dev * nbDevDn;
  }
  return { upper, middle, lower };
}

export interface SarOptions {
  /** Acceleration factor step and start. Default 0.02. */
  acceleration?: number;
  /** Maximum acceleration factor. Default 0.2. */
  maximum?: number;
}

/**
 * SAR, Wilder's parabolic stop-and-reverse. TA-Lib `SAR(high, low, acceleration=0.02, maximum=0.2)`.
 * The first bar is consumed: the direction of bar 2 is short when its -DM1 is positive (else
 * long) and its SAR is bar 1's low (long) or high (short). An acceleration above the maximum is
 * lowered to the maximum. Lookback 1. acceleration, maximum: finite numbers ≥ 0.
 */
export function sar(high: Float64Array, low: Float64Array, options: SarOptions = {}): Float64Array {
  let acceleration = checkReal("sar", "acceleration", options.acceleration ?? 0.02, 0, 3e37);
  const maximum = checkReal("sar", "maximum", options.maximum ?? 0.2, 0, 3e37);
  const n = sameLength("sar", ["high", "low"], [high, low]);
  const b = firstValid2(high, low);
  const startIdx = b + 1;
  const out = outputColumn(n, startIdx);
  if (startIdx > n - 1) return out;

  let af = acceleration;
  if (af > maximum) {
    acceleration = maximum;
    af = acceleration;
  }
  // TA_MINUS_DM over one bar decides the initial direction.
  const diffP = high[startIdx]! - high[startIdx - 1]!;
  const diffM = low[startIdx - 1]! - low[startIdx]!;
  const minusDm = diffM > 0 && diffP < diffM ? diffM : 0;
  let isLong = !(minusDm > 0);

  let today = startIdx;
  let newHigh = high[today - 1]!;
  let newLow = low[today - 1]!;
  let ep: number;
  let s: number;
  if (isLong) {
    ep = high[today]!;
    s = newLow;
  } else {
    ep = low[today]!;
    s = newHigh;
  }
  newLow = low[today]!;
  newHigh = high[today]!;

  while (today < n) {
    const prevLow = newLow;
    const prevHigh = newHigh;
    newLow = low[today]!;
    newHigh = high[today]!;
    const outIdx = today;
    today++;
    if (isLong) {
      if (newLow <= s) {
        // Switch to short: the SAR becomes the extreme point, kept within today's and
        // yesterday's range.
        isLong = false;
        s = ep;
        if (s < prevHigh) s = prevHigh;
        if (s < newHigh) s = newHigh;
        out[outIdx] = s;
        af = acceleration;
        ep = newLow;
        s = s + af * (ep - s);
        if (s < prevHigh) s = prevHigh;
        if (s < newHigh) s = newHigh;
      } else {
        out[outIdx] = s;
        if (newHigh > ep) {
          ep = newHigh;
          af += acceleration;
          if (af > maximum) af = maximum;
        }
        s = s + af * (ep - s);
        if (s > prevLow) s = prevLow;
        if (s > newLow) s = newLow;
      }
    } else if (newHigh >= s) {
      isLong = true;
      s = ep;
      if (s > prevLow) s = prevLow;
      if (s > newLow) s = newLow;
      out[outIdx] = s;
      af = acceleration;
      ep = newHigh;
      s = s + af * (ep - s);
      if (s > prevLow) s = prevLow;
      if (s > newLow) s = newLow;
    } else {
      out[outIdx] = s;
      if (newLow < ep) {
        ep = newLow;
        af += acceleration;
        if (af > maximum) af = maximum;
      }
      s = s + af * (ep - s);
      if (s < prevHigh) s = prevHigh;
      if (s < newHigh) s = newHigh;
    }
  }
  return out;
}
