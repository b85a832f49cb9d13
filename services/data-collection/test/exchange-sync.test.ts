// Sync, EnsureData and markets through ccxt's own `binance` class talking HTTP to the local
// Binance simulator, which serves the real candles of shared/data/ohlcv.
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { CANDLE_COLUMNS, candleCount, candlesInRange, type Candles } from "../src/core/candles";
import type { SyncProgress } from "../src/core/ohlcv-synchronizer";
import { aggregateDaily } from "./support/binance-simulator";
import { createHarness, klineRequests, type Harness } from "./support/harness";
import { loadSharedCandles } from "./support/shared-data";

const MINUTE = 60_000;
const btc1m = { exchange: "binance", symbol: "BTC/USDT", timeframe: "1m" };
const source = (): Candles => loadSharedCandles("binance_BTC_USDT-1m.csv.gz");

function expectEqualCandles(actual: Candles, wanted: Candles): void {
  expect(candleCount(actual)).toBe(candleCount(wanted));
  for (const column of CANDLE_COLUMNS) expect(Array.from(actual[column])).toEqual(Array.from(wanted[column]));
}

function expectSource(actual: Candles, startMs: number, endMs: number): void {
  expectEqualCandles(actual, candlesInRange(source(), startMs, endMs));
}

/** Polls `condition` every 10 ms (up to 20 s). */
async function until(condition: () => boolean): Promise<void> {
  for (let waited = 0; !condition(); waited += 10) {
    if (waited > 20_000) throw new Error("condition not met within 20 s");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function collect(generator: AsyncGenerator<SyncProgress>): Promise<SyncProgress[]> {
  const events: SyncProgress[] = [];
  for await (const event of generator) events.push(event);
  return events;
}

describe("OHLCV sync through ccxt against the Binance simulator", () => {
  let harness: Harness | undefined;
  afterEach(async () => {
    await harness?.close();
    harness = undefined;
  });

  it("downloads a range in pages of 1000 and stores exactly the exchange's candles", async () => {
    harness = await createHarness({ nowMs: Date.UTC(2025, 7, 1) });
    const startMs = Date.UTC(2025, 6, 1);
    const endMs = Date.UTC(2025, 6, 3);
    const events = await collect(
      harness.service.syncOhlcv({
        exchange: "binance",
        symbols: ["BTC/USDT"],
        timeframe: "1m",
        startMs,
        endMs,
      }),
    );
    expectSource(await harness.store.read(btc1m), startMs, endMs);
    const pages = klineRequests(harness.simulator);
    expect(pages.map((request) => [Number(request.query.startTime), Number(request.query.limit)])).toEqual([
      [startMs, 1000],
      [startMs + 1000 * MINUTE, 1000],
      [startMs + 2000 * MINUTE, 880],
    ]);
    // Markets were loaded (validation) before the first download.
    expect(harness.simulator.requests[0]?.path).toBe("/api/v3/exchangeInfo");
    const percents = events.map((event) => event.percent);
    expect(percents).toEqual([...percents].sort((left, right) => left - right));
    const last = events[events.length - 1];
    expect(last).toMatchObject({
      phase: "done",
      candlesFetched: 2880,
      candlesExpected: 2880,
      percent: 100,
      etaSeconds: 0,
      gaps: [],
    });
    expect(
      events.some((event) => event.phase === "fetching" && event.percent > 0 && event.percent < 100),
    ).toBe(true);
  });

  it("reports the exchange's own gaps (Binance's 2018-02-08 outage in BTC/USDT 1h)", async () => {
    harness = await createHarness({ nowMs: Date.UTC(2025, 7, 1) });
    const startMs = Date.UTC(2018, 1, 1);
    const endMs = Date.UTC(2018, 2, 1);
    const events = await collect(
      harness.service.syncOhlcv({
        exchange: "binance",
        symbols: ["BTC/USDT"],
        timeframe: "1h",
        startMs,
        endMs,
      }),
    );
    // Expected straight from the source CSV: consecutive open times more than 1h apart.
    const times = Array.from(
      candlesInRange(loadSharedCandles("binance_BTC_USDT-1h.csv.gz"), startMs, endMs).timestamps,
    );
    const expected = times.slice(1).flatMap((time, index) => {
      const previous = times[index] ?? 0;
      return time - previous > 3_600_000
        ? [
            {
              afterMs: previous,
              beforeMs: time,
              missingCandles: (time - previous) / 3_600_000 - 1,
              // The sync asked for these candles and the exchange had none.
              kind: "exchange",
            },
          ]
        : [];
    });
    expect(expected.length).toBeGreaterThan(0);
    expect(expected.some((gap) => new Date(gap.afterMs).toISOString().startsWith("2018-02-08"))).toBe(true);
    expect(events[events.length - 1]?.gaps).toEqual(expected);
    expect((await harness.service.getMetadata({ symbol: "BTC/USDT" })).series[0]?.gaps).toEqual(expected);
    // EnsureData over the same month knows the outage is the exchange's: it downloads nothing.
    const requests = klineRequests(harness.simulator).length;
    const ensured = await harness.service.ensureData({
      exchange: "binance",
      symbols: ["BTC/USDT"],
      timeframe: "1h",
      startMs,
      endMs,
    });
    expect(ensured.candlesFetched).toBe(0);
    expect(klineRequests(harness.simulator).length).toBe(requests);
  });

  it("fills a hole left between two separately synced ranges (EnsureData, then sync)", async () => {
    harness = await createHarness({ nowMs: Date.UTC(2025, 7, 1) });
    const btc1h = { ...btc1m, timeframe: "1h" };
    const hourly = loadSharedCandles("binance_BTC_USDT-1h.csv.gz");
    const sync = (startMs: number, endMs: number) =>
      collect(
        harness!.service.syncOhlcv({
          exchange: "binance",
          symbols: ["BTC/USDT"],
          timeframe: "1h",
          startMs,
          endMs,
        }),
      );
    await sync(Date.UTC(2025, 5, 1), Date.UTC(2025, 6, 1));
    await sync(Date.UTC(2025, 0, 1), Date.UTC(2025, 1, 1));
    // February to May were never fetched: a hole, not an exchange gap.
    expect((await harness.store.info(btc1h))?.gaps).toEqual([
      {
        afterMs: Date.UTC(2025, 0, 31, 23),
        beforeMs: Date.UTC(2025, 5, 1),
        missingCandles: (Date.UTC(2025, 5, 1) - Date.UTC(2025, 1, 1)) / 3_600_000,
        kind: "unfetched",
      },
    ]);
    const before = klineRequests(harness.simulator).length;
    const march = { startMs: Date.UTC(2025, 2, 1), endMs: Date.UTC(2025, 3, 1) };
    const ensured = await harness.service.ensureData({
      exchange: "binance",
      symbols: ["BTC/USDT"],
      timeframe: "1h",
      ...march,
    });
    expect(ensured.candlesFetched).toBe(744);
    expect(
      klineRequests(harness.simulator)
        .slice(before)
        .map((request) => Number(request.query.startTime)),
    ).toEqual([march.startMs]);
    const stored = await harness.store.read(btc1h, march);
    expect(Array.from(stored.close)).toEqual(
      Array.from(candlesInRange(hourly, march.startMs, march.endMs).close),
    );
    // A sync over January..June fetches exactly the two holes left: February, April..May (two pages).
    const events = await sync(Date.UTC(2025, 0, 1), Date.UTC(2025, 6, 1));
    expect(
      klineRequests(harness.simulator)
        .slice(before + 1)
        .map((request) => new Date(Number(request.query.startTime)).toISOString()),
    ).toEqual(["2025-02-01T00:00:00.000Z", "2025-04-01T00:00:00.000Z", "2025-05-12T16:00:00.000Z"]);
    expect(events[events.length - 1]).toMatchObject({ phase: "done", candlesFetched: 672 + 1464, gaps: [] });
    const all = await harness.store.read(btc1h);
    const expected = candlesInRange(hourly, Date.UTC(2025, 0, 1), Date.UTC(2025, 6, 1));
    expect(Array.from(all.timestamps)).toEqual(Array.from(expected.timestamps));
    expect(Array.from(all.close)).toEqual(Array.from(expected.close));
    expect((await harness.store.info(btc1h))?.gaps).toEqual([]);
  });

  it("remembers ranges the exchange has no candles for (before listing, inside an outage)", async () => {
    harness = await createHarness({ nowMs: Date.UTC(2025, 7, 1) });
    const btc1h = { ...btc1m, timeframe: "1h" };
    // Starts before BTC/USDT was listed (2017-08-17 04:00) and ends inside the 2018-02-08 outage.
    const requests = [
      { startMs: Date.UTC(2017, 7, 1), endMs: Date.UTC(2017, 7, 20) },
      { startMs: Date.UTC(2018, 1, 8, 12), endMs: Date.UTC(2018, 1, 9) },
      { startMs: Date.UTC(2018, 1, 9), endMs: Date.UTC(2018, 1, 9, 8) },
    ];
    const ensure = (range: { startMs: number; endMs: number }) =>
      harness!.service.ensureData({ exchange: "binance", symbols: ["BTC/USDT"], timeframe: "1h", ...range });
    const first = await Promise.all(requests.map(async (range) => (await ensure(range)).candlesFetched));
    const hourly = loadSharedCandles("binance_BTC_USDT-1h.csv.gz");
    expect(first).toEqual(
      requests.map((range) => candleCount(candlesInRange(hourly, range.startMs, range.endMs))),
    );
    const { confirmedEmpty } = await harness.store.coverage(btc1h);
    expect(confirmedEmpty).toContainEqual({ startMs: Date.UTC(2017, 7, 1), endMs: Date.UTC(2017, 7, 17, 4) });
    const asked = klineRequests(harness.simulator).length;
    for (const range of requests) expect((await ensure(range)).candlesFetched).toBe(0);
    expect(klineRequests(harness.simulator).length).toBe(asked);
  });

  it.each(["1w", "1M"] as const)(
    "syncs %s candles on Binance's calendar grid (Monday / 1st of the month)",
    async (timeframe) => {
      harness = await createHarness({ nowMs: Date.UTC(2025, 7, 1) });
      const startMs = Date.UTC(2023, 11, 20);
      const endMs = Date.UTC(2025, 0, 1);
      const events = await collect(
        harness.service.syncOhlcv({ exchange: "binance", symbols: ["BTC/USDT"], timeframe, startMs, endMs }),
      );
      const key = { ...btc1m, timeframe };
      const stored = await harness.store.read(key);
      // The simulator's own aggregation of the real daily candles, through Binance's "%.8f" strings.
      const expected = candlesInRange(
        aggregateDaily(loadSharedCandles("binance_BTC_USDT-1d.csv.gz"), timeframe),
        startMs,
        endMs,
      );
      expect(Array.from(stored.timestamps)).toEqual(Array.from(expected.timestamps));
      for (const column of ["open", "high", "low", "close", "volume"] as const) {
        expect(Array.from(stored[column])).toEqual(
          Array.from(expected[column], (value) => Number(value.toFixed(8))),
        );
      }
      expect(stored.timestamps[0]).toBe(timeframe === "1w" ? Date.UTC(2023, 11, 25) : Date.UTC(2024, 0, 1));
      // Mondays 2023-12-25 .. 2024-12-30 (54), months 2024-01 .. 2024-12 (12).
      expect(stored.timestamps.length).toBe(timeframe === "1w" ? 54 : 12);
      expect(events[events.length - 1]).toMatchObject({ phase: "done", gaps: [] });
      expect((await harness.store.info(key))?.gaps).toEqual([]);
    },
  );

  it("full refresh re-downloads the range and replaces what was stored", async () => {
    harness = await createHarness({ nowMs: Date.UTC(2025, 7, 1) });
    const startMs = Date.UTC(2025, 6, 1);
    const endMs = Date.UTC(2025, 6, 1, 6);
    const request = { exchange: "binance", symbols: ["BTC/USDT"], timeframe: "1m", startMs, endMs };
    await collect(harness.service.syncOhlcv(request));
    // Damage the stored copy (wrong prices): an incremental sync sees nothing missing.
    const stored = await harness.store.read(btc1m);
    stored.close.fill(1);
    await harness.store.write(btc1m, stored);
    const before = klineRequests(harness.simulator).length;
    await collect(harness.service.syncOhlcv(request));
    expect(klineRequests(harness.simulator).length).toBe(before); // incremental: nothing missing
    await collect(harness.service.syncOhlcv({ ...request, fullRefresh: true }));
    expect(klineRequests(harness.simulator).length).toBe(before + 1);
    expectSource(await harness.store.read(btc1m), startMs, endMs);
  });

  it("never stores the still-open last candle", async () => {
    const now = Date.UTC(2025, 7, 1, 0, 0, 30);
    harness = await createHarness({ nowMs: now });
    await collect(
      harness.service.syncOhlcv({
        exchange: "binance",
        symbols: ["BTC/USDT"],
        timeframe: "1m",
        startMs: Date.UTC(2025, 6, 31, 23),
      }),
    );
    const info = await harness.store.info(btc1m);
    expect(info?.lastMs).toBe(Date.UTC(2025, 6, 31, 23, 59));
    expect(info?.count).toBe(60);
  });

  it("resumes an interrupted sync from the last stored candle", async () => {
    harness = await createHarness({ nowMs: Date.UTC(2025, 7, 1), flushEvery: 1000 });
    const request = {
      exchange: "binance",
      symbols: ["BTC/USDT"],
      timeframe: "1m",
      startMs: Date.UTC(2025, 6, 1),
      endMs: Date.UTC(2025, 6, 4),
    };
    let sawWrite = false;
    for await (const event of harness.service.syncOhlcv(request)) {
      if (event.phase === "writing") sawWrite = true;
      else if (sawWrite) break; // the client goes away after the first flush
    }
    expect((await harness.store.info(btc1m))?.count).toBe(1000);
    const before = klineRequests(harness.simulator).length;
    await collect(harness.service.syncOhlcv(request));
    const resumed = klineRequests(harness.simulator).slice(before);
    expect(Number(resumed[0]?.query.startTime)).toBe(request.startMs + 1000 * MINUTE);
    expectSource(await harness.store.read(btc1m), request.startMs, request.endMs);
    // A third sync has nothing left to fetch.
    const third = await collect(harness.service.syncOhlcv(request));
    expect(third[third.length - 1]).toMatchObject({ phase: "done", candlesFetched: 0, candlesExpected: 0 });
  });

  it("retries 5xx answers and timeouts with growing backoff", async () => {
    harness = await createHarness({ nowMs: Date.UTC(2025, 7, 1), timeoutMs: 400 });
    harness.simulator.inject({ path: "/api/v3/klines", status: 503, times: 2 });
    harness.simulator.inject({ path: "/api/v3/klines", delayMs: 700, times: 1 });
    harness.simulator.inject({ path: "/api/v3/klines", status: 502, times: 1 });
    const startMs = Date.UTC(2025, 6, 1);
    const endMs = Date.UTC(2025, 6, 2);
    await collect(
      harness.service.syncOhlcv({
        exchange: "binance",
        symbols: ["BTC/USDT"],
        timeframe: "1m",
        startMs,
        endMs,
      }),
    );
    expectSource(await harness.store.read(btc1m), startMs, endMs);
    // Binance answers 5xx with {"code":-1001}, which ccxt raises as OperationFailed.
    expect(harness.retries.map((retry) => retry.error.constructor.name)).toEqual([
      "OperationFailed",
      "OperationFailed",
      "RequestTimeout",
      "OperationFailed",
    ]);
    // Exponential backoff with jitter: attempt n waits within [0.5, 1] x 20 ms x 2^(n-1).
    harness.retries.forEach((retry) => {
      const ceiling = Math.min(200, 20 * 2 ** (retry.attempt - 1));
      expect(retry.delayMs).toBeGreaterThanOrEqual(ceiling / 2);
      expect(retry.delayMs).toBeLessThanOrEqual(ceiling);
    });
    expect(harness.retries.map((retry) => retry.attempt)).toEqual([1, 2, 3, 4]);
  });

  it("gives up with an unavailable error once retries are exhausted", async () => {
    harness = await createHarness({ nowMs: Date.UTC(2025, 7, 1), retry: { maxAttempts: 3 } });
    harness.simulator.inject({ path: "/api/v3/klines", status: 500, times: 10 });
    const sync = collect(
      harness.service.syncOhlcv({
        exchange: "binance",
        symbols: ["BTC/USDT"],
        timeframe: "1m",
        startMs: Date.UTC(2025, 6, 1),
        endMs: Date.UTC(2025, 6, 2),
      }),
    );
    await expect(sync).rejects.toMatchObject({ kind: "unavailable" });
    expect(klineRequests(harness.simulator).length).toBe(3);
  });

  it("rides out a rate-limit storm (429s then a 418 ban), honouring Retry-After", async () => {
    harness = await createHarness({ nowMs: Date.UTC(2025, 7, 1), retry: { maxAttempts: 10 } });
    harness.simulator.inject({ path: "/api/v3/klines", status: 429, times: 4, retryAfterSeconds: 1 });
    harness.simulator.inject({ path: "/api/v3/klines", status: 418, times: 1, retryAfterSeconds: 1 });
    const startMs = Date.UTC(2025, 6, 1);
    const endMs = Date.UTC(2025, 6, 3);
    await collect(
      harness.service.syncOhlcv({
        exchange: "binance",
        symbols: ["BTC/USDT"],
        timeframe: "1m",
        startMs,
        endMs,
      }),
    );
    expectSource(await harness.store.read(btc1m), startMs, endMs);
    // ccxt's binance raises DDoSProtection for both 429 and 418.
    expect(harness.retries.map((retry) => retry.error.constructor.name)).toEqual(
      Array.from({ length: 5 }, () => "DDoSProtection"),
    );
    // Retry-After (1 s, capped by maxDelayMs 200 ms) is a floor above the exponential delay.
    for (const retry of harness.retries) expect(retry.delayMs).toBe(200);
    const statuses = klineRequests(harness.simulator).map((request) => request.status);
    expect(statuses).toEqual([429, 429, 429, 429, 418, 200, 200, 200]);
  });

  it("keeps to the exchange's request-weight limit through ccxt's throttler", async () => {
    harness = await createHarness({ nowMs: Date.UTC(2025, 7, 1) });
    await harness.client.loadMarkets();
    const calls = 30;
    await Promise.all(
      Array.from({ length: calls }, (_, index) =>
        harness!.client.fetchOhlcv("BTC/USDT", "1m", Date.UTC(2025, 6, 1) + index * 5 * MINUTE, 5),
      ),
    );
    const times = klineRequests(harness.simulator).map((request) => request.atMs);
    expect(times.length).toBe(calls);
    // ccxt models Binance's 6000 weight/minute as one cost unit per rateLimit (50 ms); klines
    // (weight 2) cost 0.4 units, so 30 calls cannot take less than about 29 x 20 ms.
    const spacingMs = 0.4 * (harness.client.ccxt.rateLimit ?? 50);
    expect(Math.max(...times) - Math.min(...times)).toBeGreaterThanOrEqual((calls - 2) * spacingMs * 0.9);
  });

  it("rejects an unknown symbol, timeframe or range before downloading anything", async () => {
    harness = await createHarness({ nowMs: Date.UTC(2025, 7, 1) });
    const base = {
      exchange: "binance",
      timeframe: "1m",
      startMs: Date.UTC(2025, 6, 1),
      endMs: Date.UTC(2025, 6, 2),
    };
    await expect(
      collect(harness.service.syncOhlcv({ ...base, symbols: ["BTC/USDT", "FOO/USDT"] })),
    ).rejects.toMatchObject({
      kind: "not-found",
      field: "symbol",
      message: 'symbol: expected a market listed by binance, got "FOO/USDT"',
    });
    await expect(
      collect(harness.service.syncOhlcv({ ...base, symbols: ["BTC/USDT"], timeframe: "7m" })),
    ).rejects.toMatchObject({
      kind: "invalid-argument",
      field: "timeframe",
    });
    await expect(
      collect(harness.service.syncOhlcv({ ...base, symbols: ["BTC-USDT"] })),
    ).rejects.toMatchObject({ kind: "invalid-argument", field: "symbols[0]" });
    await expect(
      collect(harness.service.syncOhlcv({ ...base, symbols: ["BTC/USDT"], endMs: base.startMs })),
    ).rejects.toMatchObject({
      kind: "invalid-argument",
      field: "range.end",
    });
    await expect(
      collect(harness.service.syncOhlcv({ ...base, exchange: "kraken", symbols: ["BTC/USDT"] })),
    ).rejects.toMatchObject({ kind: "not-found", field: "exchange" });
    expect(klineRequests(harness.simulator)).toEqual([]);
    expect(await harness.store.info(btc1m)).toBeUndefined();
  });

  it("shares one download between concurrent EnsureData callers for the same series", async () => {
    harness = await createHarness({ nowMs: Date.UTC(2025, 7, 1) });
    const request = {
      exchange: "binance",
      symbols: ["BTC/USDT"],
      timeframe: "1m",
      startMs: Date.UTC(2025, 6, 10),
      endMs: Date.UTC(2025, 6, 11),
      startupCandles: 100,
    };
    const results = await Promise.all(Array.from({ length: 5 }, () => harness!.service.ensureData(request)));
    expect(results.map((result) => result.candlesFetched).sort()).toEqual([0, 0, 0, 0, 1540]);
    expect(klineRequests(harness.simulator).length).toBe(2);
    for (const result of results) {
      expect(result.series[0]?.info).toMatchObject({
        firstMs: request.startMs - 100 * MINUTE,
        lastMs: request.endMs - MINUTE,
        count: 1540,
      });
    }
    expectSource(await harness.store.read(btc1m), request.startMs - 100 * MINUTE, request.endMs);
    // Already stored: nothing fetched.
    expect((await harness.service.ensureData(request)).candlesFetched).toBe(0);
    expect(klineRequests(harness.simulator).length).toBe(2);
  });

  it("keeps a shared EnsureData download going when one caller cancels; only that caller is CANCELED", async () => {
    harness = await createHarness({ nowMs: Date.UTC(2025, 7, 1) });
    for (let page = 0; page < 5; page++) harness.simulator.inject({ path: "/api/v3/klines", delayMs: 150 });
    const request = {
      exchange: "binance",
      symbols: ["BTC/USDT"],
      timeframe: "1m",
      startMs: Date.UTC(2025, 6, 1),
      endMs: Date.UTC(2025, 6, 4),
    };
    const controller = new AbortController();
    const first = harness.service.ensureData(request, controller.signal).catch((error: unknown) => error);
    await until(() => klineRequests(harness!.simulator).length >= 1);
    // The second caller joins the download the first one started, then the first one leaves.
    const second = harness.service.ensureData(request);
    controller.abort();
    expect(await first).toMatchObject({ kind: "canceled" });
    const result = await second;
    expect(result.candlesFetched).toBe(4320);
    expect(result.series[0]?.info).toMatchObject({ count: 4320, gaps: [] });
    expectSource(await harness.store.read(btc1m), request.startMs, request.endMs);
    // One download: 4320 candles in five pages.
    expect(klineRequests(harness.simulator).length).toBe(5);
  });

  it("stops a shared EnsureData download once every caller has cancelled", async () => {
    harness = await createHarness({ nowMs: Date.UTC(2025, 7, 1) });
    for (let page = 0; page < 5; page++) harness.simulator.inject({ path: "/api/v3/klines", delayMs: 150 });
    const request = {
      exchange: "binance",
      symbols: ["BTC/USDT"],
      timeframe: "1m",
      startMs: Date.UTC(2025, 6, 1),
      endMs: Date.UTC(2025, 6, 4),
    };
    const controllers = [new AbortController(), new AbortController()];
    const calls = controllers.map((controller) =>
      harness!.service.ensureData(request, controller.signal).catch((error: unknown) => error),
    );
    await until(() => klineRequests(harness!.simulator).length >= 1);
    const answeredAtAbort = klineRequests(harness.simulator).length;
    for (const controller of controllers) controller.abort();
    for (const call of calls) expect(await call).toMatchObject({ kind: "canceled" });
    // The page in flight may still arrive; no further page is asked for.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const asked = klineRequests(harness.simulator).length;
    expect(asked).toBeLessThanOrEqual(answeredAtAbort + 1);
    expect(asked).toBeLessThan(5);
    // A later caller starts afresh and gets everything.
    const later = await harness.service.ensureData(request);
    expect(later.series[0]?.info?.count).toBe(4320);
    expectSource(await harness.store.read(btc1m), request.startMs, request.endMs);
  });

  it("rejects a caller waiting for another caller's narrower download as soon as it cancels", async () => {
    harness = await createHarness({ nowMs: Date.UTC(2025, 7, 1) });
    // A's download is two pages; the second one answers only after 1.5 s.
    harness.simulator.inject({ path: "/api/v3/klines", times: 1 });
    harness.simulator.inject({ path: "/api/v3/klines", delayMs: 1_500, times: 1 });
    const base = { exchange: "binance", symbols: ["BTC/USDT"], timeframe: "1m" };
    const startMs = Date.UTC(2025, 6, 1);
    let aSettled = false;
    const a = harness.service.ensureData({ ...base, startMs, endMs: Date.UTC(2025, 6, 2) }).finally(() => {
      aSettled = true;
    });
    await until(() => klineRequests(harness!.simulator).length >= 1);
    // B needs more than A's download covers, so it waits for A's to end before fetching the rest.
    const controller = new AbortController();
    const b = harness.service.ensureData(
      { ...base, startMs, endMs: Date.UTC(2025, 6, 4) },
      controller.signal,
    );
    const bOutcome = b.then(
      () => ({ error: undefined, aSettled, pages: klineRequests(harness!.simulator).length }),
      (error: unknown) => ({ error, aSettled, pages: klineRequests(harness!.simulator).length }),
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    controller.abort();
    // B is rejected at once: A's second page has not been answered, A has not finished.
    expect(await bOutcome).toMatchObject({ error: { kind: "canceled" }, aSettled: false, pages: 1 });
    const result = await a;
    expect(result.candlesFetched).toBe(1440);
    expect(result.series[0]?.info).toMatchObject({ firstMs: startMs, count: 1440, gaps: [] });
    expectSource(await harness.store.read(btc1m), startMs, Date.UTC(2025, 6, 2));
    // B never started a download of its own.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(klineRequests(harness.simulator).length).toBe(2);
  });

  it("syncs past the exchange's request-weight limit by honouring Retry-After, without a 418 ban", async () => {
    // 30 weight per 2 s window: exchangeInfo (20) and about 5 kline pages (2 each) fit in one.
    harness = await createHarness({
      nowMs: Date.UTC(2025, 7, 1),
      weightLimitPerMinute: 30,
      weightWindowMs: 2_000,
      retry: { maxAttempts: 10, maxDelayMs: 5_000 },
    });
    const startMs = Date.UTC(2025, 6, 1);
    const endMs = startMs + 20_000 * MINUTE; // 20 pages
    const events = await collect(
      harness.service.syncOhlcv({
        exchange: "binance",
        symbols: ["BTC/USDT"],
        timeframe: "1m",
        startMs,
        endMs,
      }),
    );
    expectSource(await harness.store.read(btc1m), startMs, endMs);
    expect(events[events.length - 1]).toMatchObject({ phase: "done", candlesFetched: 20_000 });
    const requests = harness.simulator.requests;
    const limited = requests.filter((request) => request.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    expect(requests.map((request) => request.status)).not.toContain(418);
    expect(klineRequests(harness.simulator).filter((request) => request.status === 200).length).toBe(20);
    // Every retry waited at least the server's Retry-After before asking again.
    const rateLimited = harness.retries.filter((retry) =>
      ["DDoSProtection", "RateLimitExceeded"].includes(retry.error.constructor.name),
    );
    expect(rateLimited.length).toBe(limited.length);
    for (const [index, request] of requests.entries()) {
      if (request.status !== 429) continue;
      const waitMs = (request.retryAfterSeconds ?? Number.NaN) * 1000;
      expect(waitMs).toBeGreaterThanOrEqual(1000);
      const next = requests[index + 1];
      expect(next).toBeDefined();
      expect((next?.atMs ?? 0) - request.atMs).toBeGreaterThanOrEqual(waitMs);
    }
    for (const retry of rateLimited) expect(retry.delayMs).toBeGreaterThanOrEqual(1000);
  }, 60_000);

  it("cuts off the still-open candle by the exchange's clock when the host clock runs ahead", async () => {
    const exchangeNow = Date.UTC(2025, 7, 1, 0, 0, 30);
    harness = await createHarness({ nowMs: exchangeNow, clockSkewMs: 5 * MINUTE });
    expect(harness.clock.nowMs()).toBe(exchangeNow + 5 * MINUTE);
    await collect(
      harness.service.syncOhlcv({
        exchange: "binance",
        symbols: ["BTC/USDT"],
        timeframe: "1m",
        startMs: Date.UTC(2025, 6, 31, 23),
      }),
    );
    const info = await harness.store.info(btc1m);
    // 00:00 is still open at the exchange (00:00:30) although the host thinks it is 00:05:30.
    expect(info?.lastMs).toBe(Date.UTC(2025, 6, 31, 23, 59));
    expect(info?.count).toBe(60);
    expect(harness.simulator.requests.some((request) => request.path === "/api/v3/time")).toBe(true);
  });

  it("EnsureData and CheckFreshness count on the exchange's clock when the host clock runs ahead", async () => {
    const exchangeNow = Date.UTC(2025, 7, 1, 0, 0, 30);
    const skew = 5 * MINUTE;
    harness = await createHarness({ nowMs: exchangeNow, clockSkewMs: skew });
    const request = {
      exchange: "binance",
      symbols: ["BTC/USDT"],
      timeframe: "1m",
      startMs: Date.UTC(2025, 6, 31, 23),
    };
    const first = await harness.service.ensureData(request);
    expect(first.candlesFetched).toBe(60);
    expect(first.series[0]?.info).toMatchObject({ lastMs: Date.UTC(2025, 6, 31, 23, 59), count: 60 });
    // Up to the exchange's now, everything is stored: the second call asks the exchange nothing
    // (the host's clock would see 00:00..00:04 as closed and missing, and sync again).
    const asked = harness.simulator.requests.length;
    const second = await harness.service.ensureData(request);
    expect(second.candlesFetched).toBe(0);
    expect(harness.simulator.requests.length).toBe(asked);
    // The latest candle (23:59) closed 30 s ago at the exchange, not 5 min 30 s ago.
    const fresh = await harness.service.checkFreshness([btc1m]);
    expect(fresh.series[0]).toMatchObject({ verdict: "fresh", ageSeconds: 30 });
    expect(fresh.checkedAtMs).toBe(exchangeNow);
    expect(harness.simulator.requests.length).toBe(asked);
    // Three exchange minutes later (the offset is re-measured: one time request).
    harness.clock.set(exchangeNow + 3 * MINUTE + skew);
    const later = await harness.service.checkFreshness([btc1m], 5);
    expect(later.series[0]).toMatchObject({ verdict: "fresh", ageSeconds: 210 });
    expect(later.checkedAtMs).toBe(exchangeNow + 3 * MINUTE);
    expect(harness.simulator.requests.slice(asked).map((entry) => entry.path)).toEqual(["/api/v3/time"]);
  });

  it("falls back to the host clock for freshness (not for EnsureData) while the exchange's time is unreachable", async () => {
    const exchangeNow = Date.UTC(2025, 7, 1, 0, 0, 30);
    const skew = 5 * MINUTE;
    harness = await createHarness({ nowMs: exchangeNow, clockSkewMs: skew, retry: { maxAttempts: 2 } });
    const statuses = () =>
      harness!.simulator.requests
        .filter((entry) => entry.path === "/api/v3/time")
        .map((entry) => entry.status);
    const july = {
      exchange: "binance",
      symbols: ["BTC/USDT"],
      timeframe: "1m",
      startMs: Date.UTC(2025, 6, 1),
    };
    expect(
      (await harness.service.ensureData({ ...july, endMs: Date.UTC(2025, 6, 1, 1) })).candlesFetched,
    ).toBe(60);
    const before = statuses().length; // the sync asked for the exchange's time
    harness.simulator.inject({ path: "/api/v3/time", status: 503, times: 4 });
    // A range ending well in the past needs no exchange clock: stored, it is answered offline.
    expect(
      (await harness.service.ensureData({ ...july, endMs: Date.UTC(2025, 6, 1, 1) })).candlesFetched,
    ).toBe(0);
    expect(statuses().length).toBe(before);
    // A range up to now does: unavailable, like the download it may need.
    await expect(harness.service.ensureData(july)).rejects.toMatchObject({ kind: "unavailable" });
    expect(statuses().slice(before)).toEqual([503, 503]);
    // Freshness of stored data stays answerable: on the host's clock, the exchange asked once a minute.
    const offline = await harness.service.checkFreshness([btc1m]);
    expect(offline.checkedAtMs).toBe(exchangeNow + skew);
    expect(offline.series[0]).toMatchObject({
      verdict: "stale",
      ageSeconds: (exchangeNow + skew - Date.UTC(2025, 6, 1, 1)) / 1000,
    });
    expect((await harness.service.checkFreshness([btc1m])).checkedAtMs).toBe(exchangeNow + skew);
    expect(statuses().slice(before)).toEqual([503, 503, 503, 503]);
    // A minute later the exchange answers again: its clock counts.
    harness.clock.set(exchangeNow + skew + MINUTE);
    expect((await harness.service.checkFreshness([btc1m])).checkedAtMs).toBe(exchangeNow + MINUTE);
    expect(statuses().slice(before)).toEqual([503, 503, 503, 503, 200]);
  });

  it("lists markets with precision, limits and fees from exchangeInfo", async () => {
    harness = await createHarness({ nowMs: Date.UTC(2025, 7, 1) });
    const snapshot = await harness.service.listMarkets("binance", "USDT");
    expect(snapshot.markets.map((market) => market.symbol)).toEqual([
      "ADA/USDT",
      "BNB/USDT",
      "BTC/USDT",
      "DOGE/USDT",
      "ETH/USDT",
      "SOL/USDT",
      "XRP/USDT",
    ]);
    expect(snapshot.markets.find((market) => market.symbol === "BTC/USDT")).toEqual({
      symbol: "BTC/USDT",
      base: "BTC",
      quote: "USDT",
      type: "spot",
      active: true,
      pricePrecision: 0.01,
      amountPrecision: 0.00001,
      minAmount: 0.00001,
      maxAmount: 9000,
      minCost: 5,
      makerFee: 0.001,
      takerFee: 0.001,
      contractSize: 1,
      settle: "",
    });
    expect(snapshot.timeframes).toContain("1m");
    // Server time and ping come from the simulator's /api/v3/time and /api/v3/ping.
    expect(await harness.client.ccxt.fetchTime()).toBe(Date.UTC(2025, 7, 1));
    expect(
      await (harness.client.ccxt as unknown as { publicGetPing(): Promise<unknown> }).publicGetPing(),
    ).toEqual({});
    expect((await harness.service.listMarkets("binance", "BTC")).markets).toEqual([]);
  });

  it("judges freshness against the clock", async () => {
    const now = Date.UTC(2025, 7, 1, 0, 0, 30);
    harness = await createHarness({ nowMs: now });
    await collect(
      harness.service.syncOhlcv({
        exchange: "binance",
        symbols: ["BTC/USDT"],
        timeframe: "1m",
        startMs: Date.UTC(2025, 6, 31, 23, 50),
      }),
    );
    const eth = { ...btc1m, symbol: "ETH/USDT" };
    const fresh = await harness.service.checkFreshness([btc1m, eth]);
    expect(fresh.series.map((entry) => [entry.key.symbol, entry.verdict, entry.ageSeconds])).toEqual([
      ["BTC/USDT", "fresh", 30],
      ["ETH/USDT", "missing", Number.NaN],
    ]);
    harness.clock.set(now + 3 * MINUTE);
    expect((await harness.service.checkFreshness([btc1m])).series[0]).toMatchObject({
      verdict: "stale",
      ageSeconds: 210,
    });
    expect((await harness.service.checkFreshness([btc1m], 5)).series[0]).toMatchObject({ verdict: "fresh" });
    // An exchange the service does not know is a bad request, not a MISSING series.
    await expect(harness.service.checkFreshness([{ ...btc1m, exchange: "kraken" }])).rejects.toMatchObject({
      kind: "not-found",
      field: "exchange",
      message: expect.stringContaining('"kraken"') as unknown,
    });
  });

  it("repairs a corrupt partition with a full refresh over the period the DATA_LOSS error names", async () => {
    harness = await createHarness({ nowMs: Date.UTC(2025, 7, 1) });
    const btc1h = { ...btc1m, timeframe: "1h" };
    const hourly = loadSharedCandles("binance_BTC_USDT-1h.csv.gz");
    const sync = (startMs: number, endMs: number, fullRefresh = false) =>
      collect(
        harness!.service.syncOhlcv({
          exchange: "binance",
          symbols: ["BTC/USDT"],
          timeframe: "1h",
          startMs,
          endMs,
          fullRefresh,
        }),
      );
    // March and the first week of July: both in the yearly partition 2025.
    await sync(Date.UTC(2025, 2, 1), Date.UTC(2025, 3, 1));
    await sync(Date.UTC(2025, 6, 1), Date.UTC(2025, 6, 8));
    const directory = join(harness.directory, "binance", "BTC%2FUSDT", "1h");
    const partitions = (await readdir(directory)).filter((file) => file.endsWith(".tdc"));
    expect(partitions).toHaveLength(1);
    const partition = partitions[0] ?? "";
    const bytes = await readFile(join(directory, partition));
    bytes[bytes.length - 100] = (bytes[bytes.length - 100] ?? 0) ^ 0x5a; // a volume value
    await writeFile(join(directory, partition), bytes);

    const readAll = async () => {
      const batches: Candles[] = [];
      for await (const batch of harness!.service.readOhlcv(btc1h, {})) batches.push(batch);
      return batches;
    };
    await expect(readAll()).rejects.toMatchObject({
      kind: "data-loss",
      field: `binance/BTC%2FUSDT/1h/${partition}`,
      message: expect.stringContaining(`binance/BTC%2FUSDT/1h/${partition}: corrupt partition`) as unknown,
    });
    // A full refresh of July alone cannot rewrite the partition (March would be lost): it names
    // the period to refresh instead.
    const narrow = await sync(Date.UTC(2025, 6, 1), Date.UTC(2025, 6, 8), true).catch(
      (error: unknown) => error,
    );
    expect(narrow).toMatchObject({ kind: "data-loss" });
    const named = /Refresh the whole partition period \[(\S+), (\S+)\)/.exec((narrow as Error).message);
    expect(named?.slice(1)).toEqual(["2025-01-01T00:00:00.000Z", "2026-01-01T00:00:00.000Z"]);
    const events = await sync(Date.parse(named?.[1] ?? ""), Date.parse(named?.[2] ?? ""), true);
    // Up to the last closed candle (the exchange's now is 2025-08-01).
    const expected = candlesInRange(hourly, Date.UTC(2025, 0, 1), Date.UTC(2025, 7, 1));
    expect(events[events.length - 1]).toMatchObject({
      phase: "done",
      candlesFetched: candleCount(expected),
      gaps: [],
    });
    const batches = await readAll();
    expect(batches).toHaveLength(1);
    expectEqualCandles(batches[0] as Candles, expected);
    const after = (await readdir(directory)).filter((file) => file.endsWith(".tdc"));
    expect(after).toHaveLength(1);
    expect(after[0]).not.toBe(partition);
  });

  it("does not refetch past the last candle of a delisted market", async () => {
    const lastCandleMs = Date.UTC(2025, 6, 10, 11);
    harness = await createHarness({ nowMs: Date.UTC(2025, 7, 1), delisted: { ETHUSDT: lastCandleMs } });
    const eth1h = { exchange: "binance", symbol: "ETH/USDT", timeframe: "1h" };
    const markets = await harness.service.listMarkets("binance", "USDT");
    expect(markets.markets.find((market) => market.symbol === "ETH/USDT")?.active).toBe(false);
    const request = {
      exchange: "binance",
      symbols: ["ETH/USDT"],
      timeframe: "1h",
      startMs: Date.UTC(2025, 6, 1),
    };
    const first = await harness.service.ensureData(request);
    const expected = candlesInRange(
      loadSharedCandles("binance_ETH_USDT-1h.csv.gz"),
      request.startMs,
      lastCandleMs + 1,
    );
    expect(first.candlesFetched).toBe(candleCount(expected));
    expect(first.series[0]?.info).toMatchObject({ lastMs: lastCandleMs, gaps: [] });
    expectEqualCandles(await harness.store.read(eth1h), expected);
    // The market is inactive: the slots after its last candle are confirmed empty up to now.
    expect((await harness.store.coverage(eth1h)).confirmedEmpty).toContainEqual({
      startMs: lastCandleMs + 3_600_000,
      endMs: Date.UTC(2025, 7, 1),
    });
    const asked = klineRequests(harness.simulator).length;
    expect((await harness.service.ensureData(request)).candlesFetched).toBe(0);
    const sync = await collect(harness.service.syncOhlcv(request));
    expect(sync[sync.length - 1]).toMatchObject({ phase: "done", candlesFetched: 0, candlesExpected: 0 });
    expect(klineRequests(harness.simulator).length).toBe(asked);
    // An active market's slots after its last candle are asked for again: they may just not be
    // published yet. (The simulator's BTC/USDT 1m ends 2025-08-18 18:27.)
    harness.clock.set(Date.UTC(2025, 7, 20));
    const btc = { ...request, symbols: ["BTC/USDT"], timeframe: "1m", startMs: Date.UTC(2025, 7, 18, 18) };
    expect((await harness.service.ensureData(btc)).candlesFetched).toBe(28);
    const before = klineRequests(harness.simulator).length;
    expect((await harness.service.ensureData(btc)).candlesFetched).toBe(0);
    expect(klineRequests(harness.simulator).length).toBe(before + 1);
  });
});
