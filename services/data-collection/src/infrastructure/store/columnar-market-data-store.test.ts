import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CANDLE_COLUMNS, createCandles, type Candles } from "../../core/candles";
import { loadSharedCandles } from "../../../test/support/shared-data";
import { allocateUninitializedCandles } from "./allocate-uninitialized-candles";
import type { ColumnarMarketDataStore } from "./columnar-market-data-store";
import { createLocalMarketDataStore } from "./create-market-data-store";

const HOUR = 3_600_000;

describe("allocateUninitializedCandles", () => {
  it("gives each column its own buffer of exactly 8 bytes per candle", () => {
    for (const count of [0, 1, 1000, 200_000]) {
      const candles = allocateUninitializedCandles(count);
      const buffers = new Set(CANDLE_COLUMNS.map((column) => candles[column].buffer));
      expect(buffers.size).toBe(CANDLE_COLUMNS.length);
      for (const column of CANDLE_COLUMNS) {
        expect(candles[column].length).toBe(count);
        expect(candles[column].byteOffset).toBe(0);
        expect(candles[column].buffer.byteLength).toBe(count * 8);
      }
    }
  });
});

/** Rows of `source` with open time in [startMs, endMs), by a plain scan (not the store's search). */
function expectedRange(source: Candles, startMs: number, endMs: number): Candles {
  const rows: number[] = [];
  source.timestamps.forEach((timestamp, index) => {
    if (timestamp >= startMs && timestamp < endMs) rows.push(index);
  });
  const result = createCandles(rows.length);
  rows.forEach((row, index) => {
    for (const column of CANDLE_COLUMNS) result[column][index] = source[column][row] as number;
  });
  return result;
}

function bytesOf(column: Float64Array): Buffer {
  return Buffer.from(column.buffer, column.byteOffset, column.byteLength);
}

/** Uninitialized-looking memory: every byte 0xAB (a NaN pattern no candle value has). */
function poisoned(count: number): Candles {
  const candles = allocateUninitializedCandles(count);
  for (const column of CANDLE_COLUMNS) bytesOf(candles[column]).fill(0xab);
  return candles;
}

describe("range reads into uninitialized memory", () => {
  // Real BTC/USDT 1h candles: yearly partitions 2017..2026 with 28 exchange gaps (shared/data README).
  const source = loadSharedCandles("binance_BTC_USDT-1h.csv.gz");
  const key = { exchange: "binance", symbol: "BTC/USDT", timeframe: "1h" };
  let directory = "";
  let store: ColumnarMarketDataStore;

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), "tradai-memory-"));
    store = createLocalMarketDataStore({ directory, durable: false });
    await store.write(key, source);
  });
  afterAll(async () => rm(directory, { recursive: true, force: true }));

  function ranges(): [string, number, number][] {
    const times = source.timestamps;
    let gapIndex = -1;
    for (let index = 1; index < times.length && gapIndex < 0; index++) {
      if ((times[index] as number) - (times[index - 1] as number) > 2 * HOUR) gapIndex = index;
    }
    expect(gapIndex).toBeGreaterThan(0);
    const beforeGap = times[gapIndex - 1] as number;
    const afterGap = times[gapIndex] as number;
    const first = times[0] as number;
    const last = times[times.length - 1] as number;
    return [
      ["everything", first, last + HOUR],
      [
        "mid-2018 to mid-2024 (seven yearly partitions, both ends cut)",
        Date.UTC(2018, 6, 3, 7),
        Date.UTC(2024, 4, 9, 13),
      ],
      ["starting inside a gap", beforeGap + HOUR, afterGap + 500 * HOUR],
      ["ending inside a gap", beforeGap - 400 * HOUR, afterGap - HOUR],
      ["exactly the gap's edges", beforeGap, afterGap + HOUR],
      ["one year boundary", Date.UTC(2020, 11, 31, 22), Date.UTC(2021, 0, 1, 3)],
    ];
  }

  it("overwrites every byte of the result, on the first (verifying) read and on warm reads", async () => {
    const fresh = createLocalMarketDataStore({ directory });
    for (const round of ["first read (checksums verified)", "warm read"]) {
      for (const [name, startMs, endMs] of ranges()) {
        const expected = expectedRange(source, startMs, endMs);
        expect(expected.timestamps.length, name).toBeGreaterThan(0);
        for (const options of [{ allocate: poisoned }, {}]) {
          const read = await fresh.read(key, { startMs, endMs }, options);
          for (const column of CANDLE_COLUMNS) {
            expect(read[column].length, `${round}, ${name}, ${column}`).toBe(expected[column].length);
            expect(
              bytesOf(read[column]).equals(bytesOf(expected[column])),
              `${round}, ${name}, ${column}`,
            ).toBe(true);
          }
        }
      }
    }
  });

  it("returns empty columns for a range inside a gap", async () => {
    const times = source.timestamps;
    for (let index = 1; index < times.length; index++) {
      const previous = times[index - 1] as number;
      if ((times[index] as number) - previous > 2 * HOUR) {
        const read = await store.read(key, { startMs: previous + HOUR, endMs: previous + 2 * HOUR });
        expect(read.timestamps.length).toBe(0);
        return;
      }
    }
    throw new Error("expected a gap in the BTC/USDT 1h candles, found none");
  });
});

