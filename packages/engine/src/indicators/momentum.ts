// Momentum indicators: RSI, MACD, ADX, PLUS_DI, MINUS_DI, STOCH, STOCHF, MFI, CCI, ROC, MOM, WILLR.
// Same conventions as overlap.ts (TA-Lib operation order, leading NaNs skipped like TA-Lib's
// Python wrapper, unstable periods 0).

import { maSmaCore, perToK } from "./overlap.ts";
import {
  blockEnd,
  firstBlockEnd,
  MaType,
  TA_EPSILON,
  checkMaType,
  checkPeriod,
  firstValid1,
  firstValid3,
  firstValid4,
  outputColumn,
  sameLength,
} from "./util.ts";

// Module-local copy: hot loops read it on every row, and an imported binding may cost a getter call
// per access under a CommonJS transform (tsx loads these files that way in some setups).
const EPSILON = TA_EPSILON;

/**
 * Not TA-Lib's TA_IS_ZERO (v >= 1e-14 || v <= -1e-14), with NaN counting as zero (what TA-Lib >= 0.7
 * returns for NaN). One comparison, always evaluated, so V8 has feedback for it on every path.
 */
function notZero(v: number): boolean {
  return Math.abs(v) >= EPSILON;
}

/**
 * RSI, Wilder's relative strength index. TA-Lib `RSI(real, timeperiod=14)`.
 * The first average gain/loss is the plain mean of the first timePeriod changes, then Wilder's
 * smoothing `avg = (avg·(n−1) + x) / n`; RSI = 100·gain/(gain+loss), 0 when gain+loss is zero
 * (or NaN: after a NaN inside the series RSI is 0, as in TA-Lib >= 0.7).
 * Lookback `timePeriod`. timePeriod: integer in [2, 100000].
 */
export function rsi(real: Float64Array, timePeriod = 14): Float64Array {
  checkPeriod("rsi", "timePeriod", timePeriod, 2);
  const n = real.length;
  const b = firstValid1(real);
  const start = b + timePeriod;
  const out = outputColumn(n, start);
  if (start > n - 1) return out;
  let today = b;
  let prevValue = real[today]!;
  let prevGain = 0;
  let prevLoss = 0;
  today++;
  for (let i = timePeriod; i > 0; i--) {
    const v = real[today++]!;
    const d = v - prevValue;
    prevValue = v;
    if (d < 0) prevLoss -= d;
    else prevGain += d;
  }
  prevLoss /= timePeriod;
  prevGain /= timePeriod;
  const sum = prevGain + prevLoss;
  out[start] = notZero(sum) ? 100.0 * (prevGain / sum) : 0.0;
  const state = new Float64Array([prevGain, prevLoss]);
  for (let from = today, to = firstBlockEnd(today, n); from < n; from = to, to = blockEnd(to, n)) {
    rsiRows(real, from, to, timePeriod, out, state);
  }
  return out;
}

/** rsi's loop over rows [from, to) (see CHUNK_ROWS); state: [average gain, average loss]. */
function rsiRows(
  real: Float64Array,
  from: number,
  to: number,
  timePeriod: number,
  out: Float64Array,
  state: Float64Array,
): void {
  let prevGain = state[0]!;
  let prevLoss = state[1]!;
  const pm1 = timePeriod - 1;
  let prevValue = real[from - 1]!;
  for (let today = from; today < to; today++) {
    const v = real[today]!;
    const d = v - prevValue;
    prevValue = v;
    prevLoss *= pm1;
    prevGain *= pm1;
    if (d < 0) prevLoss -= d;
    else prevGain += d;
    prevLoss /= timePeriod;
    prevGain /= timePeriod;
    const sum = prevGain + prevLoss;
    out[today] = notZero(sum) ? 100.0 * (prevGain / sum) : 0.0;
  }
  state[0] = prevGain;
  state[1] = prevLoss;
}

export interface MacdOptions {
  /** Default 12. Integer in [2, 100000]. */
  fastPeriod?: number;
  /** Default 26. Integer in [2, 100000]. */
  slowPeriod?: number;
  /** Default 9. Integer in [1, 100000]. */
  signalPeriod?: number;
}

export interface MacdResult {
  macd: Float64Array;
  signal: Float64Array;
  hist: Float64Array;
}

/**
 * MACD. TA-Lib `MACD(real, fastperiod=12, slowperiod=26, signalperiod=9)`.
 * macd = EMA(fast) − EMA(slow), signal = EMA(signalPeriod) of macd, hist = macd − signal.
 * As in TA-Lib, both EMAs start at the same row: the fast EMA is seeded with the SMA of the
 * fastPeriod values ending at row firstValid + slowPeriod − 1 (not at firstValid + fastPeriod − 1),
 * and fast/slow are swapped when slowPeriod < fastPeriod.
 * Lookback `slowPeriod − 1 + signalPeriod − 1` for all three outputs.
 */
