import { mkdtemp, readdir, rm } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createClient, createRouterTransport } from "@connectrpc/connect";
import { DataCollectionService, DataFormat } from "@tradai/proto";
import { describe, expect, it } from "vitest";
import { createDataCollectionDependencies } from "../src/infrastructure/create-data-collection-dependencies";
import { createMotoS3Client, createTestBucket, motoUrl } from "./support/moto";

const feather = readFileSync(fileURLToPath(new URL("./fixtures/BTC_USDT-1h.feather", import.meta.url)));
const series = { exchange: "binance", symbol: "BTC/USDT", timeframe: "1h" };

function clientFor(dependencies: ReturnType<typeof createDataCollectionDependencies>) {
  return createClient(
    DataCollectionService,
    createRouterTransport(({ service }) => service(DataCollectionService, dependencies.handlers)),
  );
}

describe("createDataCollectionDependencies", () => {
  it("wires the local store under <dataDirectory>/ohlcv", async () => {
    const directory = await mkdtemp(join(tmpdir(), "tradai-deps-"));
    try {
      const client = clientFor(
        createDataCollectionDependencies({ dataDirectory: directory, store: "local" }),
      );
      const response = await client.importData({
        series,
        format: DataFormat.FREQTRADE_FEATHER,
        content: feather,
      });
      expect(response.candlesImported).toBe(500n);
      expect(await readdir(join(directory, "ohlcv", "binance"))).toEqual(["BTC%2FUSDT"]);
      expect((await client.getDatasetMetadata({})).series.map((entry) => entry.count)).toEqual([500n]);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });

  it.skipIf(motoUrl === undefined)("wires the S3 store with its cache", async () => {
    const directory = await mkdtemp(join(tmpdir(), "tradai-deps-"));
    try {
      const bucket = await createTestBucket(createMotoS3Client(motoUrl ?? ""));
      const config = { dataDirectory: directory, store: "s3" as const, s3: { bucket, endpoint: motoUrl } };
      const writer = clientFor(
        createDataCollectionDependencies(config, { s3Client: createMotoS3Client(motoUrl ?? "") }),
      );
      await writer.importData({ series, format: DataFormat.FREQTRADE_FEATHER, content: feather });
      // Another host with an empty cache sees the same series.
      const reader = clientFor(
        createDataCollectionDependencies(
          { ...config, cacheDirectory: join(directory, "other-cache") },
          { s3Client: createMotoS3Client(motoUrl ?? "") },
        ),
      );
      const exported = await reader.exportData({ series, format: DataFormat.CSV });
      expect(exported.candlesExported).toBe(500n);
      expect(Buffer.from(exported.content).toString().split("\n")[1]).toBe(
        "1502942400000,4261.48,4313.62,4261.32,4308.83,47.181009",
      );
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });

  it("refuses an S3 store without a bucket, naming the variable", () => {
    expect(() => createDataCollectionDependencies({ dataDirectory: "/tmp/x", store: "s3" })).toThrow(
      /^DATA_COLLECTION_S3_BUCKET: /,
    );
  });
});