describe("range reads of a partition larger than one whole-file edge read", () => {
  // 200 000 1s candles in one monthly partition (9.6 MB): edge rows are read column by column.
  const key = { exchange: "binance", symbol: "BTC/USDT", timeframe: "1s" };
  const count = 200_000;
  const firstMs = Date.UTC(2025, 6, 1);
  const source = createCandles(count);
  for (let index = 0; index < count; index++) {
    // A 1000-candle gap after row 99 999.
    source.timestamps[index] = firstMs + (index < 100_000 ? index : index + 1000) * 1000;
    source.open[index] = 100 + index * 0.5;
    source.high[index] = 101 + index * 0.5;
    source.low[index] = 99 + index * 0.25;
    source.close[index] = 100 + ((index * 7919) % 1000) / 8;
    source.volume[index] = (index * 104_729) % 10_007;
  }
  let directory = "";

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), "tradai-memory-"));
    await createLocalMarketDataStore({ directory, durable: false }).write(key, source);
  });
  afterAll(async () => rm(directory, { recursive: true, force: true }));

  it("returns exactly the candles of the range, verifying first and reading rows afterwards", async () => {
    const store = createLocalMarketDataStore({ directory });
    const at = (row: number): number => source.timestamps[row] as number;
    const ranges: [string, number, number][] = [
      ["inside, both ends cut", at(12_345), at(150_000)],
      ["starting inside the gap", at(99_999) + 1000, at(100_500)],
      ["one candle", at(170_000), at(170_000) + 1000],
      ["to the end", at(54_321), at(count - 1) + 1000],
    ];
    for (const round of ["first read (checksums verified)", "warm read", "warm read again"]) {
      for (const [name, startMs, endMs] of ranges) {
        const expected = expectedRange(source, startMs, endMs);
        for (const options of [{ allocate: poisoned }, {}]) {
          const read = await store.read(key, { startMs, endMs }, options);
          for (const column of CANDLE_COLUMNS) {
            expect(
              bytesOf(read[column]).equals(bytesOf(expected[column])),
              `${round}, ${name}, ${column}`,
            ).toBe(true);
          }
        }
      }
    }
  });
  it("reports a partition truncated after verification as data loss on a later range read", async () => {
    const store = createLocalMarketDataStore({ directory });
    const range = { startMs: source.timestamps[1000] as number, endMs: Date.UTC(2025, 7, 1) };
    expect((await store.read(key, range)).timestamps.length).toBe(count - 1000);
    const seriesDirectory = join(directory, "binance", "BTC%2FUSDT", "1s");
    const file = (await readdir(seriesDirectory)).find((name) => name.endsWith(".tdc")) ?? "";
    const bytes = await readFile(join(seriesDirectory, file));
    await writeFile(join(seriesDirectory, file), bytes.subarray(0, bytes.length - 8));
    const error = await store.read(key, range).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ kind: "data-loss" });
    expect((error as Error).message).toContain(`${file}: truncated partition`);
  });
});
