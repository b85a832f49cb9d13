// Sync, EnsureData and markets through ccxt's own `binance` class talking HTTP to the local
// Binance simulator, which serves the real candles of shared/data/ohlcv.
import { afterEach, describe, expect, it } from "vitest";
import { CANDLE_COLUMNS, candleCount, candlesInRange, type Candles } from "../src/core/candles";
import type { SyncProgress } from "../src/core/ohlcv-synchronizer";
import { aggregateDaily } from "./support/binance-simulator";
import { createHarness, klineRequests, type Harness } from "./support/harness";
import { loadSharedCandles } from "./support/shared-data";

const MINUTE = 60_000;
const btc1m = { exchange: "binance", symbol: "BTC/USDT", timeframe: "1m" };
const source = (): Candles => loadSharedCandles("binance_BTC_USDT-1m.csv.gz");

function expectSource(actual: Candles, startMs: number, endMs: number): void {
  const wanted = candlesInRange(source(), startMs, endMs);
  expect(candleCount(actual)).toBe(candleCount(wanted));
  for (const column of CANDLE_COLUMNS) expect(Array.from(actual[column])).toEqual(Array.from(wanted[column]));
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
        ? [{ afterMs: previous, beforeMs: time, missingCandles: (time - previous) / 3_600_000 - 1 }]
        : [];
    });
    expect(expected.length).toBeGreaterThan(0);
    expect(expected.some((gap) => new Date(gap.afterMs).toISOString().startsWith("2018-02-08"))).toBe(true);
    expect(events[events.length - 1]?.gaps).toEqual(expected);
    expect((await harness.service.getMetadata({ symbol: "BTC/USDT" }))[0]?.gaps).toEqual(expected);
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
  });
});
