// StrategyService handlers in memory (createRouterTransport) over the real core, and once over a
// real socket (createServiceServer on port 0) with a Connect client.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { timestampFromMs, timestampMs } from "@bufbuild/protobuf/wkt";
import {
  Code,
  ConnectError,
  createClient,
  createRouterTransport,
  type Client,
  type Interceptor,
} from "@connectrpc/connect";
import {
  createLogger,
  createServiceClient,
  createServiceServer,
  registerService,
  toConnectError,
  violationsOf,
  type ServiceServer,
} from "@tradai/common";
import { ParameterType, StrategyService } from "@tradai/proto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createStrategyHandlers } from "../src/api/strategy-handlers";
import { createStaticExchangeCatalog } from "../src/core/exchange-catalog";
import { createStrategyService } from "../src/core/strategy-service";
import { createCsvCandleSource } from "../src/infrastructure/csv-candle-source";
import { createDirectoryStrategySource } from "../src/infrastructure/directory-strategy-source";
import { createEsbuildStrategyCompiler } from "../src/infrastructure/esbuild-strategy-compiler";
import { createFileStrategyRegistryStore } from "../src/infrastructure/file-strategy-registry-store";
import { createWorkerStrategySandbox } from "../src/infrastructure/worker-strategy-sandbox";
import { dataDir, minimalStrategy, readFixture, readStrategy, SERIES_HELPER, strategiesDir } from "./helpers";

const sandbox = createWorkerStrategySandbox({ loadTimeoutMs: 5_000 });
let registryDir: string;
let handlers: ReturnType<typeof createStrategyHandlers>;
let client: Client<typeof StrategyService>;

// What the service server's interceptor does: domain errors become ConnectErrors with violations.
const errors: Interceptor = (next) => async (request) => {
  try {
    return await next(request);
  } catch (error) {
    throw toConnectError(error);
  }
};

beforeAll(async () => {
  registryDir = await mkdtemp(path.join(tmpdir(), "tradai-strategy-handlers-"));
  const service = createStrategyService({
    compiler: createEsbuildStrategyCompiler(),
    sandbox,
    store: createFileStrategyRegistryStore(registryDir),
    catalog: createStaticExchangeCatalog(),
    candles: createCsvCandleSource(dataDir),
  });
  await service.loadRepository(createDirectoryStrategySource(strategiesDir));
  handlers = createStrategyHandlers(service);
  const transport = createRouterTransport(({ service: route }) => route(StrategyService, handlers), {
    router: { interceptors: [errors] },
  });
  client = createClient(StrategyService, transport);
});

afterAll(async () => {
  await sandbox.close();
  await rm(registryDir, { recursive: true, force: true });
});

