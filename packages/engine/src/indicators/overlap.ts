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
  blockEnd,
  firstBlockEnd,
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
  for (let i = from; i < start; i++) total += src[i]!;
  const end = to + 1;
  for (let i = start, to = firstBlockEnd(start, end); i < end; i = to, to = blockEnd(to, end)) {
    total = smaRows(src, i, to, period, dst, total);
  }
}

/** smaCore's loop over rows [from, to) (see CHUNK_ROWS); returns the running sum. */
function smaRows(
  src: Float64Array,
  from: number,
  to: number,
  period: number,
  dst: Float64Array,
  total: number,
): number {
  for (let i = from; i < to; i++) {
    total += src[i]!;
    const t = total;
    total -= src[i - period + 1]!;
    dst[i] = t / period;
  }
  return total;
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
    const first = from > 0 ? from : 0; // (from is -1 for an empty input)
    if (first <= to) dst.set(src.subarray(first, to + 1), first);
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
  const end = to + 1;
  for (let i = seedEnd + 1, to = firstBlockEnd(seedEnd + 1, end); i < end; i = to, to = blockEnd(to, end)) {
    prev = emaRows(src, i, to, k, dst, prev);
  }
}

/** emaCore's loop over rows [from, to) (see CHUNK_ROWS); returns the last EMA value. */
function emaRows(
  src: Float64Array,
  from: number,
  to: number,
  k: number,
  dst: Float64Array,
  prev: number,
): number {
  for (let i = from; i < to; i++) {
    prev = (src[i]! - prev) * k + prev;
    dst[i] = prev;
  }
  return prev;
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
  const state = new Float64Array([periodSub, periodSum, 0, 0]);
  const end = to + 1;
  for (let i = start, next = firstBlockEnd(start, end); i < end; i = next, next = blockEnd(next, end)) {
    wmaRows(src, i, next, period, divider, dst, state);
  }
}

/**
 * wmaCore's loop over rows [from, to) (see CHUNK_ROWS); state: [periodSub, periodSum,
 * trailingValue, rows since the last re-sum].
 */
function wmaRows(
  src: Float64Array,
  from: number,
  to: number,
  period: number,
  divider: number,
  dst: Float64Array,
  state: Float64Array,
): void {
  // TA-Lib >= 0.7 re-sums the window from scratch every 8·period outputs, which bounds the drift
  // of the running sums (and lets a NaN leave the window).
  const resync = 8 * period;
  let periodSub = state[0]!;
  let periodSum = state[1]!;
  let trailingValue = state[2]!;
  let k = state[3]!;
  for (let inIdx = from; inIdx < to; inIdx++) {
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
    }
    const v = src[inIdx]!;
    periodSub += v;
    periodSub -= trailingValue;
    periodSum += v * period;
    trailingValue = src[inIdx - period + 1]!;
    dst[inIdx] = periodSum / divider;
    periodSum -= periodSub;
  }
  state[0] = periodSub;
  state[1] = periodSum;
  state[2] = trailingValue;
  state[3] = k;
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
  // Both EMAs in one pass with no temporary column: EMA(EMA) is seeded with the plain mean of the
  // first timePeriod values of the first EMA, summed in row order, exactly as TA-Lib's TA_INT_EMA.
  const k = perToK(timePeriod);
  let sum = 0;
  for (let i = b; i <= b + lb; i++) sum += real[i]!;
  let e1 = sum / timePeriod;
  let sum2 = 0;
  let i = b + lb;
  while (i < start) {
    sum2 += e1;
    i++;
    e1 = (real[i]! - e1) * k + e1;
  }
  sum2 += e1;
  const e2 = sum2 / timePeriod;
  out[start] = 2.0 * e1 - e2;
  const state = new Float64Array([e1, e2]);
  for (let i = start + 1, to = firstBlockEnd(start + 1, n); i < n; i = to, to = blockEnd(to, n))
    demaRows(real, i, to, k, out, state);
  return out;
}

/** dema's loop over rows [from, to) (see CHUNK_ROWS); state: [EMA, EMA(EMA)]. */
function demaRows(
  real: Float64Array,
  from: number,
  to: number,
  k: number,
  out: Float64Array,
  state: Float64Array,
): void {
  let e1 = state[0]!;
  let e2 = state[1]!;
  for (let i = from; i < to; i++) {
    e1 = (real[i]! - e1) * k + e1;
    e2 = (e1 - e2) * k + e2;
    out[i] = 2.0 * e1 - e2;
  }
  state[0] = e1;
  state[1] = e2;
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
  // The three EMAs in one pass with no temporary column, each seeded with the plain mean of the
  // first timePeriod values of the one before, summed in row order (TA-Lib's TA_INT_EMA).
  const k = perToK(timePeriod);
  let sum = 0;
  for (let i = b; i <= b + lb; i++) sum += real[i]!;
  let e1 = sum / timePeriod;
  let sum2 = 0;
  let i = b + lb;
  while (i < b + 2 * lb) {
    sum2 += e1;
    i++;
    e1 = (real[i]! - e1) * k + e1;
  }
  sum2 += e1;
  let e2 = sum2 / timePeriod;
  let sum3 = 0;
  while (i < start) {
    sum3 += e2;
    i++;
    e1 = (real[i]! - e1) * k + e1;
    e2 = (e1 - e2) * k + e2;
  }
  sum3 += e2;
  const e3 = sum3 / timePeriod;
  out[start] = e3 + (3.0 * e1 - 3.0 * e2);
  const state = new Float64Array([e1, e2, e3]);
  for (let i = start + 1, to = firstBlockEnd(start + 1, n); i < n; i = to, to = blockEnd(to, n))
    temaRows(real, i, to, k, out, state);
  return out;
}

