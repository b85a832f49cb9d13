// Denial-of-service limits of the compiler and the sandboxes: pathological nesting never reaches
// (or no longer kills) esbuild, and forged answers — too long, too many issues — are refused before
// the main thread parses or maps them, after which the service keeps serving.
import { monitorEventLoopDelay } from "node:perf_hooks";
import { afterAll, describe, expect, it } from "vitest";
import {
  createEsbuildStrategyCompiler,
  MAX_BRACKET_DEPTH,
  maxBracketDepth,
} from "../src/infrastructure/esbuild-strategy-compiler";
import { checkAnswer, createSandboxedBacktestRunner } from "../src/infrastructure/sandboxed-backtest";
import { ANSWER_BUDGET_CHARS, MAX_HARNESS_ISSUES } from "../src/infrastructure/sandbox-protocol";
import { boundIssues } from "../src/infrastructure/sandbox-realm";
import {
  createWorkerStrategySandbox,
  toValidationIssue,
} from "../src/infrastructure/worker-strategy-sandbox";
import type { CompiledStrategy } from "../src/core/strategy-sandbox";
import { minimalStrategy } from "./helpers";

const compiler = createEsbuildStrategyCompiler();
const sandbox = createWorkerStrategySandbox({ loadTimeoutMs: 10_000 });
const runner = createSandboxedBacktestRunner({ describeTimeoutMs: 10_000 });
afterAll(() => Promise.all([sandbox.close(), runner.close()]));

async function compile(source: string, entry = "p.ts"): Promise<CompiledStrategy> {
  const result = await compiler.compile({ entry, files: { [entry]: source } });
  if (!result.ok) throw new Error(`compile failed: ${JSON.stringify(result.issues)}`);
  return result.compiled;
}

/** A strategy whose harness answers `forged` (the realm serialises with the context's JSON.stringify). */
const forging = (forgedExpression: string, pad = "") =>
  `const forged = ${forgedExpression};\nJSON.stringify = () => forged;\n${pad}\n${minimalStrategy("Forger")}`;

describe("bracket nesting", () => {
  it("counts brackets in code only, not in strings, template text or comments, with the line", () => {
    expect(maxBracketDepth("a(b[c{d}])")).toEqual({ depth: 3, line: 1 });
    expect(maxBracketDepth(`const s = "((((";\n// [[[[\n/* {{{{ */ f('))', "\\"(")`)).toEqual({
      depth: 1,
      line: 3,
    });
    expect(maxBracketDepth("const t = `((( ${ f([1]) } {{{`;\nx")).toEqual({ depth: 3, line: 1 });
    expect(maxBracketDepth("\n\n" + "[".repeat(7) + "]".repeat(7))).toEqual({ depth: 7, line: 3 });
  });

  it.each(["[", "{"])(
    "rejects 250 000 nested %s naming file, line and depth, then compiles a normal strategy",
    async (open) => {
      const close = open === "[" ? "]" : "}";
      const source = `${minimalStrategy("Deep")}\nexport const x = ${open.repeat(250_000)}${close.repeat(250_000)};\n`;
      expect(source.length).toBeLessThan(512 * 1024);
      const result = await compiler.compile({ entry: "deep.ts", files: { "deep.ts": source } });
      expect(result.ok).toBe(false);
      if (result.ok) return;
      const line = source.split("\n").length - 1;
      expect(result.issues).toEqual([
        {
          field: "source",
          message: `deep.ts:${line}: brackets nested 250000 deep, expected at most ${MAX_BRACKET_DEPTH} (such deep nesting would crash the compiler)`,
          expected: `bracket nesting depth <= ${MAX_BRACKET_DEPTH}`,
          found: "depth 250000",
          file: "deep.ts",
          line,
        },
      ]);
      const normal = await compiler.compile({ entry: "ok.ts", files: { "ok.ts": minimalStrategy("Fine") } });
      expect(normal.ok).toBe(true);
    },
  );

  it("maps a crash of esbuild's service to a compile issue and restarts it for the next compile", async () => {
    // An arrow chain recurses in esbuild's parser without a single bracket: it overflows esbuild's
    // stack (fatal in Go), which stops the shared service.
    const source = `export const x = ${"a=>".repeat(100_000)}1;\n${minimalStrategy("Arrows")}`;
    const result = await compiler.compile({ entry: "arrows.ts", files: { "arrows.ts": source } });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues).toHaveLength(1);
    expect(result.issues[0]).toMatchObject({ field: "source", file: "arrows.ts" });
    expect(result.issues[0]?.message).toContain("the compiler stopped while compiling arrows.ts");
    const normal = await compiler.compile({ entry: "ok.ts", files: { "ok.ts": minimalStrategy("Fine") } });
    expect(normal.ok).toBe(true);
  }, 60_000);
});

