import { describe, expect, it } from "vitest";
import type { MarketData } from "./backtest-service";
import { createEnsuredDataCache } from "./ensured-data-cache";

type EnsureRequest = Parameters<MarketData["ensure"]>[0];

function recorder(fail?: () => Error | undefined) {
  const calls: EnsureRequest[] = [];
  const inner: MarketData = {
    ensure(request) {
      calls.push(request);
      const error = fail?.();
      return error === undefined ? Promise.resolve() : Promise.reject(error);
    },
    unlistedPairs: () => Promise.resolve([]),
  };
  return { calls, inner };
}

const DAY = 86_400_000;
const base = (overrides: Partial<EnsureRequest> = {}): EnsureRequest => ({
  exchange: "binance",
  pairs: ["BTC/USDT"],
  timeframe: "5m",
  range: { startMs: 10 * DAY, endMs: 20 * DAY },
  startupCandles: 100,
  ...overrides,
});

describe("ensured-data cache", () => {
  it("asks data collection once for repeated and narrower closed ranges within the TTL", async () => {
    let clock = 0;
    const { calls, inner } = recorder();
    const cache = createEnsuredDataCache(inner, { ttlMs: 1_000, now: () => clock });
    await cache.ensure(base());
    await cache.ensure(base());
    await cache.ensure(base({ range: { startMs: 12 * DAY, endMs: 19 * DAY }, startupCandles: 50 }));
    expect(calls).toHaveLength(1);
    clock = 1_000;
    await cache.ensure(base());
    expect(calls).toHaveLength(2);
  });

  it("asks again for anything outside what was confirmed", async () => {
    const { calls, inner } = recorder();
    const cache = createEnsuredDataCache(inner, { ttlMs: 60_000 });
    await cache.ensure(base());
    await cache.ensure(base({ range: { startMs: 9 * DAY, endMs: 20 * DAY } })); // earlier start
    await cache.ensure(base({ range: { startMs: 10 * DAY, endMs: 21 * DAY } })); // later end
    await cache.ensure(base({ startupCandles: 500 })); // reaches further back
    await cache.ensure(base({ pairs: ["BTC/USDT", "ETH/USDT"] })); // one pair unknown
    await cache.ensure(base({ timeframe: "1h" }));
    await cache.ensure(base({ exchange: "kraken" }));
    expect(
      calls.map((call) => [call.exchange, call.timeframe, call.pairs.length, call.startupCandles]),
    ).toEqual([
      ["binance", "5m", 1, 100],
      ["binance", "5m", 1, 100],
      ["binance", "5m", 1, 100],
      ["binance", "5m", 1, 500],
      ["binance", "5m", 2, 100],
      ["binance", "1h", 1, 100],
      ["kraken", "5m", 1, 100],
    ]);
  });

  it("never remembers an open-ended range or a failed ensure", async () => {
    let failing = true;
    const { calls, inner } = recorder(() => (failing ? new Error("exchange down") : undefined));
    const cache = createEnsuredDataCache(inner, { ttlMs: 60_000 });
    await expect(cache.ensure(base())).rejects.toThrow("exchange down");
    failing = false;
    await cache.ensure(base());
    await cache.ensure(base());
    await cache.ensure(base({ range: { startMs: 10 * DAY } }));
    await cache.ensure(base({ range: { startMs: 10 * DAY } }));
    expect(calls).toHaveLength(4);
  });

  it("is the inner port itself when disabled, and bounded in size", async () => {
    const { calls, inner } = recorder();
    expect(createEnsuredDataCache(inner, { ttlMs: 0 })).toBe(inner);
    const cache = createEnsuredDataCache(inner, { ttlMs: 60_000, maxEntries: 2 });
    await cache.ensure(base({ pairs: ["A/USDT"] }));
    await cache.ensure(base({ pairs: ["B/USDT"] }));
    await cache.ensure(base({ pairs: ["C/USDT"] })); // evicts A
    await cache.ensure(base({ pairs: ["C/USDT"] }));
    await cache.ensure(base({ pairs: ["A/USDT"] }));
    expect(calls.map((call) => call.pairs[0])).toEqual(["A/USDT", "B/USDT", "C/USDT", "A/USDT"]);
  });
});
