// Momentum indicators: RSI, MACD, ADX, PLUS_DI, MINUS_DI, STOCH, STOCHF, MFI, CCI, ROC, MOM, WILLR.
// Same conventions as overlap.ts (TA-Lib operation order, leading NaNs skipped like TA-Lib's
// Python wrapper, unstable periods 0).

import { emaCore, maSmaCore, perToK } from "./overlap.ts";
import {
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

/** TA-Lib's TA_IS_ZERO written so that NaN counts as zero (what TA-Lib >= 0.7 returns for NaN). */
function notZero(v: number): boolean {
  return v >= TA_EPSILON || v <= -TA_EPSILON;
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
  let sum = prevGain + prevLoss;
  out[start] = notZero(sum) ? 100.0 * (prevGain / sum) : 0.0;
  const pm1 = timePeriod - 1;
  while (today < n) {
    const v = real[today]!;
    const d = v - prevValue;
    prevValue = v;
    prevLoss *= pm1;
    prevGain *= pm1;
    if (d < 0) prevLoss -= d;
    else prevGain += d;
    prevLoss /= timePeriod;
    prevGain /= timePeriod;
    sum = prevGain + prevLoss;
    out[today] = notZero(sum) ? 100.0 * (prevGain / sum) : 0.0;
    today++;
  }
  return out;
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
  const seedEnd = b + slow - 1;
  const slowEma = new Float64Array(n);
  const line = new Float64Array(n);
  emaCore(real, seedEnd, n - 1, slow, perToK(slow), slowEma);
  emaCore(real, seedEnd, n - 1, fast, perToK(fast), line);
  for (let i = seedEnd; i < n; i++) line[i] = line[i]! - slowEma[i]!;
  // Signal: EMA of the macd line starting at seedEnd (period 1 gives k = 1: a copy).
  emaCore(line, start, n - 1, signalPeriod, perToK(signalPeriod), signal);
  for (let i = start; i < n; i++) {
    const m = line[i]!;
    macdOut[i] = m;
    hist[i] = m - signal[i]!;
  }
  return { macd: macdOut, signal, hist };
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
  let prevADX = sumDX / p;
  out[today] = prevADX;
  while (today < n - 1) {
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
      if (notZero(s)) {
        const dx = 100.0 * (Math.abs(minusDI - plusDI) / s);
        prevADX = (prevADX * (p - 1) + dx) / p;
      }
    }
    out[today] = prevADX;
  }
  return out;
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
  while (today < n - 1) {
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
    out[today] = notZero(prevTR) ? 100.0 * (prevDM / prevTR) : 0.0;
  }
  return out;
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
  let trailing = from;
  let today = from + fastK - 1;
  let lowestIdx = -1;
  let highestIdx = -1;
  let lowest = 0;
  let highest = 0;
  while (today < n) {
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
    trailing++;
    today++;
  }
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
  const sk = new Float64Array(n);
  maSmaCore(k, kStart, n - 1, slowKP, sk);
  maSmaCore(sk, kStart + slowKP - 1, n - 1, slowDP, slowD);
  for (let i = start; i < n; i++) slowK[i] = sk[i]!;
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
  const k = new Float64Array(n);
  fastKCore(high, low, close, b, fastKP, k);
  maSmaCore(k, kStart, n - 1, fastDP, fastD);
  for (let i = start; i < n; i++) fastK[i] = k[i]!;
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
  let trailing = b;
  let today = b + timePeriod - 1;
  let lowestIdx = -1;
  let highestIdx = -1;
  let lowest = 0;
  let highest = 0;
  while (today < n) {
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
    trailing++;
    today++;
  }
  return out;
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
  let s = posSum + negSum;
  out[start] = s < 1.0 ? 0.0 : 100.0 * (posSum / s);
  while (today < n) {
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
    s = posSum + negSum;
    out[today] = s < 1.0 ? 0.0 : 100.0 * (posSum / s);
    if (++idx === timePeriod) idx = 0;
    today++;
  }
  return out;
}

/**
 * Change of the typical price, 0 when it is within TA_EPSILON of the two prices' magnitude
 * (TA-Lib >= 0.7's TA_IS_ZERO_SCALED: (h+l+c)/3 of equal candles can differ in the last bit).
 */
function tpChange(tp: number, prev: number): number {
  const d = tp - prev;
  return Math.abs(d) <= TA_EPSILON * (Math.abs(tp) + Math.abs(prev)) ? 0.0 : d;
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
  while (today < n) {
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
    today++;
  }
  return out;
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
  for (let i = b + timePeriod; i < n; i++) {
    const prev = real[i - timePeriod]!;
    out[i] = prev !== 0.0 ? (real[i]! / prev - 1.0) * 100.0 : 0.0;
  }
  return out;
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
  for (let i = b + timePeriod; i < n; i++) out[i] = real[i]! - real[i - timePeriod]!;
  return out;
}