export function macd(real: Float64Array, options: MacdOptions = {}): MacdResult {
  let fast = checkPeriod("macd", "fastPeriod", options.fastPeriod ?? 12, 2);
  let slow = checkPeriod("macd", "slowPeriod", options.slowPeriod ?? 26, 2);
  const signalPeriod = checkPeriod("macd", "signalPeriod", options.signalPeriod ?? 9, 1);
  if (slow < fast) {
    const t = slow;
    slow = fast;
    fast = t;
  }
  const n = real.length;
  const b = firstValid1(real);
  const lookbackSignal = signalPeriod - 1;
  const start = b + slow - 1 + lookbackSignal;
  const macdOut = outputColumn(n, start);
  const signal = outputColumn(n, start);
  const hist = outputColumn(n, start);
  if (start > n - 1) return { macd: macdOut, signal, hist };
  // One pass over the rows, same operations in the same order as TA-Lib (TA_INT_EMA for both
  // lines, each seeded with the plain mean of the values ending at seedEnd, then the signal EMA of
  // the macd line seeded with the mean of its first signalPeriod values), without temporary columns.
  const seedEnd = b + slow - 1;
  let slowSum = 0;
  for (let i = seedEnd - slow + 1; i <= seedEnd; i++) slowSum += real[i]!;
  let fastSum = 0;
  for (let i = seedEnd - fast + 1; i <= seedEnd; i++) fastSum += real[i]!;
  const kSlow = perToK(slow);
  const kFast = perToK(fast);
  const kSignal = perToK(signalPeriod);
  let slowEma = slowSum / slow;
  let fastEma = fastSum / fast;
  let line = fastEma - slowEma;
  let signalSum = 0;
  let i = seedEnd;
  while (i < start) {
    signalSum += line;
    i++;
    const x = real[i]!;
    slowEma = (x - slowEma) * kSlow + slowEma;
    fastEma = (x - fastEma) * kFast + fastEma;
    line = fastEma - slowEma;
  }
  signalSum += line;
  const signalEma = signalSum / signalPeriod;
  macdOut[start] = line;
  signal[start] = signalEma;
  hist[start] = line - signalEma;
  const state = new Float64Array([slowEma, fastEma, signalEma, kSlow, kFast, kSignal]);
  for (let i = start + 1, to = firstBlockEnd(start + 1, n); i < n; i = to, to = blockEnd(to, n)) {
    macdRows(real, i, to, state, macdOut, signal, hist);
  }
  return { macd: macdOut, signal, hist };
}

/**
 * macd's loop over rows [from, to) (see CHUNK_ROWS); state: [slow EMA, fast EMA, signal EMA, and
 * the three smoothing factors].
 */
function macdRows(
  real: Float64Array,
  from: number,
  to: number,
  state: Float64Array,
  macdOut: Float64Array,
  signal: Float64Array,
  hist: Float64Array,
): void {
  let slowEma = state[0]!;
  let fastEma = state[1]!;
  let signalEma = state[2]!;
  const kSlow = state[3]!;
  const kFast = state[4]!;
  const kSignal = state[5]!;
  for (let i = from; i < to; i++) {
    const x = real[i]!;
    slowEma = (x - slowEma) * kSlow + slowEma;
    fastEma = (x - fastEma) * kFast + fastEma;
    const line = fastEma - slowEma;
    signalEma = (line - signalEma) * kSignal + signalEma;
    macdOut[i] = line;
    signal[i] = signalEma;
    hist[i] = line - signalEma;
  }
  state[0] = slowEma;
  state[1] = fastEma;
  state[2] = signalEma;
}

// ---------------------------------------------------------------------------------------------
// Directional movement: ADX, PLUS_DI, MINUS_DI
// ---------------------------------------------------------------------------------------------

function trueRange(h: number, l: number, prevClose: number): number {
  let range = h - l;
  let t = Math.abs(h - prevClose);
  if (t > range) range = t;
  t = Math.abs(l - prevClose);
  if (t > range) range = t;
  return range;
}

/**
 * ADX, Wilder's average directional index. TA-Lib `ADX(high, low, close, timeperiod=14)`.
 * Lookback `2·timePeriod − 1`. timePeriod: integer in [2, 100000].
 */
