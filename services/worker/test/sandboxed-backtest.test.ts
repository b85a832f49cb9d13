// Registered strategies run their backtest only inside their own V8 context (issue #5): the worker
// job's sandboxed path must give the engine's results byte for byte (real candles from
// ../shared/data), and strategy code in a populate hook or a callback must reach neither the
// worker's process nor its file system.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import vm from "node:vm";
import {
  createResultStore,
  createSqliteWorkflowStateRepository,
  type BacktestConfig,
  type BacktestJobMessage,
  type WorkflowStateRepository,
} from "@tradai/backtest";
import { createLogger } from "@tradai/common";
import * as engine from "@tradai/engine";
import {
  createEsbuildStrategyCompiler,
  createSandboxedBacktestRunner,
  type CompiledStrategy,
} from "@tradai/strategy";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadCandles } from "../../../bench/engine/load-candles";
import {
  allBlocked,
  ASYNC_PROBES,
  escapeStrategySource,
  LATE_PROBE_NAME,
  LATE_PROBE_THROW,
  LATE_PROBES,
  lateEscapeStrategySource,
  lateProbeThrowLine,
  probeReport,
  SYNC_PROBES,
  threadCount,
  threadsSettleTo,
} from "../../strategy/test/escape-probes";
import { strategiesDir } from "../../strategy/test/helpers";
import {
  createBacktestWork,
  type CandleLoader,
  type SandboxedStrategy,
  type StrategyLoader,
} from "../src/core/backtest-work";
import { createJobRunner, type WorkResult } from "../src/core/job-runner";
import { loadSandboxedStrategy } from "../src/infrastructure/service-loaders";
import { testBacktestConfig } from "../../backtest/test/support/backtest-config-fixture";

const logger = createLogger({ service: "test", level: "silent" });
const compiler = createEsbuildStrategyCompiler();
const runner = createSandboxedBacktestRunner({ backtestTimeoutMs: 120_000, describeTimeoutMs: 30_000 });
const fixturesDir = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures");

let scratch: string;
let markers: string;
let secretPath: string;
const SECRET = "tradai-worker-test-secret-4c2e";

beforeAll(() => {
  scratch = mkdtempSync(path.join(tmpdir(), "tradai-worker-sandbox-"));
  markers = path.join(scratch, "markers");
  mkdirSync(markers);
  secretPath = path.join(scratch, "secret.txt");
  writeFileSync(secretPath, SECRET);
});
afterAll(async () => {
  await runner.close();
  rmSync(scratch, { recursive: true, force: true });
});

/** The real candle files, cut to the requested window like the data service does. */
const candleLoader = (markets?: engine.MarketsSnapshot): CandleLoader => ({
  load: async (request) =>
    loadCandles(request.exchange, request.pair, request.timeframe, request.startMs, request.endMs),
  ...(markets === undefined ? {} : { markets: async () => markets }),
});

async function compile(entry: string, files: Record<string, string>): Promise<CompiledStrategy> {
  const compiled = await compiler.compile({ entry, files });
  if (!compiled.ok) throw new Error(`compile failed: ${JSON.stringify(compiled.issues)}`);
  return compiled.compiled;
}

const baseConfig = testBacktestConfig({
  strategy: "S",
  strategy_version: "v1",
  timerange: "20240101-20240401",
  max_open_trades: 2,
  fee: 0.001,
});

/** Runs one job's work; returns the work's result and the exact JSON the result store wrote. */
async function runJob(
  label: string,
  config: BacktestConfig,
  strategies: StrategyLoader,
  candles: CandleLoader,
  signal: AbortSignal = new AbortController().signal,
): Promise<{ result: WorkResult; written: string }> {
  // One job id for every run: it is the export's run id.
  const jobId = "job-1";
  const resultsDir = path.join(scratch, `results-${label}`);
  const store = createResultStore(resultsDir);
  let written = "";
  const work = createBacktestWork({
    strategies,
    candles,
    results: {
      async write(id, value) {
        const uri = await store.write(id, value);
        written = JSON.stringify(value);
        return uri;
      },
    },
    logger,
    // One fixed clock: the export's run start/end times are equal for both paths.
    now: () => Date.UTC(2026, 0, 1),
  });
  const message: BacktestJobMessage = { jobId, config, traceHeaders: {} };
  const result = await work(message, { jobId, signal, reportProgress: () => {} });
  return { result, written };
}

