import { createCandles, type Candles } from "./candles";
import { fixedTimeframeGrid, type TimeframeGrid } from "./timeframe";

/** A hole in a series: candles missing strictly between two stored candles. */
export interface CandleGap {
  /** Open time of the last candle before the gap. */
  afterMs: number;
  /** Open time of the first candle after the gap. */
  beforeMs: number;
  /** Number of missing candles (grid steps between the two, minus one). */
  missingCandles: number;
}

function gridOf(grid: TimeframeGrid | number): TimeframeGrid {
  return typeof grid === "number" ? fixedTimeframeGrid(grid) : grid;
}

/** The gap between two candles, or undefined when `beforeMs` is the candle right after `afterMs`. */
export function gapBetween(
  afterMs: number,
  beforeMs: number,
  grid: TimeframeGrid | number,
): CandleGap | undefined {
  const resolved = gridOf(grid);
  if (beforeMs <= resolved.add(afterMs, 1)) return undefined;
  return { afterMs, beforeMs, missingCandles: resolved.stepsBetween(afterMs, beforeMs) - 1 };
}

/**
 * Gaps between consecutive candles that are not neighbours on the timeframe's grid (a number is
 * a fixed step in ms).
 */
export function detectGaps(timestamps: Float64Array, grid: TimeframeGrid | number): CandleGap[] {
  const resolved = gridOf(grid);
  const gaps: CandleGap[] = [];
  for (let index = 1; index < timestamps.length; index++) {
    const gap = gapBetween(timestamps[index - 1] as number, timestamps[index] as number, resolved);
    if (gap !== undefined) gaps.push(gap);
  }
  return gaps;
}

/** Total missing candles over a list of gaps. */
export function missingCandleCount(gaps: readonly CandleGap[]): number {
  let total = 0;
  for (const gap of gaps) total += gap.missingCandles;
  return total;
}

/**
 * Fills gaps the way Freqtrade's ohlcv_fill_up_missing_data does: every missing candle gets
 * open = high = low = close = the previous candle's close and volume 0. Input must be normalized
 * (strictly increasing, on the grid); returns the input when there is nothing to fill.
 */
export function fillGaps(
  candles: Candles,
  grid: TimeframeGrid | number,
): { candles: Candles; filled: number } {
  const resolved = gridOf(grid);
  const timestamps = candles.timestamps;
  const count = timestamps.length;
  if (count < 2) return { candles, filled: 0 };
  const span = resolved.stepsBetween(timestamps[0] as number, timestamps[count - 1] as number) + 1;
  if (span === count) return { candles, filled: 0 };
  const result = createCandles(span);
  let written = 0;
  for (let index = 0; index < count; index++) {
    const time = timestamps[index] as number;
    if (index > 0) {
      const previousClose = candles.close[index - 1] as number;
      let missing = resolved.add(result.timestamps[written - 1] as number, 1);
      while (missing < time && written < span) {
        result.timestamps[written] = missing;
        result.open[written] = previousClose;
        result.high[written] = previousClose;
        result.low[written] = previousClose;
        result.close[written] = previousClose;
        result.volume[written] = 0;
        written++;
        missing = resolved.add(missing, 1);
      }
    }
    result.timestamps[written] = time;
    result.open[written] = candles.open[index] as number;
    result.high[written] = candles.high[index] as number;
    result.low[written] = candles.low[index] as number;
    result.close[written] = candles.close[index] as number;
    result.volume[written] = candles.volume[index] as number;
    written++;
  }
  return { candles: result, filled: span - count };
}
