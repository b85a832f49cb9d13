// The Connect handlers in memory (createRouterTransport) over the real core, local store and
// ccxt → Binance simulator.
import { readFileSync } from "node:fs";
import { readdir, writeFile, readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Code, ConnectError, createClient, createRouterTransport, type Client } from "@connectrpc/connect";
import { timestampFromMs, timestampMs, type Timestamp } from "@bufbuild/protobuf/wkt";
import { violationsOf } from "@tradai/common";
import {
  DataCollectionService,
  DataFormat,
  FreshnessVerdict,
  GapKind,
  MarketType,
  OhlcvEncoding,
  SyncPhase,
  type OhlcvBatch,
  type SeriesKey,
} from "@tradai/proto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { candlesInRange } from "../src/core/candles";
import { createDataCollectionHandlers } from "../src/api/data-collection-handlers";
import { createDataCollectionService } from "../src/core/data-collection-service";
import { createDataFileCodec } from "../src/infrastructure/formats/data-file-codec";
import { createLocalMarketDataStore } from "../src/infrastructure/store/create-market-data-store";
import { createHarness, type Harness } from "./support/harness";
import { loadSharedCandles } from "./support/shared-data";

const fixture = (name: string): Uint8Array =>
  readFileSync(fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url)));

async function expectConnectError(promise: Promise<unknown>, code: Code, text: RegExp): Promise<void> {
  const error = await promise.catch((caught: unknown) => caught);
  expect(error).toBeInstanceOf(ConnectError);
  expect((error as ConnectError).code).toBe(code);
  expect((error as ConnectError).rawMessage).toMatch(text);
}

/** The ConnectError a call fails with (the test fails when it succeeds). */
async function connectErrorOf(promise: Promise<unknown>): Promise<ConnectError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ConnectError);
  return error as ConnectError;
}