interface EquivalenceCase {
  readonly title: string;
  readonly entry: string;
  readonly files: Record<string, string>;
  /** The same module, imported into this process (the direct engine path). */
  readonly importPath: string;
  readonly config: Partial<BacktestConfig>;
  readonly markets?: engine.MarketsSnapshot;
}

const strategyFile = (file: string) => readFileSync(path.join(strategiesDir, file), "utf8");
const MARKETS: engine.MarketsSnapshot = {
  "BTC/USDT": {
    symbol: "BTC/USDT",
    precision: { price: 0.01, amount: 0.00001 },
    limits: { amount: { min: 0.00001, max: 9000 }, cost: { min: 5, max: null } },
    maker: 0.001,
    taker: 0.001,
    contractSize: null,
  },
  "ETH/USDT": {
    symbol: "ETH/USDT",
    precision: { price: 0.01, amount: 0.0001 },
    limits: { amount: { min: 0.0001, max: 9000 }, cost: { min: 5, max: null } },
    maker: 0.001,
    taker: 0.001,
    contractSize: null,
  },
};

const CASES: EquivalenceCase[] = [
  {
    title: "SampleStrategy, BTC/USDT 5m, 2024 (a year)",
    entry: "sample_strategy.ts",
    files: {
      "sample_strategy.ts": strategyFile("sample_strategy.ts"),
      "lib/series.ts": strategyFile("lib/series.ts"),
    },
    importPath: path.join(strategiesDir, "sample_strategy.ts"),
    config: { timerange: "20240101-20250101" },
  },
  {
    title: "EmaCrossTrailing (trailing stop), BTC/USDT + ETH/USDT, with params",
    entry: "ema_cross_trailing.ts",
    files: { "ema_cross_trailing.ts": strategyFile("ema_cross_trailing.ts") },
    importPath: path.join(strategiesDir, "ema_cross_trailing.ts"),
    config: {
      pairs: ["BTC/USDT", "ETH/USDT"],
      timeframe: "1h",
      timerange: "20230101-20240601",
      params: { fastPeriod: 10 },
    },
  },
  {
    title: "callbacks on open trades (general loop), tags, markets precision, two pairs",
    entry: "callback_strategy.ts",
    files: { "callback_strategy.ts": readFileSync(path.join(fixturesDir, "callback_strategy.ts"), "utf8") },
    importPath: path.join(fixturesDir, "callback_strategy.ts"),
    config: { pairs: ["BTC/USDT", "ETH/USDT"], timerange: "20240101-20240301", params: { entryRsi: 28 } },
    markets: MARKETS,
  },
];

describe("the worker's sandboxed backtest gives the engine's results", () => {
  for (const testCase of CASES) {
    it(`exports the same Freqtrade JSON byte for byte: ${testCase.title}`, async () => {
      const config = { ...baseConfig, ...testCase.config };
      const module = (await import(testCase.importPath)) as { default: engine.Strategy };
      const direct = await runJob(
        `direct-${testCase.entry.replace(".ts", "")}`,
        config,
        { load: async () => module.default },
        candleLoader(testCase.markets),
      );
      const compiled = await compile(testCase.entry, testCase.files);
      const sandboxed: SandboxedStrategy = await loadSandboxedStrategy(compiled, runner);
      expect(sandboxed.name).toBe(module.default.name);
      expect(sandboxed.startupCandleCount).toBe(module.default.startupCandleCount);
      const inSandbox = await runJob(
        `sandboxed-${testCase.entry.replace(".ts", "")}`,
        config,
        { load: async () => sandboxed },
        candleLoader(testCase.markets),
      );
      const trades = direct.result.summary.find((metric) => metric.name === "total_trades")?.value ?? 0;
      expect(trades).toBeGreaterThan(5);
      expect(inSandbox.result.summary).toEqual(direct.result.summary);
      expect(inSandbox.written.length).toBe(direct.written.length);
      expect(inSandbox.written === direct.written).toBe(true);
      // And what the result store wrote to disk.
      expect(inSandbox.result.resultUri).not.toBe(direct.result.resultUri);
      expect(readFileSync(fileURLToPath(inSandbox.result.resultUri ?? ""), "utf8")).toBe(
        readFileSync(fileURLToPath(direct.result.resultUri ?? ""), "utf8"),
      );
    }, 240_000);
  }
});

