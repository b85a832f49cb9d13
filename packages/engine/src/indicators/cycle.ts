// Cycle indicators: HT_SINE (Ehlers' Hilbert transform sine wave). Same conventions as overlap.ts.

import { firstValid1, outputColumn } from "./util.ts";

const A = 0.0962;
const B = 0.5769;

/** One of TA-Lib's Hilbert transforms (DO_HILBERT_ODD / DO_HILBERT_EVEN), with its odd/even state. */
class Hilbert {
  private readonly odd = new Float64Array(3);
  private readonly even = new Float64Array(3);
  private prevOdd = 0;
  private prevEven = 0;
  private prevInputOdd = 0;
  private prevInputEven = 0;

  even_(input: number, idx: number, adjustedPrevPeriod: number): number {
    const t = A * input;
    let v = 0 - this.even[idx]!;
    this.even[idx] = t;
    v += t;
    v -= this.prevEven;
    this.prevEven = B * this.prevInputEven;
    v += this.prevEven;
    this.prevInputEven = input;
    return v * adjustedPrevPeriod;
  }

  odd_(input: number, idx: number, adjustedPrevPeriod: number): number {
    const t = A * input;
    let v = 0 - this.odd[idx]!;
    this.odd[idx] = t;
    v += t;
    v -= this.prevOdd;
    this.prevOdd = B * this.prevInputOdd;
    v += this.prevOdd;
    this.prevInputOdd = input;
    return v * adjustedPrevPeriod;
  }
}

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

  let tempReal = Math.atan(1);
  const rad2Deg = 45.0 / tempReal;
  const deg2Rad = 1.0 / rad2Deg;
  const constDeg2RadBy360 = tempReal * 8.0;

  // Price smoother: 4-bar WMA, seeded like TA-Lib (3 values, then 34 rolling steps).
  let trailingWMAIdx = b;
  let today = b;
  tempReal = real[today++]!;
  let periodWMASub = tempReal;
  let periodWMASum = tempReal;
  tempReal = real[today++]!;
  periodWMASub += tempReal;
  periodWMASum += tempReal * 2.0;
  tempReal = real[today++]!;
  periodWMASub += tempReal;
  periodWMASum += tempReal * 3.0;
  let trailingWMAValue = 0.0;
  let smoothedValue = 0;
  for (let i = 34; i !== 0; i--) {
    tempReal = real[today++]!;
    periodWMASub += tempReal;
    periodWMASub -= trailingWMAValue;
    periodWMASum += tempReal * 4.0;
    trailingWMAValue = real[trailingWMAIdx++]!;
    smoothedValue = periodWMASum * 0.1;
    periodWMASum -= periodWMASub;
  }

  let hilbertIdx = 0;
  const detrenderH = new Hilbert();
  const q1H = new Hilbert();
  const jIH = new Hilbert();
  const jQH = new Hilbert();
  let period = 0.0;
  let prevQ2 = 0.0;
  let prevI2 = 0.0;
  let Re = 0.0;
  let Im = 0.0;
  let I1ForOddPrev2 = 0.0;
  let I1ForOddPrev3 = 0.0;
  let I1ForEvenPrev2 = 0.0;
  let I1ForEvenPrev3 = 0.0;
  let smoothPeriod = 0.0;
  const smoothPrice = new Float64Array(50);
  let smoothPriceIdx = 0;
  let DCPhase = 0.0;

  while (today < n) {
    const adjustedPrevPeriod = 0.075 * period + 0.54;
    const todayValue = real[today]!;
    periodWMASub += todayValue;
    periodWMASub -= trailingWMAValue;
    periodWMASum += todayValue * 4.0;
    trailingWMAValue = real[trailingWMAIdx++]!;
    smoothedValue = periodWMASum * 0.1;
    periodWMASum -= periodWMASub;
    smoothPrice[smoothPriceIdx] = smoothedValue;

    let Q2: number;
    let I2: number;
    if ((today - b) % 2 === 0) {
      const detrender = detrenderH.even_(smoothedValue, hilbertIdx, adjustedPrevPeriod);
      const Q1 = q1H.even_(detrender, hilbertIdx, adjustedPrevPeriod);
      const jI = jIH.even_(I1ForEvenPrev3, hilbertIdx, adjustedPrevPeriod);
      const jQ = jQH.even_(Q1, hilbertIdx, adjustedPrevPeriod);
      if (++hilbertIdx === 3) hilbertIdx = 0;
      Q2 = 0.2 * (Q1 + jI) + 0.8 * prevQ2;
      I2 = 0.2 * (I1ForEvenPrev3 - jQ) + 0.8 * prevI2;
      I1ForOddPrev3 = I1ForOddPrev2;
      I1ForOddPrev2 = detrender;
    } else {
      const detrender = detrenderH.odd_(smoothedValue, hilbertIdx, adjustedPrevPeriod);
      const Q1 = q1H.odd_(detrender, hilbertIdx, adjustedPrevPeriod);
      const jI = jIH.odd_(I1ForOddPrev3, hilbertIdx, adjustedPrevPeriod);
      const jQ = jQH.odd_(Q1, hilbertIdx, adjustedPrevPeriod);
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

    // Dominant cycle phase.
    const DCPeriod = smoothPeriod + 0.5;
    const DCPeriodInt = Math.trunc(DCPeriod);
    let realPart = 0.0;
    let imagPart = 0.0;
    let idx = smoothPriceIdx;
    if (DCPeriodInt > 0) {
      const sinT = SIN_TABLE[DCPeriodInt] ?? buildTables(DCPeriodInt, constDeg2RadBy360);
      const cosT = COS_TABLE[DCPeriodInt]!;
      for (let i = 0; i < DCPeriodInt; i++) {
        tempReal2 = smoothPrice[idx]!;
        realPart += sinT[i]! * tempReal2;
        imagPart += cosT[i]! * tempReal2;
        if (idx === 0) idx = 49;
        else idx--;
      }
    }
    tempReal = Math.abs(imagPart);
    if (tempReal > 0.0) {
      DCPhase = Math.atan(realPart / imagPart) * rad2Deg;
    } else if (tempReal <= 0.01) {
      if (realPart < 0.0) DCPhase -= 90.0;
      else if (realPart > 0.0) DCPhase += 90.0;
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
    if (++smoothPriceIdx > 49) smoothPriceIdx = 0;
    today++;
  }
  return { sine, leadSine };
}
