// Cycle indicators: HT_SINE (Ehlers' Hilbert transform sine wave). Same conventions as overlap.ts.

import { CHUNK_ROWS, blockEnd, firstBlockEnd, firstValid1, outputColumn } from "./util.ts";

/** Smoothed prices kept from one block of rows to the next: TA-Lib's 50-slot buffer. */
const HISTORY = 50;

const A = 0.0962;
const B = 0.5769;
// TA-Lib's angle constants, computed as HT_SINE computes them.
const RAD_2_DEG = 45.0 / Math.atan(1);
const DEG_2_RAD = 1.0 / RAD_2_DEG;
const DEG_2_RAD_BY_360 = Math.atan(1) * 8.0;

/*
 * sin/cos of i·360°/D for i < D, by D (the integer dominant cycle period, 0..50): TA-Lib evaluates
 * them for every bar; the values only depend on (i, D), so they are computed once, with the very
 * same expression, and looked up. Deterministic module-level cache.
 */
const SIN_TABLE: (Float64Array | undefined)[] = [];
const COS_TABLE: (Float64Array | undefined)[] = [];

function buildTables(d: number, constDeg2RadBy360: number): Float64Array {
  const sinT = new Float64Array(d);
  const cosT = new Float64Array(d);
  for (let i = 0; i < d; i++) {
    const angle = (i * constDeg2RadBy360) / d;
    sinT[i] = Math.sin(angle);
    cosT[i] = Math.cos(angle);
  }
  SIN_TABLE[d] = sinT;
  COS_TABLE[d] = cosT;
  return sinT;
}

/** Slots of htSine's state between two calls of htSineRows. */
const HT_STATE_SIZE = 32;

/**
 * HT_SINE's first pass over rows [from, to): the smoothed price, TA-Lib's four Hilbert transforms
 * and the smoothed period of each bar, operation by operation, written to `history` (at
 * HISTORY + k for bar from + k) and `periods` (at k). The state is carried in `state` (scalars, in
 * the order they are loaded below) and `ring` (the three-slot rings of the four transforms:
 * `ring[transform * 6 + (odd bar ? 3 : 0) + hilbertIdx]`). The dominant cycle phase of the same
 * bars is computed by htSineDftRows and htSinePhaseRows: split from this loop, whose bars depend on
 * each other through the period, the bars of those passes do not, so the processor overlaps them
 * (measured: HT_SINE ~20 % faster than one loop). htSine calls the three on blocks of rows (see
 * CHUNK_ROWS in util.ts); every bar's operations and their order are TA-Lib's.
 */
