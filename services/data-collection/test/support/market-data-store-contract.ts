// One contract suite for every MarketDataStore implementation (CONVENTIONS.md "Tests").
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  CANDLE_COLUMNS,
  candleCount,
  candlesFromRows,
  copyCandles,
  sliceCandles,
  type Candles,
} from "../../src/core/candles";
import { DataCollectionError } from "../../src/core/errors";
import type { MarketDataStore } from "../../src/core/market-data-store";
import type { SeriesKey } from "../../src/core/series-key";
import { loadSharedCandles } from "./shared-data";

export interface StoreUnderTest {
  store: MarketDataStore;
  /** A second store instance over the same storage (another process's view). */
  reopen(): MarketDataStore;
  /** Overwrites the bytes of one partition of the series (as disk corruption would). */
  corruptPartition(key: SeriesKey, mutate: (bytes: Uint8Array) => Uint8Array): Promise<string>;
  cleanup(): Promise<void>;
}

const HOUR = 3_600_000;

function expectSameCandles(actual: Candles, expected: Candles): void {
  expect(candleCount(actual)).toBe(candleCount(expected));
  for (const column of CANDLE_COLUMNS)
    expect(Array.from(actual[column])).toEqual(Array.from(expected[column]));
}

export function describeMarketDataStoreContract(name: string, create: () => Promise<StoreUnderTest>): void {
  describe(`MarketDataStore contract: ${name}`, () => {
    let subject: StoreUnderTest;
    const btc: SeriesKey = { exchange: "binance", symbol: "BTC/USDT", timeframe: "1h" };
    const eth: SeriesKey = { exchange: "binance", symbol: "ETH/USDT", timeframe: "1h" };
    // Real BTC/USDT 1h candles, 2017-08-17 .. 2026-02-19, 74 464 rows, 28 gaps / 128 missing (shared/data README).
    const btcHourly = loadSharedCandles("binance_BTC_USDT-1h.csv.gz");

    beforeEach(async () => {
      subject = await create();
    });
    afterEach(async () => {
      await subject.cleanup();
    });

    it("returns nothing for a series never written", async () => {
      expect(candleCount(await subject.store.read(btc))).toBe(0);
      expect(await subject.store.info(btc)).toBeUndefined();
    });

    it("round-trips real candles exactly and reports the README's gaps", async () => {
      const result = await subject.store.write(btc, btcHourly);
      expect(result.count).toBe(74_464);
      expectSameCandles(await subject.reopen().read(btc), btcHourly);
      const info = await subject.reopen().info(btc);
      expect(info?.count).toBe(74_464);
      expect(info?.firstMs).toBe(Date.UTC(2017, 7, 17, 4));
      expect(info?.lastMs).toBe(Date.UTC(2026, 1, 19, 3));
      expect(info?.gaps.length).toBe(28);
      expect(info?.gaps.reduce((sum, gap) => sum + gap.missingCandles, 0)).toBe(128);
      expect(info?.sizeBytes).toBeGreaterThan(74_464 * 48);
    });

    it("reads a half-open range [start, end) across partitions", async () => {
      await subject.store.write(btc, btcHourly);
      const startMs = Date.UTC(2020, 11, 31, 20);
      const endMs = Date.UTC(2021, 0, 1, 5);
      const range = await subject.store.read(btc, { startMs, endMs });
      expect(Array.from(range.timestamps)).toEqual(
        Array.from({ length: 9 }, (_, index) => startMs + index * HOUR),
      );
      const sourceIndex = btcHourly.timestamps.indexOf(startMs);
      expectSameCandles(range, sliceCandles(btcHourly, sourceIndex, sourceIndex + 9));
    });

    it("sorts and deduplicates written candles, later rows winning", async () => {
      const t = Date.UTC(2024, 0, 1);
      const rows = [
        [t + 2 * HOUR, 3, 3, 3, 3, 3],
        [t, 1, 1, 1, 1, 1],
        [t + HOUR, 2, 2, 2, 2, 2],
        [t, 9, 9, 9, 9, 9],
      ];
      await subject.store.write(btc, candlesFromRows(rows));
      const stored = await subject.store.read(btc);
      expect(Array.from(stored.timestamps)).toEqual([t, t + HOUR, t + 2 * HOUR]);
      expect(Array.from(stored.close)).toEqual([9, 2, 3]);
    });

    it("upserts: appends later candles and replaces equal timestamps", async () => {
      const first = copyCandles(btcHourly, 0, 1000);
      await subject.store.write(btc, first);
      const second = copyCandles(btcHourly, 900, 2000);
      second.close[0] = 12345.5;
      const result = await subject.store.write(btc, second);
      expect(result.replaced).toBe(100);
      expect(result.count).toBe(2000);
      const stored = await subject.store.read(btc);
      expect(stored.close[900]).toBe(12345.5);
      expect(stored.close[899]).toBe(btcHourly.close[899]);
      expect(stored.close[1999]).toBe(btcHourly.close[1999]);
    });

    it("overwrites a range atomically, dropping candles absent from the new data", async () => {
      await subject.store.write(btc, copyCandles(btcHourly, 0, 3000));
      const startMs = btcHourly.timestamps[1000] ?? 0;
      const endMs = btcHourly.timestamps[2000] ?? 0;
      const replacement = copyCandles(btcHourly, 1000, 1500);
      await subject.store.write(btc, replacement, { overwriteRange: { startMs, endMs } });
      const stored = await subject.store.read(btc);
      expect(candleCount(stored)).toBe(2500);
      expect(stored.timestamps[1499]).toBe(btcHourly.timestamps[1499]);
      expect(stored.timestamps[1500]).toBe(endMs);
      const info = await subject.store.info(btc);
      expect(
        info?.gaps.some((gap) => gap.afterMs === btcHourly.timestamps[1499] && gap.beforeMs === endMs),
      ).toBe(true);
    });

    it("rejects non-finite values and off-grid timestamps naming the row", async () => {
      const bad = copyCandles(btcHourly, 0, 10);
      bad.high[3] = Number.NaN;
      await expect(subject.store.write(btc, bad)).rejects.toMatchObject({
        kind: "invalid-argument",
        field: "candles[3].high",
      });
      const offGrid = copyCandles(btcHourly, 0, 10);
      offGrid.timestamps[9] = (offGrid.timestamps[9] ?? 0) + 1;
      await expect(subject.store.write(btc, offGrid)).rejects.toMatchObject({
        kind: "invalid-argument",
        field: "candles[9].timestamp",
      });
      expect(await subject.store.info(btc)).toBeUndefined();
    });

    it("serializes concurrent writers of one series without losing candles", async () => {
      await Promise.all(
        Array.from({ length: 6 }, (_, index) =>
          subject.store.write(btc, copyCandles(btcHourly, index * 500, index * 500 + 600)),
        ),
      );
      expectSameCandles(await subject.store.read(btc), copyCandles(btcHourly, 0, 3100));
    });

    it("lists series with filters and deletes one", async () => {
      await subject.store.write(btc, copyCandles(btcHourly, 0, 100));
      await subject.store.write(eth, copyCandles(btcHourly, 0, 50));
      const all = await subject.reopen().list();
      expect(all.map((info) => `${info.key.symbol} ${info.count}`)).toEqual(["BTC/USDT 100", "ETH/USDT 50"]);
      expect((await subject.store.list({ symbol: "ETH/USDT" })).length).toBe(1);
      expect((await subject.store.list({ timeframe: "5m" })).length).toBe(0);
      await subject.store.delete(btc);
      expect(await subject.store.info(btc)).toBeUndefined();
      expect((await subject.store.list()).map((info) => info.key.symbol)).toEqual(["ETH/USDT"]);
    });

    it("reports a corrupt partition as data loss naming the file; other series stay readable", async () => {
      await subject.store.write(btc, copyCandles(btcHourly, 0, 5000));
      await subject.store.write(eth, copyCandles(btcHourly, 0, 5000));
      const file = await subject.corruptPartition(btc, (bytes) => {
        const copy = bytes.slice();
        copy[copy.length - 3] = (copy[copy.length - 3] ?? 0) ^ 0xff;
        return copy;
      });
      const fresh = subject.reopen();
      const error = await fresh.read(btc).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(DataCollectionError);
      expect(error).toMatchObject({ kind: "data-loss" });
      expect((error as Error).message).toContain(file);
      expect(candleCount(await fresh.read(eth))).toBe(5000);
    });

    it("reports a truncated partition as data loss", async () => {
      await subject.store.write(btc, copyCandles(btcHourly, 0, 5000));
      const file = await subject.corruptPartition(btc, (bytes) => bytes.slice(0, bytes.length - 100));
      const error = await subject
        .reopen()
        .read(btc)
        .catch((caught: unknown) => caught);
      expect(error).toMatchObject({ kind: "data-loss" });
      expect((error as Error).message).toContain(file);
      expect((error as Error).message).toMatch(/truncated/);
    });
  });
}
