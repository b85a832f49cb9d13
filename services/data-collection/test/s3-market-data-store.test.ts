import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from "@aws-sdk/client-s3";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { copyCandles } from "../src/core/candles";
import { seriesPath } from "../src/infrastructure/store/columnar-market-data-store";
import { createS3MarketDataStore } from "../src/infrastructure/store/create-market-data-store";
import { describeMarketDataStoreContract } from "./support/market-data-store-contract";
import { createMotoS3Client, createTestBucket, motoUrl } from "./support/moto";
import { loadSharedCandles } from "./support/shared-data";

describe.skipIf(motoUrl === undefined)("S3 market data store on moto", () => {
  const client = createMotoS3Client(motoUrl ?? "http://127.0.0.1:1");

  describeMarketDataStoreContract("S3 (moto) with a local cache", async () => {
    const bucket = await createTestBucket(client);
    const caches: string[] = [];
    const newCache = async (): Promise<string> => {
      const directory = await mkdtemp(join(tmpdir(), "tradai-s3cache-"));
      caches.push(directory);
      return directory;
    };
    const open = (cacheDirectory: string) =>
      createS3MarketDataStore({ client, bucket, prefix: "ohlcv/", cacheDirectory });
    const firstCache = await newCache();
    return {
      store: open(firstCache),
      // Another host: same bucket, empty cache.
      reopen: () => {
        const directory = join(firstCache, `other-${caches.length}-${Math.random().toString(36).slice(2)}`);
        caches.push(directory);
        return open(directory);
      },
      async corruptPartition(key, mutate) {
        const prefix = `ohlcv/${seriesPath(key)}/`;
        const listing = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
        const keys = (listing.Contents ?? [])
          .map((object) => object.Key ?? "")
          .filter((name) => name.endsWith(".tdc"))
          .sort();
        const objectKey = keys[keys.length - 1] ?? "";
        const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: objectKey }));
        const bytes = await object.Body?.transformToByteArray();
        await client.send(
          new PutObjectCommand({ Bucket: bucket, Key: objectKey, Body: mutate(bytes ?? new Uint8Array()) }),
        );
        return `s3://${bucket}/${objectKey}`;
      },
      async corruptManifest(key, bytes) {
        await client.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: `ohlcv/${seriesPath(key)}/manifest.json`,
            Body: bytes,
          }),
        );
      },
      cleanup: async () => {
        // Reopened caches are nested in the first one: remove children first, one at a time.
        for (const directory of [...caches].reverse()) await rm(directory, { recursive: true, force: true });
      },
    };
  });

  it("rejects a commit over a manifest another host changed since it was read", async () => {
    const bucket = await createTestBucket(client);
    const cacheDirectory = await mkdtemp(join(tmpdir(), "tradai-s3cache-"));
    try {
      const key = { exchange: "binance", symbol: "BTC/USDT", timeframe: "1h" };
      const candles = loadSharedCandles("binance_BTC_USDT-1h.csv.gz");
      const hostA = createS3MarketDataStore({ client, bucket, cacheDirectory: join(cacheDirectory, "a") });
      const hostB = createS3MarketDataStore({ client, bucket, cacheDirectory: join(cacheDirectory, "b") });
      await hostA.write(key, copyCandles(candles, 0, 100));
      // Both hosts write at once: the conditional PUT lets exactly one commit per manifest version.
      const results = await Promise.allSettled([
        hostA.write(key, copyCandles(candles, 100, 200)),
        hostB.write(key, copyCandles(candles, 200, 300)),
      ]);
      const rejected = results.filter((result) => result.status === "rejected");
      for (const result of rejected)
        expect((result as PromiseRejectedResult).reason).toMatchObject({ kind: "aborted" });
      const count = (await hostA.info(key))?.count;
      expect(count).toBe(100 + 100 * (2 - rejected.length));
      // The loser's partition files neither replaced the winner's nor stayed behind in the bucket.
      const fresh = createS3MarketDataStore({ client, bucket, cacheDirectory: join(cacheDirectory, "c") });
      const stored = await fresh.read(key);
      const winners = results.flatMap((result, index) =>
        result.status === "fulfilled" ? [copyCandles(candles, 100 + index * 100, 200 + index * 100)] : [],
      );
      const expected = [
        ...copyCandles(candles, 0, 100).timestamps,
        ...winners.flatMap((w) => [...w.timestamps]),
      ];
      expect([...stored.timestamps]).toEqual(expected.sort((a, b) => a - b));
      const listing = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
      const partitionObjects = (listing.Contents ?? []).filter((object) => object.Key?.endsWith(".tdc"));
      const manifest = await client.send(
        new GetObjectCommand({ Bucket: bucket, Key: `${seriesPath(key)}/manifest.json` }),
      );
      const referenced = (
        JSON.parse((await manifest.Body?.transformToString()) ?? "{}") as { partitions: unknown[] }
      ).partitions.length;
      expect(partitionObjects).toHaveLength(referenced);
    } finally {
      await rm(cacheDirectory, { recursive: true, force: true });
    }
  });
});
