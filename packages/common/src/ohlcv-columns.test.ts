import { describe, expect, it } from "vitest";
import { decodeOhlcvColumns, encodeOhlcvColumns } from "./ohlcv-columns";

const columns = {
  timestamps: [1_735_689_600_000, 1_735_689_900_000, 1_735_690_200_000],
  open: Float64Array.from([93_576.0, 93_610.5, 0.1 + 0.2]),
  high: Float64Array.from([93_700.0, 93_650.25, Number.MAX_VALUE]),
  low: Float64Array.from([93_500.0, 93_400.75, Number.MIN_VALUE]),
  close: Float64Array.from([93_610.5, 93_420.0, -0]),
  volume: Float64Array.from([12.345, 0, 1e-12]),
};

describe("OHLCV F64LE columns", () => {
  it("lays out six little-endian double columns in the documented order", () => {
    const bytes = encodeOhlcvColumns(columns);
    expect(bytes.byteLength).toBe(3 * 6 * 8);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const at = (column: number, row: number) => view.getFloat64((column * 3 + row) * 8, true);
    expect([at(0, 0), at(0, 2)]).toEqual([1_735_689_600_000, 1_735_690_200_000]);
    expect(at(1, 2)).toBe(0.1 + 0.2);
    expect(at(2, 2)).toBe(Number.MAX_VALUE);
    expect(at(3, 2)).toBe(Number.MIN_VALUE);
    expect(Object.is(at(4, 2), -0)).toBe(true);
    expect(at(5, 0)).toBe(12.345);
  });

  it("decodes what it encodes bit for bit, from an unaligned buffer too", () => {
    const bytes = encodeOhlcvColumns(columns);
    const unaligned = new Uint8Array(bytes.byteLength + 3).subarray(3);
    unaligned.set(bytes);
    const decoded = decodeOhlcvColumns(unaligned, 3);
    expect(Array.from(decoded.timestamps)).toEqual(columns.timestamps);
    for (const name of ["open", "high", "low", "close", "volume"] as const)
      expect(Array.from(decoded[name])).toEqual(Array.from(columns[name]));
  });

  it("rejects bytes that do not hold count candles, and ragged columns", () => {
    const bytes = encodeOhlcvColumns(columns);
    expect(() => decodeOhlcvColumns(bytes, 4)).toThrow("expected 192 bytes for 4 candles, got 144");
    expect(() => decodeOhlcvColumns(bytes.subarray(0, 100), 3)).toThrow(
      "expected 144 bytes for 3 candles, got 100",
    );
    expect(() => encodeOhlcvColumns({ ...columns, volume: Float64Array.from([1]) })).toThrow(
      "ohlcv column volume: expected 3 values (as timestamps), got 1",
    );
  });
});
