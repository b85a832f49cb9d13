// The OHLCV_ENCODING_F64LE layout of tradai.common.v1.OhlcvBatch.columns_f64le: six columns of
// `count` little-endian IEEE-754 doubles — timestamps (epoch ms), open, high, low, close, volume —
// concatenated. A column is one memory copy each way, where repeated fields cost an encode and a
// decode per value (and a BigInt per int64 timestamp).
import { endianness } from "node:os";

export const OHLCV_COLUMN_ORDER = ["timestamps", "open", "high", "low", "close", "volume"] as const;

export interface OhlcvColumnArrays {
  timestamps: ArrayLike<number> & { readonly length: number };
  open: Float64Array;
  high: Float64Array;
  low: Float64Array;
  close: Float64Array;
  volume: Float64Array;
}

export interface DecodedOhlcvColumns {
  timestamps: Float64Array;
  open: Float64Array;
  high: Float64Array;
  low: Float64Array;
  close: Float64Array;
  volume: Float64Array;
}

const LITTLE_ENDIAN = endianness() === "LE";

function asFloat64(values: ArrayLike<number>): Float64Array {
  return values instanceof Float64Array ? values : Float64Array.from(values);
}

/** Packs the six columns (each `count` long) into the F64LE byte layout. */
export function encodeOhlcvColumns(columns: OhlcvColumnArrays): Uint8Array {
  const count = columns.timestamps.length;
  const out = new Float64Array(count * OHLCV_COLUMN_ORDER.length);
  OHLCV_COLUMN_ORDER.forEach((name, index) => {
    const column = asFloat64(columns[name]);
    if (column.length !== count)
      throw new Error(`ohlcv column ${name}: expected ${count} values (as timestamps), got ${column.length}`);
    out.set(column, index * count);
  });
  const bytes = new Uint8Array(out.buffer);
  if (!LITTLE_ENDIAN) swapEvery8(bytes);
  return bytes;
}

/** Unpacks F64LE bytes holding `count` candles; rejects a length that does not match. */
export function decodeOhlcvColumns(bytes: Uint8Array, count: number): DecodedOhlcvColumns {
  const expected = count * 8 * OHLCV_COLUMN_ORDER.length;
  if (!Number.isInteger(count) || count < 0 || bytes.byteLength !== expected)
    throw new Error(
      `ohlcv columns_f64le: expected ${expected} bytes for ${count} candles, got ${bytes.byteLength}`,
    );
  // One aligned copy of the whole block (the message buffer gives no 8-byte alignment), then views.
  const block = new Float64Array(count * OHLCV_COLUMN_ORDER.length);
  const blockBytes = new Uint8Array(block.buffer);
  blockBytes.set(bytes);
  if (!LITTLE_ENDIAN) swapEvery8(blockBytes);
  const column = (index: number) => block.subarray(index * count, (index + 1) * count);
  return {
    timestamps: column(0),
    open: column(1),
    high: column(2),
    low: column(3),
    close: column(4),
    volume: column(5),
  };
}

function swapEvery8(bytes: Uint8Array): void {
  for (let offset = 0; offset + 8 <= bytes.length; offset += 8) bytes.subarray(offset, offset + 8).reverse();
}
