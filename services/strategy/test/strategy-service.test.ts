// The domain service over the real compiler, worker sandbox, file registry and shared candles:
// versions, config validation and preparation, and the look-ahead analysis.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Code } from "@connectrpc/connect";
import { DomainError } from "@tradai/common";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createStaticExchangeCatalog } from "../src/core/exchange-catalog";
import { createStrategyService, type StrategyService } from "../src/core/strategy-service";
import { createCsvCandleSource } from "../src/infrastructure/csv-candle-source";
import { createDirectoryStrategySource } from "../src/infrastructure/directory-strategy-source";
import { createEsbuildStrategyCompiler } from "../src/infrastructure/esbuild-strategy-compiler";
import { createFileStrategyRegistryStore } from "../src/infrastructure/file-strategy-registry-store";
import {
  createWorkerStrategySandbox,
  type WorkerStrategySandbox,
} from "../src/infrastructure/worker-strategy-sandbox";
import { dataDir, minimalStrategy, readFixture, readStrategy, SERIES_HELPER, strategiesDir } from "./helpers";

let registryDir: string;
let sandbox: WorkerStrategySandbox;
let service: StrategyService;
let now = Date.UTC(2026, 10, 25, 12);

beforeAll(async () => {
  registryDir = await mkdtemp(path.join(tmpdir(), "tradai-strategy-registry-"));
  sandbox = createWorkerStrategySandbox({ loadTimeoutMs: 5_000, analysisTimeoutMs: 30_000 });
  service = createStrategyService({
    compiler: createEsbuildStrategyCompiler(),
    sandbox,
    store: createFileStrategyRegistryStore(registryDir),
    catalog: createStaticExchangeCatalog(),
    candles: createCsvCandleSource(dataDir),
    clock: () => (now += 1_000),
  });
  const report = await service.loadRepository(createDirectoryStrategySource(strategiesDir));
  expect(report.failed).toEqual([]);
});

afterAll(async () => {
  await sandbox.close();
  await rm(registryDir, { recursive: true, force: true });
});

describe("registry and versions", () => {
  it("lists the loaded samples, latest version each, filterable by tag", async () => {
    const all = await service.list();
    expect(all.strategies.map((record) => record.name)).toEqual([
      "BiasedLookahead",
      "EmaCrossTrailing",
      "MeanReversionLongShort",
      "SampleStrategy",
    ]);
    const futures = await service.list({ tag: "futures" });
    expect(futures.strategies.map((record) => record.name)).toEqual(["MeanReversionLongShort"]);
    const paged = await service.list({ pageSize: 3 });
    expect(paged.nextPageToken).toBe("3");
    expect(
      (await service.list({ pageSize: 3, pageToken: "3" })).strategies.map((record) => record.name),
    ).toEqual(["SampleStrategy"]);
  });

  it("gives an edited source a new version and keeps the old one retrievable", async () => {
    const first = await service.register("versioned.ts", minimalStrategy("Versioned"));
    expect(first.created).toBe(true);
    expect(first.record.version).toMatch(/^[0-9a-f]{64}$/);
    const again = await service.register("versioned.ts", minimalStrategy("Versioned"));
    expect(again).toMatchObject({ created: false, record: { version: first.record.version } });
    const edited = await service.register(
      "versioned.ts",
      minimalStrategy("Versioned").replace("stoploss: -0.1", "stoploss: -0.2"),
    );
    expect(edited.created).toBe(true);
    expect(edited.record.version).not.toBe(first.record.version);

    const latest = await service.get("Versioned");
    expect(latest.record.version).toBe(edited.record.version);
    expect(latest.record.description.stoploss).toBe(-0.2);
    expect(latest.versions).toEqual([edited.record.version, first.record.version]);
    const old = await service.get("Versioned", first.record.version);
    expect(old.record.description.stoploss).toBe(-0.1);
    expect(old.record.sources["versioned.ts"]).toBe(minimalStrategy("Versioned"));
  });

  it("changes the version when only a local import changes", async () => {
    const entry = `import { shift } from "./lib/series";\nexport const lag = shift;\n${minimalStrategy("WithImport")}`;
    const one = await service.register("with_import.ts", entry, [
      { path: "lib/series.ts", source: SERIES_HELPER },
    ]);
    const two = await service.register("with_import.ts", entry, [
      { path: "lib/series.ts", source: `${SERIES_HELPER}\n// edited\n` },
    ]);
    expect(two.created).toBe(true);
    expect(two.record.version).not.toBe(one.record.version);
    expect(Object.keys(two.record.sources).sort()).toEqual(["lib/series.ts", "with_import.ts"]);
  });

  it("refuses to register an invalid source, naming every problem", async () => {
    const source = minimalStrategy("Invalid", "", "  populateIndicators() {},").replace(
      "stoploss: -0.1",
      "stoploss: 1",
    );
    const error = await service.register("invalid.ts", source).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).code).toBe(Code.InvalidArgument);
    expect((error as DomainError).violations.map((violation) => violation.field).sort()).toEqual([
      "populateEntryTrend",
      "populateExitTrend",
      "stoploss",
    ]);
  });

  it("answers NOT_FOUND for an unknown strategy or version", async () => {
    await expect(service.get("Nope")).rejects.toMatchObject({ code: Code.NotFound });
    await expect(service.get("SampleStrategy", "0".repeat(64))).rejects.toMatchObject({
      code: Code.NotFound,
    });
  });
});