export function adx(
  high: Float64Array,
  low: Float64Array,
  close: Float64Array,
  timePeriod = 14,
): Float64Array {
  checkPeriod("adx", "timePeriod", timePeriod, 2);
  const n = sameLength("adx", ["high", "low", "close"], [high, low, close]);
  const b = firstValid3(high, low, close);
  const start = b + 2 * timePeriod - 1;
  const out = outputColumn(n, start);
  if (start > n - 1) return out;
  const p = timePeriod;
  let today = b;
  let prevHigh = high[today]!;
  let prevLow = low[today]!;
  let prevClose = close[today]!;
  let prevMinusDM = 0;
  let prevPlusDM = 0;
  let prevTR = 0;
  for (let i = p - 1; i > 0; i--) {
    today++;
    let t = high[today]!;
    const diffP = t - prevHigh;
    prevHigh = t;
    t = low[today]!;
    const diffM = prevLow - t;
    prevLow = t;
    if (diffM > 0 && diffP < diffM) prevMinusDM += diffM;
    else if (diffP > 0 && diffP > diffM) prevPlusDM += diffP;
    prevTR += trueRange(prevHigh, prevLow, prevClose);
    prevClose = close[today]!;
  }
  let sumDX = 0;
  for (let i = p; i > 0; i--) {
    today++;
    let t = high[today]!;
    const diffP = t - prevHigh;
    prevHigh = t;
    t = low[today]!;
    const diffM = prevLow - t;
    prevLow = t;
    prevMinusDM -= prevMinusDM / p;
    prevPlusDM -= prevPlusDM / p;
    if (diffM > 0 && diffP < diffM) prevMinusDM += diffM;
    else if (diffP > 0 && diffP > diffM) prevPlusDM += diffP;
    prevTR = prevTR - prevTR / p + trueRange(prevHigh, prevLow, prevClose);
    prevClose = close[today]!;
    if (notZero(prevTR)) {
      const minusDI = 100.0 * (prevMinusDM / prevTR);
      const plusDI = 100.0 * (prevPlusDM / prevTR);
      const s = minusDI + plusDI;
      if (notZero(s)) sumDX += 100.0 * (Math.abs(minusDI - plusDI) / s);
    }
  }
  const prevADX = sumDX / p;
  out[today] = prevADX;
  const state = new Float64Array([prevMinusDM, prevPlusDM, prevTR, prevADX]);
  for (let from = today + 1, to = firstBlockEnd(today + 1, n); from < n; from = to, to = blockEnd(to, n)) {
    adxRows(high, low, close, from, to, p, out, state);
  }
  return out;
}

/** adx's loop over rows [from, to) (see CHUNK_ROWS); state: [−DM, +DM, TR, ADX], Wilder-smoothed. */
function adxRows(
  high: Float64Array,
  low: Float64Array,
  close: Float64Array,
  from: number,
  to: number,
  p: number,
  out: Float64Array,
  state: Float64Array,
): void {
  let prevMinusDM = state[0]!;
  let prevPlusDM = state[1]!;
  let prevTR = state[2]!;
  let prevADX = state[3]!;
  let prevHigh = high[from - 1]!;
  let prevLow = low[from - 1]!;
  let prevClose = close[from - 1]!;
  for (let today = from; today < to; today++) {
    let t = high[today]!;
    const diffP = t - prevHigh;
    prevHigh = t;
    t = low[today]!;
    const diffM = prevLow - t;
    prevLow = t;
    prevMinusDM -= prevMinusDM / p;
    prevPlusDM -= prevPlusDM / p;
    if (diffM > 0 && diffP < diffM) prevMinusDM += diffM;
    else if (diffP > 0 && diffP > diffM) prevPlusDM += diffP;
    prevTR = prevTR - prevTR / p + trueRange(prevHigh, prevLow, prevClose);
    prevClose = close[today]!;
    if (notZero(prevTR)) {
      const minusDI = 100.0 * (prevMinusDM / prevTR);
      const plusDI = 100.0 * (prevPlusDM / prevTR);
      const s = minusDI + plusDI;
      if (notZero(s)) {
        const dx = 100.0 * (Math.abs(minusDI - plusDI) / s);
        prevADX = (prevADX * (p - 1) + dx) / p;
      }
    }
    out[today] = prevADX;
  }
  state[0] = prevMinusDM;
  state[1] = prevPlusDM;
  state[2] = prevTR;
  state[3] = prevADX;
}