/** tema's loop over rows [from, to) (see CHUNK_ROWS); state: [EMA, EMA(EMA), EMA(EMA(EMA))]. */
function temaRows(
  real: Float64Array,
  from: number,
  to: number,
  k: number,
  out: Float64Array,
  state: Float64Array,
): void {
  let e1 = state[0]!;
  let e2 = state[1]!;
  let e3 = state[2]!;
  for (let i = from; i < to; i++) {
    e1 = (real[i]! - e1) * k + e1;
    e2 = (e1 - e2) * k + e2;
    e3 = (e2 - e3) * k + e3;
    out[i] = e3 + (3.0 * e1 - 3.0 * e2);
  }
  state[0] = e1;
  state[1] = e2;
  state[2] = e3;
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
  let equalRun = 0;
  for (let i = b; i < start; i++) equalRun = i > b && real[i] === real[i - 1] ? equalRun + 1 : 1;
  // [anchor, sum of deviations, sum of squared deviations, rows since anchored, equal run]
  const state = new Float64Array([0, 0, 0, timePeriod, equalRun]);
  for (let i = start, to = firstBlockEnd(start, n); i < n; i = to, to = blockEnd(to, n)) {
    bbandsRows(real, i, to, timePeriod, nbDevUp, nbDevDn, middle, upper, lower, state);
  }
  return { upper, middle, lower };
}

/** bbands' loop over rows [from, to) (see CHUNK_ROWS); state: see bbands. */
function bbandsRows(
  real: Float64Array,
  from: number,
  to: number,
  p: number,
  nbDevUp: number,
  nbDevDn: number,
  middle: Float64Array,
  upper: Float64Array,
  lower: Float64Array,
  state: Float64Array,
): void {
  const epsilon = TA_EPSILON;
  let anchor = state[0]!;
  let s1 = state[1]!;
  let s2 = state[2]!;
  let sinceAnchor = state[3]!;
  let equalRun = state[4]!;
  for (let i = from; i < to; i++) {
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
      dev = !(variance < epsilon) ? Math.sqrt(variance) : 0.0;
    }
    upper[i] = m + dev * nbDevUp;
    lower[i] = m - dev * nbDevDn;
  }
  state[0] = anchor;
  state[1] = s1;
  state[2] = s2;
  state[3] = sinceAnchor;
  state[4] = equalRun;
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
  const isLong = !(minusDm > 0);

  const today = startIdx;
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

  const state = new Float64Array([isLong ? 1 : 0, af, ep, s, newHigh, newLow]);
  for (let from = today, to = firstBlockEnd(today, n); from < n; from = to, to = blockEnd(to, n)) {
    sarRows(high, low, from, to, acceleration, maximum, out, state);
  }
  return out;
}

/**
 * sar's loop over rows [from, to) (see CHUNK_ROWS); state: [isLong (1/0), af, ep, sar, high and
 * low of the previous row as TA-Lib tracks them].
 */
function sarRows(
  high: Float64Array,
  low: Float64Array,
  from: number,
  to: number,
  acceleration: number,
  maximum: number,
  out: Float64Array,
  state: Float64Array,
): void {
  let isLong = state[0] === 1;
  let af = state[1]!;
  let ep = state[2]!;
  let s = state[3]!;
  let newHigh = state[4]!;
  let newLow = state[5]!;
  for (let today = from; today < to; today++) {
    const prevLow = newLow;
    const prevHigh = newHigh;
    newLow = low[today]!;
    newHigh = high[today]!;
    if (isLong) {
      if (newLow <= s) {
        // Switch to short: the SAR becomes the extreme point, kept within today's and
        // yesterday's range.
        isLong = false;
        s = ep;
        if (s < prevHigh) s = prevHigh;
        if (s < newHigh) s = newHigh;
        out[today] = s;
        af = acceleration;
        ep = newLow;
        s = s + af * (ep - s);
        if (s < prevHigh) s = prevHigh;
        if (s < newHigh) s = newHigh;
      } else {
        out[today] = s;
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
      out[today] = s;
      af = acceleration;
      ep = newHigh;
      s = s + af * (ep - s);
      if (s > prevLow) s = prevLow;
      if (s > newLow) s = newLow;
    } else {
      out[today] = s;
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
  state[0] = isLong ? 1 : 0;
  state[1] = af;
  state[2] = ep;
  state[3] = s;
  state[4] = newHigh;
  state[5] = newLow;
}