describe("DataCollectionService handlers (in-memory Connect transport)", () => {
  let harness: Harness;
  let client: Client<typeof DataCollectionService>;
  const btc = { exchange: "binance", symbol: "BTC/USDT", timeframe: "1m" };

  beforeEach(async () => {
    harness = await createHarness({ nowMs: Date.UTC(2025, 7, 1) });
    const transport = createRouterTransport(({ service }) => {
      service(DataCollectionService, createDataCollectionHandlers({ service: harness.service }));
    });
    client = createClient(DataCollectionService, transport);
  });
  afterEach(async () => {
    await harness.close();
  });

  it("streams sync progress and reads the candles back in columnar batches", async () => {
    const startMs = Date.UTC(2025, 6, 1);
    const endMs = Date.UTC(2025, 6, 2);
    const events = [];
    for await (const event of client.syncOhlcv({
      exchange: "binance",
      symbols: ["BTC/USDT"],
      timeframe: "1m",
      range: { start: timestampFromMs(startMs), end: timestampFromMs(endMs) },
    })) {
      events.push(event);
    }
    expect(events[0]?.phase).toBe(SyncPhase.VALIDATING);
    expect(events[events.length - 1]).toMatchObject({
      phase: SyncPhase.DONE,
      candlesFetched: 1440n,
      percent: 100,
    });

    const batches = [];
    for await (const response of client.getOhlcv({
      series: btc,
      range: { start: timestampFromMs(startMs), end: timestampFromMs(endMs) },
      batchSize: 500,
    })) {
      batches.push(response.batch);
    }
    expect(batches.map((batch) => batch?.timestampsMs.length)).toEqual([500, 500, 440]);
    const expected = candlesInRange(loadSharedCandles("binance_BTC_USDT-1m.csv.gz"), startMs, endMs);
    expect(batches.flatMap((batch) => batch?.timestampsMs.map(Number) ?? [])).toEqual(
      Array.from(expected.timestamps),
    );
    expect(batches.flatMap((batch) => batch?.close ?? [])).toEqual(Array.from(expected.close));

    // The same range as raw little-endian columns: each value read back with a DataView.
    const raw: (OhlcvBatch | undefined)[] = [];
    for await (const response of client.getOhlcv({
      series: btc,
      range: { start: timestampFromMs(startMs), end: timestampFromMs(endMs) },
      batchSize: 1000,
      encoding: OhlcvEncoding.F64LE,
    })) {
      raw.push(response.batch);
    }
    expect(raw.map((batch) => [batch?.count, batch?.columnsF64le.byteLength, batch?.close.length])).toEqual([
      [1000, 1000 * 48, 0],
      [440, 440 * 48, 0],
    ]);
    const column = (name: number) =>
      raw.flatMap((batch) => {
        const bytes = batch?.columnsF64le ?? new Uint8Array();
        const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        const count = batch?.count ?? 0;
        return Array.from({ length: count }, (_, row) => view.getFloat64((name * count + row) * 8, true));
      });
    expect(column(0)).toEqual(Array.from(expected.timestamps));
    expect(column(1)).toEqual(Array.from(expected.open));
    expect(column(4)).toEqual(Array.from(expected.close));
    expect(column(5)).toEqual(Array.from(expected.volume));

    const metadata = await client.getDatasetMetadata({ exchange: "binance" });
    expect(
      metadata.series.map((series) => [
        series.series?.symbol,
        Number(series.count),
        timestampMs(series.firstCandle!),
        series.gaps.length,
      ]),
    ).toEqual([["BTC/USDT", 1440, startMs, 0]]);
    const freshness = await client.checkFreshness({ series: [btc] });
    expect(freshness.series[0]?.verdict).toBe(FreshnessVerdict.STALE);
  });

  it("EnsureData returns the stored series metadata", async () => {
    const response = await client.ensureData({
      exchange: "binance",
      symbols: ["ETH/USDT"],
      timeframe: "1m",
      range: { start: timestampFromMs(Date.UTC(2025, 6, 1)), end: timestampFromMs(Date.UTC(2025, 6, 1, 2)) },
      startupCandles: 30,
    });
    expect(response.candlesFetched).toBe(150n);
    expect(response.series[0]).toMatchObject({ count: 150n, series: { symbol: "ETH/USDT" } });
    expect(timestampMs(response.series[0]!.firstCandle!)).toBe(Date.UTC(2025, 5, 30, 23, 30));
  });

  it("lists markets with the proto's Market fields", async () => {
    const response = await client.listMarkets({ exchange: "binance", quote: "USDT" });
    expect(response.markets.find((market) => market.symbol === "ETH/USDT")).toMatchObject({
      type: MarketType.SPOT,
      pricePrecision: 0.01,
      amountPrecision: 0.0001,
      minCost: 5,
      takerFee: 0.001,
      contractSize: 1,
    });
  });

  it("imports Freqtrade's feather file and exports it as Freqtrade json", async () => {
    const series = { exchange: "binance", symbol: "BTC/USDT", timeframe: "1h" };
    const imported = await client.importData({
      series,
      format: DataFormat.FREQTRADE_FEATHER,
      content: fixture("BTC_USDT-1h.feather"),
    });
    expect(imported).toMatchObject({ candlesImported: 500n, duplicatesMerged: 0n, series: { count: 500n } });
    const exported = await client.exportData({ series, format: DataFormat.FREQTRADE_JSON });
    expect(exported.fileName).toBe("BTC_USDT-1h.json");
    expect(exported.candlesExported).toBe(500n);
    expect(JSON.parse(Buffer.from(exported.content).toString())).toEqual(
      JSON.parse(fixture("BTC_USDT-1h.json").toString()),
    );
  });

  it("merges duplicate rows the way Freqtrade's clean_ohlcv_dataframe does", async () => {
    const series = { exchange: "binance", symbol: "BTC/USDT", timeframe: "1h" };
    const imported = await client.importData({
      series,
      format: DataFormat.FREQTRADE_JSON,
      content: fixture("duplicates-1h.json"),
    });
    expect(imported).toMatchObject({ candlesImported: 10n, duplicatesMerged: 5n });
  });

  it("maps bad input to INVALID_ARGUMENT / NOT_FOUND naming the field", async () => {
    const series = { exchange: "binance", symbol: "BTC/USDT", timeframe: "1h" };
    await expectConnectError(
      client.importData({
        series,
        format: DataFormat.CSV,
        content: Buffer.from("timestamp,open,high,low,close\n1,2,3,4,5\n"),
      }),
      Code.InvalidArgument,
      /content: CSV line 1: .*missing column\(s\) volume/,
    );
    await expectConnectError(
      client.importData({ series, format: DataFormat.UNSPECIFIED, content: Buffer.from("x") }),
      Code.InvalidArgument,
      /^format: /,
    );
    const csvError = await client
      .importData({
        series,
        format: DataFormat.CSV,
        content: Buffer.from("timestamp,open,high,low,close,volume\n1,2,3,x,5,6\n"),
      })
      .catch((caught: unknown) => caught as ConnectError);
    expect(violationsOf(csvError as ConnectError)).toEqual([
      { field: "content", message: 'content: CSV line 2, column low: expected a number, got "x"' },
    ]);
    await expectConnectError(
      client.importData({
        series: { ...series, timeframe: "1x" },
        format: DataFormat.CSV,
        content: Buffer.from("x"),
      }),
      Code.InvalidArgument,
      /^series\.timeframe: expected a ccxt timeframe/,
    );
    await expectConnectError(
      (async () => {
        for await (const _ of client.getOhlcv({ series: { ...series, symbol: "ETH/USDT" } })) void _;
      })(),
      Code.NotFound,
      /^series: no candles stored for binance ETH\/USDT 1h/,
    );
    await expectConnectError(
      client.ensureData({ exchange: "binance", symbols: ["BTC/USDT"], timeframe: "1m" }),
      Code.InvalidArgument,
      /^range\.start: expected a start time/,
    );
    await expectConnectError(
      client.ensureData({
        exchange: "binance",
        symbols: ["NOPE/USDT"],
        timeframe: "1m",
        range: { start: timestampFromMs(Date.UTC(2025, 6, 1)) },
      }),
      Code.NotFound,
      /^symbol: expected a market listed by binance, got "NOPE\/USDT"/,
    );
    await expectConnectError(
      client.listMarkets({ exchange: "nosuchexchange" }),
      Code.NotFound,
      /^exchange: /,
    );
    // A CSV with only its header holds no candle: the file is wrong, not the series missing.
    const headerOnly = await connectErrorOf(
      client.importData({
        series,
        format: DataFormat.CSV,
        content: Buffer.from("timestamp,open,high,low,close,volume\n"),
      }),
    );
    expect(headerOnly.code).toBe(Code.InvalidArgument);
    expect(violationsOf(headerOnly)).toEqual([
      {
        field: "content",
        message:
          "content: expected at least one candle in the csv file, got none (a header or an empty list only)",
      },
    ]);
    await expectConnectError(
      client.checkFreshness({ series: [{ ...series, exchange: "kraken" }] }),
      Code.NotFound,
      /^exchange: .*"kraken"/,
    );
  });

  it("maps a corrupt partition to DATA_LOSS naming the file, other series still readable", async () => {
    const series = { exchange: "binance", symbol: "BTC/USDT", timeframe: "1h" };
    await client.importData({
      series,
      format: DataFormat.FREQTRADE_FEATHER,
      content: fixture("BTC_USDT-1h.feather"),
    });
    await client.importData({
      series: { ...series, symbol: "ETH/USDT" },
      format: DataFormat.FREQTRADE_JSON,
      content: fixture("BTC_USDT-1h.json"),
    });
    const directory = join(harness.directory, "binance", "BTC%2FUSDT", "1h");
    const partition = (await readdir(directory)).find((file) => file.endsWith(".tdc")) ?? "";
    const bytes = await readFile(join(directory, partition));
    bytes[200] = (bytes[200] ?? 0) ^ 0x55;
    await writeFile(join(directory, partition), bytes);
    // A fresh service instance (a restarted process) verifies checksums on first read.
    const restarted = createLocalMarketDataStore({ directory: harness.directory });
    const service = createDataCollectionService({
      store: restarted,
      exchanges: { get: () => harness.client },
      codec: createDataFileCodec(),
      clock: harness.clock,
    });
    const fresh = createClient(
      DataCollectionService,
      createRouterTransport(({ service: register }) =>
        register(DataCollectionService, createDataCollectionHandlers({ service })),
      ),
    );
    await expectConnectError(
      fresh.exportData({ series, format: DataFormat.CSV }),
      Code.DataLoss,
      new RegExp(`${partition.replace(/\./g, "\\.")}: corrupt partition: expected CRC-32`),
    );
    const error = await connectErrorOf(fresh.exportData({ series, format: DataFormat.CSV }));
    // The partition is named relative to the store: clients never see the server's paths.
    expect(error.rawMessage).toContain(`binance/BTC%2FUSDT/1h/${partition}`);
    expect(error.rawMessage).not.toContain(harness.directory);
    expect(violationsOf(error).map((violation) => violation.field)).toEqual([
      `binance/BTC%2FUSDT/1h/${partition}`,
    ]);
    expect(
      (await fresh.exportData({ series: { ...series, symbol: "ETH/USDT" }, format: DataFormat.CSV }))
        .candlesExported,
    ).toBe(500n);
  });

  it("lists the healthy series and reports one with a corrupt manifest apart; naming it is DATA_LOSS", async () => {
    const series = { exchange: "binance", symbol: "BTC/USDT", timeframe: "1h" };
    for (const symbol of ["BTC/USDT", "ETH/USDT", "SOL/USDT"]) {
      await client.importData({
        series: { ...series, symbol },
        format: DataFormat.FREQTRADE_JSON,
        content: fixture("BTC_USDT-1h.json"),
      });
    }
    await writeFile(join(harness.directory, "binance", "BTC%2FUSDT", "1h", "manifest.json"), "{not json");
    const manifest = "binance/BTC%2FUSDT/1h/manifest.json";
    const expectCorrupt = (entries: { series?: SeriesKey; file: string; reason: string }[]) => {
      expect(
        entries.map(({ series: key, file }) => [key?.exchange, key?.symbol, key?.timeframe, file]),
      ).toEqual([["binance", "BTC/USDT", "1h", manifest]]);
      const reason = entries[0]?.reason ?? "";
      expect(reason).toMatch(/^binance\/BTC%2FUSDT\/1h\/manifest\.json: corrupt manifest: expected JSON/);
      expect(reason).toContain(
        "To repair it, delete the series' files from the store (binance/BTC%2FUSDT/1h/: its manifest and " +
          "partitions), then sync or import the series again",
      );
      expect(reason).not.toContain(harness.directory);
    };

    // The unfiltered listing answers: the healthy series as usual, the corrupt one apart.
    const metadata = await client.getDatasetMetadata({});
    expect(metadata.series.map((entry) => [entry.series?.symbol, entry.count])).toEqual([
      ["ETH/USDT", 500n],
      ["SOL/USDT", 500n],
    ]);
    expectCorrupt(metadata.corruptSeries);
    const freshness = await client.checkFreshness({});
    expect(freshness.series.map((entry) => [entry.series?.symbol, entry.verdict])).toEqual([
      ["ETH/USDT", FreshnessVerdict.STALE],
      ["SOL/USDT", FreshnessVerdict.STALE],
    ]);
    expectCorrupt(freshness.corruptSeries);
    // A filter that matches it among others (or alone, but not by its full key) still lists.
    const bySymbol = await client.getDatasetMetadata({ symbol: "BTC/USDT" });
    expect(bySymbol.series).toEqual([]);
    expectCorrupt(bySymbol.corruptSeries);
    const eth = await client.getDatasetMetadata({ symbol: "ETH/USDT" });
    expect(eth.series.map((entry) => [entry.series?.symbol, entry.count])).toEqual([["ETH/USDT", 500n]]);
    expect(eth.corruptSeries).toEqual([]);

    // Asked for by its full key, the corrupt series is an error naming it and how to repair it.
    for (const call of [
      () => client.getDatasetMetadata(series),
      () => client.checkFreshness({ series: [{ ...series, symbol: "ETH/USDT" }, series] }),
    ]) {
      const error = await connectErrorOf(call());
      expect(error.code).toBe(Code.DataLoss);
      expect(error.rawMessage).toMatch(
        /^stored series binance BTC\/USDT 1h is corrupt: binance\/BTC%2FUSDT\/1h\/manifest\.json: corrupt manifest: expected JSON/,
      );
      expect(error.rawMessage).toContain("To repair it, delete the series' files from the store");
      expect(error.rawMessage).not.toContain(harness.directory);
      expect(violationsOf(error).map((violation) => violation.field)).toEqual([manifest]);
    }
    // A healthy series named alone is unaffected.
    const named = await client.checkFreshness({ series: [{ ...series, symbol: "SOL/USDT" }] });
    expect(named.series.map((entry) => entry.series?.symbol)).toEqual(["SOL/USDT"]);
    expect(named.corruptSeries).toEqual([]);
  });

  it("tells the exchange's own gaps from never-fetched ones (GapKind) in sync events and metadata", async () => {
    const series = { exchange: "binance", symbol: "BTC/USDT", timeframe: "1h" };
    const hour = 3_600_000;
    // February 2018 holds Binance's 2018-02-08 outage; March 5–10 is synced apart, so the days
    // between the two ranges were never fetched.
    const ranges = [
      [Date.UTC(2018, 1, 1), Date.UTC(2018, 2, 1)],
      [Date.UTC(2018, 2, 5), Date.UTC(2018, 2, 10)],
    ] as const;
    const doneGaps = [];
    for (const [startMs, endMs] of ranges) {
      for await (const event of client.syncOhlcv({
        exchange: "binance",
        symbols: ["BTC/USDT"],
        timeframe: "1h",
        range: { start: timestampFromMs(startMs), end: timestampFromMs(endMs) },
      })) {
        if (event.phase === SyncPhase.DONE) doneGaps.push(...event.gaps);
      }
    }
    // Expected straight from the source CSV: holes inside a synced range are the exchange's, the
    // hole joining the two ranges was never fetched.
    const source = loadSharedCandles("binance_BTC_USDT-1h.csv.gz");
    const timesOf = ([startMs, endMs]: readonly [number, number]) =>
      Array.from(candlesInRange(source, startMs, endMs).timestamps);
    const holes = (times: number[], kind: GapKind) =>
      times.slice(1).flatMap((time, index) => {
        const previous = times[index] ?? 0;
        return time - previous > hour
          ? [{ afterMs: previous, beforeMs: time, missing: (time - previous) / hour - 1, kind }]
          : [];
      });
    const [february, march] = [timesOf(ranges[0]), timesOf(ranges[1])];
    const exchangeGaps = [...holes(february, GapKind.EXCHANGE), ...holes(march, GapKind.EXCHANGE)];
    expect(exchangeGaps.some((gap) => new Date(gap.afterMs).toISOString().startsWith("2018-02-08"))).toBe(
      true,
    );
    const joining = holes([february[february.length - 1] ?? 0, march[0] ?? 0], GapKind.UNFETCHED);
    expect(joining).toHaveLength(1);
    const asPlain = (
      gaps: { after?: Timestamp; before?: Timestamp; missingCandles: bigint; kind: GapKind }[],
    ) =>
      gaps.map((gap) => ({
        afterMs: timestampMs(gap.after!),
        beforeMs: timestampMs(gap.before!),
        missing: Number(gap.missingCandles),
        kind: gap.kind,
      }));
    const byTime = (left: { afterMs: number }, right: { afterMs: number }) => left.afterMs - right.afterMs;

    // A finished sync reports the exchange's gaps in its range, every one of kind EXCHANGE.
    expect(asPlain(doneGaps)).toEqual(exchangeGaps);
    const metadata = await client.getDatasetMetadata(series);
    expect(metadata.corruptSeries).toEqual([]);
    expect(asPlain(metadata.series[0]?.gaps ?? []).sort(byTime)).toEqual(
      [...exchangeGaps, ...joining].sort(byTime),
    );
  });
});