/** Shared body of PLUS_DI (plus = true) and MINUS_DI (plus = false). */
function directionalIndicator(
  fn: string,
  plus: boolean,
  high: Float64Array,
  low: Float64Array,
  close: Float64Array,
  timePeriod: number,
): Float64Array {
  checkPeriod(fn, "timePeriod", timePeriod, 1);
  const n = sameLength(fn, ["high", "low", "close"], [high, low, close]);
  const b = firstValid3(high, low, close);
  const p = timePeriod;
  const lookback = p > 1 ? p : 1;
  const out = outputColumn(n, b + lookback);
  if (b + lookback > n - 1) return out;
  let today = b;
  let prevHigh = high[today]!;
  let prevLow = low[today]!;
  let prevClose = close[today]!;
  if (p === 1) {
    // TA-Lib's period-1 branch: DM1 / TR1 (not multiplied by 100).
    while (today < n - 1) {
      today++;
      let t = high[today]!;
      const diffP = t - prevHigh;
      prevHigh = t;
      t = low[today]!;
      const diffM = prevLow - t;
      prevLow = t;
      const moved = plus ? diffP > 0 && diffP > diffM : diffM > 0 && diffP < diffM;
      if (moved) {
        const tr = trueRange(prevHigh, prevLow, prevClose);
        out[today] = notZero(tr) ? (plus ? diffP : diffM) / tr : 0.0;
      } else {
        out[today] = 0.0;
      }
      prevClose = close[today]!;
    }
    return out;
  }
  let prevDM = 0;
  let prevTR = 0;
  for (let i = p - 1; i > 0; i--) {
    today++;
    let t = high[today]!;
    const diffP = t - prevHigh;
    prevHigh = t;
    t = low[today]!;
    const diffM = prevLow - t;
    prevLow = t;
    if (plus) {
      if (diffP > 0 && diffP > diffM) prevDM += diffP;
    } else if (diffM > 0 && diffP < diffM) {
      prevDM += diffM;
    }
    prevTR += trueRange(prevHigh, prevLow, prevClose);
    prevClose = close[today]!;
  }
  // One more bar (unstable period 0 + 1) with Wilder's smoothing before the first output.
  for (let i = 1; i > 0; i--) {
    today++;
    let t = high[today]!;
    const diffP = t - prevHigh;
    prevHigh = t;
    t = low[today]!;
    const diffM = prevLow - t;
    prevLow = t;
    const moved = plus ? diffP > 0 && diffP > diffM : diffM > 0 && diffP < diffM;
    if (moved) prevDM = prevDM - prevDM / p + (plus ? diffP : diffM);
    else prevDM = prevDM - prevDM / p;
    prevTR = prevTR - prevTR / p + trueRange(prevHigh, prevLow, prevClose);
    prevClose = close[today]!;
  }
  out[today] = notZero(prevTR) ? 100.0 * (prevDM / prevTR) : 0.0;
  const state = new Float64Array([prevDM, prevTR]);
  for (let from = today + 1, to = firstBlockEnd(today + 1, n); from < n; from = to, to = blockEnd(to, n)) {
    if (plus) plusDiRows(high, low, close, from, to, p, out, state);
    else minusDiRows(high, low, close, from, to, p, out, state);
  }
  return out;
}

/** PLUS_DI's loop over rows [from, to) (see CHUNK_ROWS); state: [+DM, TR], Wilder-smoothed. */
function plusDiRows(
  high: Float64Array,
  low: Float64Array,
  close: Float64Array,
  from: number,
  to: number,
  p: number,
  out: Float64Array,
  state: Float64Array,
): void {
  let prevDM = state[0]!;
  let prevTR = state[1]!;
  let prevHigh = high[from - 1]!;
  let prevLow = low[from - 1]!;
  let prevClose = close[from - 1]!;
  for (let today = from; today < to; today++) {
    let t = high[today]!;
    const diffP = t - prevHigh;
    prevHigh = t;
    t = low[today]!;
    const diffM = prevLow - t;
    prevLow = t;
    if (diffP > 0 && diffP > diffM) prevDM = prevDM - prevDM / p + diffP;
    else prevDM = prevDM - prevDM / p;
    prevTR = prevTR - prevTR / p + trueRange(prevHigh, prevLow, prevClose);
    prevClose = close[today]!;
    out[today] = notZero(prevTR) ? 100.0 * (prevDM / prevTR) : 0.0;
  }
  state[0] = prevDM;
  state[1] = prevTR;
}

/** MINUS_DI's loop over rows [from, to) (see CHUNK_ROWS); state: [−DM, TR], Wilder-smoothed. */
function minusDiRows(
  high: Float64Array,
  low: Float64Array,
  close: Float64Array,
  from: number,
  to: number,
  p: number,
  out: Float64Array,
  state: Float64Array,
): void {
  let prevDM = state[0]!;
  let prevTR = state[1]!;
  let prevHigh = high[from - 1]!;
  let prevLow = low[from - 1]!;
  let prevClose = close[from - 1]!;
  for (let today = from; today < to; today++) {
    let t = high[today]!;
    const diffP = t - prevHigh;
    prevHigh = t;
    t = low[today]!;
    const diffM = prevLow - t;
    prevLow = t;
    if (diffM > 0 && diffP < diffM) prevDM = prevDM - prevDM / p + diffM;
    else prevDM = prevDM - prevDM / p;
    prevTR = prevTR - prevTR / p + trueRange(prevHigh, prevLow, prevClose);
    prevClose = close[today]!;
    out[today] = notZero(prevTR) ? 100.0 * (prevDM / prevTR) : 0.0;
  }
  state[0] = prevDM;
  state[1] = prevTR;
}

/**
 * PLUS_DI, Wilder's +DI. TA-Lib `PLUS_DI(high, low, close, timeperiod=14)`.
 * Lookback `timePeriod` (1 for timePeriod 1, where TA-Lib returns +DM1/TR1 without the ×100).
 * timePeriod: integer in [1, 100000].
 */
export function plusDi(
  high: Float64Array,
  low: Float64Array,
  close: Float64Array,
  timePeriod = 14,
): Float64Array {
  return directionalIndicator("plusDi", true, high, low, close, timePeriod);
}

/**
 * MINUS_DI, Wilder's −DI. TA-Lib `MINUS_DI(high, low, close, timeperiod=14)`.
 * Lookback `timePeriod` (1 for timePeriod 1, where TA-Lib returns −DM1/TR1 without the ×100).
 * timePeriod: integer in [1, 100000].
 */
