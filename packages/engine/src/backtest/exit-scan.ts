/**
 * The inner loop of the event-driven simulation: from a candle on, find the first candle where
 * anything can happen to an open trade (an exit signal, its stop reached or moved, its ROI target
 * reached). Every test here is conservative — a candle it skips is one where Freqtrade's exit
 * machinery (`should_exit`, `ft_stoploss_adjust`) would change nothing but the trade's min/max
 * rates — so the caller runs the exact exit logic only on the candles this returns.
 */

/** Per-trade constants and state of a scan; `maxRate`/`minRate` are updated over skipped candles. */
export interface ExitScan {
  readonly isShort: boolean;
  /** The current stop price. */
  stopLoss: number;
  /**
   * Largest factor a trailing stop can apply to the candle's best price (long: max of 1 − |x|, short:
   * min of 1 + |x|, over the stop ratios x the trailing rules may use) once that price is beyond
   * `trailThreshold`; 0 (long) / Infinity (short) when the stop cannot move.
   */
  readonly trailFactor: number;
  /** The factor below `trailThreshold` (0 / Infinity when only the offset lets the stop trail). */
  readonly baseTrailFactor: number;
  /** Best price from which the profit may reach the trailing offset (with a rounding margin). */
  readonly trailThreshold: number;
  /** Candle indexes where each ROI step starts applying (ascending). */
  readonly roiStarts: readonly number[];
  /**
   * Per ROI step, a price below (long) / above (short) which the step cannot be reached, with a
   * margin over Freqtrade's 8-decimal profit rounding.
   */
  readonly roiThresholds: readonly number[];
  /** Exit signal column of the trade's side (signal of candle i at i − 1), or null when unused. */
  readonly exitSignal: Uint8Array | null;
  maxRate: number;
  minRate: number;
}

/** Candle columns the scan reads. */
export interface ScanCandles {
  readonly high: Float64Array;
  readonly low: Float64Array;
}

/**
 * The first index in [from, end) where the trade needs the exact exit check, or `end` when none.
 * `scan.maxRate`/`scan.minRate` then include every candle before the returned index.
 */
export function nextExitCandidate(candles: ScanCandles, scan: ExitScan, from: number, end: number): number {
  const highs = candles.high;
  const lows = candles.low;
  const exits = scan.exitSignal;
  const stop = scan.stopLoss;
  const trail = scan.trailFactor;
  const baseTrail = scan.baseTrailFactor;
  const trailThreshold = scan.trailThreshold;
  const starts = scan.roiStarts;
  const thresholds = scan.roiThresholds;
  const steps = starts.length;
  let max = scan.maxRate;
  let min = scan.minRate;
  let step = -1;
  while (step + 1 < steps && (starts[step + 1] as number) <= from) step++;
  let index = from;
  if (!scan.isShort) {
    let threshold = step < 0 ? Number.POSITIVE_INFINITY : (thresholds[step] as number);
    for (;;) {
      const stepEnd = step + 1 < steps ? Math.min(starts[step + 1] as number, end) : end;
      for (; index < stepEnd; index++) {
        const high = highs[index] as number;
        const low = lows[index] as number;
        if (
          !(low > stop) ||
          !(high > 0) ||
          high > threshold ||
          high * (high > trailThreshold ? trail : baseTrail) > stop ||
          (exits !== null && exits[index - 1] === 1)
        ) {
          scan.maxRate = max;
          scan.minRate = min;
          return index;
        }
        if (high > max) max = high;
        if (low < min) min = low;
      }
      if (index >= end) break;
      step++;
      threshold = thresholds[step] as number;
    }
  } else {
    let threshold = step < 0 ? Number.NEGATIVE_INFINITY : (thresholds[step] as number);
    for (;;) {
      const stepEnd = step + 1 < steps ? Math.min(starts[step + 1] as number, end) : end;
      for (; index < stepEnd; index++) {
        const high = highs[index] as number;
        const low = lows[index] as number;
        if (
          !(high < stop) ||
          !(low > 0) ||
          !(high > 0) ||
          low < threshold ||
          low * (low < trailThreshold ? trail : baseTrail) < stop ||
          (exits !== null && exits[index - 1] === 1)
        ) {
          scan.maxRate = max;
          scan.minRate = min;
          return index;
        }
        if (high > max) max = high;
        if (low < min) min = low;
      }
      if (index >= end) break;
      step++;
      threshold = thresholds[step] as number;
    }
  }
  scan.maxRate = max;
  scan.minRate = min;
  return end;
}
