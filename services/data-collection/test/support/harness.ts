import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Clock } from "../../src/core/clock";
import {
  createDataCollectionService,
  type DataCollectionService,
} from "../../src/core/data-collection-service";
import type { ExchangeClientProvider } from "../../src/core/exchange-client";
import { notFound } from "../../src/core/errors";
import { CcxtExchangeClient, type RetryOptions } from "../../src/infrastructure/ccxt-exchange-client";
import { createDataFileCodec } from "../../src/infrastructure/formats/data-file-codec";
import type { ColumnarMarketDataStore } from "../../src/infrastructure/store/columnar-market-data-store";
import { createLocalMarketDataStore } from "../../src/infrastructure/store/create-market-data-store";
import { startBinanceSimulator, type BinanceSimulator } from "./binance-simulator";

export interface Harness {
  simulator: BinanceSimulator;
  client: CcxtExchangeClient;
  store: ColumnarMarketDataStore;
  service: DataCollectionService;
  retries: { operation: string; attempt: number; delayMs: number; error: Error }[];
  clock: Clock & { set(ms: number): void };
  directory: string;
  close(): Promise<void>;
}

export interface HarnessOptions {
  /** The exchange's (simulator's) clock. */
  nowMs: number;
  /** How far the service host's clock runs ahead of the exchange's (default 0). */
  clockSkewMs?: number;
  /** Simulator weight limit and window (see BinanceSimulatorOptions). */
  weightLimitPerMinute?: number;
  weightWindowMs?: number;
  /** Delisted markets (see BinanceSimulatorOptions.delisted). */
  delisted?: Record<string, number>;
  retry?: RetryOptions;
  flushEvery?: number;
  /** Extra ccxt constructor config. */
  ccxtConfig?: Record<string, unknown>;
  /** ccxt request timeout (default 2 000 ms). */
  timeoutMs?: number;
}

/** Service core + local store + ccxt's binance class talking to the simulator over HTTP. */
export async function createHarness(options: HarnessOptions): Promise<Harness> {
  let now = options.nowMs;
  const skew = options.clockSkewMs ?? 0;
  // The service's clock; set() moves both clocks, keeping the skew.
  const clock = { nowMs: () => now + skew, set: (ms: number) => void (now = ms - skew) };
  const simulator = await startBinanceSimulator({
    nowMs: () => now,
    weightLimitPerMinute: options.weightLimitPerMinute,
    weightWindowMs: options.weightWindowMs,
    delisted: options.delisted,
  });
  const retries: Harness["retries"] = [];
  const client = new CcxtExchangeClient({
    exchange: "binance",
    config: { ...simulator.ccxtConfig(), timeout: options.timeoutMs ?? 2_000, ...options.ccxtConfig },
    retry: { baseDelayMs: 20, maxDelayMs: 200, ...options.retry },
    clock,
    onRetry: (event) => retries.push(event),
  });
  const exchanges: ExchangeClientProvider = {
    get(exchange) {
      if (exchange !== "binance")
        throw notFound("exchange", `expected "binance", got ${JSON.stringify(exchange)}`);
      return client;
    },
  };
  const directory = await mkdtemp(join(tmpdir(), "tradai-harness-"));
  const store = createLocalMarketDataStore({ directory });
  const service = createDataCollectionService({
    store,
    exchanges,
    codec: createDataFileCodec(),
    clock,
    flushEvery: options.flushEvery,
  });
  return {
    simulator,
    client,
    store,
    service,
    retries,
    clock,
    directory,
    async close() {
      await simulator.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

export function klineRequests(simulator: BinanceSimulator) {
  return simulator.requests.filter((request) => request.path === "/api/v3/klines");
}