export function minusDi(
  high: Float64Array,
  low: Float64Array,
  close: Float64Array,
  timePeriod = 14,
): Float64Array {
  return directionalIndicator("minusDi", false, high, low, close, timePeriod);
}

// ---------------------------------------------------------------------------------------------
// Stochastics and Williams' %R
// ---------------------------------------------------------------------------------------------

/**
 * Raw %K over rows [from, n): writes k[from + fastK − 1 ..] = ((close − lowest) / (highest − lowest))·100,
 * 0 when the range is 0, with TA-Lib's incremental highest-high / lowest-low tracking (rescan only
 * when the extreme leaves the window). TA-Lib >= 0.7 divides by the range then multiplies by 100
 * (older releases divided by range/100; the results differ in the last bit).
 */
function fastKCore(
  high: Float64Array,
  low: Float64Array,
  close: Float64Array,
  from: number,
  fastK: number,
  k: Float64Array,
): void {
  const n = close.length;
  // [lowestIdx, highestIdx, lowest, highest]; index -1: no extreme yet (scan the window).
  const state = new Float64Array([-1, -1, 0, 0]);
  for (
    let today = from + fastK - 1, to = firstBlockEnd(from + fastK - 1, n);
    today < n;
    today = to, to = blockEnd(to, n)
  ) {
    fastKRows(high, low, close, today, to, fastK, k, state);
  }
}

/** fastKCore's loop over rows [from, to) (see CHUNK_ROWS); state: [lowestIdx, highestIdx, lowest, highest]. */
function fastKRows(
  high: Float64Array,
  low: Float64Array,
  close: Float64Array,
  from: number,
  to: number,
  fastK: number,
  k: Float64Array,
  state: Float64Array,
): void {
  let lowestIdx = state[0]! | 0;
  let highestIdx = state[1]! | 0;
  let lowest = state[2]!;
  let highest = state[3]!;
  for (let today = from; today < to; today++) {
    const trailing = today - fastK + 1;
    let tmp = low[today]!;
    if (lowestIdx < trailing) {
      lowestIdx = trailing;
      lowest = low[lowestIdx]!;
      let i = lowestIdx;
      while (++i <= today) {
        tmp = low[i]!;
        if (tmp < lowest) {
          lowestIdx = i;
          lowest = tmp;
        }
      }
    } else if (tmp <= lowest) {
      lowestIdx = today;
      lowest = tmp;
    }
    tmp = high[today]!;
    if (highestIdx < trailing) {
      highestIdx = trailing;
      highest = high[highestIdx]!;
      let i = highestIdx;
      while (++i <= today) {
        tmp = high[i]!;
        if (tmp > highest) {
          highestIdx = i;
          highest = tmp;
        }
      }
    } else if (tmp >= highest) {
      highestIdx = today;
      highest = tmp;
    }
    const range = highest - lowest;
    k[today] = range !== 0.0 ? ((close[today]! - lowest) / range) * 100.0 : 0.0;
  }
  state[0] = lowestIdx;
  state[1] = highestIdx;
  state[2] = lowest;
  state[3] = highest;
}

export interface StochOptions {
  /** Default 5. Integer in [1, 100000]. */
  fastKPeriod?: number;
  /** Default 3. Integer in [1, 100000]. */
  slowKPeriod?: number;
  /** Only MaType.SMA (0, the default) is implemented. */
  slowKMaType?: MaType;
  /** Default 3. Integer in [1, 100000]. */
  slowDPeriod?: number;
  /** Only MaType.SMA (0, the default) is implemented. */
  slowDMaType?: MaType;
}

export interface StochResult {
  slowK: Float64Array;
  slowD: Float64Array;
}

/**
 * STOCH, slow stochastic. TA-Lib
 * `STOCH(high, low, close, fastk_period=5, slowk_period=3, slowk_matype=0, slowd_period=3, slowd_matype=0)`.
 * fastK = 100·(close − lowestLow)/(highestHigh − lowestLow) (0 when the range is 0),
 * slowK = SMA(slowKPeriod) of fastK, slowD = SMA(slowDPeriod) of slowK.
 * Lookback `fastKPeriod − 1 + slowKPeriod − 1 + slowDPeriod − 1` for both outputs.
 */
export function stoch(
  high: Float64Array,
  low: Float64Array,
  close: Float64Array,
  options: StochOptions = {},
): StochResult {
  const fastK = checkPeriod("stoch", "fastKPeriod", options.fastKPeriod ?? 5, 1);
  const slowKP = checkPeriod("stoch", "slowKPeriod", options.slowKPeriod ?? 3, 1);
  checkMaType("stoch", "slowKMaType", options.slowKMaType ?? MaType.SMA);
  const slowDP = checkPeriod("stoch", "slowDPeriod", options.slowDPeriod ?? 3, 1);
  checkMaType("stoch", "slowDMaType", options.slowDMaType ?? MaType.SMA);
  const n = sameLength("stoch", ["high", "low", "close"], [high, low, close]);
  const b = firstValid3(high, low, close);
  const kStart = b + fastK - 1;
  const start = kStart + (slowKP - 1) + (slowDP - 1);
  const slowK = outputColumn(n, start);
  const slowD = outputColumn(n, start);
  if (start > n - 1) return { slowK, slowD };
  const k = new Float64Array(n);
  fastKCore(high, low, close, b, fastK, k);
  // slowK is written from its own first row, then its rows before `start` are set back to NaN.
  maSmaCore(k, kStart, n - 1, slowKP, slowK);
  maSmaCore(slowK, kStart + slowKP - 1, n - 1, slowDP, slowD);
  slowK.fill(Number.NaN, 0, start);
  return { slowK, slowD };
}