describe("oversized answers", () => {
  const twoMiB = `'{"ok":true,"task":"inspect","description":{"name":"P","timeframe":"5m","parameters":[],"x":"' + "x".repeat(2 * 1024 * 1024) + '"},"tags":[]}'`;

  it("refuses a 2 MiB forged inspect answer in the worker, then keeps serving", async () => {
    const result = await sandbox.inspect(await compile(forging(twoMiB)));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues).toHaveLength(1);
    expect(result.issues[0]?.field).toBe("source");
    expect(result.issues[0]?.message).toMatch(
      new RegExp(
        `^the sandbox answer to inspect is \\d+ characters long, expected at most ${ANSWER_BUDGET_CHARS.inspect}`,
      ),
    );
    const fine = await sandbox.inspect(await compile(minimalStrategy("Fine")));
    expect(fine.ok).toBe(true);
  }, 60_000);

  it("refuses a 2 MiB forged describe answer of the backtest sandbox, then keeps serving", async () => {
    const forged = twoMiB
      .replace('"task":"inspect"', '"task":"describe"')
      .replace('"parameters":[]', '"startupCandleCount":0');
    const result = await runner.describe(await compile(forging(forged)));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues[0]?.message).toMatch(
      new RegExp(
        `^the sandbox answer to describe is \\d+ characters long, expected at most ${ANSWER_BUDGET_CHARS.describe}`,
      ),
    );
    const fine = await runner.describe(await compile(minimalStrategy("Fine")));
    expect(fine.ok).toBe(true);
    if (fine.ok) expect(fine.description.name).toBe("Fine");
  }, 60_000);

  it("refuses an answer over budget on the main thread before parsing it", () => {
    const message = `{"ok":true,"task":"describe","description":{"name":"P","x":"${"x".repeat(ANSWER_BUDGET_CHARS.describe)}"}}`;
    const result = checkAnswer(message, "describe");
    expect(result).toMatchObject({
      ok: false,
      issues: [
        {
          field: "source",
          expected: "a describe result",
          found: `an answer of ${message.length} characters, expected at most ${ANSWER_BUDGET_CHARS.describe}`,
        },
      ],
    });
  });
});

describe("forged issue floods", () => {
  // The entry stays under the 512 KiB upload limit; each located issue used to scan all of it.
  const pad = `//${"x".repeat(500 * 1024)}\n`;
  const flood = `JSON.stringify({ ok: false, issues: Array.from({ length: 20000 }, () => ({ field: "zq", message: "m", locateField: true })) })`;

  async function timed<T>(run: () => Promise<T>): Promise<{ value: T; ms: number; maxLagMs: number }> {
    const histogram = monitorEventLoopDelay({ resolution: 10 });
    histogram.enable();
    const start = performance.now();
    const value = await run();
    const ms = performance.now() - start;
    histogram.disable();
    return { value, ms, maxLagMs: histogram.max / 1e6 };
  }

  it("refuses 20 000 forged issues from the strategy sandbox quickly, without blocking the main thread", async () => {
    const compiled = await compile(forging(flood, pad));
    const { value: result, ms, maxLagMs } = await timed(() => sandbox.inspect(compiled));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues).toHaveLength(1);
    expect(result.issues[0]?.found).toBe(`20000 issues, expected at most ${MAX_HARNESS_ISSUES}`);
    expect(result.issues[0]?.message).toContain("the strategy tampered with its harness");
    // Unchecked, mapping them took ~20 s of main-thread time; bounds are generous for slow CI.
    expect(ms).toBeLessThan(8_000);
    expect(maxLagMs).toBeLessThan(2_000);
  }, 60_000);

  it("refuses 20 000 forged issues from the backtest sandbox quickly", async () => {
    const compiled = await compile(forging(flood, pad));
    const { value: result, ms, maxLagMs } = await timed(() => runner.describe(compiled));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues[0]?.found).toBe(`20000 issues, expected at most ${MAX_HARNESS_ISSUES}`);
    expect(ms).toBeLessThan(8_000);
    expect(maxLagMs).toBeLessThan(2_000);
  }, 60_000);

  it("refuses an issue text over 4 KiB", () => {
    const message = JSON.stringify({ ok: false, issues: [{ field: "f", message: "m".repeat(5000) }] });
    expect(checkAnswer(message, "describe")).toMatchObject({
      ok: false,
      issues: [{ found: "an issue message of 5000 characters, expected at most 4096" }],
    });
  });

  it("locates many field issues in a large source once per field, at the right line", async () => {
    const compiled = await compile(`${pad}${minimalStrategy("Located")}`);
    const start = performance.now();
    const issues = Array.from({ length: 20_000 }, (_, index) =>
      toValidationIssue(compiled, {
        field: index % 2 === 0 ? "stoploss" : "zq",
        message: "m",
        locateField: true,
      }),
    );
    expect(performance.now() - start).toBeLessThan(2_000);
    const lines = compiled.sources["p.ts"]?.split("\n") ?? [];
    const stoplossLine = lines.findIndex((line) => line.includes("stoploss:")) + 1;
    const anchorLine = lines.findIndex((line) => line.includes("export default")) + 1;
    expect(stoplossLine).toBeGreaterThan(1);
    expect(issues[0]).toMatchObject({ field: "stoploss", file: "p.ts", line: stoplossLine });
    expect(issues[1]).toMatchObject({ field: "zq", file: "p.ts", line: anchorLine });
    expect(issues[19_999]).toEqual(issues[1]);
  });

  it("keeps an honest harness's issue lists within the limits", () => {
    const many = Array.from({ length: 60 }, (_, index) => ({
      field: `f${index}`,
      message: "x".repeat(10_000),
    }));
    const bounded = boundIssues(many);
    expect(bounded).toHaveLength(MAX_HARNESS_ISSUES);
    expect(bounded[MAX_HARNESS_ISSUES - 1]?.message).toBe("11 more issues not shown");
    expect(bounded[0]?.message.length).toBeLessThanOrEqual(4096);
    expect(bounded[0]?.message).toMatch(/\.\.\. \(\d+ more\)$/);
    const message = JSON.stringify({ ok: false, issues: bounded });
    expect(checkAnswer(message, "describe")).toEqual({ ok: false, issues: bounded });
  });
});