describe("ValidateConfig", () => {
  const valid = {
    strategy: "SampleStrategy",
    exchange: "binance",
    pairs: ["BTC/USDT", "ETH/USDT"],
    timeframe: "5m",
    timerange: "20250101-20250201",
    stake_currency: "USDT",
    stake_amount: 100,
    dry_run_wallet: 1000,
    max_open_trades: 3,
    fee: 0.001,
    params: { buyRsi: 25 },
  };

  it("accepts a sane configuration", async () => {
    expect(await service.validateConfig(valid)).toEqual([]);
  });

  it("reports a parameter out of range with its field, expected and found", async () => {
    expect(await service.validateConfig({ ...valid, params: { buyRsi: 80 } })).toEqual([
      {
        field: "params.buyRsi",
        message: "params.buyRsi: expected an integer from 1 to 50, got 80",
        expected: "an integer from 1 to 50",
        found: "80",
      },
    ]);
  });

  it("reports every problem at once, each naming its field", async () => {
    const issues = await service.validateConfig({
      ...valid,
      pairs: ["BTC/USDT", "btc-usdt", "ETH/BTC", "BTC/USDT"],
      timeframe: "7m",
      timerange: "20250230-20250101",
      stake_amount: -5,
      fee: 0.5,
      params: { buyRsi: 12.5, nope: 1 },
      stoploss: 0.1,
    });
    expect(issues.map((issue) => issue.field)).toEqual([
      "pairs[1]",
      "pairs[2]",
      "pairs[3]",
      "timeframe",
      "timerange",
      "stake_amount",
      "fee",
      "stoploss",
      "params.buyRsi",
      "params.nope",
    ]);
    const byField = Object.fromEntries(issues.map((issue) => [issue.field, issue.message]));
    expect(byField["timeframe"]).toBe(
      'timeframe: expected one of binance\'s timeframes (1s, 1m, 3m, 5m, 15m, 30m, 1h, 2h, 4h, 6h, 8h, 12h, 1d, 3d, 1w, 1M), got "7m"',
    );
    expect(byField["pairs[2]"]).toBe(
      'pairs[2]: expected a pair quoted in the stake currency USDT, got "ETH/BTC"',
    );
    expect(byField["pairs[3]"]).toBe('pairs[3]: expected no duplicate pairs, got "BTC/USDT"');
    expect(byField["timerange"]).toContain("real calendar dates");
    expect(byField["stake_amount"]).toBe('stake_amount: expected a positive number or "unlimited", got -5');
  });

  it("checks timerange order, unlimited stake with unlimited trades, and shorting on spot", async () => {
    const issues = await service.validateConfig({
      ...valid,
      strategy: "MeanReversionLongShort",
      params: {},
      timeframe: "15m",
      timerange: "20250201-20250101",
      stake_amount: "unlimited",
      max_open_trades: -1,
    });
    expect(issues.map((issue) => issue.message)).toEqual([
      'trading_mode: expected "futures" or "margin" (strategy MeanReversionLongShort can short), got "spot"',
      'timerange: expected a start before the end, got "20250201-20250101"',
      'max_open_trades: expected a limit when stake_amount is "unlimited", got -1',
    ]);
  });

  it("names an unregistered strategy", async () => {
    const issues = await service.validateConfig({ ...valid, strategy: "Ghost", params: {} });
    expect(issues).toEqual([expect.objectContaining({ field: "strategy", found: '"Ghost"' })]);
  });
});