export interface StochfOptions {
  /** Default 5. Integer in [1, 100000]. */
  fastKPeriod?: number;
  /** Default 3. Integer in [1, 100000]. */
  fastDPeriod?: number;
  /** Only MaType.SMA (0, the default) is implemented. */
  fastDMaType?: MaType;
}

export interface StochfResult {
  fastK: Float64Array;
  fastD: Float64Array;
}

/**
 * STOCHF, fast stochastic. TA-Lib `STOCHF(high, low, close, fastk_period=5, fastd_period=3, fastd_matype=0)`.
 * fastD = SMA(fastDPeriod) of fastK. Lookback `fastKPeriod − 1 + fastDPeriod − 1` for both outputs
 * (fastK is NaN until fastD starts, as in TA-Lib).
 */
export function stochf(
  high: Float64Array,
  low: Float64Array,
  close: Float64Array,
  options: StochfOptions = {},
): StochfResult {
  const fastKP = checkPeriod("stochf", "fastKPeriod", options.fastKPeriod ?? 5, 1);
  const fastDP = checkPeriod("stochf", "fastDPeriod", options.fastDPeriod ?? 3, 1);
  checkMaType("stochf", "fastDMaType", options.fastDMaType ?? MaType.SMA);
  const n = sameLength("stochf", ["high", "low", "close"], [high, low, close]);
  const b = firstValid3(high, low, close);
  const kStart = b + fastKP - 1;
  const start = kStart + fastDP - 1;
  const fastK = outputColumn(n, start);
  const fastD = outputColumn(n, start);
  if (start > n - 1) return { fastK, fastD };
  // %K is written straight into fastK, then its rows before `start` are set back to NaN.
  fastKCore(high, low, close, b, fastKP, fastK);
  maSmaCore(fastK, kStart, n - 1, fastDP, fastD);
  fastK.fill(Number.NaN, 0, start);
  return { fastK, fastD };
}

/**
 * WILLR, Williams' %R. TA-Lib `WILLR(high, low, close, timeperiod=14)`.
 * ((highestHigh − close)/(highestHigh − lowestLow))·−100, 0 when the range is 0.
 * Lookback `timePeriod − 1`. timePeriod: integer in [2, 100000].
 */
export function willr(
  high: Float64Array,
  low: Float64Array,
  close: Float64Array,
  timePeriod = 14,
): Float64Array {
  checkPeriod("willr", "timePeriod", timePeriod, 2);
  const n = sameLength("willr", ["high", "low", "close"], [high, low, close]);
  const b = firstValid3(high, low, close);
  const out = outputColumn(n, b + timePeriod - 1);
  // [lowestIdx, highestIdx, lowest, highest]; index -1: no extreme yet (scan the window).
  const state = new Float64Array([-1, -1, 0, 0]);
  const first = b + timePeriod - 1;
  for (let from = first, to = firstBlockEnd(first, n); from < n; from = to, to = blockEnd(to, n)) {
    willrRows(high, low, close, from, to, timePeriod, out, state);
  }
  return out;
}

/** willr's loop over rows [from, to) (see CHUNK_ROWS); state: [lowestIdx, highestIdx, lowest, highest]. */
function willrRows(
  high: Float64Array,
  low: Float64Array,
  close: Float64Array,
  from: number,
  to: number,
  timePeriod: number,
  out: Float64Array,
  state: Float64Array,
): void {
  let lowestIdx = state[0]! | 0;
  let highestIdx = state[1]! | 0;
  let lowest = state[2]!;
  let highest = state[3]!;
  for (let today = from; today < to; today++) {
    const trailing = today - timePeriod + 1;
    let tmp = low[today]!;
    if (lowestIdx < trailing) {
      lowestIdx = trailing;
      lowest = low[lowestIdx]!;
      let i = lowestIdx;
      while (++i <= today) {
        tmp = low[i]!;
        if (tmp < lowest) {
          lowestIdx = i;
          lowest = tmp;
        }
      }
    } else if (tmp <= lowest) {
      lowestIdx = today;
      lowest = tmp;
    }
    tmp = high[today]!;
    if (highestIdx < trailing) {
      highestIdx = trailing;
      highest = high[highestIdx]!;
      let i = highestIdx;
      while (++i <= today) {
        tmp = high[i]!;
        if (tmp > highest) {
          highestIdx = i;
          highest = tmp;
        }
      }
    } else if (tmp >= highest) {
      highestIdx = today;
      highest = tmp;
    }
    const range = highest - lowest;
    out[today] = range !== 0.0 ? ((highest - close[today]!) / range) * -100.0 : 0.0;
  }
  state[0] = lowestIdx;
  state[1] = highestIdx;
  state[2] = lowest;
  state[3] = highest;
}

