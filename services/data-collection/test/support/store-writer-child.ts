// Child process for the kill -9 test: rewrites one series over and over, each version with
// close == version, printing "committed <version>" after each commit, until it is killed.
import { createCandles } from "../../src/core/candles";
import { createLocalMarketDataStore } from "../../src/infrastructure/store/create-market-data-store";

const directory = process.argv[2];
const count = Number(process.argv[3] ?? "500000");
if (directory === undefined) throw new Error("usage: store-writer-child <directory> [count]");
const store = createLocalMarketDataStore({ directory });
const key = { exchange: "binance", symbol: "BTC/USDT", timeframe: "1m" };
const start = Date.UTC(2024, 0, 1);
const candles = createCandles(count);
for (let index = 0; index < count; index++) candles.timestamps[index] = start + index * 60_000;

async function main(): Promise<void> {
  for (let version = 1; version <= 10_000; version++) {
    candles.open.fill(version);
    candles.high.fill(version);
    candles.low.fill(version);
    candles.close.fill(version);
    candles.volume.fill(version);
    await store.write(key, candles);
    process.stdout.write(`committed ${version}\n`);
  }
}

await main();
