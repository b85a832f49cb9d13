// Row selection for signal code: numpy's flatnonzero over a 0/1 column.

import { blockEnd, firstBlockEnd } from "./util.ts";

/**
 * The rows where `mask` is not 0, in increasing order (numpy's `flatnonzero`), e.g. the candles
 * where `crossedAbove(...)` fired: a strategy then visits only those rows instead of every candle.
 * The scans run in blocks of rows (see CHUNK_ROWS in util.ts).
 */
export function indicesWhere(mask: Uint8Array): Int32Array {
  const n = mask.length;
  let count = 0;
  for (let from = 0, to = firstBlockEnd(0, n); from < n; from = to, to = blockEnd(to, n)) {
    count += countNonZero(mask, from, to);
  }
  const rows = new Int32Array(count);
  let next = 0;
  for (let from = 0, to = firstBlockEnd(0, n); from < n; from = to, to = blockEnd(to, n)) {
    next = writeNonZero(mask, from, to, rows, next);
  }
  return rows;
}

function countNonZero(mask: Uint8Array, from: number, to: number): number {
  let count = 0;
  for (let index = from; index < to; index++) if (mask[index] !== 0) count++;
  return count;
}

function writeNonZero(mask: Uint8Array, from: number, to: number, rows: Int32Array, next: number): number {
  for (let index = from; index < to; index++) if (mask[index] !== 0) rows[next++] = index;
  return next;
}
