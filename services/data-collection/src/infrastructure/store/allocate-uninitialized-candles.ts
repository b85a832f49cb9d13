import type { Candles } from "../../core/candles";

function uninitializedColumn(count: number): Float64Array {
  const memory = Buffer.allocUnsafeSlow(count * 8);
  return new Float64Array(memory.buffer, memory.byteOffset, count);
}

/**
 * Result memory of a range read: six columns of `count` candles, each its own uninitialized
 * ArrayBuffer of exactly its size (Buffer.allocUnsafeSlow: no zero-fill pass over 48 B per candle,
 * not carved from Node's shared pool, so a caller can keep one column and drop the others). The
 * caller must overwrite every value before handing the columns out — the store's reads do, and
 * their tests check it with poisoned memory.
 *
 * One allocation for all six columns was measured too (bench/data README): no difference.
 */
export function allocateUninitializedCandles(count: number): Candles {
  return {
    timestamps: uninitializedColumn(count),
    open: uninitializedColumn(count),
    high: uninitializedColumn(count),
    low: uninitializedColumn(count),
    close: uninitializedColumn(count),
    volume: uninitializedColumn(count),
  };
}
