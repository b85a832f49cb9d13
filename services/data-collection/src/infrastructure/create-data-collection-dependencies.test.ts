import { describe, expect, it } from "vitest";
import { dataCollectionConfigFromEnv } from "./create-data-collection-dependencies";

describe("dataCollectionConfigFromEnv", () => {
  it("defaults to the local store", () => {
    expect(dataCollectionConfigFromEnv({})).toMatchObject({
      dataDirectory: ".tradai/data",
      store: "local",
      s3: undefined,
      retry: {},
    });
  });

  it("reads the S3 store, exchanges, overrides and retry settings", () => {
    const config = dataCollectionConfigFromEnv({
      DATA_COLLECTION_STORE: "s3",
      DATA_COLLECTION_S3_BUCKET: "tradai-arcticdb-dev",
      DATA_COLLECTION_S3_ENDPOINT: "http://127.0.0.1:5000",
      DATA_COLLECTION_EXCHANGES: "binance, binanceusdm",
      DATA_COLLECTION_EXCHANGE_OVERRIDES: '{"binance":{"timeout":5000}}',
      DATA_COLLECTION_RETRY_MAX_ATTEMPTS: "3",
    });
    expect(config).toMatchObject({
      store: "s3",
      s3: { bucket: "tradai-arcticdb-dev", endpoint: "http://127.0.0.1:5000" },
      exchanges: ["binance", "binanceusdm"],
      exchangeOverrides: { binance: { timeout: 5000 } },
      retry: { maxAttempts: 3 },
    });
  });

  it.each([
    [{ DATA_COLLECTION_STORE: "arctic" }, 'DATA_COLLECTION_STORE: expected "local" or "s3", got "arctic"'],
    [
      { DATA_COLLECTION_STORE: "s3" },
      "DATA_COLLECTION_S3_BUCKET: expected a bucket name when DATA_COLLECTION_STORE=s3, got none",
    ],
    [
      { DATA_COLLECTION_RETRY_MAX_ATTEMPTS: "-1" },
      'DATA_COLLECTION_RETRY_MAX_ATTEMPTS: expected a positive integer, got "-1"',
    ],
    [
      { DATA_COLLECTION_EXCHANGE_OVERRIDES: "[1]" },
      "DATA_COLLECTION_EXCHANGE_OVERRIDES: expected a JSON object keyed by exchange id",
    ],
  ])("rejects %j naming the variable", (env, message) => {
    expect(() => dataCollectionConfigFromEnv(env)).toThrow(message);
  });
});
