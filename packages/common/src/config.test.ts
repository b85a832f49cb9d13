import { describe, expect, it } from "vitest";
import {
  booleanField,
  ConfigError,
  describeConfig,
  enumField,
  envName,
  integerField,
  listField,
  loadConfig,
  optionalStringField,
  portField,
  stringField,
  urlField,
} from "./config";

const schema = {
  port: portField({ description: "listen port", default: 8002 }),
  host: stringField({ description: "bind address", default: "127.0.0.1" }),
  storeKind: enumField(["local", "s3"], { description: "store", default: "local" }),
  retryCount: integerField({ description: "retries", default: 3, min: 0, max: 10 }),
  verbose: booleanField({ description: "verbose", default: false }),
  mlflowTrackingUri: urlField({ description: "MLflow", default: "http://127.0.0.1:5000" }),
  pairs: listField({ description: "pairs", default: [] }),
  apiSecret: optionalStringField({ description: "secret", secret: true }),
};

describe("loadConfig", () => {
  it("maps camelCase fields to PREFIX_SNAKE_CASE variables", () => {
    expect(envName("DATA_COLLECTION_", "mlflowTrackingUri")).toBe("DATA_COLLECTION_MLFLOW_TRACKING_URI");
  });

  it("uses defaults and parses every field type", () => {
    const config = loadConfig({
      prefix: "DC_",
      schema,
      env: {
        DC_PORT: "9000",
        DC_STORE_KIND: "s3",
        DC_VERBOSE: "1",
        DC_PAIRS: "BTC/USDT, ETH/USDT,",
        DC_RETRY_COUNT: "0",
      },
    });
    expect(config).toEqual({
      port: 9000,
      host: "127.0.0.1",
      storeKind: "s3",
      retryCount: 0,
      verbose: true,
      mlflowTrackingUri: "http://127.0.0.1:5000",
      pairs: ["BTC/USDT", "ETH/USDT"],
      apiSecret: undefined,
    });
  });

  it("names the variable, what was expected and what was found for a non-numeric port", () => {
    expect(() => loadConfig({ prefix: "DC_", schema, env: { DC_PORT: "eighty" } })).toThrow(
      'DC_PORT: expected an integer from 0 to 65535, got "eighty"',
    );
  });

  it("reports every problem at once, including unknown variables with the prefix", () => {
    let error: unknown;
    try {
      loadConfig({
        prefix: "DC_",
        schema,
        env: {
          DC_PORT: "70000",
          DC_STORE_KIND: "gcs",
          DC_RETRY_COUNT: "1.5",
          DC_VERBOSE: "yes",
          DC_PROT: "1",
          OTHER_PORT: "x",
        },
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      'DC_PORT: expected an integer from 0 to 65535, got "70000"',
      'DC_STORE_KIND: expected one of local, s3, got "gcs"',
      'DC_RETRY_COUNT: expected an integer from 0 to 10, got "1.5"',
      'DC_VERBOSE: expected one of true, false, 1, 0, got "yes"',
      expect.stringMatching(
        /^DC_PROT is not a known setting: expected one of DC_API_SECRET, DC_HOST, .*DC_PORT/,
      ),
    ]);
  });

  it("requires fields without a default", () => {
    const required = { clusterArn: stringField({ description: "ECS cluster" }) };
    expect(() => loadConfig({ prefix: "B_", schema: required, env: {} })).toThrow(
      "B_CLUSTER_ARN is required: expected a non-empty string (ECS cluster), got nothing",
    );
  });

  it("treats 0 and empty lists as values, not as missing", () => {
    const config = loadConfig({ prefix: "DC_", schema, env: { DC_PORT: "0", DC_PAIRS: "" } });
    expect(config.port).toBe(0);
    expect(config.pairs).toEqual([]);
  });

  it("redacts secrets when describing and in error messages", () => {
    const config = loadConfig({ prefix: "DC_", schema, env: { DC_API_SECRET: "hunter2" } });
    expect(config.apiSecret).toBe("hunter2");
    expect(describeConfig(schema, config).apiSecret).toBe("<redacted>");
    const strict = { token: integerField({ description: "t", default: 1, secret: true }) };
    expect(() => loadConfig({ prefix: "X_", schema: strict, env: { X_TOKEN: "abc" } })).toThrow(
      "X_TOKEN: expected an integer, got <redacted>",
    );
  });

  it("rejects relative URLs", () => {
    expect(() =>
      loadConfig({ prefix: "DC_", schema, env: { DC_MLFLOW_TRACKING_URI: "mlflow:5000/x y" } }),
    ).toThrow(/DC_MLFLOW_TRACKING_URI: expected an absolute http or https URL/);
  });
});
