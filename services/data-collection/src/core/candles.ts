import { invalidArgument } from "./errors";

/**
 * Candles in columnar form, directly usable by packages/engine: index i of every column is the
 * same candle; timestamps are candle open times in Unix epoch milliseconds (UTC), strictly
 * increasing once normalized.
 */
export interface Candles {
  timestamps: Float64Array;
  open: Float64Array;
  high: Float64Array;
  low: Float64Array;
  close: Float64Array;
  volume: Float64Array;
}

export const CANDLE_COLUMNS = ["timestamps", "open", "high", "low", "close", "volume"] as const;
export type CandleColumn = (typeof CANDLE_COLUMNS)[number];

/** A half-open range [startMs, endMs) of candle open times. */
export interface TimeRangeMs {
  startMs: number;
  endMs: number;
}

export function createCandles(length: number): Candles {
  return {
    timestamps: new Float64Array(length),
    open: new Float64Array(length),
    high: new Float64Array(length),
    low: new Float64Array(length),
    close: new Float64Array(length),
    volume: new Float64Array(length),
  };
}

export function emptyCandles(): Candles {
  return createCandles(0);
}

export function candleCount(candles: Candles): number {
  return candles.timestamps.length;
}

/** Views (no copy) of rows [start, end). */
export function sliceCandles(candles: Candles, start: number, end: number): Candles {
  return {
    timestamps: candles.timestamps.subarray(start, end),
    open: candles.open.subarray(start, end),
    high: candles.high.subarray(start, end),
    low: candles.low.subarray(start, end),
    close: candles.close.subarray(start, end),
    volume: candles.volume.subarray(start, end),
  };
}

/** Copies of rows [start, end), detached from the source buffers. */
export function copyCandles(candles: Candles, start = 0, end = candleCount(candles)): Candles {
  return {
    timestamps: candles.timestamps.slice(start, end),
    open: candles.open.slice(start, end),
    high: candles.high.slice(start, end),
    low: candles.low.slice(start, end),
    close: candles.close.slice(start, end),
    volume: candles.volume.slice(start, end),
  };
}

export function concatCandles(parts: readonly Candles[]): Candles {
  if (parts.length === 1 && parts[0] !== undefined) return parts[0];
  let total = 0;
  for (const part of parts) total += candleCount(part);
  const result = createCandles(total);
  let offset = 0;
  for (const part of parts) {
    for (const column of CANDLE_COLUMNS) result[column].set(part[column], offset);
    offset += candleCount(part);
  }
  return result;
}

