// The compiler and the worker sandbox: compile errors, interface violations and runtime errors
// come back with file and line; endless loops are stopped by the time limit; samples load.
import { afterAll, describe, expect, it } from "vitest";
import { createDirectoryStrategySource } from "../src/infrastructure/directory-strategy-source";
import { createEsbuildStrategyCompiler } from "../src/infrastructure/esbuild-strategy-compiler";
import { createWorkerStrategySandbox } from "../src/infrastructure/worker-strategy-sandbox";
import type { InspectResult } from "../src/core/strategy-sandbox";
import { minimalStrategy, SERIES_HELPER, strategiesDir } from "./helpers";

const compiler = createEsbuildStrategyCompiler();
const sandbox = createWorkerStrategySandbox({ loadTimeoutMs: 1_500 });
afterAll(() => sandbox.close());

async function inspect(
  files: Record<string, string>,
  entry = Object.keys(files)[0] as string,
): Promise<InspectResult> {
  const compiled = await compiler.compile({ entry, files });
  if (!compiled.ok) return { ok: false, issues: compiled.issues };
  return sandbox.inspect(compiled.compiled);
}

describe("compile errors", () => {
  it("reports a syntax error with file, line and column", async () => {
    const source = minimalStrategy("Broken").replace("stoploss: -0.1,", "stoploss: -0.1 +,");
    const result = await compiler.compile({ entry: "broken.ts", files: { "broken.ts": source } });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues).toHaveLength(1);
    expect(result.issues[0]).toMatchObject({ field: "source", file: "broken.ts", line: 6, column: 19 });
    expect(result.issues[0]?.message).toBe('Unexpected ","');
  });

  it("rejects package and Node imports at their line, naming what is allowed", async () => {
    const source = `import { readFileSync } from "node:fs";\nexport const secret = readFileSync("/etc/passwd");\n${minimalStrategy("Io")}`;
    const result = await compiler.compile({ entry: "io.ts", files: { "io.ts": source } });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues[0]).toMatchObject({ file: "io.ts", line: 1 });
    expect(result.issues[0]?.message).toContain(
      'import "node:fs": expected "@tradai/engine" or a local file',
    );
  });

  it("reports a missing local import and bundles present ones", async () => {
    const source = `import { shift } from "./lib/series";\nexport const shifted = shift;\n${minimalStrategy("Local")}`;
    const missing = await compiler.compile({ entry: "local.ts", files: { "local.ts": source } });
    expect(missing.ok).toBe(false);
    if (!missing.ok)
      expect(missing.issues[0]?.message).toContain('cannot resolve local import "./lib/series"');
    const present = await compiler.compile({
      entry: "local.ts",
      files: { "local.ts": source, "lib/series.ts": SERIES_HELPER, "lib/unused.ts": "export const x = 1;" },
    });
    expect(present.ok).toBe(true);
    if (present.ok)
      expect(Object.keys(present.compiled.sources).sort()).toEqual(["lib/series.ts", "local.ts"]);
  });
});

describe("interface violations", () => {
  it("reports a missing method and a bad setting with the line of each", async () => {
    const source = minimalStrategy(
      "NoEntry",
      "",
      `  populateIndicators() {},
  populateExitTrend() {},`,
    ).replace("stoploss: -0.1,", "stoploss: 0.2,");
    const result = await inspect({ "no_entry.ts": source });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const byField = Object.fromEntries(result.issues.map((issue) => [issue.field, issue]));
    expect(byField["populateEntryTrend"]).toMatchObject({
      message: "populateEntryTrend: expected a function, got undefined",
      file: "no_entry.ts",
      line: 3, // the defineStrategy( call: the method is missing, so its object is the place
    });
    expect(byField["stoploss"]).toMatchObject({
      expected: "a negative ratio from -1 to below 0",
      found: "0.2",
      line: 6,
    });
  });

  it("reports a parameter whose default is out of its own range", async () => {
    const source = minimalStrategy("BadParam").replace(
      "default: 10, low: 2, high: 50",
      "default: 99, low: 2, high: 50",
    );
    const result = await inspect({ "bad_param.ts": source });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.issues).toEqual([
        expect.objectContaining({
          field: "parameters.window.default",
          message: "parameters.window.default: expected an integer from 2 to 50, got 99",
          line: 7,
        }),
      ]);
    }
  });

  it("reports a module without a default export", async () => {
    const result = await inspect({ "none.ts": "export const strategy = 1;\n" });
    expect(result.ok).toBe(false);
    if (!result.ok)
      expect(result.issues[0]?.message).toMatch(
        /^default export: expected a strategy .*got no default export$/,
      );
  });

  it("maps an exception in a populate hook to the strategy's line", async () => {
    const source = minimalStrategy(
      "Thrower",
      "",
      `  populateIndicators(frame) {
    frame.set("a", frame.close);
    throw new RangeError("bad window");
  },
  populateEntryTrend() {},
  populateExitTrend() {},`,
    );
    const result = await inspect({ "thrower.ts": source });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.issues[0]).toMatchObject({ field: "populateIndicators", file: "thrower.ts", line: 10 });
      expect(result.issues[0]?.message).toContain("bad window");
    }
  });
});