function htSineRows(
  real: Float64Array,
  from: number,
  to: number,
  b: number,
  state: Float64Array,
  ring: Float64Array,
  history: Float64Array,
  periods: Float64Array,
): void {
  const rad2Deg = RAD_2_DEG;
  let tempReal: number;
  let periodWMASub = state[0]!;
  let periodWMASum = state[1]!;
  let trailingWMAValue = state[2]!;
  let hilbertIdx = state[3]! | 0;
  let detPrevOdd = state[4]!;
  let detPrevEven = state[5]!;
  let detPrevInputOdd = state[6]!;
  let detPrevInputEven = state[7]!;
  let q1PrevOdd = state[8]!;
  let q1PrevEven = state[9]!;
  let q1PrevInputOdd = state[10]!;
  let q1PrevInputEven = state[11]!;
  let jIPrevOdd = state[12]!;
  let jIPrevEven = state[13]!;
  let jIPrevInputOdd = state[14]!;
  let jIPrevInputEven = state[15]!;
  let jQPrevOdd = state[16]!;
  let jQPrevEven = state[17]!;
  let jQPrevInputOdd = state[18]!;
  let jQPrevInputEven = state[19]!;
  let period = state[20]!;
  let prevQ2 = state[21]!;
  let prevI2 = state[22]!;
  let Re = state[23]!;
  let Im = state[24]!;
  let I1ForOddPrev2 = state[25]!;
  let I1ForOddPrev3 = state[26]!;
  let I1ForEvenPrev2 = state[27]!;
  let I1ForEvenPrev3 = state[28]!;
  let smoothPeriod = state[29]!;
  for (let today = from; today < to; today++) {
    const adjustedPrevPeriod = 0.075 * period + 0.54;
    const todayValue = real[today]!;
    periodWMASub += todayValue;
    periodWMASub -= trailingWMAValue;
    periodWMASum += todayValue * 4.0;
    trailingWMAValue = real[today - 3]!;
    const smoothedValue = periodWMASum * 0.1;
    periodWMASum -= periodWMASub;
    history[HISTORY + today - from] = smoothedValue;

    let Q2: number;
    let I2: number;
    let t: number;
    let v: number;
    if ((today - b) % 2 === 0) {
      // Even bar: DO_HILBERT_EVEN on each transform, then hilbertIdx advances.
      const r = hilbertIdx;
      t = A * smoothedValue;
      v = 0 - ring[r]!;
      ring[r] = t;
      v += t;
      v -= detPrevEven;
      detPrevEven = B * detPrevInputEven;
      v += detPrevEven;
      detPrevInputEven = smoothedValue;
      const detrender = v * adjustedPrevPeriod;

      t = A * detrender;
      v = 0 - ring[6 + r]!;
      ring[6 + r] = t;
      v += t;
      v -= q1PrevEven;
      q1PrevEven = B * q1PrevInputEven;
      v += q1PrevEven;
      q1PrevInputEven = detrender;
      const Q1 = v * adjustedPrevPeriod;

      t = A * I1ForEvenPrev3;
      v = 0 - ring[12 + r]!;
      ring[12 + r] = t;
      v += t;
      v -= jIPrevEven;
      jIPrevEven = B * jIPrevInputEven;
      v += jIPrevEven;
      jIPrevInputEven = I1ForEvenPrev3;
      const jI = v * adjustedPrevPeriod;

      t = A * Q1;
      v = 0 - ring[18 + r]!;
      ring[18 + r] = t;
      v += t;
      v -= jQPrevEven;
      jQPrevEven = B * jQPrevInputEven;
      v += jQPrevEven;
      jQPrevInputEven = Q1;
      const jQ = v * adjustedPrevPeriod;

      if (++hilbertIdx === 3) hilbertIdx = 0;
      Q2 = 0.2 * (Q1 + jI) + 0.8 * prevQ2;
      I2 = 0.2 * (I1ForEvenPrev3 - jQ) + 0.8 * prevI2;
      I1ForOddPrev3 = I1ForOddPrev2;
      I1ForOddPrev2 = detrender;
    } else {
      // Odd bar: DO_HILBERT_ODD on each transform.
      const r = hilbertIdx + 3;
      t = A * smoothedValue;
      v = 0 - ring[r]!;
      ring[r] = t;
      v += t;
      v -= detPrevOdd;
      detPrevOdd = B * detPrevInputOdd;
      v += detPrevOdd;
      detPrevInputOdd = smoothedValue;
      const detrender = v * adjustedPrevPeriod;

      t = A * detrender;
      v = 0 - ring[6 + r]!;
      ring[6 + r] = t;
      v += t;
      v -= q1PrevOdd;
      q1PrevOdd = B * q1PrevInputOdd;
      v += q1PrevOdd;
      q1PrevInputOdd = detrender;
      const Q1 = v * adjustedPrevPeriod;

      t = A * I1ForOddPrev3;
      v = 0 - ring[12 + r]!;
      ring[12 + r] = t;
      v += t;
      v -= jIPrevOdd;
      jIPrevOdd = B * jIPrevInputOdd;
      v += jIPrevOdd;
      jIPrevInputOdd = I1ForOddPrev3;
      const jI = v * adjustedPrevPeriod;

      t = A * Q1;
      v = 0 - ring[18 + r]!;
      ring[18 + r] = t;
      v += t;
      v -= jQPrevOdd;
      jQPrevOdd = B * jQPrevInputOdd;
      v += jQPrevOdd;
      jQPrevInputOdd = Q1;
      const jQ = v * adjustedPrevPeriod;

      Q2 = 0.2 * (Q1 + jI) + 0.8 * prevQ2;
      I2 = 0.2 * (I1ForOddPrev3 - jQ) + 0.8 * prevI2;
      I1ForEvenPrev3 = I1ForEvenPrev2;
      I1ForEvenPrev2 = detrender;
    }

    // Adjust the period for the next bar.
    Re = 0.2 * (I2 * prevI2 + Q2 * prevQ2) + 0.8 * Re;
    Im = 0.2 * (I2 * prevQ2 - Q2 * prevI2) + 0.8 * Im;
    prevQ2 = Q2;
    prevI2 = I2;
    tempReal = period;
    if (Im !== 0.0 && Re !== 0.0) period = 360.0 / (Math.atan(Im / Re) * rad2Deg);
    let tempReal2 = 1.5 * tempReal;
    if (period > tempReal2) period = tempReal2;
    tempReal2 = 0.67 * tempReal;
    if (period < tempReal2) period = tempReal2;
    if (period < 6) period = 6;
    else if (period > 50) period = 50;
    period = 0.2 * period + 0.8 * tempReal;
    smoothPeriod = 0.33 * period + 0.67 * smoothPeriod;

    periods[today - from] = smoothPeriod;
  }
  state[0] = periodWMASub;
  state[1] = periodWMASum;
  state[2] = trailingWMAValue;
  state[3] = hilbertIdx;
  state[4] = detPrevOdd;
  state[5] = detPrevEven;
  state[6] = detPrevInputOdd;
  state[7] = detPrevInputEven;
  state[8] = q1PrevOdd;
  state[9] = q1PrevEven;
  state[10] = q1PrevInputOdd;
  state[11] = q1PrevInputEven;
  state[12] = jIPrevOdd;
  state[13] = jIPrevEven;
  state[14] = jIPrevInputOdd;
  state[15] = jIPrevInputEven;
  state[16] = jQPrevOdd;
  state[17] = jQPrevEven;
  state[18] = jQPrevInputOdd;
  state[19] = jQPrevInputEven;
  state[20] = period;
  state[21] = prevQ2;
  state[22] = prevI2;
  state[23] = Re;
  state[24] = Im;
  state[25] = I1ForOddPrev2;
  state[26] = I1ForOddPrev3;
  state[27] = I1ForEvenPrev2;
  state[28] = I1ForEvenPrev3;
  state[29] = smoothPeriod;
}