/** First index whose timestamp is >= `timestampMs` (timestamps sorted ascending). */
export function lowerBound(timestamps: Float64Array, timestampMs: number): number {
  let low = 0;
  let high = timestamps.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((timestamps[middle] ?? 0) < timestampMs) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** Views of the candles whose open time lies in [startMs, endMs). */
export function candlesInRange(candles: Candles, startMs: number, endMs: number): Candles {
  return sliceCandles(
    candles,
    lowerBound(candles.timestamps, startMs),
    lowerBound(candles.timestamps, endMs),
  );
}

/** Row-oriented candles as exchanges and Freqtrade json return them: [ts, o, h, l, c, v]. */
export type CandleRow = readonly [number, number, number, number, number, number];

export function candlesFromRows(rows: readonly (readonly number[])[]): Candles {
  const result = createCandles(rows.length);
  for (let index = 0; index < rows.length; index++) {
    const row = rows[index] ?? [];
    result.timestamps[index] = row[0] ?? Number.NaN;
    result.open[index] = row[1] ?? Number.NaN;
    result.high[index] = row[2] ?? Number.NaN;
    result.low[index] = row[3] ?? Number.NaN;
    result.close[index] = row[4] ?? Number.NaN;
    result.volume[index] = row[5] ?? Number.NaN;
  }
  return result;
}

export function candlesToRows(candles: Candles): CandleRow[] {
  const rows: CandleRow[] = new Array<CandleRow>(candleCount(candles));
  for (let index = 0; index < rows.length; index++) {
    rows[index] = [
      candles.timestamps[index] ?? 0,
      candles.open[index] ?? 0,
      candles.high[index] ?? 0,
      candles.low[index] ?? 0,
      candles.close[index] ?? 0,
      candles.volume[index] ?? 0,
    ];
  }
  return rows;
}

/** True when timestamps are strictly increasing. */
export function isStrictlyIncreasing(timestamps: Float64Array): boolean {
  for (let index = 1; index < timestamps.length; index++) {
    if (!((timestamps[index] ?? 0) > (timestamps[index - 1] ?? 0))) return false;
  }
  return true;
}

/** Rejects NaN/infinite values and non-integer timestamps; `field` names the input in the error. */
export function validateCandleValues(candles: Candles, field = "candles"): void {
  const count = candleCount(candles);
  for (const column of CANDLE_COLUMNS) {
    if (candles[column].length !== count) {
      throw invalidArgument(
        field,
        `expected every column to hold ${count} values, got ${candles[column].length} in ${column}`,
      );
    }
  }
  // Tight per-column loops: this runs on every store write (10M candles in a few ms).
  const timestamps = candles.timestamps;
  for (let index = 0; index < count; index++) {
    const timestamp = timestamps[index] as number;
    if (!(Math.floor(timestamp) === timestamp && timestamp >= 0 && timestamp <= Number.MAX_SAFE_INTEGER)) {
      throw invalidArgument(
        `${field}[${index}].timestamp`,
        `expected an integer epoch-millisecond time, got ${timestamp}`,
      );
    }
  }
  for (const column of CANDLE_COLUMNS) {
    const values = candles[column];
    for (let index = 0; index < count; index++) {
      const value = values[index] as number;
      // value - value is NaN for NaN and for +-Infinity.
      if (value - value !== 0)
        throw invalidArgument(`${field}[${index}].${column}`, `expected a finite number, got ${value}`);
    }
  }
}

/**
 * How rows sharing one timestamp are combined:
 * - "last-wins": the later row replaces the earlier (store writes: newer download wins);
 * - "freqtrade": Freqtrade's clean_ohlcv_dataframe aggregation — open first, high max, low min,
 *   close last, volume max.
 */
export type DuplicatePolicy = "last-wins" | "freqtrade";

export interface NormalizedCandles {
  candles: Candles;
  /** Rows folded into another row with the same timestamp. */
  duplicatesMerged: number;
}

/** Sorts by timestamp (stable) and merges duplicate timestamps. Returns the input when already clean. */
export function normalizeCandles(candles: Candles, policy: DuplicatePolicy = "last-wins"): NormalizedCandles {
  if (isStrictlyIncreasing(candles.timestamps)) return { candles, duplicatesMerged: 0 };
  const count = candleCount(candles);
  const order = new Uint32Array(count);
  for (let index = 0; index < count; index++) order[index] = index;
  const timestamps = candles.timestamps;
  // Array.prototype.sort is stable, so rows with equal timestamps keep their input order.
  const sortedOrder = Array.from(order).sort(
    (left, right) => (timestamps[left] ?? 0) - (timestamps[right] ?? 0),
  );
  const result = createCandles(count);
  let written = 0;
  for (const source of sortedOrder) {
    const timestamp = timestamps[source] ?? 0;
    const previous = written - 1;
    if (written > 0 && result.timestamps[previous] === timestamp) {
      if (policy === "last-wins") {
        result.open[previous] = candles.open[source] ?? 0;
        result.high[previous] = candles.high[source] ?? 0;
        result.low[previous] = candles.low[source] ?? 0;
        result.close[previous] = candles.close[source] ?? 0;
        result.volume[previous] = candles.volume[source] ?? 0;
      } else {
        result.high[previous] = Math.max(result.high[previous] ?? 0, candles.high[source] ?? 0);
        result.low[previous] = Math.min(result.low[previous] ?? 0, candles.low[source] ?? 0);
        result.close[previous] = candles.close[source] ?? 0;
        result.volume[previous] = Math.max(result.volume[previous] ?? 0, candles.volume[source] ?? 0);
      }
      continue;
    }
    result.timestamps[written] = timestamp;
    result.open[written] = candles.open[source] ?? 0;
    result.high[written] = candles.high[source] ?? 0;
    result.low[written] = candles.low[source] ?? 0;
    result.close[written] = candles.close[source] ?? 0;
    result.volume[written] = candles.volume[source] ?? 0;
    written++;
  }
  return { candles: copyCandles(result, 0, written), duplicatesMerged: count - written };
}

/**
 * Merges two normalized (strictly increasing) series; on equal timestamps the row of `incoming`
 * wins. Linear time; copies runs of rows with TypedArray.set rather than row by row.
 */
export function mergeCandles(existing: Candles, incoming: Candles): Candles {
  const existingCount = candleCount(existing);
  const incomingCount = candleCount(incoming);
  if (existingCount === 0) return incoming;
  if (incomingCount === 0) return existing;
  const existingTimes = existing.timestamps;
  const incomingTimes = incoming.timestamps;
  // Fast path: disjoint and ordered.
  if ((existingTimes[existingCount - 1] as number) < (incomingTimes[0] as number))
    return concatCandles([existing, incoming]);
  if ((incomingTimes[incomingCount - 1] as number) < (existingTimes[0] as number))
    return concatCandles([incoming, existing]);
  // Plan runs: [source (0 existing, 1 incoming), from, to).
  const runs: number[] = [];
  let left = 0;
  let right = 0;
  let total = 0;
  while (left < existingCount || right < incomingCount) {
    if (
      right >= incomingCount ||
      (left < existingCount && (existingTimes[left] as number) < (incomingTimes[right] as number))
    ) {
      const from = left;
      const limit = right < incomingCount ? (incomingTimes[right] as number) : Number.POSITIVE_INFINITY;
      while (left < existingCount && (existingTimes[left] as number) < limit) left++;
      runs.push(0, from, left);
      total += left - from;
    } else {
      // Incoming rows up to the next existing row that is strictly earlier; an incoming row with
      // the same timestamp as an existing one replaces it.
      const from = right;
      while (right < incomingCount) {
        const time = incomingTimes[right] as number;
        if (left < existingCount) {
          const existingTime = existingTimes[left] as number;
          if (time > existingTime) break;
          if (time === existingTime) left++;
        }
        right++;
      }
      runs.push(1, from, right);
      total += right - from;
    }
  }
  const result = createCandles(total);
  for (const column of CANDLE_COLUMNS) {
    const target = result[column];
    const sources = [existing[column], incoming[column]] as const;
    let offset = 0;
    for (let index = 0; index < runs.length; index += 3) {
      const from = runs[index + 1] as number;
      const to = runs[index + 2] as number;
      target.set(sources[runs[index] as 0 | 1].subarray(from, to), offset);
      offset += to - from;
    }
  }
  return result;
}