describe("time limit", () => {
  it("stops a strategy that loops forever at import, then keeps serving", async () => {
    const source = `while (true) {}\n${minimalStrategy("ImportLoop")}`;
    const started = performance.now();
    const result = await inspect({ "import_loop.ts": source });
    const elapsed = performance.now() - started;
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.issues[0]?.message).toContain("did not finish within 1500 ms");
      expect(result.issues[0]?.file).toBe("import_loop.ts");
    }
    expect(elapsed).toBeGreaterThanOrEqual(1_500);
    expect(elapsed).toBeLessThan(10_000); // generous: the machine is shared
    expect((await inspect({ "after.ts": minimalStrategy("After") })).ok).toBe(true);
  });

  it("stops a strategy that loops forever in populateIndicators", async () => {
    const source = minimalStrategy(
      "HookLoop",
      "",
      `  populateIndicators() {
    for (;;) {}
  },
  populateEntryTrend() {},
  populateExitTrend() {},`,
    );
    const result = await inspect({ "hook_loop.ts": source });
    expect(result.ok).toBe(false);
    if (!result.ok)
      expect(result.issues[0]?.message).toMatch(/loading hook_loop\.ts did not finish within 1500 ms/);
  });

  it("gives strategies no process, timers or network, reporting the use at its line", async () => {
    const exit = await inspect({ "exit.ts": `process.exit(0);\n${minimalStrategy("Exit")}` });
    expect(exit.ok).toBe(false);
    if (!exit.ok) {
      expect(exit.issues[0]).toMatchObject({ field: "source", file: "exit.ts", line: 1 });
      expect(exit.issues[0]?.message).toBe("loading the strategy threw: process is not defined");
    }
    const probe = minimalStrategy(
      "Probe",
      "",
      `  populateIndicators(frame) {
    const reachable = ["process", "fetch", "setTimeout", "Buffer"].filter((name) => name in globalThis);
    if (reachable.length > 0) throw new Error(\`reachable: \${reachable.join(", ")}\`);
    frame.set("typed", new Float64Array(frame.length));
  },
  populateEntryTrend() {},
  populateExitTrend() {},`,
    );
    expect(await inspect({ "probe.ts": probe })).toMatchObject({ ok: true });
  });

  it("gives strategies an empty environment", async () => {
    process.env.TRADAI_TEST_SECRET = "do-not-leak";
    const source = minimalStrategy(
      "EnvReader",
      "",
      `  populateIndicators() {
    if (globalThis.process?.env?.TRADAI_TEST_SECRET !== undefined) throw new Error("saw the secret");
  },
  populateEntryTrend() {},
  populateExitTrend() {},`,
    );
    expect((await inspect({ "env_reader.ts": source })).ok).toBe(true);
  });
});

describe("memory cap", () => {
  it("stops a strategy that allocates without bound, reports it, then keeps serving", async () => {
    const capped = createWorkerStrategySandbox({ loadTimeoutMs: 60_000, maxMemoryMb: 64 });
    try {
      const source = minimalStrategy(
        "Hoarder",
        "",
        `  populateIndicators() {
    const hoard: number[][] = [];
    for (;;) hoard.push(new Array(1_000_000).fill(1));
  },
  populateEntryTrend() {},
  populateExitTrend() {},`,
      );
      const compiled = await compiler.compile({ entry: "hoarder.ts", files: { "hoarder.ts": source } });
      if (!compiled.ok) throw new Error(JSON.stringify(compiled.issues));
      const result = await capped.inspect(compiled.compiled);
      expect(result.ok).toBe(false);
      if (!result.ok) {
        expect(result.issues[0]?.file).toBe("hoarder.ts");
        expect(result.issues[0]?.message).toMatch(/^loading hoarder\.ts failed: .*memory limit/);
      }
      const after = await compiler.compile({
        entry: "after.ts",
        files: { "after.ts": minimalStrategy("AfterHoard") },
      });
      if (!after.ok) throw new Error(JSON.stringify(after.issues));
      expect(await capped.inspect(after.compiled)).toMatchObject({ ok: true });
    } finally {
      await capped.close();
    }
  }, 90_000);
});

describe("sample strategies", () => {
  it("load from strategies/ with the metadata they declare", async () => {
    const all = await createDirectoryStrategySource(strategiesDir).loadAll();
    expect(all.map((files) => files.entry).sort()).toEqual([
      "biased_lookahead.ts",
      "ema_cross_trailing.ts",
      "mean_reversion_long_short.ts",
      "sample_strategy.ts",
    ]);
    const described: Record<string, InspectResult> = {};
    for (const files of all) described[files.entry] = await inspect(files.files, files.entry);
    const sample = described["sample_strategy.ts"];
    expect(sample?.ok).toBe(true);
    if (sample?.ok) {
      // Freqtrade's templates/sample_strategy.py
      expect(sample.inspection.description).toMatchObject({
        name: "SampleStrategy",
        timeframe: "5m",
        stoploss: -0.1,
        startupCandleCount: 200,
        minimalRoi: { "0": 0.04, "30": 0.02, "60": 0.01 },
      });
      expect(
        sample.inspection.description.parameters.map((parameter) => [
          parameter.name,
          parameter.default,
          parameter.low,
          parameter.high,
        ]),
      ).toEqual([
        ["buyRsi", 30, 1, 50],
        ["sellRsi", 70, 50, 100],
        ["shortRsi", 70, 51, 100],
        ["exitShortRsi", 30, 1, 50],
      ]);
      expect(sample.inspection.tags).toContain("freqtrade");
    }
    const meanReversion = described["mean_reversion_long_short.ts"];
    expect(meanReversion?.ok && meanReversion.inspection.description.canShort).toBe(true);
    expect(meanReversion?.ok && meanReversion.inspection.description.callbacks).toEqual(["leverage"]);
    const ema = described["ema_cross_trailing.ts"];
    expect(ema?.ok && ema.inspection.description).toMatchObject({
      trailingStop: true,
      trailingStopPositive: 0.015,
      trailingStopPositiveOffset: 0.03,
      trailingOnlyOffsetIsReached: true,
    });
    expect(described["biased_lookahead.ts"]?.ok).toBe(true);
  });
});