/**
 * HT_SINE's second pass over the `count` bars of a block: the dominant cycle's real and imaginary
 * parts (TA-Lib's sums over the last DCPeriodInt smoothed prices, in its order) into
 * `parts[2k]` / `parts[2k + 1]`. `history[HISTORY + k]` is the smoothed price of bar k of the
 * block, preceded by the 50 before; `periods[k]` its smoothed period. The bars are independent of
 * each other here, so the processor overlaps their sums.
 */
function htSineDftRows(
  history: Float64Array,
  periods: Float64Array,
  count: number,
  parts: Float64Array,
): void {
  const constDeg2RadBy360 = DEG_2_RAD_BY_360;
  for (let k = 0; k < count; k++) {
    const smoothPeriod = periods[k]!;
    const top = HISTORY + k;
    let tempReal2: number;
    const DCPeriod = smoothPeriod + 0.5;
    const DCPeriodInt = Math.trunc(DCPeriod);
    let realPart = 0.0;
    let imagPart = 0.0;
    if (DCPeriodInt > 0) {
      const sinT = SIN_TABLE[DCPeriodInt] ?? buildTables(DCPeriodInt, constDeg2RadBy360);
      const cosT = COS_TABLE[DCPeriodInt]!;
      if (DCPeriodInt <= 50) {
        for (let i = 0; i < DCPeriodInt; i++) {
          tempReal2 = history[top - i]!;
          realPart += sinT[i]! * tempReal2;
          imagPart += cosT[i]! * tempReal2;
        }
      } else {
        // (TA-Lib's index wraps around its 50 slots.)
        for (let i = 0; i < DCPeriodInt; i++) {
          tempReal2 = history[top - (i % 50)]!;
          realPart += sinT[i]! * tempReal2;
          imagPart += cosT[i]! * tempReal2;
        }
      }
    }
    parts[2 * k] = realPart;
    parts[2 * k + 1] = imagPart;
  }
}

/**
 * HT_SINE's third pass over rows [from, to): the dominant cycle phase from the parts of
 * htSineDftRows and the two sines. `state[31]` carries the phase from bar to bar (TA-Lib moves the
 * previous bar's phase when imagPart is 0).
 */
