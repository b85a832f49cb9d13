// ListMarkets with stored snapshots: ccxt's binance class against the Binance simulator, and the
// same exchange unreachable (a closed port) or slow — what a laptop without exchange access sees.
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createDataCollectionService } from "../src/core/data-collection-service";
import { DataCollectionError, notFound } from "../src/core/errors";
import type { ExchangeClientProvider, MarketsSnapshot } from "../src/core/exchange-client";
import { createStoredMarkets } from "../src/core/markets-snapshot-store";
import { CcxtExchangeClient } from "../src/infrastructure/ccxt-exchange-client";
import { createFileMarketsSnapshotStore } from "../src/infrastructure/file-markets-snapshot-store";
import { createDataFileCodec } from "../src/infrastructure/formats/data-file-codec";
import { createLocalMarketDataStore } from "../src/infrastructure/store/create-market-data-store";
import { startBinanceSimulator, type BinanceSimulator } from "./support/binance-simulator";

async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

describe("ListMarkets with stored snapshots", () => {
  let simulator: BinanceSimulator;
  let directory: string;
  const problems: string[] = [];

  beforeEach(async () => {
    simulator = await startBinanceSimulator({ nowMs: () => Date.UTC(2025, 7, 1) });
    directory = await mkdtemp(join(tmpdir(), "tradai-markets-"));
    problems.length = 0;
  });
  afterEach(async () => {
    await simulator.close();
    await rm(directory, { recursive: true, force: true });
  });

  /** A data-collection core whose binance client talks to `ccxtConfig`, storing snapshots in `directory`. */
  function serviceWith(ccxtConfig: Record<string, unknown>, liveTimeoutMs = 1_500, clockStartMs = 0) {
    let now = Date.UTC(2025, 7, 1) + clockStartMs;
    const client = new CcxtExchangeClient({
      exchange: "binance",
      config: { ...ccxtConfig, timeout: 10_000 },
      retry: { maxAttempts: 2, baseDelayMs: 10, maxDelayMs: 20 },
      clock: { nowMs: () => (now += 1000) },
    });
    const exchanges: ExchangeClientProvider = {
      get(exchange) {
        if (exchange !== "binance") throw notFound("exchange", `expected "binance", got ${exchange}`);
        return client;
      },
    };
    return createDataCollectionService({
      store: createLocalMarketDataStore({ directory: join(directory, "ohlcv") }),
      exchanges,
      codec: createDataFileCodec(),
      storedMarkets: createStoredMarkets({
        store: createFileMarketsSnapshotStore(join(directory, "markets"), (file, reason) =>
          problems.push(`${file}: ${reason}`),
        ),
        liveTimeoutMs,
        onSaveError: (error) => problems.push(String(error)),
      }),
    });
  }

  const offlineConfig = async () => {
    const config = simulator.ccxtConfig();
    const dead = await closedPortUrl();
    return JSON.parse(JSON.stringify(config).replaceAll(simulator.baseUrl, dead)) as Record<string, unknown>;
  };

  async function storedFile(): Promise<MarketsSnapshot> {
    for (let attempt = 0; attempt < 100; attempt++) {
      const text = await readFile(join(directory, "markets", "binance.json"), "utf8").catch(() => "");
      if (text !== "") return JSON.parse(text) as MarketsSnapshot;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error("no stored markets snapshot appeared");
  }

  it("stores the live snapshot and answers from it when the exchange is unreachable", async () => {
    const live = await serviceWith(simulator.ccxtConfig()).listMarkets("binance");
    const btc = live.markets.find((market) => market.symbol === "BTC/USDT");
    expect(btc?.quote).toBe("USDT");
    expect((await storedFile()).fetchedAtMs).toBe(live.fetchedAtMs);

    // A live timeout far above the assertion: the stored snapshot answers because the live load
    // failed, not because the timer ran out.
    const offline = serviceWith(await offlineConfig(), 20_000);
    const started = performance.now();
    const answered = await offline.listMarkets("binance", "USDT");
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(answered.fetchedAtMs).toBe(live.fetchedAtMs);
    expect(answered.markets.find((market) => market.symbol === "BTC/USDT")).toEqual(btc);
    expect(answered.markets.every((market) => market.quote === "USDT")).toBe(true);
    expect(problems).toEqual([]);
  });

  it("answers from the stored snapshot when the exchange is slower than the timeout, then stores the live one", async () => {
    const first = await serviceWith(simulator.ccxtConfig()).listMarkets("binance");
    await storedFile();
    simulator.inject({ delayMs: 2_500, times: 5 });
    const slow = serviceWith(simulator.ccxtConfig(), 200, 3_600_000);
    const started = performance.now();
    const answered = await slow.listMarkets("binance");
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(answered.fetchedAtMs).toBe(first.fetchedAtMs);
    // The live load finishes in the background and replaces the stored snapshot.
    for (let attempt = 0; attempt < 400; attempt++) {
      if ((await storedFile()).fetchedAtMs !== first.fetchedAtMs) break;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect((await storedFile()).fetchedAtMs).toBeGreaterThan(first.fetchedAtMs);
  });

  it("reports the exchange's error when nothing is stored, and ignores an unreadable snapshot", async () => {
    const offline = serviceWith(await offlineConfig());
    const error = await offline.listMarkets("binance").catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DataCollectionError);
    expect(error).toMatchObject({ kind: "unavailable" });

    await mkdir(join(directory, "markets"), { recursive: true });
    await writeFile(join(directory, "markets", "binance.json"), "{ not json");
    const again = serviceWith(await offlineConfig());
    await expect(again.listMarkets("binance")).rejects.toMatchObject({ kind: "unavailable" });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/binance\.json: expected JSON, got /);
  });

  it("never masks an unknown exchange with a stored snapshot", async () => {
    await serviceWith(simulator.ccxtConfig()).listMarkets("binance");
    await storedFile();
    await expect(serviceWith(simulator.ccxtConfig()).listMarkets("kraken")).rejects.toMatchObject({
      kind: "not-found",
    });
  });
});