describe("StrategyService in memory", () => {
  it("ListStrategies returns metadata with the parameter schema", async () => {
    const response = await client.listStrategies({ page: { pageSize: 10 } });
    expect(response.strategies.map((strategy) => strategy.name)).toEqual([
      "BiasedLookahead",
      "EmaCrossTrailing",
      "MeanReversionLongShort",
      "SampleStrategy",
    ]);
    expect(response.page?.totalSize).toBe(4n);
    const sample = response.strategies.find((strategy) => strategy.name === "SampleStrategy");
    expect(sample?.minimalRoi.map((step) => [step.minutes, step.ratio])).toEqual([
      [0, 0.04],
      [30, 0.02],
      [60, 0.01],
    ]);
    expect(sample?.stoploss).toBe(-0.1);
    expect(sample?.startupCandleCount).toBe(200);
    expect(sample?.maxOpenTrades).toBe(-1);
    const buyRsi = sample?.parameters.find((parameter) => parameter.name === "buyRsi");
    expect(buyRsi).toMatchObject({ type: ParameterType.INT, min: 1, max: 50, space: "buy", optimize: true });
    expect(buyRsi?.defaultValue?.kind).toEqual({ case: "numberValue", value: 30 });
    expect(sample?.registeredAt).toBeDefined();
  });

  it("GetStrategy returns versions and, on request, the source", async () => {
    const response = await client.getStrategy({ name: "EmaCrossTrailing", includeSource: true });
    expect(response.strategy?.version).toMatch(/^[0-9a-f]{64}$/);
    expect(response.versions).toEqual([response.strategy?.version]);
    expect(response.source).toContain('name: "EmaCrossTrailing"');
    expect(response.strategy?.trailing).toMatchObject({
      trailingStop: true,
      trailingStopPositive: 0.015,
      trailingStopPositiveOffset: 0.03,
      trailingOnlyOffsetIsReached: true,
    });
    await expect(client.getStrategy({ name: "Nope" })).rejects.toMatchObject({ code: Code.NotFound });
  });

  it("RegisterStrategy creates a version once and rejects invalid sources with violations", async () => {
    const first = await client.registerStrategy({
      fileName: "handler_demo.ts",
      source: minimalStrategy("HandlerDemo"),
    });
    expect(first.created).toBe(true);
    const again = await client.registerStrategy({
      fileName: "handler_demo.ts",
      source: minimalStrategy("HandlerDemo"),
    });
    expect(again.created).toBe(false);
    expect(again.strategy?.version).toBe(first.strategy?.version);
    const error = await client
      .registerStrategy({ fileName: "bad.ts", source: "export default {" })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as ConnectError).code).toBe(Code.InvalidArgument);
    expect(violationsOf(error as ConnectError)[0]?.message).toBe(
      "bad.ts:1:17: Expected identifier but found end of file",
    );
  });

  it("RegisterStrategy takes the local files a strategy imports: same version as from the directory", async () => {
    const sample = readStrategy("sample_strategy.ts");
    const alone = await client
      .registerStrategy({ fileName: "sample_strategy.ts", source: sample })
      .catch((caught: unknown) => caught);
    expect((alone as ConnectError).code).toBe(Code.InvalidArgument);
    expect(violationsOf(alone as ConnectError)[0]?.message).toContain(
      'cannot resolve local import "./lib/series"',
    );
    const uploaded = await client.registerStrategy({
      fileName: "sample_strategy.ts",
      source: sample,
      files: [{ path: "lib/series.ts", source: SERIES_HELPER }],
    });
    const loaded = await client.getStrategy({ name: "SampleStrategy" });
    expect(uploaded.created).toBe(false); // the directory load registered these exact files
    expect(uploaded.strategy?.version).toBe(loaded.strategy?.version);
    const badPath = await client
      .registerStrategy({
        fileName: "sample_strategy.ts",
        source: sample,
        files: [{ path: "../lib/series.ts", source: SERIES_HELPER }],
      })
      .catch((caught: unknown) => caught);
    expect((badPath as ConnectError).code).toBe(Code.InvalidArgument);
    expect(violationsOf(badPath as ConnectError)).toEqual([
      expect.objectContaining({
        field: "files[0].path",
        found: '"../lib/series.ts"',
        expected: `a path inside the strategy's directory (no ".." segments), such as "lib/series.ts"`,
      }),
    ]);
  });

  it("ValidateStrategy returns issues with file and line, or the metadata", async () => {
    const bad = await client.validateStrategy({
      fileName: "missing.ts",
      source: minimalStrategy("Missing", "", "  populateIndicators() {},\n  populateEntryTrend() {},"),
    });
    expect(bad.valid).toBe(false);
    expect(bad.issues.map((issue) => [issue.field, issue.file, issue.line])).toEqual([
      ["populateExitTrend", "missing.ts", 3],
    ]);
    const good = await client.validateStrategy({ fileName: "ok.ts", source: minimalStrategy("Ok") });
    expect(good.valid).toBe(true);
    expect(good.strategy?.name).toBe("Ok");
  });

  it("ValidateConfig reports each field", async () => {
    const response = await client.validateConfig({
      config: {
        values: {
          strategy: "SampleStrategy",
          pairs: ["BTC/USDT"],
          params: { buyRsi: 99 },
          timerange: "2025-01-01",
        },
      },
    });
    expect(response.valid).toBe(false);
    expect(response.issues.map((issue) => issue.field)).toEqual(["timerange", "params.buyRsi"]);
    // The named strategy comes back resolved (latest version), so callers need no GetStrategy.
    const latest = await client.getStrategy({ name: "SampleStrategy" });
    expect(response.strategy?.version).toBe(latest.strategy?.version);
    expect(response.strategy?.startupCandleCount).toBe(latest.strategy?.startupCandleCount);
    const unknown = await client.validateConfig({ config: { values: { strategy: "Ghost" } } });
    expect(unknown.strategy).toBeUndefined();
    expect(unknown.issues.map((issue) => issue.field)).toContain("strategy");
  });

  it("PrepareConfig returns the config, its sources and Freqtrade JSON", async () => {
    const response = await client.prepareConfig({
      strategy: "SampleStrategy",
      configFile: { stake_amount: 20, pairs: ["ETH/USDT"] },
      overrides: { stake_amount: 30 },
    });
    expect(response.config?.values?.["stake_amount"]).toBe(30);
    expect(response.sources["stake_amount"]).toBe("overrides");
    expect(response.sources["pairs"]).toBe("config_file");
    expect(response.sources["stoploss"]).toBe("strategy");
    expect(JSON.parse(response.freqtradeConfigJson)).toMatchObject({
      stake_amount: 30,
      exchange: { pair_whitelist: ["ETH/USDT"] },
    });
  });

  it("GetStrategy shows informative pairs/timeframes; AnalyzeLookahead passes them merged on closed candles", async () => {
    await client.registerStrategy({
      fileName: "informative_trend.ts",
      source: readFixture("informative_trend.ts"),
    });
    const got = await client.getStrategy({ name: "InformativeTrend" });
    expect(got.strategy?.informative.map((entry) => [entry.pair, entry.timeframe])).toEqual([
      ["", "1h"],
      ["ETH/{quote}", "1h"],
    ]);
    expect(got.strategy?.timeframe).toBe("5m");
    expect(got.strategy?.tags).toEqual(["test", "informative"]);
    const report = await client.analyzeLookahead({
      strategy: "InformativeTrend",
      series: { exchange: "binance", symbol: "BTC/USDT", timeframe: "5m" },
      range: { start: timestampFromMs(Date.UTC(2025, 0, 20)), end: timestampFromMs(Date.UTC(2025, 0, 22)) },
      samples: 6,
      recursive: true,
    });
    expect(report.findings).toEqual([]);
    expect(report.hasBias).toBe(false);
    expect(report.samplesTested).toBe(6);
  });

  it("AnalyzeLookahead flags the biased strategy", async () => {
    const response = await client.analyzeLookahead({
      strategy: "BiasedLookahead",
      series: { exchange: "binance", symbol: "ETH/USDT", timeframe: "5m" },
      range: { start: timestampFromMs(Date.UTC(2025, 2, 1)), end: timestampFromMs(Date.UTC(2025, 2, 3)) },
      samples: 5,
    });
    expect(response.hasBias).toBe(true);
    expect(response.samplesTested).toBe(5);
    const next = response.findings.find((finding) => finding.column === "next_close");
    expect(next?.kind).toBe("lookahead");
    expect(next?.affectedCandles).toBe(5n);
    expect(timestampMs(next!.firstAffected!)).toBeGreaterThanOrEqual(Date.UTC(2025, 2, 1));
  });
});