function htSinePhaseRows(
  periods: Float64Array,
  parts: Float64Array,
  from: number,
  to: number,
  startIdx: number,
  state: Float64Array,
  sine: Float64Array,
  leadSine: Float64Array,
): void {
  const rad2Deg = RAD_2_DEG;
  const deg2Rad = DEG_2_RAD;
  let DCPhase = state[31]!;
  for (let today = from; today < to; today++) {
    const smoothPeriod = periods[today - from]!;
    const realPart = parts[2 * (today - from)]!;
    const imagPart = parts[2 * (today - from) + 1]!;
    const tempReal = Math.abs(imagPart);
    // TA-Lib: if |imagPart| > 0 the phase is atan(realPart / imagPart); else (imagPart = 0) it
    // moves 90° towards the sign of realPart. The comparisons and sums of the rare second case
    // are evaluated on every bar so that V8 has type feedback for them when it optimises this
    // function (an unseen operation would deoptimise it on the first bar of the next call).
    const imagIsZero = tempReal <= 0.01;
    const realBelow = realPart < 0.0;
    const realAbove = realPart > 0.0;
    const phaseDown = DCPhase - 90.0;
    const phaseUp = DCPhase + 90.0;
    if (tempReal > 0.0) {
      DCPhase = Math.atan(realPart / imagPart) * rad2Deg;
    } else if (imagIsZero) {
      if (realBelow) DCPhase = phaseDown;
      else if (realAbove) DCPhase = phaseUp;
    }
    DCPhase += 90.0;
    // Compensate for the one-bar lag of the weighted moving average.
    DCPhase += 360.0 / smoothPeriod;
    if (imagPart < 0.0) DCPhase += 180.0;
    if (DCPhase > 315.0) DCPhase -= 360.0;

    if (today >= startIdx) {
      sine[today] = Math.sin(DCPhase * deg2Rad);
      leadSine[today] = Math.sin((DCPhase + 45) * deg2Rad);
    }
  }
  state[31] = DCPhase;
}

export interface HtSineResult {
  sine: Float64Array;
  leadSine: Float64Array;
}

/**
 * HT_SINE, Hilbert transform sine wave. TA-Lib `HT_SINE(real)` (no parameters).
 * sine = sin(dominant cycle phase), leadSine = sin(phase + 45°). Lookback 63 (31 bars of price
 * smoothing compatible with TradeStation + 32 bars of warm-up).
 */
export function htSine(real: Float64Array): HtSineResult {
  const n = real.length;
  const b = firstValid1(real);
  const startIdx = b + 63;
  const sine = outputColumn(n, startIdx);
  const leadSine = outputColumn(n, startIdx);
  if (startIdx > n - 1) return { sine, leadSine };

  // Price smoother: 4-bar WMA, seeded like TA-Lib (3 values, then 34 rolling steps).
  let trailingWMAIdx = b;
  let today = b;
  let tempReal = real[today++]!;
  let periodWMASub = tempReal;
  let periodWMASum = tempReal;
  tempReal = real[today++]!;
  periodWMASub += tempReal;
  periodWMASum += tempReal * 2.0;
  tempReal = real[today++]!;
  periodWMASub += tempReal;
  periodWMASum += tempReal * 3.0;
  let trailingWMAValue = 0.0;
  for (let i = 34; i !== 0; i--) {
    tempReal = real[today++]!;
    periodWMASub += tempReal;
    periodWMASub -= trailingWMAValue;
    periodWMASum += tempReal * 4.0;
    trailingWMAValue = real[trailingWMAIdx++]!;
    periodWMASum -= periodWMASub; // (the smoothed value of these warm-up bars is not used)
  }

  // TA-Lib's four Hilbert transforms, the period and phase state: see htSineRows.
  const state = new Float64Array(HT_STATE_SIZE);
  state[0] = periodWMASub;
  state[1] = periodWMASum;
  state[2] = trailingWMAValue;
  const ring = new Float64Array(24);
  // 50 smoothed prices of the bars before the block, then the block's; the block's smoothed periods.
  const history = new Float64Array(HISTORY + CHUNK_ROWS);
  const periods = new Float64Array(CHUNK_ROWS);
  const parts = new Float64Array(2 * CHUNK_ROWS);
  for (let from = today, to = firstBlockEnd(today, n); from < n; from = to, to = blockEnd(to, n)) {
    htSineRows(real, from, to, b, state, ring, history, periods);
    htSineDftRows(history, periods, to - from, parts);
    htSinePhaseRows(periods, parts, from, to, startIdx, state, sine, leadSine);
    history.copyWithin(0, to - from, to - from + HISTORY);
  }
  return { sine, leadSine };
}
