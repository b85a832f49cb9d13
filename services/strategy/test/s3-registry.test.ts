// S3-backed strategies and registry against moto_server (TRADAI_TEST_MOTO_URL, started by the
// suite's global setup): load strategies from a prefix, register versions, read them back from a
// second service instance that shares only the bucket.
import { randomUUID } from "node:crypto";
import {
  CreateBucketCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createStaticExchangeCatalog } from "../src/core/exchange-catalog";
import { createStrategyService } from "../src/core/strategy-service";
import { createEsbuildStrategyCompiler } from "../src/infrastructure/esbuild-strategy-compiler";
import { createS3Client } from "../src/infrastructure/s3-client";
import { parseS3Url } from "../src/infrastructure/s3-location";
import { createS3StrategyRegistryStore } from "../src/infrastructure/s3-strategy-registry-store";
import { createS3StrategySource } from "../src/infrastructure/s3-strategy-source";
import { createWorkerStrategySandbox } from "../src/infrastructure/worker-strategy-sandbox";
import { minimalStrategy, readStrategy, SERIES_HELPER } from "./helpers";

const motoUrl = process.env.TRADAI_TEST_MOTO_URL;

describe.skipIf(motoUrl === undefined)("S3-backed strategies and registry (moto)", () => {
  const bucket = `tradai-strategies-${randomUUID().slice(0, 8)}`;
  const sandbox = createWorkerStrategySandbox();
  let s3: S3Client;

  const createService = () =>
    createStrategyService({
      compiler: createEsbuildStrategyCompiler(),
      sandbox,
      store: createS3StrategyRegistryStore(s3, parseS3Url(`s3://${bucket}/registry`)),
      catalog: createStaticExchangeCatalog(),
    });

  beforeAll(async () => {
    process.env.AWS_ACCESS_KEY_ID ??= "testing";
    process.env.AWS_SECRET_ACCESS_KEY ??= "testing";
    s3 = createS3Client({ region: "us-east-1", endpoint: motoUrl });
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    for (const file of ["ema_cross_trailing.ts", "sample_strategy.ts", "lib/series.ts"]) {
      await s3.send(
        new PutObjectCommand({ Bucket: bucket, Key: `strategies/${file}`, Body: readStrategy(file) }),
      );
    }
    await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: "strategies/broken.ts", Body: "export default {" }),
    );
  });

  afterAll(async () => {
    await sandbox.close();
    s3.destroy();
  });

  it("loads the strategies under the prefix, reporting the broken one", async () => {
    const service = createService();
    const report = await service.loadRepository(
      createS3StrategySource(s3, parseS3Url(`s3://${bucket}/strategies/`)),
    );
    expect(report.registered.map((entry) => entry.name).sort()).toEqual([
      "EmaCrossTrailing",
      "SampleStrategy",
    ]);
    expect(report.failed.map((entry) => [entry.entry, entry.issues[0]?.file, entry.issues[0]?.line])).toEqual(
      [["broken.ts", "broken.ts", 1]],
    );
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: "registry/" }));
    expect(listed.Contents?.map((object) => object.Key?.replace(/[0-9a-f]{64}/, "<sha256>")).sort()).toEqual([
      "registry/EmaCrossTrailing/<sha256>.json",
      "registry/SampleStrategy/<sha256>.json",
    ]);
  });

  it("pings the bucket for the health check", async () => {
    await expect(
      createS3StrategyRegistryStore(s3, parseS3Url(`s3://${bucket}/registry`)).ping(),
    ).resolves.toBeUndefined();
    await expect(
      createS3StrategyRegistryStore(s3, parseS3Url(`s3://${bucket}-missing/registry`)).ping(),
    ).rejects.toThrow();
  });

  it("registers a new version next to the old one, visible from another instance", async () => {
    const writer = createService();
    const first = await writer.register("s3_demo.ts", minimalStrategy("S3Demo"));
    const second = await writer.register("s3_demo.ts", minimalStrategy("S3Demo").replace("-0.1", "-0.25"));
    expect(first.created && second.created).toBe(true);
    expect((await writer.register("s3_demo.ts", minimalStrategy("S3Demo"))).created).toBe(false);

    const reader = createService();
    const latest = await reader.get("S3Demo");
    expect(latest.record.version).toBe(second.record.version);
    expect(latest.versions.sort()).toEqual([first.record.version, second.record.version].sort());
    const old = await reader.get("S3Demo", first.record.version);
    expect(old.record.description.stoploss).toBe(-0.1);
    expect(old.record.sources["s3_demo.ts"]).toBe(minimalStrategy("S3Demo"));
    expect((await reader.list()).strategies.map((record) => record.name)).toContain("S3Demo");
  });

  it("stores an upload's local files with its version in S3", async () => {
    const source = readStrategy("sample_strategy.ts").replace('name: "SampleStrategy"', 'name: "S3Upload"');
    const edited = `${SERIES_HELPER}// edited: a new version\n`;
    const writer = createService();
    const first = await writer.register("s3_upload.ts", source, [
      { path: "lib/series.ts", source: SERIES_HELPER },
    ]);
    const second = await writer.register("s3_upload.ts", source, [{ path: "lib/series.ts", source: edited }]);
    expect(first.created && second.created).toBe(true);
    expect(second.record.version).not.toBe(first.record.version);
    const reader = createService();
    expect((await reader.get("S3Upload", first.record.version)).record.sources).toEqual({
      "s3_upload.ts": source,
      "lib/series.ts": SERIES_HELPER,
    });
    expect((await reader.get("S3Upload")).record.sources["lib/series.ts"]).toBe(edited);
  });
});