// ---------------------------------------------------------------------------------------------
// MFI, CCI, ROC, MOM
// ---------------------------------------------------------------------------------------------

/**
 * MFI, money flow index. TA-Lib `MFI(high, low, close, volume, timeperiod=14)`.
 * Typical price (h+l+c)/3 times volume, split into positive/negative flow by the typical price's
 * change (a change within 1e-14 of the prices' magnitude counts as none); MFI = 100·pos/(pos+neg)
 * over the last timePeriod bars, 0 when pos+neg < 1 (TA-Lib's threshold).
 * Lookback `timePeriod`. timePeriod: integer in [2, 100000].
 */
export function mfi(
  high: Float64Array,
  low: Float64Array,
  close: Float64Array,
  volume: Float64Array,
  timePeriod = 14,
): Float64Array {
  checkPeriod("mfi", "timePeriod", timePeriod, 2);
  const n = sameLength("mfi", ["high", "low", "close", "volume"], [high, low, close, volume]);
  const b = firstValid4(high, low, close, volume);
  const start = b + timePeriod;
  const out = outputColumn(n, start);
  if (start > n - 1) return out;
  const pos = new Float64Array(timePeriod);
  const neg = new Float64Array(timePeriod);
  let idx = 0;
  let today = b;
  let prevValue = (high[today]! + low[today]! + close[today]!) / 3.0;
  let posSum = 0;
  let negSum = 0;
  today++;
  for (let i = timePeriod; i > 0; i--) {
    const tp = (high[today]! + low[today]! + close[today]!) / 3.0;
    const d = tpChange(tp, prevValue);
    prevValue = tp;
    const flow = tp * volume[today++]!;
    if (d < 0) {
      neg[idx] = flow;
      negSum += flow;
      pos[idx] = 0.0;
    } else if (d === 0) {
      pos[idx] = 0.0;
      neg[idx] = 0.0;
    } else {
      // d > 0, or NaN: a NaN flow enters the sums, and MFI stays NaN from there (TA-Lib >= 0.7).
      pos[idx] = flow;
      posSum += flow;
      neg[idx] = 0.0;
    }
    if (++idx === timePeriod) idx = 0;
  }
  const s = posSum + negSum;
  out[start] = s < 1.0 ? 0.0 : 100.0 * (posSum / s);
  const state = new Float64Array([posSum, negSum, idx]);
  for (let from = today, to = firstBlockEnd(today, n); from < n; from = to, to = blockEnd(to, n)) {
    mfiRows(high, low, close, volume, from, to, timePeriod, pos, neg, out, state);
  }
  return out;
}

/**
 * mfi's loop over rows [from, to) (see CHUNK_ROWS); state: [positive flow sum, negative flow sum,
 * ring index]; `pos` / `neg` are the rings of the last timePeriod flows.
 */
function mfiRows(
  high: Float64Array,
  low: Float64Array,
  close: Float64Array,
  volume: Float64Array,
  from: number,
  to: number,
  timePeriod: number,
  pos: Float64Array,
  neg: Float64Array,
  out: Float64Array,
  state: Float64Array,
): void {
  let posSum = state[0]!;
  let negSum = state[1]!;
  let idx = state[2]! | 0;
  let prevValue = (high[from - 1]! + low[from - 1]! + close[from - 1]!) / 3.0;
  for (let today = from; today < to; today++) {
    // Running sums: the flow leaving the window is subtracted, and a sum that rounding took
    // below zero is reset to 0 (TA-Lib >= 0.7).
    posSum -= pos[idx]!;
    negSum -= neg[idx]!;
    if (posSum < 0) posSum = 0.0;
    if (negSum < 0) negSum = 0.0;
    const tp = (high[today]! + low[today]! + close[today]!) / 3.0;
    const d = tpChange(tp, prevValue);
    prevValue = tp;
    const flow = tp * volume[today]!;
    if (d < 0) {
      neg[idx] = flow;
      negSum += flow;
      pos[idx] = 0.0;
    } else if (d === 0) {
      pos[idx] = 0.0;
      neg[idx] = 0.0;
    } else {
      // d > 0, or NaN: a NaN flow enters the sums, and MFI stays NaN from there (TA-Lib >= 0.7).
      pos[idx] = flow;
      posSum += flow;
      neg[idx] = 0.0;
    }
    const s = posSum + negSum;
    out[today] = s < 1.0 ? 0.0 : 100.0 * (posSum / s);
    if (++idx === timePeriod) idx = 0;
  }
  state[0] = posSum;
  state[1] = negSum;
  state[2] = idx;
}

