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
  /**
   * Overwrites the bytes of the series' latest partition (as disk corruption would); returns the
   * file as the store names it in errors.
   */
  corruptPartition(key: SeriesKey, mutate: (bytes: Uint8Array) => Uint8Array): Promise<string>;
  /** Replaces the series' manifest with these bytes. */
  corruptManifest(key: SeriesKey, bytes: Uint8Array): Promise<void>;
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
      expect(all.series.map((info) => `${info.key.symbol} ${info.count}`)).toEqual([
        "BTC/USDT 100",
        "ETH/USDT 50",
      ]);
      expect(all.corrupt).toEqual([]);
      expect((await subject.store.list({ symbol: "ETH/USDT" })).series.length).toBe(1);
      expect((await subject.store.list({ timeframe: "5m" })).series.length).toBe(0);
      await subject.store.delete(btc);
      expect(await subject.store.info(btc)).toBeUndefined();
      expect((await subject.store.list()).series.map((info) => info.key.symbol)).toEqual(["ETH/USDT"]);
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

    it("lists a series with a corrupt manifest as corrupt instead of leaving it out", async () => {
      await subject.store.write(btc, copyCandles(btcHourly, 0, 100));
      await subject.store.write(eth, copyCandles(btcHourly, 0, 50));
      await subject.corruptManifest(btc, new TextEncoder().encode("{not json"));
      const listed = await subject.reopen().list();
      expect(listed.series.map((info) => info.key.symbol)).toEqual(["ETH/USDT"]);
      expect(
        listed.corrupt.map((entry) => [entry.key.symbol, entry.file.endsWith("BTC%2FUSDT/1h/manifest.json")]),
      ).toEqual([["BTC/USDT", true]]);
      expect(listed.corrupt[0]?.message).toMatch(/corrupt manifest: expected JSON/);
    });

    it("records confirmed-empty ranges and tells exchange gaps from never-fetched holes", async () => {
      const t = Date.UTC(2024, 0, 1);
      const rows = [0, 1, 2, 6, 7].map((hour) => [t + hour * HOUR, 1, 2, 0.5, 1.5, 10]);
      await subject.store.write(btc, candlesFromRows(rows));
      const hole = { afterMs: t + 2 * HOUR, beforeMs: t + 6 * HOUR, missingCandles: 3 };
      expect((await subject.store.info(btc))?.gaps).toEqual([{ ...hole, kind: "unfetched" }]);
      // A sync found hours 3..5 empty at the exchange, and the hours before the first candle too.
      const before = { startMs: t - 5 * HOUR, endMs: t };
      const outage = { startMs: t + 3 * HOUR, endMs: t + 6 * HOUR };
      await subject.store.write(btc, candlesFromRows([]), { confirmedEmpty: [outage, before] });
      const reopened = subject.reopen();
      expect((await reopened.info(btc))?.gaps).toEqual([{ ...hole, kind: "exchange" }]);
      expect((await reopened.coverage(btc)).confirmedEmpty).toEqual([before, outage]);
      expect((await reopened.info(btc))?.count).toBe(5);
      // A range overwrite replaces what was known about its range.
      await reopened.write(btc, candlesFromRows(rows.slice(3)), {
        overwriteRange: { startMs: t + 3 * HOUR, endMs: t + 8 * HOUR },
      });
      expect((await subject.reopen().info(btc))?.gaps).toEqual([{ ...hole, kind: "unfetched" }]);
      expect((await subject.reopen().coverage(btc)).confirmedEmpty).toEqual([before]);
      // A series holding no candle keeps its confirmed-empty ranges too.
      await subject.store.write(eth, candlesFromRows([]), { confirmedEmpty: [before] });
      expect(await subject.reopen().coverage(eth)).toEqual({ info: undefined, confirmedEmpty: [before] });
    });

    it("repairs a corrupt partition with a range overwrite covering all its candles", async () => {
      const original = copyCandles(btcHourly, 0, 5000); // 2017-08-17 .. 2018-03-13: partitions 2017, 2018
      await subject.store.write(btc, original);
      await subject.corruptPartition(btc, (bytes) => {
        const copy = bytes.slice();
        copy[copy.length - 3] = (copy[copy.length - 3] ?? 0) ^ 0xff;
        return copy;
      });
      const store = subject.reopen();
      await expect(store.read(btc)).rejects.toMatchObject({ kind: "data-loss" });
      const year = { startMs: Date.UTC(2018, 0, 1), endMs: Date.UTC(2019, 0, 1) };
      const from = original.timestamps.indexOf(year.startMs);
      expect(from).toBeGreaterThan(0);
      await store.write(btc, copyCandles(original, from, 5000), { overwriteRange: year });
      expectSameCandles(await subject.reopen().read(btc), original);
    });

    it("refuses a partial overwrite of a corrupt partition, naming the period to refresh", async () => {
      const original = copyCandles(btcHourly, 0, 5000);
      await subject.store.write(btc, original);
      const file = await subject.corruptPartition(btc, (bytes) => bytes.slice(0, bytes.length - 100));
      const store = subject.reopen();
      const february = { startMs: Date.UTC(2018, 1, 1), endMs: Date.UTC(2018, 2, 1) };
      const from = original.timestamps.indexOf(february.startMs);
      const to = original.timestamps.indexOf(february.endMs);
      const error = await store
        .write(btc, copyCandles(original, from, to), { overwriteRange: february })
        .catch((caught: unknown) => caught);
      expect(error).toMatchObject({ kind: "data-loss", field: file });
      const message = (error as Error).message;
      expect(message).toContain(`${file}: cannot rewrite partition 2018`);
      expect(message).toContain("truncated or corrupt partition");
      expect(message).toContain(
        "outside the overwritten range [2018-02-01T00:00:00.000Z, 2018-03-01T00:00:00.000Z), which would be lost",
      );
      expect(message).toContain(
        "Refresh the whole partition period [2018-01-01T00:00:00.000Z, 2019-01-01T00:00:00.000Z)",
      );
      // Nothing was written: the intact 2017 partition still reads.
      const year2017 = await store.read(btc, { endMs: Date.UTC(2018, 0, 1) });
      expectSameCandles(
        year2017,
        copyCandles(original, 0, original.timestamps.indexOf(Date.UTC(2018, 0, 1))),
      );
    });
  });
}
