// What of a requested range a series already covers: its stored candles plus the ranges a sync
// asked the exchange for and found empty (issue #4 audit: holes between stored ranges were taken
// for complete data; exchange gaps such as Binance's 2018-02-08 outage must not be refetched on
// every EnsureData).
import type { TimeRangeMs } from "./candles";
import type { CandleGap } from "./gaps";
import type { TimeframeGrid } from "./timeframe";

/** Sorted, non-overlapping ranges with touching neighbours joined; empty ranges dropped. */
export function mergeRanges(ranges: readonly TimeRangeMs[]): TimeRangeMs[] {
  const sorted = ranges
    .filter((range) => range.endMs > range.startMs)
    .map((range) => ({ startMs: range.startMs, endMs: range.endMs }))
    .sort((left, right) => left.startMs - right.startMs);
  const result: TimeRangeMs[] = [];
  for (const range of sorted) {
    const last = result[result.length - 1];
    if (last !== undefined && range.startMs <= last.endMs) last.endMs = Math.max(last.endMs, range.endMs);
    else result.push(range);
  }
  return result;
}

/** Parts of `range` outside every one of `covered` (which must be merged: sorted, disjoint). */
export function subtractRanges(range: TimeRangeMs, covered: readonly TimeRangeMs[]): TimeRangeMs[] {
  const result: TimeRangeMs[] = [];
  let cursor = range.startMs;
  for (const part of covered) {
    if (part.endMs <= cursor) continue;
    if (part.startMs >= range.endMs) break;
    if (part.startMs > cursor) result.push({ startMs: cursor, endMs: part.startMs });
    cursor = Math.max(cursor, part.endMs);
    if (cursor >= range.endMs) break;
  }
  if (cursor < range.endMs) result.push({ startMs: cursor, endMs: range.endMs });
  return result;
}

/** `ranges` with everything inside `window` removed (ranges crossing its edges are clipped). */
export function clipOutside(ranges: readonly TimeRangeMs[], window: TimeRangeMs): TimeRangeMs[] {
  return ranges.flatMap((range) => subtractRanges(range, [window]));
}

/** True when `range` lies inside one of `covered` (merged). */
export function isInside(range: TimeRangeMs, covered: readonly TimeRangeMs[]): boolean {
  let low = 0;
  let high = covered.length - 1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    const part = covered[middle] as TimeRangeMs;
    if (part.endMs <= range.startMs) low = middle + 1;
    else if (part.startMs > range.startMs) high = middle - 1;
    else return part.endMs >= range.endMs;
  }
  return false;
}

/** The candle slots a gap misses: [the candle after `afterMs`, `beforeMs`). */
export function gapSlots(gap: CandleGap, grid: TimeframeGrid): TimeRangeMs {
  return { startMs: grid.add(gap.afterMs, 1), endMs: gap.beforeMs };
}

/** What the store holds of a series, as far as coverage goes. */
export interface SeriesSpan {
  firstMs: number;
  lastMs: number;
  gaps: readonly CandleGap[];
}

/** Ranges of candle slots that hold a stored candle: [first, last] minus the gaps. */
export function storedRanges(span: SeriesSpan | undefined, grid: TimeframeGrid): TimeRangeMs[] {
  if (span === undefined) return [];
  const result: TimeRangeMs[] = [];
  let startMs = span.firstMs;
  const gaps = [...span.gaps].sort((left, right) => left.afterMs - right.afterMs);
  for (const gap of gaps) {
    const slots = gapSlots(gap, grid);
    if (slots.startMs > startMs) result.push({ startMs, endMs: slots.startMs });
    startMs = Math.max(startMs, slots.endMs);
  }
  const endMs = grid.add(span.lastMs, 1);
  if (endMs > startMs) result.push({ startMs, endMs });
  return result;
}

/**
 * Parts of `range` that neither hold a stored candle nor were confirmed empty by the exchange:
 * what a sync still has to fetch.
 */
export function missingRanges(
  span: SeriesSpan | undefined,
  confirmedEmpty: readonly TimeRangeMs[],
  range: TimeRangeMs,
  grid: TimeframeGrid,
): TimeRangeMs[] {
  if (!(range.endMs > range.startMs)) return [];
  return subtractRanges(range, mergeRanges([...storedRanges(span, grid), ...confirmedEmpty]));
}