describe("PrepareConfig", () => {
  it("resolves strategy defaults < config file < request overrides, as Freqtrade does", async () => {
    const prepared = await service.prepareConfig({
      strategy: "EmaCrossTrailing",
      configFile: {
        exchange: { name: "binance", pair_whitelist: ["BTC/USDT", "ETH/USDT"] },
        stake_currency: "USDT",
        stake_amount: 50,
        minimal_roi: { "0": 0.1, "60": 0.05 },
        stoploss: -0.08,
        max_open_trades: 2,
        params: { fastPeriod: 9 },
      },
      overrides: { stoploss: -0.03, timerange: "20250101-20250301", params: { slowPeriod: 40 } },
    });
    const { config, sources } = prepared;
    // Request override beats the config file beats the strategy (Freqtrade: CLI > config > strategy).
    expect(config["stoploss"]).toBe(-0.03);
    expect(sources["stoploss"]).toBe("overrides");
    // A config minimal_roi replaces the strategy's table whole (Freqtrade does not merge it).
    expect(config["minimal_roi"]).toEqual({ "0": 0.1, "60": 0.05 });
    expect(sources["minimal_roi"]).toBe("config_file");
    // Untouched strategy attributes stay the strategy's.
    expect(config["trailing_stop_positive"]).toBe(0.015);
    expect(config["trailing_stop_positive_offset"]).toBe(0.03);
    expect(config["timeframe"]).toBe("1h");
    expect(sources["timeframe"]).toBe("strategy");
    // Keys nobody set come from the defaults (Freqtrade's dry_run_wallet 1000, tradable_balance_ratio 0.99).
    expect(config["dry_run_wallet"]).toBe(1000);
    expect(sources["dry_run_wallet"]).toBe("default");
    expect(config["max_open_trades"]).toBe(2);
    expect(config["pairs"]).toEqual(["BTC/USDT", "ETH/USDT"]);
    expect(sources["pairs"]).toBe("config_file");
    expect(config["params"]).toEqual({ fastPeriod: 9, slowPeriod: 40 });
    expect([sources["params.fastPeriod"], sources["params.slowPeriod"]]).toEqual([
      "config_file",
      "overrides",
    ]);
    expect(config["strategy_version"]).toMatch(/^[0-9a-f]{64}$/);

    const freqtrade = JSON.parse(prepared.freqtradeConfigJson) as Record<string, unknown>;
    expect(freqtrade).toMatchObject({
      strategy: "EmaCrossTrailing",
      max_open_trades: 2,
      stake_currency: "USDT",
      stake_amount: 50,
      timeframe: "1h",
      timerange: "20250101-20250301",
      minimal_roi: { "0": 0.1, "60": 0.05 },
      stoploss: -0.03,
      trailing_stop: true,
      trailing_stop_positive: 0.015,
      trailing_stop_positive_offset: 0.03,
      trailing_only_offset_is_reached: true,
      dry_run: true,
      dry_run_wallet: 1000,
      trading_mode: "spot",
      exchange: { name: "binance", pair_whitelist: ["BTC/USDT", "ETH/USDT"], pair_blacklist: [] },
      pairlists: [{ method: "StaticPairList" }],
      order_types: { entry: "limit", exit: "limit", stoploss: "market", stoploss_on_exchange: false },
      unfilledtimeout: { entry: 10, exit: 10, exit_timeout_count: 0, unit: "minutes" },
    });
    expect(freqtrade["params"]).toBeUndefined();
  });

  it("rejects a prepared configuration that is invalid, naming each field", async () => {
    const error = await service
      .prepareConfig({
        strategy: "SampleStrategy",
        overrides: { pairs: ["BTC/USDT"], params: { buyRsi: 0 }, fee: 2 },
      })
      .catch((caught: unknown) => caught);
    expect((error as DomainError).code).toBe(Code.InvalidArgument);
    expect((error as DomainError).violations.map((violation) => violation.field)).toEqual([
      "fee",
      "params.buyRsi",
    ]);
  });
});

