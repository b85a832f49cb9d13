// The on-disk partition format ("TDC1"): a 64-byte header followed by the six candle columns as
// little-endian float64 arrays, column after column. Range reads copy column slices straight into
// the caller's typed arrays (no parsing), which is what makes reads run at memory speed.
//
//   offset size  field
//   0      4     magic "TDC1"
//   4      2     format version (1)
//   6      2     column count (6: timestamps, open, high, low, close, volume)
//   8      4     candle count (uint32)
//   12     4     CRC-32 of the payload (all columns, in order)
//   16     8     first open time (float64 ms)
//   24     8     last open time (float64 ms)
//   32     32    reserved (zero)
//   64     8*count per column
import { endianness } from "node:os";
import { crc32 } from "node:zlib";
import { CANDLE_COLUMNS, candleCount, type Candles } from "../../core/candles";

export const PARTITION_MAGIC = 0x31434454; // "TDC1" read as little-endian uint32
export const PARTITION_VERSION = 1;
export const PARTITION_HEADER_BYTES = 64;
export const COLUMN_COUNT = CANDLE_COLUMNS.length;
export const BYTES_PER_CANDLE = COLUMN_COUNT * 8;

if (endianness() !== "LE") {
  throw new Error(`the TDC1 partition format expects a little-endian host, got ${endianness()}`);
}

export interface PartitionHeader {
  count: number;
  crc32: number;
  firstMs: number;
  lastMs: number;
}

export function partitionFileBytes(count: number): number {
  return PARTITION_HEADER_BYTES + count * BYTES_PER_CANDLE;
}

function bytesOf(view: Float64Array): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

/** Header plus column views ready for a vectored write (no copy of the columns). */
export function encodePartition(candles: Candles): {
  chunks: Uint8Array[];
  header: PartitionHeader;
  bytes: number;
} {
  const count = candleCount(candles);
  const columns = CANDLE_COLUMNS.map((column) => bytesOf(candles[column]));
  let checksum = 0;
  for (const column of columns) checksum = crc32(column, checksum);
  const header: PartitionHeader = {
    count,
    crc32: checksum,
    firstMs: candles.timestamps[0] ?? 0,
    lastMs: candles.timestamps[count - 1] ?? 0,
  };
  const headerBytes = new Uint8Array(PARTITION_HEADER_BYTES);
  const view = new DataView(headerBytes.buffer);
  view.setUint32(0, PARTITION_MAGIC, true);
  view.setUint16(4, PARTITION_VERSION, true);
  view.setUint16(6, COLUMN_COUNT, true);
  view.setUint32(8, count, true);
  view.setUint32(12, checksum, true);
  view.setFloat64(16, header.firstMs, true);
  view.setFloat64(24, header.lastMs, true);
  return { chunks: [headerBytes, ...columns], header, bytes: partitionFileBytes(count) };
}

/** Parses and checks a header; returns a reason string when it is not a valid TDC1 header. */
export function decodePartitionHeader(bytes: Uint8Array): PartitionHeader | string {
  if (bytes.byteLength < PARTITION_HEADER_BYTES) {
    return `truncated header: expected ${PARTITION_HEADER_BYTES} bytes, got ${bytes.byteLength}`;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, PARTITION_HEADER_BYTES);
  const magic = view.getUint32(0, true);
  if (magic !== PARTITION_MAGIC)
    return `not a TDC1 partition: expected magic 0x${PARTITION_MAGIC.toString(16)}, got 0x${magic.toString(16)}`;
  const version = view.getUint16(4, true);
  if (version !== PARTITION_VERSION)
    return `unsupported partition version: expected ${PARTITION_VERSION}, got ${version}`;
  const columns = view.getUint16(6, true);
  if (columns !== COLUMN_COUNT) return `expected ${COLUMN_COUNT} columns, got ${columns}`;
  return {
    count: view.getUint32(8, true),
    crc32: view.getUint32(12, true),
    firstMs: view.getFloat64(16, true),
    lastMs: view.getFloat64(24, true),
  };
}

/** CRC-32 of a whole partition file's payload. */
export function payloadChecksum(file: Uint8Array): number {
  return crc32(file.subarray(PARTITION_HEADER_BYTES));
}

/** Byte offset of row `row` of column `columnIndex` in a partition of `count` candles. */
export function columnOffset(count: number, columnIndex: number, row: number): number {
  return PARTITION_HEADER_BYTES + (columnIndex * count + row) * 8;
}

const MONTHLY_BELOW_MS = 3_600_000;

/**
 * Partition period of a candle: one file per UTC month for timeframes under 1h (a 1m month is
 * 43 200 candles, 2 MB), one per UTC year for 1h and longer (8 760 candles of 1h).
 */
export function partitionPeriod(timestampMs: number, timeframeMs: number): string {
  const date = new Date(timestampMs);
  const year = date.getUTCFullYear().toString().padStart(4, "0");
  if (timeframeMs >= MONTHLY_BELOW_MS) return year;
  return `${year}-${(date.getUTCMonth() + 1).toString().padStart(2, "0")}`;
}

/** [start, end) of a period id produced by partitionPeriod. */
export function periodBounds(period: string): { startMs: number; endMs: number } {
  const [yearText, monthText] = period.split("-");
  const year = Number(yearText);
  if (monthText === undefined) return { startMs: Date.UTC(year, 0, 1), endMs: Date.UTC(year + 1, 0, 1) };
  const month = Number(monthText) - 1;
  return { startMs: Date.UTC(year, month, 1), endMs: Date.UTC(year, month + 1, 1) };
}
