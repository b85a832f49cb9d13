// Volatility indicators: TRANGE, ATR, NATR. Same conventions as overlap.ts.

import {
  TA_EPSILON,
  blockEnd,
  checkPeriod,
  firstBlockEnd,
  firstValid3,
  outputColumn,
  sameLength,
} from "./util.ts";

// Module-local copy of the constant read on every row (see momentum.ts).
const EPSILON = TA_EPSILON;

function trueRangeAt(high: Float64Array, low: Float64Array, close: Float64Array, i: number): number {
  const h = high[i]!;
  const l = low[i]!;
  const c = close[i - 1]!;
  let greatest = h - l;
  const v2 = Math.abs(c - h);
  if (v2 > greatest) greatest = v2;
  const v3 = Math.abs(c - l);
  if (v3 > greatest) greatest = v3;
  return greatest;
}

/**
 * TRANGE, true range: max(high − low, |prevClose − high|, |prevClose − low|).
 * TA-Lib `TRANGE(high, low, close)`. Lookback 1.
 */
export function trange(high: Float64Array, low: Float64Array, close: Float64Array): Float64Array {
  const n = sameLength("trange", ["high", "low", "close"], [high, low, close]);
  const b = firstValid3(high, low, close);
  const out = outputColumn(n, b + 1);
  for (let i = b + 1, to = firstBlockEnd(b + 1, n); i < n; i = to, to = blockEnd(to, n)) {
    trangeRows(high, low, close, i, to, out);
  }
  return out;
}

/** trange over rows [from, to) (see CHUNK_ROWS in util.ts). */
function trangeRows(
  high: Float64Array,
  low: Float64Array,
  close: Float64Array,
  from: number,
  to: number,
  out: Float64Array,
): void {
  for (let i = from; i < to; i++) out[i] = trueRangeAt(high, low, close, i);
}

/**
 * Wilder-smoothed true range written from row b + period: the first value is the mean of the
 * first `period` true ranges, then `atr = (atr·(period−1) + tr) / period`; NATR divides each value
 * by that row's close.
 */
function atrCore(
  high: Float64Array,
  low: Float64Array,
  close: Float64Array,
  b: number,
  period: number,
  out: Float64Array,
  normalize: boolean,
): void {
  const n = close.length;
  const start = b + period;
  if (start > n - 1) return;
  let sum = 0;
  for (let i = b + 1; i <= start; i++) sum += trueRangeAt(high, low, close, i);
  let prev = sum / period;
  out[start] = normalize ? natrValue(prev, close[start]!) : prev;
  for (let i = start + 1, to = firstBlockEnd(start + 1, n); i < n; i = to, to = blockEnd(to, n)) {
    prev = normalize
      ? natrRows(high, low, close, i, to, period, out, prev)
      : atrRows(high, low, close, i, to, period, out, prev);
  }
}

/** ATR's Wilder smoothing over rows [from, to) (see CHUNK_ROWS in util.ts); returns the last ATR. */
function atrRows(
  high: Float64Array,
  low: Float64Array,
  close: Float64Array,
  from: number,
  to: number,
  period: number,
  out: Float64Array,
  prev: number,
): number {
  const pm1 = period - 1;
  for (let i = from; i < to; i++) {
    prev *= pm1;
    prev += trueRangeAt(high, low, close, i);
    prev /= period;
    out[i] = prev;
  }
  return prev;
}

/** atrRows writing NATR (100·ATR/close) instead of ATR. */
function natrRows(
  high: Float64Array,
  low: Float64Array,
  close: Float64Array,
  from: number,
  to: number,
  period: number,
  out: Float64Array,
  prev: number,
): number {
  const pm1 = period - 1;
  for (let i = from; i < to; i++) {
    prev *= pm1;
    prev += trueRangeAt(high, low, close, i);
    prev /= period;
    out[i] = natrValue(prev, close[i]!);
  }
  return prev;
}

function natrValue(atrValue: number, c: number): number {
  // TA_IS_ZERO(c) as one comparison (NaN counts as zero, as in TA-Lib >= 0.7).
  return Math.abs(c) >= EPSILON ? (atrValue / c) * 100.0 : 0.0;
}

/**
 * ATR, Wilder's average true range. TA-Lib `ATR(high, low, close, timeperiod=14)`.
 * Lookback `timePeriod`; timePeriod 1 gives TRANGE. timePeriod: integer in [1, 100000].
 */
export function atr(
  high: Float64Array,
  low: Float64Array,
  close: Float64Array,
  timePeriod = 14,
): Float64Array {
  checkPeriod("atr", "timePeriod", timePeriod, 1);
  const n = sameLength("atr", ["high", "low", "close"], [high, low, close]);
  if (timePeriod === 1) return trange(high, low, close);
  const b = firstValid3(high, low, close);
  const out = outputColumn(n, b + timePeriod);
  atrCore(high, low, close, b, timePeriod, out, false);
  return out;
}

/**
 * NATR, normalized ATR: 100·ATR/close (0 where close is 0). TA-Lib `NATR(high, low, close, timeperiod=14)`.
 * Lookback `timePeriod`. timePeriod: integer in [1, 100000]; as in TA-Lib, timePeriod 1 returns the
 * plain TRANGE, not normalized.
 */
export function natr(
  high: Float64Array,
  low: Float64Array,
  close: Float64Array,
  timePeriod = 14,
): Float64Array {
  checkPeriod("natr", "timePeriod", timePeriod, 1);
  const n = sameLength("natr", ["high", "low", "close"], [high, low, close]);
  if (timePeriod === 1) return trange(high, low, close);
  const b = firstValid3(high, low, close);
  const out = outputColumn(n, b + timePeriod);
  atrCore(high, low, close, b, timePeriod, out, true);
  return out;
}