describe("AnalyzeLookahead on real candles (binance BTC/USDT)", () => {
  const range = (timeframe: string) =>
    timeframe === "1h"
      ? { start: Date.UTC(2024, 0, 1), end: Date.UTC(2024, 1, 15) }
      : timeframe === "15m"
        ? { start: Date.UTC(2023, 5, 1), end: Date.UTC(2023, 5, 8) }
        : { start: Date.UTC(2025, 0, 10), end: Date.UTC(2025, 0, 13) };

  it("catches the deliberately biased strategy: every biased column, nothing else", async () => {
    const report = await service.analyzeLookahead({
      strategy: "BiasedLookahead",
      exchange: "binance",
      symbol: "BTC/USDT",
      ...range("5m"),
      samples: 10,
    });
    expect(report.hasBias).toBe(true);
    expect(report.samplesTested).toBe(10);
    const columns = report.findings.map((finding) => finding.column);
    expect(columns).toEqual(expect.arrayContaining(["centered_mean", "next_close", "enter_long"]));
    expect(columns).not.toContain("sma_short");
    const next = report.findings.find((finding) => finding.column === "next_close");
    // Each truncation hides exactly one future close: one candle per cut changes (NaN vs value).
    expect(next).toMatchObject({ kind: "lookahead", affectedCandles: 10, maxRelativeDifference: 1 });
    const centered = report.findings.find((finding) => finding.column === "centered_mean");
    // Each cut hides the two candles after it: rows c-1 and c-2 change (adjacent cuts may share one).
    expect(centered?.affectedCandles).toBeGreaterThan(10);
    expect(centered?.affectedCandles).toBeLessThanOrEqual(20);
    expect(centered?.maxRelativeDifference).toBe(1);
  });

  it.each([
    ["SampleStrategy", "5m", "BTC/USDT"],
    ["EmaCrossTrailing", "1h", "BTC/USDT"],
    ["MeanReversionLongShort", "15m", "LINK/USDT"],
  ])("passes %s (%s %s), including the recursive check", async (strategy, timeframe, symbol) => {
    const report = await service.analyzeLookahead({
      strategy,
      exchange: "binance",
      symbol,
      ...range(timeframe),
      samples: 8,
      recursive: true,
    });
    expect(report.findings).toEqual([]);
    expect(report.hasBias).toBe(false);
    expect(report.samplesTested).toBe(8);
  });

  it("reports indicators that depend on how much history was loaded (startup too small)", async () => {
    const source = readStrategy("ema_cross_trailing.ts")
      .replace("startupCandleCount: 300", "startupCandleCount: 30")
      .replace('name: "EmaCrossTrailing"', 'name: "EmaCrossShortStartup"');
    await service.register("ema_short_startup.ts", source);
    const report = await service.analyzeLookahead({
      strategy: "EmaCrossShortStartup",
      exchange: "binance",
      symbol: "BTC/USDT",
      ...range("1h"),
      samples: 6,
      recursive: true,
    });
    expect(report.hasBias).toBe(true);
    expect(report.findings.every((finding) => finding.kind === "recursive")).toBe(true);
    expect(report.findings.map((finding) => finding.column)).toContain("ema_slow");
    const slow = report.findings.find((finding) => finding.column === "ema_slow");
    // EMA(26) seeded 30 candles back: the seed error decays as (25/27)^k, still far above 1e-4.
    expect(slow?.maxRelativeDifference).toBeGreaterThan(1e-4);
  });

  it("names missing data and a wrong timeframe", async () => {
    await expect(
      service.analyzeLookahead({
        strategy: "SampleStrategy",
        exchange: "binance",
        symbol: "NOPE/USDT",
        ...range("5m"),
      }),
    ).rejects.toMatchObject({ code: Code.FailedPrecondition });
    await expect(
      service.analyzeLookahead({
        strategy: "SampleStrategy",
        exchange: "binance",
        symbol: "BTC/USDT",
        timeframe: "1h",
      }),
    ).rejects.toMatchObject({ code: Code.InvalidArgument });
  });
});