/**
 * Change of the typical price, 0 when it is within TA_EPSILON of the two prices' magnitude
 * (TA-Lib >= 0.7's TA_IS_ZERO_SCALED: (h+l+c)/3 of equal candles can differ in the last bit).
 */
function tpChange(tp: number, prev: number): number {
  const d = tp - prev;
  return Math.abs(d) <= EPSILON * (Math.abs(tp) + Math.abs(prev)) ? 0.0 : d;
}

/**
 * CCI, commodity channel index. TA-Lib `CCI(high, low, close, timeperiod=14)`.
 * (tp − SMA(tp)) / (0.015 · mean absolute deviation of tp), tp = (h+l+c)/3; 0 when either the
 * numerator or the deviation is 0. The mean deviation is recomputed over the window for every
 * row, as TA-Lib does: O(n·timePeriod). Lookback `timePeriod − 1`. timePeriod: integer in [2, 100000].
 */
export function cci(
  high: Float64Array,
  low: Float64Array,
  close: Float64Array,
  timePeriod = 14,
): Float64Array {
  checkPeriod("cci", "timePeriod", timePeriod, 2);
  const n = sameLength("cci", ["high", "low", "close"], [high, low, close]);
  const b = firstValid3(high, low, close);
  const start = b + timePeriod - 1;
  const out = outputColumn(n, start);
  if (start > n - 1) return out;
  const circ = new Float64Array(timePeriod);
  let idx = 0;
  let today = b;
  while (today < start) {
    circ[idx] = (high[today]! + low[today]! + close[today]!) / 3;
    today++;
    if (++idx === timePeriod) idx = 0;
  }
  for (let from = today, to = firstBlockEnd(today, n); from < n; from = to, to = blockEnd(to, n)) {
    idx = cciRows(high, low, close, from, to, timePeriod, circ, idx, out);
  }
  return out;
}

/**
 * cci's loop over rows [from, to) (see CHUNK_ROWS): `circ` holds the window's typical prices,
 * `idx` the slot of the row `from`; returns the slot of the row `to`.
 */
function cciRows(
  high: Float64Array,
  low: Float64Array,
  close: Float64Array,
  from: number,
  to: number,
  timePeriod: number,
  circ: Float64Array,
  idx: number,
  out: Float64Array,
): number {
  for (let today = from; today < to; today++) {
    const last = (high[today]! + low[today]! + close[today]!) / 3;
    circ[idx] = last;
    let avg = 0;
    for (let j = 0; j < timePeriod; j++) avg += circ[j]!;
    avg /= timePeriod;
    let dev = 0;
    for (let j = 0; j < timePeriod; j++) dev += Math.abs(circ[j]! - avg);
    const num = last - avg;
    out[today] = num !== 0.0 && dev !== 0.0 ? num / (0.015 * (dev / timePeriod)) : 0.0;
    if (++idx === timePeriod) idx = 0;
  }
  return idx;
}

/**
 * ROC, rate of change in percent: ((x / x[−timePeriod]) − 1)·100, 0 when x[−timePeriod] is 0.
 * TA-Lib `ROC(real, timeperiod=10)`. Lookback `timePeriod`. timePeriod: integer in [1, 100000].
 */
export function roc(real: Float64Array, timePeriod = 10): Float64Array {
  checkPeriod("roc", "timePeriod", timePeriod, 1);
  const n = real.length;
  const b = firstValid1(real);
  const out = outputColumn(n, b + timePeriod);
  const first = b + timePeriod;
  for (let from = first, to = firstBlockEnd(first, n); from < n; from = to, to = blockEnd(to, n)) {
    rocRows(real, from, to, timePeriod, out);
  }
  return out;
}

/** roc over rows [from, to) (see CHUNK_ROWS). */
function rocRows(real: Float64Array, from: number, to: number, timePeriod: number, out: Float64Array): void {
  for (let i = from; i < to; i++) {
    const prev = real[i - timePeriod]!;
    out[i] = prev !== 0.0 ? (real[i]! / prev - 1.0) * 100.0 : 0.0;
  }
}

/**
 * MOM, momentum: x − x[−timePeriod]. TA-Lib `MOM(real, timeperiod=10)`.
 * Lookback `timePeriod`. timePeriod: integer in [1, 100000].
 */
export function mom(real: Float64Array, timePeriod = 10): Float64Array {
  checkPeriod("mom", "timePeriod", timePeriod, 1);
  const n = real.length;
  const b = firstValid1(real);
  const out = outputColumn(n, b + timePeriod);
  const first = b + timePeriod;
  for (let from = first, to = firstBlockEnd(first, n); from < n; from = to, to = blockEnd(to, n)) {
    momRows(real, from, to, timePeriod, out);
  }
  return out;
}

/** mom over rows [from, to) (see CHUNK_ROWS). */
function momRows(real: Float64Array, from: number, to: number, timePeriod: number, out: Float64Array): void {
  for (let i = from; i < to; i++) out[i] = real[i]! - real[i - timePeriod]!;
}