describe("a worker job cannot leave the strategy's V8 context", () => {
  const escapeConfig: BacktestConfig = { ...baseConfig, timerange: "20240101-20240110" };

  it("the probes are live: the old in-process loading (host require, host engine) lets them out", async () => {
    const leakMarkers = path.join(scratch, "leak-markers");
    mkdirSync(leakMarkers);
    const compiled = await compile("escaper.ts", {
      "escaper.ts": escapeStrategySource(leakMarkers, secretPath),
    });
    // What service-loaders.ts did before: a context given a host `require` and the host engine.
    const context = vm.createContext({
      require: (name: string) => (name === "@tradai/engine" ? engine : undefined),
    });
    new vm.Script(compiled.code).runInContext(context);
    const exported = (context as { __tradaiStrategy?: { default: engine.StrategyDefinition } })
      .__tradaiStrategy?.default;
    const strategy = engine.defineStrategy({ ...(exported as engine.StrategyDefinition) });
    let message = "";
    try {
      await runJob("leaky", escapeConfig, { load: async () => strategy }, candleLoader());
    } catch (error) {
      message = (error as Error).message;
    }
    const report = probeReport([{ field: "populateIndicators", message }]);
    expect(report["frameConstructor"]).toBe("process");
    expect(readFileSync(path.join(leakMarkers, "frameConstructor"), "utf8")).toBe(SECRET);
  }, 60_000);

  it("a probe in populateIndicators reaches neither process nor fs; the job fails with the hook's error", async () => {
    const compiled = await compile("escaper.ts", {
      "escaper.ts": escapeStrategySource(markers, secretPath),
    });
    const sandboxed = await loadSandboxedStrategy(compiled, runner, "Escaper@v1");
    const failure = await runJob(
      "escape-populate",
      escapeConfig,
      { load: async () => sandboxed },
      candleLoader(),
    )
      .then(() => undefined)
      .catch((error: unknown) => error as Error);
    expect(failure).toBeInstanceOf(Error);
    expect(failure?.message).toMatch(/^strategy Escaper@v1 failed in its backtest: populateIndicators/);
    expect(failure?.message).toContain("(escaper.ts:");
    const report = probeReport([{ field: "populateIndicators", message: failure?.message ?? "" }]);
    expect(report).toEqual(allBlocked([...SYNC_PROBES, ...ASYNC_PROBES]));
    expect(failure?.message).not.toContain(SECRET);
    expect(readdirSync(markers)).toEqual([]);
  }, 60_000);

  it("a probe in a callback (customStakeAmount, with the callback's frame and arguments) is blocked too", async () => {
    const compiled = await compile("callback-escaper.ts", {
      "callback-escaper.ts": escapeStrategySource(markers, secretPath, "callback"),
    });
    const sandboxed = await loadSandboxedStrategy(compiled, runner);
    const failure = await runJob(
      "escape-callback",
      escapeConfig,
      { load: async () => sandboxed },
      candleLoader(),
    )
      .then(() => undefined)
      .catch((error: unknown) => error as Error);
    expect(failure?.message).toContain("customStakeAmount");
    const report = probeReport([{ field: "customStakeAmount", message: failure?.message ?? "" }]);
    expect(report).toEqual({
      ...allBlocked([...SYNC_PROBES, ...ASYNC_PROBES]),
      callbackArgsConstructor: "blocked",
    });
    expect(readdirSync(markers)).toEqual([]);
  }, 60_000);

  describe("through the job runner (state store)", () => {
    let dir: string;
    let repository: WorkflowStateRepository;
    beforeAll(() => {
      dir = mkdtempSync(path.join(tmpdir(), "tradai-worker-escape-jobs-"));
      repository = createSqliteWorkflowStateRepository({ path: path.join(dir, "state.db") });
    });
    afterAll(async () => {
      await repository.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it("marks the escaping job FAILED with the strategy's error, and the worker keeps running jobs", async () => {
      const escaper = await loadSandboxedStrategy(
        await compile("escaper.ts", { "escaper.ts": escapeStrategySource(markers, secretPath) }),
        runner,
      );
      const sample = await loadSandboxedStrategy(
        await compile("sample_strategy.ts", {
          "sample_strategy.ts": strategyFile("sample_strategy.ts"),
          "lib/series.ts": strategyFile("lib/series.ts"),
        }),
        runner,
      );
      const jobRunner = createJobRunner({
        repository,
        workerId: "escape-test",
        logger,
        work: createBacktestWork({
          strategies: { load: async (name) => (name === "Escaper" ? escaper : sample) },
          candles: candleLoader(),
          results: createResultStore(path.join(dir, "results")),
          logger,
        }),
      });
      const run = async (strategy: string) => {
        const config = { ...escapeConfig, strategy };
        const { job } = await repository.create({ config });
        const outcome = await jobRunner.run(
          { jobId: job.jobId, config, traceHeaders: {} },
          { signal: new AbortController().signal, reportProgress: () => {} },
        );
        return { outcome, job: await repository.get(job.jobId) };
      };
      const escaped = await run("Escaper");
      expect(escaped.outcome).toBe("failed");
      expect(escaped.job?.status).toBe("FAILED");
      expect(escaped.job?.error).toMatch(/failed in its backtest: populateIndicators/);
      expect(escaped.job?.error).not.toContain(SECRET);
      const after = await run("SampleStrategy");
      expect(after.outcome).toBe("completed");
      expect(after.job?.status).toBe("COMPLETED");
      expect(readdirSync(markers)).toEqual([]);
    }, 120_000);
  });

  it("stops a strategy that never returns when the job is cancelled", async () => {
    const source = `import { defineStrategy } from "@tradai/engine";
export default defineStrategy({
  name: "Spinner",
  timeframe: "5m",
  stoploss: -0.1,
  populateIndicators() { for (;;) {} },
  populateEntryTrend() {},
  populateExitTrend() {},
});
`;
    const sandboxed = await loadSandboxedStrategy(
      await compile("spinner.ts", { "spinner.ts": source }),
      runner,
    );
    const controller = new AbortController();
    const started = Date.now();
    const timer = setTimeout(() => controller.abort(new Error("job cancelled by the test")), 1_500);
    const failure = await runJob(
      "spinner",
      escapeConfig,
      { load: async () => sandboxed },
      candleLoader(),
      controller.signal,
    )
      .then(() => undefined)
      .catch((error: unknown) => error as Error);
    clearTimeout(timer);
    expect(failure?.message).toBe("job cancelled by the test");
    // Stopped on the cancel, not at the 120 s backtest time limit.
    expect(Date.now() - started).toBeLessThan(60_000);
  }, 90_000);
});

describe("the sandboxed runner's time limit", () => {
  it("stops a backtest that outlives backtestTimeoutMs and says so", async () => {
    const limited = createSandboxedBacktestRunner({ backtestTimeoutMs: 1_000 });
    try {
      const compiled = await compile("spin.ts", {
        "spin.ts": `import { defineStrategy } from "@tradai/engine";
export default defineStrategy({
  name: "Spin", timeframe: "5m", stoploss: -0.1,
  populateIndicators() { for (;;) {} }, populateEntryTrend() {}, populateExitTrend() {},
});
`,
      });
      const result = await limited.backtest(compiled, {
        pairs: ["BTC/USDT"],
        candles: {
          "BTC/USDT": loadCandles("binance", "BTC/USDT", "5m", Date.UTC(2024, 0, 1), Date.UTC(2024, 0, 3)),
        },
        config: { stakeAmount: 100, dryRunWallet: 1000, stakeCurrency: "USDT", maxOpenTrades: 1 },
      });
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.timedOut).toBe(true);
      expect(result.issues[0]?.message).toContain("did not finish within 1000 ms");
      expect(result.issues[0]?.file).toBe("spin.ts");
    } finally {
      await limited.close();
    }
  }, 60_000);
});

// The audit after issue #5: strategy code left behind (an unhandled rejection, a finalization
// callback) ran in the worker thread after its answer, with the thread's own realm at hand (see
// escape-probes.ts). Each probe runs five times through describe and backtest (the old escape was
// a race with terminate()).
describe("strategy code cannot run in the worker thread after the sandbox answered", () => {
  const RUNS = 5;
  const request = () => ({
    pairs: ["BTC/USDT"],
    candles: {
      "BTC/USDT": loadCandles("binance", "BTC/USDT", "5m", Date.UTC(2024, 0, 1), Date.UTC(2024, 0, 2)),
    },
    config: { stakeAmount: 100, dryRunWallet: 1000, stakeCurrency: "USDT", maxOpenTrades: 1 },
  });

  for (const probe of LATE_PROBES) {
    it(`${probe}: neither process nor fs is reached through describe or backtest (${RUNS} runs each)`, async () => {
      const probeMarkers = path.join(scratch, `late-${probe}`);
      mkdirSync(probeMarkers);
      const late = async (label: string) => {
        const source = lateEscapeStrategySource(probeMarkers, secretPath, probe, label);
        return { source, compiled: await compile("late.ts", { "late.ts": source }) };
      };
      for (let run = 0; run < RUNS; run++) {
        const { source, compiled } = await late(`describe-${run}`);
        const described = await runner.describe(compiled);
        const backtested = await runner.backtest((await late(`backtest-${run}`)).compiled, request());
        if (probe === "importThrow") {
          // Node's stack format, not the strategy's hook: the issue names the throw's line.
          const issue = {
            field: "source",
            message: `loading the strategy threw: ${LATE_PROBE_THROW}`,
            file: "late.ts",
            line: lateProbeThrowLine(source),
          };
          expect(described.ok).toBe(false);
          if (!described.ok) expect(described.issues[0]).toMatchObject(issue);
          expect(backtested.ok).toBe(false);
          if (!backtested.ok) expect(backtested.issues[0]).toMatchObject(issue);
        } else {
          expect(described.ok && described.description.name).toBe(LATE_PROBE_NAME);
          expect(backtested.ok && backtested.run.strategy).toBe(LATE_PROBE_NAME);
          expect(backtested.ok && backtested.run.pairs).toEqual(["BTC/USDT"]);
        }
      }
      // A worker thread that outlived its answer would have written by now; none may have.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect(readdirSync(probeMarkers)).toEqual([]);
      const after = await runner.describe(
        await compile("after.ts", {
          "after.ts": strategyFile("sample_strategy.ts"),
          "lib/series.ts": strategyFile("lib/series.ts"),
        }),
      );
      expect(after.ok && after.description.name).toBe("SampleStrategy");
    }, 240_000);
  }

  it("stops every worker thread after its answer: 20 describes in a row leave no thread behind", async () => {
    const compiled = await compile("threads.ts", {
      "threads.ts": `import { defineStrategy } from "@tradai/engine";
export default defineStrategy({
  name: "Threads", timeframe: "5m", stoploss: -0.1,
  populateIndicators() {}, populateEntryTrend() {}, populateExitTrend() {},
});
`,
    });
    await runner.describe(compiled);
    const before = await threadCount();
    for (let run = 0; run < 20; run++) {
      const result = await runner.describe(compiled);
      expect(result.ok && result.description.name).toBe("Threads");
    }
    // Each worker thread waits for terminate() after answering: one left running is one more thread.
    expect(await threadsSettleTo(before + 3)).toBeLessThanOrEqual(before + 3);
  }, 120_000);
});