describe("AnalyzeLookahead with informative pairs and timeframes", () => {
  const range = { start: Date.UTC(2025, 0, 10), end: Date.UTC(2025, 0, 13) };

  it("exposes the informative list and passes when 1h data is merged on closed candles", async () => {
    const { record } = await service.register("informative_trend.ts", readFixture("informative_trend.ts"));
    expect(record.description.informative).toEqual([
      { timeframe: "1h", pair: null },
      { timeframe: "1h", pair: "ETH/{quote}" },
    ]);
    expect(record.tags).toEqual(["test", "informative"]);
    const report = await service.analyzeLookahead({
      strategy: "InformativeTrend",
      exchange: "binance",
      symbol: "BTC/USDT",
      ...range,
      samples: 8,
    });
    expect(report.findings).toEqual([]);
    expect(report.hasBias).toBe(false);
    expect(report.samplesTested).toBe(8);
  });

  it("catches an informative column that peeks at the next 1h candle", async () => {
    const biased = readFixture("informative_trend.ts")
      .replace('name: "InformativeTrend"', 'name: "InformativePeek"')
      .replace(
        'frame.set("sma", sma(frame.close, 3)); // INFORMATIVE_SMA',
        'frame.set("sma", frame.close.map((_, index) => frame.close[index + 1] ?? Number.NaN));',
      );
    await service.register("informative_peek.ts", biased);
    const report = await service.analyzeLookahead({
      strategy: "InformativePeek",
      exchange: "binance",
      symbol: "BTC/USDT",
      ...range,
      samples: 8,
    });
    expect(report.hasBias).toBe(true);
    expect(report.findings.map((finding) => finding.column)).toContain("sma_1h");
    expect(report.findings.find((finding) => finding.column === "sma_1h")?.kind).toBe("lookahead");
  });

  it("names the missing informative series", async () => {
    const source = readFixture("informative_trend.ts")
      .replace('name: "InformativeTrend"', 'name: "InformativeNoData"')
      .replace('pair: "ETH/{quote}"', 'pair: "NOPE/{quote}"')
      .replaceAll('"eth_usdt_', '"nope_usdt_');
    await service.register("informative_no_data.ts", source);
    await expect(
      service.analyzeLookahead({
        strategy: "InformativeNoData",
        exchange: "binance",
        symbol: "BTC/USDT",
        ...range,
      }),
    ).rejects.toMatchObject({
      code: Code.FailedPrecondition,
      message: expect.stringContaining("no informative candles for binance NOPE/USDT 1h"),
    });
  });
});

describe("AnalyzeLookahead time limit (STRATEGY_SERVICE_ANALYSIS_TIMEOUT_MS)", () => {
  it("stops an analysis that runs past the limit with DEADLINE_EXCEEDED, then keeps serving", async () => {
    const limited = createWorkerStrategySandbox({ loadTimeoutMs: 10_000, analysisTimeoutMs: 1_500 });
    try {
      const slowService = createStrategyService({
        compiler: createEsbuildStrategyCompiler(),
        sandbox: limited,
        store: createFileStrategyRegistryStore(path.join(registryDir, "time-limit")),
        catalog: createStaticExchangeCatalog(),
        candles: createCsvCandleSource(dataDir),
      });
      // Fine on the few hundred smoke-run candles of the load check; endless on a real range.
      const slow = minimalStrategy(
        "SlowAnalysis",
        "",
        `  populateIndicators(frame) {
    if (frame.length > 400) for (;;) {}
  },
  populateEntryTrend() {},
  populateExitTrend() {},`,
      );
      await slowService.register("slow_analysis.ts", slow);
      await slowService.register("quick.ts", minimalStrategy("QuickAnalysis"));
      const range = { start: Date.UTC(2025, 0, 10), end: Date.UTC(2025, 0, 13) };
      const started = performance.now();
      const error = await slowService
        .analyzeLookahead({ strategy: "SlowAnalysis", exchange: "binance", symbol: "BTC/USDT", ...range })
        .catch((caught: unknown) => caught);
      const elapsed = performance.now() - started;
      expect(error).toBeInstanceOf(DomainError);
      expect((error as DomainError).code).toBe(Code.DeadlineExceeded);
      expect((error as DomainError).message).toMatch(
        /^look-ahead analysis of SlowAnalysis on binance BTC\/USDT \(\d+ candles, 20 samples\) was stopped: analysing slow_analysis\.ts did not finish within 1500 ms/,
      );
      expect(elapsed).toBeGreaterThanOrEqual(1_500);
      expect(elapsed).toBeLessThan(30_000); // generous: the machine is shared
      const quick = await slowService.analyzeLookahead({
        strategy: "QuickAnalysis",
        exchange: "binance",
        symbol: "BTC/USDT",
        ...range,
        samples: 4,
      });
      expect(quick).toMatchObject({ hasBias: false, samplesTested: 4 });
    } finally {
      await limited.close();
    }
  }, 60_000);
});
