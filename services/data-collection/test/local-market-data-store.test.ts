import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { describe, expect, it } from "vitest";
import { seriesPath } from "../src/infrastructure/store/columnar-market-data-store";
import { createLocalMarketDataStore } from "../src/infrastructure/store/create-market-data-store";
import { describeMarketDataStoreContract } from "./support/market-data-store-contract";
import { loadSharedCandles } from "./support/shared-data";

async function latestPartition(directory: string): Promise<string> {
  const files = (await readdir(directory)).filter((file) => file.endsWith(".tdc")).sort();
  const file = files[files.length - 1];
  if (file === undefined) throw new Error(`no partition in ${directory}`);
  return join(directory, file);
}

describeMarketDataStoreContract("local disk", async () => {
  const directory = await mkdtemp(join(tmpdir(), "tradai-store-"));
  return {
    store: createLocalMarketDataStore({ directory }),
    reopen: () => createLocalMarketDataStore({ directory }),
    async corruptPartition(key, mutate) {
      const file = await latestPartition(join(directory, seriesPath(key)));
      await writeFile(file, mutate(await readFile(file)));
      // Errors name partitions relative to the store, never by the server's absolute path.
      return `${seriesPath(key)}/${basename(file)}`;
    },
    async corruptManifest(key, bytes) {
      await writeFile(join(directory, seriesPath(key), "manifest.json"), bytes);
    },
    cleanup: () => rm(directory, { recursive: true, force: true }),
  };
});

describe("local store reads after verification", () => {
  it("still detects a partition truncated after this process verified it", async () => {
    const directory = await mkdtemp(join(tmpdir(), "tradai-store-"));
    try {
      const store = createLocalMarketDataStore({ directory });
      const key = { exchange: "binance", symbol: "BTC/USDT", timeframe: "1h" };
      const candles = loadSharedCandles("binance_BTC_USDT-1h.csv.gz");
      await store.write(key, candles);
      expect((await store.read(key)).timestamps.length).toBe(74_464);
      const file = await latestPartition(join(directory, seriesPath(key)));
      const bytes = await readFile(file);
      await writeFile(file, bytes.subarray(0, bytes.length - 8));
      const error = await store.read(key).catch((caught: unknown) => caught);
      expect(error).toMatchObject({ kind: "data-loss" });
      expect((error as Error).message).toContain(
        `${seriesPath(key)}/${basename(file)}: truncated or corrupt partition`,
      );
      expect((error as Error).message).not.toContain(directory);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});

describe("local store idempotent writes", () => {
  it("rewrites nothing when the same candles are written again, and only the changed partition otherwise", async () => {
    const directory = await mkdtemp(join(tmpdir(), "tradai-store-"));
    try {
      const store = createLocalMarketDataStore({ directory });
      const key = { exchange: "binance", symbol: "ETH/USDT", timeframe: "1h" };
      const candles = loadSharedCandles("binance_ETH_USDT-1h.csv.gz");
      await store.write(key, candles);
      const seriesDirectory = join(directory, seriesPath(key));
      const before = (await readdir(seriesDirectory)).sort();
      expect(await store.write(key, candles)).toEqual({ count: 74_462, replaced: 74_462 });
      expect((await readdir(seriesDirectory)).sort()).toEqual(before);
      const changed = { ...candles, close: candles.close.slice() };
      changed.close[10] = 1; // 2017: one partition changes
      await store.write(key, changed);
      const after = (await readdir(seriesDirectory)).filter((file) => file.endsWith(".tdc")).sort();
      expect(after.filter((file) => file.includes(".g00000002-")).map(withoutWriteToken)).toEqual([
        "2017.g00000002.tdc",
      ]);
      expect((await store.read(key)).close[10]).toBe(1);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});

describe("local store readers during writes", () => {
  it("readers never see a half-written version while a writer (another instance) rewrites the series", async () => {
    const directory = await mkdtemp(join(tmpdir(), "tradai-store-"));
    try {
      const writer = createLocalMarketDataStore({ directory });
      const reader = createLocalMarketDataStore({ directory, verifyChecksums: "always" });
      const key = { exchange: "binance", symbol: "BTC/USDT", timeframe: "1m" };
      const count = 100_000; // 3 monthly partitions
      const candles = {
        timestamps: Float64Array.from(
          { length: count },
          (_, index) => Date.UTC(2024, 0, 15) + index * 60_000,
        ),
        open: new Float64Array(count),
        high: new Float64Array(count),
        low: new Float64Array(count),
        close: new Float64Array(count),
        volume: new Float64Array(count),
      };
      await writer.write(key, candles);
      let writing = true;
      const writes = (async () => {
        for (let version = 1; version <= 8; version++) {
          candles.close.fill(version);
          await writer.write(key, candles);
        }
        writing = false;
      })();
      const seen = new Set<number>();
      for (let round = 0; round < 200 && (writing || round < 3); round++) {
        const read = await reader.read(key);
        expect(read.timestamps.length).toBe(count);
        const version = read.close[0] ?? -1;
        expect(read.close.every((value) => value === version)).toBe(true);
        seen.add(version);
      }
      await writes;
      expect((await reader.read(key)).close[count - 1]).toBe(8);
      expect(seen.size).toBeGreaterThan(1);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});

describe("local store layout", () => {
  it("partitions 1m series by month and 1h series by year", async () => {
    const directory = await mkdtemp(join(tmpdir(), "tradai-store-"));
    try {
      const store = createLocalMarketDataStore({ directory });
      const minute = { exchange: "binance", symbol: "BTC/USDT", timeframe: "1m" };
      const start = Date.UTC(2024, 0, 31, 23, 58);
      const candles = {
        timestamps: Float64Array.from([start, start + 60_000, start + 120_000]),
        open: Float64Array.from([1, 2, 3]),
        high: Float64Array.from([1, 2, 3]),
        low: Float64Array.from([1, 2, 3]),
        close: Float64Array.from([1, 2, 3]),
        volume: Float64Array.from([1, 2, 3]),
      };
      await store.write(minute, candles);
      const files = (await readdir(join(directory, "binance", "BTC%2FUSDT", "1m"))).sort();
      expect(files.map(withoutWriteToken)).toEqual([
        "2024-01.g00000001.tdc",
        "2024-02.g00000001.tdc",
        "manifest.json",
      ]);
      const manifest = JSON.parse(
        await readFile(join(directory, "binance", "BTC%2FUSDT", "1m", "manifest.json"), "utf8"),
      ) as {
        partitions: { period: string; count: number }[];
      };
      expect(manifest.partitions.map((partition) => [partition.period, partition.count])).toEqual([
        ["2024-01", 2],
        ["2024-02", 1],
      ]);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});

/** Partition files are named <period>.g<generation>-<8 hex write token>.tdc. */
function withoutWriteToken(file: string): string {
  return file.replace(/^(.*\.g\d{8})-[0-9a-f]{8}(\.tdc)$/, "$1$2");
}
