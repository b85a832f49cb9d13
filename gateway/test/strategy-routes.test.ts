// /api/v1/strategies… over HTTP, in front of a real StrategyService (in-process, temp registry,
// the sample strategies and the shared candles).
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createLogger, createServiceServer, registerService, type ServiceServer } from "@tradai/common";
import { StrategyService } from "@tradai/proto";
import {
  createCsvCandleSource,
  createDirectoryStrategySource,
  createEsbuildStrategyCompiler,
  createFileStrategyRegistryStore,
  createStaticExchangeCatalog,
  createStrategyHandlers,
  createStrategyService,
  createWorkerStrategySandbox,
} from "@tradai/strategy";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildGateway } from "../src/app";
import { createServiceDirectory } from "../src/service-directory";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const dataDir = path.join(
  process.env.TRADAI_SHARED_DIR ?? path.resolve(repoRoot, "../shared"),
  "data",
  "ohlcv",
);
const logger = createLogger({ service: "test", level: "silent" });
const sandbox = createWorkerStrategySandbox();
let registryDir: string;
let server: ServiceServer;
let gateway: FastifyInstance;
let base: string;

const post = (route: string, body: unknown) =>
  fetch(`${base}${route}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });

const strategySource = (stoploss: string) => `import { defineStrategy } from "@tradai/engine";
export default defineStrategy({
  name: "RestDemo",
  timeframe: "1h",
  stoploss: ${stoploss},
  populateIndicators() {},
  populateEntryTrend() {},
  populateExitTrend() {},
});
`;

beforeAll(async () => {
  registryDir = await mkdtemp(path.join(tmpdir(), "tradai-gateway-strategies-"));
  const service = createStrategyService({
    compiler: createEsbuildStrategyCompiler(),
    sandbox,
    store: createFileStrategyRegistryStore(registryDir),
    catalog: createStaticExchangeCatalog(),
    candles: createCsvCandleSource(dataDir),
  });
  await service.loadRepository(createDirectoryStrategySource(path.join(repoRoot, "strategies")));
  server = await createServiceServer({
    name: "strategy",
    port: 0,
    logger,
    services: [registerService(StrategyService, createStrategyHandlers(service))],
  });
  // Only the strategy service is called by these routes; the others point at a closed port.
  const unused = "http://127.0.0.1:9";
  const services = createServiceDirectory(
    {
      backtest: unused,
      dataCollection: unused,
      strategy: server.url,
      liveTrading: unused,
      dryRunTrading: unused,
    },
    20_000,
  );
  gateway = await buildGateway({ services, logger });
  await gateway.listen({ host: "127.0.0.1", port: 0 });
  const address = gateway.server.address();
  base = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
});

afterAll(async () => {
  await gateway.close();
  await server.close();
  await sandbox.close();
  await rm(registryDir, { recursive: true, force: true });
});

describe("strategy routes", () => {
  it("GET /api/v1/strategies lists the samples in snake_case, filterable by tag", async () => {
    const response = await fetch(`${base}/api/v1/strategies`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { strategies: Record<string, unknown>[]; total_size: number };
    expect(body.total_size).toBe(4);
    const sample = body.strategies.find((strategy) => strategy["name"] === "SampleStrategy");
    expect(sample).toMatchObject({
      timeframe: "5m",
      stoploss: -0.1,
      startup_candle_count: 200,
      minimal_roi: { "0": 0.04, "30": 0.02, "60": 0.01 },
      can_short: false,
      trailing_stop_positive: null,
    });
    expect((sample?.["parameters"] as Record<string, unknown>[])[0]).toEqual({
      name: "buyRsi",
      type: "int",
      default: 30,
      min: 1,
      max: 50,
      decimals: 0,
      choices: [],
      space: "buy",
      optimize: true,
      description: "",
    });
    const tagged = (await (await fetch(`${base}/api/v1/strategies?tag=short`)).json()) as {
      strategies: { name: string }[];
    };
    expect(tagged.strategies.map((strategy) => strategy.name)).toEqual(["MeanReversionLongShort"]);
  });

  it("POST /api/v1/strategies registers (201), repeats (200), and GET shows both versions", async () => {
    const first = await post("/api/v1/strategies", {
      file_name: "rest_demo.ts",
      source: strategySource("-0.1"),
    });
    expect(first.status).toBe(201);
    const created = (await first.json()) as { strategy: { version: string }; created: boolean };
    expect(created.created).toBe(true);
    const repeat = await post("/api/v1/strategies", {
      file_name: "rest_demo.ts",
      source: strategySource("-0.1"),
    });
    expect(repeat.status).toBe(200);
    const second = (await (
      await post("/api/v1/strategies", { file_name: "rest_demo.ts", source: strategySource("-0.2") })
    ).json()) as {
      strategy: { version: string };
    };
    const got = (await (await fetch(`${base}/api/v1/strategies/RestDemo?include_source=true`)).json()) as {
      strategy: { version: string; stoploss: number };
      versions: string[];
      source: string;
    };
    expect(got.versions).toEqual([second.strategy.version, created.strategy.version]);
    expect(got.strategy.stoploss).toBe(-0.2);
    expect(got.source).toContain("stoploss: -0.2");
    const old = (await (
      await fetch(`${base}/api/v1/strategies/RestDemo?version=${created.strategy.version}`)
    ).json()) as {
      strategy: { stoploss: number };
    };
    expect(old.strategy.stoploss).toBe(-0.1);
  });

  it("answers problem+json: 404 for an unknown strategy, 400 with errors for an invalid source", async () => {
    const missing = await fetch(`${base}/api/v1/strategies/Nope`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    const invalid = await post("/api/v1/strategies", { file_name: "bad.ts", source: strategySource("0.5") });
    expect(invalid.status).toBe(400);
    const problem = (await invalid.json()) as { code: string; errors: { field: string; message: string }[] };
    expect(problem.code).toBe("invalid_argument");
    expect(problem.errors).toEqual([
      expect.objectContaining({
        field: "stoploss",
        message: "bad.ts:5: stoploss: expected a negative ratio from -1 to below 0, got 0.5",
      }),
    ]);
  });

  it("POST /api/v1/strategies takes the local files a strategy imports ({files: [{path, source}]})", async () => {
    const sample = await readFile(path.join(repoRoot, "strategies", "sample_strategy.ts"), "utf8");
    const series = await readFile(path.join(repoRoot, "strategies", "lib", "series.ts"), "utf8");
    const alone = await post("/api/v1/strategies", { file_name: "sample_strategy.ts", source: sample });
    expect(alone.status).toBe(400);
    const aloneProblem = (await alone.json()) as { errors: { field: string; message: string }[] };
    expect(aloneProblem.errors[0]?.message).toContain('cannot resolve local import "./lib/series"');

    const uploaded = await post("/api/v1/strategies", {
      file_name: "sample_strategy.ts",
      source: sample,
      files: [{ path: "lib/series.ts", source: series }],
    });
    // The directory load at start registered these exact files: same version, nothing new.
    expect(uploaded.status).toBe(200);
    const body = (await uploaded.json()) as { strategy: { name: string; version: string }; created: boolean };
    const latest = (await (
      await fetch(`${base}/api/v1/strategies/SampleStrategy?include_source=true`)
    ).json()) as {
      strategy: { version: string };
      file_name: string;
      files: { path: string; source: string }[];
    };
    expect(body).toMatchObject({ created: false, strategy: { name: "SampleStrategy" } });
    expect(body.strategy.version).toBe(latest.strategy.version);
    expect(latest.file_name).toBe("sample_strategy.ts");
    expect(latest.files).toEqual([{ path: "lib/series.ts", source: series }]);

    const edited = await post("/api/v1/strategies", {
      file_name: "sample_strategy.ts",
      source: sample.replace('name: "SampleStrategy"', 'name: "RestUploadedSample"'),
      files: [{ path: "lib/series.ts", source: series }],
    });
    expect(edited.status).toBe(201);

    const validated = await post("/api/v1/strategies/validate", {
      file_name: "sample_strategy.ts",
      source: sample,
      files: [{ path: "lib/series.ts", source: series }],
    });
    expect(((await validated.json()) as { valid: boolean }).valid).toBe(true);

    const escaping = await post("/api/v1/strategies", {
      file_name: "sample_strategy.ts",
      source: sample,
      files: [{ path: "../../etc/series.ts", source: series }],
    });
    expect(escaping.status).toBe(400);
    expect(escaping.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    const problem = (await escaping.json()) as { errors: { field: string; message: string }[] };
    expect(problem.errors).toEqual([
      expect.objectContaining({
        field: "files[0].path",
        message: `files[0].path: expected a path inside the strategy's directory (no ".." segments), such as "lib/series.ts", got "../../etc/series.ts"`,
      }),
    ]);
  });

  it("POST /api/v1/strategies/validate keeps its contract: {file_name, source} → {valid, issues}", async () => {
    const response = await post("/api/v1/strategies/validate", {
      file_name: "v.ts",
      source: "export default 1;",
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      valid: boolean;
      issues: { field: string; file: string; line: number }[];
    };
    expect(body.valid).toBe(false);
    expect(body.issues[0]).toMatchObject({ field: "default export", file: "v.ts", line: 1 });
  });

  it("POST /api/v1/strategies/validate-config reports every field", async () => {
    const response = await post("/api/v1/strategies/validate-config", {
      config: { strategy: "SampleStrategy", pairs: ["BTC-USDT"], stake_amount: 0, params: { sellRsi: 10 } },
    });
    const body = (await response.json()) as { valid: boolean; issues: { field: string }[] };
    expect(body.valid).toBe(false);
    expect(body.issues.map((issue) => issue.field)).toEqual(["pairs[0]", "stake_amount", "params.sellRsi"]);
  });

  it("POST /api/v1/strategies/:name/prepare-config returns config, sources and Freqtrade config", async () => {
    const response = await post("/api/v1/strategies/EmaCrossTrailing/prepare-config", {
      config_file: { pairs: ["BTC/USDT"], stoploss: -0.07 },
      overrides: { timerange: "20240101-20240201" },
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      config: Record<string, unknown>;
      sources: Record<string, string>;
      freqtrade_config: Record<string, unknown>;
    };
    expect(body.config["stoploss"]).toBe(-0.07);
    expect(body.sources).toMatchObject({
      stoploss: "config_file",
      timerange: "overrides",
      timeframe: "strategy",
      dry_run_wallet: "default",
    });
    expect(body.freqtrade_config).toMatchObject({
      strategy: "EmaCrossTrailing",
      stoploss: -0.07,
      timeframe: "1h",
    });
  });

  it("POST /api/v1/strategies/:name/lookahead-analysis flags the biased strategy", async () => {
    const response = await post("/api/v1/strategies/BiasedLookahead/lookahead-analysis", {
      exchange: "binance",
      symbol: "BTC/USDT",
      start: "2025-02-01T00:00:00Z",
      end: "2025-02-02T00:00:00Z",
      samples: 4,
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      has_bias: boolean;
      samples_tested: number;
      findings: { column: string; affected_candles: number; first_affected: string }[];
    };
    expect(body.has_bias).toBe(true);
    expect(body.samples_tested).toBe(4);
    const next = body.findings.find((finding) => finding.column === "next_close");
    expect(next?.affected_candles).toBe(4);
    expect(Date.parse(next?.first_affected ?? "")).toBeGreaterThanOrEqual(Date.UTC(2025, 1, 1));
  });
});