describe("StrategyService over a real socket", () => {
  let server: ServiceServer;
  const logLines: Record<string, unknown>[] = [];
  beforeAll(async () => {
    server = await createServiceServer({
      name: "strategy",
      port: 0,
      logger: createLogger({
        service: "test",
        level: "info",
        destination: {
          write: (line: string) => void logLines.push(JSON.parse(line) as Record<string, unknown>),
        },
      }),
      services: [registerService(StrategyService, handlers)],
    });
  });
  afterAll(() => server.close());

  it("logs a user error on RegisterStrategy at info, with its violations and without a stack", async () => {
    const client = createServiceClient(StrategyService, server.url);
    logLines.length = 0;
    const error = await client
      .registerStrategy({
        fileName: "log_demo.ts",
        source: minimalStrategy("LogDemo").replace("-0.1", "0.5"),
      })
      .catch((caught: unknown) => caught);
    expect((error as ConnectError).code).toBe(Code.InvalidArgument);
    const failed = logLines.filter((line) => line["msg"] === "rpc failed");
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({
      level: "info",
      rpc: expect.stringContaining("RegisterStrategy"),
      code: "InvalidArgument",
      error: "strategy log_demo.ts is invalid",
      violations: [expect.objectContaining({ field: "stoploss", found: "0.5" })],
    });
    expect(failed[0]).not.toHaveProperty("err");
    expect(JSON.stringify(failed[0])).not.toMatch(/\bat \S+ \(/); // no stack frames
  });

  it("answers Connect and gRPC clients", async () => {
    const connect = createServiceClient(StrategyService, server.url);
    expect((await connect.listStrategies({})).strategies.length).toBeGreaterThanOrEqual(4);
    const grpc = createServiceClient(StrategyService, server.url, { protocol: "grpc" });
    const validated = await grpc.validateStrategy({
      fileName: "socket.ts",
      source: minimalStrategy("Socket"),
    });
    expect(validated.valid).toBe(true);
    // An upload with its local import, over gRPC: stored with the version and returned by GetStrategy.
    const source = readStrategy("sample_strategy.ts").replace('name: "SampleStrategy"', 'name: "GrpcSample"');
    const checked = await grpc.validateStrategy({
      fileName: "grpc_sample.ts",
      source,
      files: [{ path: "lib/series.ts", source: SERIES_HELPER }],
    });
    expect(checked.valid).toBe(true);
    const registered = await grpc.registerStrategy({
      fileName: "grpc_sample.ts",
      source,
      files: [
        { path: "lib/series.ts", source: SERIES_HELPER },
        { path: "lib/unused.ts", source: "export const unused = 1;\n" },
      ],
    });
    expect(registered.created).toBe(true);
    expect(registered.strategy?.version).toBe(checked.strategy?.version);
    const stored = await grpc.getStrategy({ name: "GrpcSample", includeSource: true });
    expect(stored.strategy?.version).toBe(registered.strategy?.version);
    expect(stored.fileName).toBe("grpc_sample.ts");
    expect(stored.sourceFiles).toEqual({ "grpc_sample.ts": source, "lib/series.ts": SERIES_HELPER });
    const absolute = await grpc.validateStrategy({
      fileName: "grpc_sample.ts",
      source,
      files: [{ path: "/etc/passwd.ts", source: "" }],
    });
    expect(absolute.valid).toBe(false);
    expect(absolute.issues.map((issue) => [issue.field, issue.found])).toEqual([
      ["files[0].path", '"/etc/passwd.ts"'],
    ]);
    const error = await grpc.getStrategy({ name: "" }).catch((caught: unknown) => caught);
    expect((error as ConnectError).code).toBe(Code.InvalidArgument);
    expect((error as ConnectError).rawMessage).toBe('name: expected a non-empty string, got ""');
  });
});
