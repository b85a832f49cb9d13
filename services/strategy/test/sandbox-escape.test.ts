// Issue #5 audit: untrusted strategy code must not reach the worker's `process` (and through it
// the file system, child processes, workers or sockets). Every classic way out of a V8 context is
// tried from a strategy, at import, in a populate hook during the load check and during a
// look-ahead analysis; on success a probe would copy a secret file into a marker directory.
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { candlesFromRows } from "@tradai/engine";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CompiledStrategy } from "../src/core/strategy-sandbox";
import type { ValidationIssue } from "../src/core/validation-issue";
import { createEsbuildStrategyCompiler } from "../src/infrastructure/esbuild-strategy-compiler";
import { createWorkerStrategySandbox } from "../src/infrastructure/worker-strategy-sandbox";
import { minimalStrategy } from "./helpers";

const compiler = createEsbuildStrategyCompiler();
const sandbox = createWorkerStrategySandbox({ loadTimeoutMs: 20_000, analysisTimeoutMs: 30_000 });
let scratch: string;
let markers: string;
let secretPath: string;
const SECRET = "tradai-test-secret-7d1f";

beforeAll(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), "tradai-sandbox-escape-"));
  markers = path.join(scratch, "markers");
  secretPath = path.join(scratch, "secret.txt");
  await writeFile(secretPath, SECRET);
  await import("node:fs/promises").then((fs) => fs.mkdir(markers));
});
afterAll(async () => {
  await sandbox.close();
  await rm(scratch, { recursive: true, force: true });
});

const SYNC_PROBES = [
  "frameConstructor",
  "globalThisConstructor",
  "candleArrayConstructor",
  "newTypedArrayConstructor",
  "engineErrorConstructor",
  "requireConstructor",
  "consoleConstructor",
  "argumentsCalleeCaller",
  "prepareStackTraceFrames",
  "symbolConstructor",
  "promiseConstructor",
  "asyncFunctionConstructor",
  "generatorFunctionConstructor",
  "eval",
];
const ASYNC_PROBES = ["dynamicImport", "asyncFunctionResult"];

/** A strategy that tries every escape and throws a JSON report of what each attempt reached. */
function escapeStrategy(): string {
  return `import { defineStrategy } from "@tradai/engine";

const MARKERS = ${JSON.stringify(markers)};
const SECRET_PATH = ${JSON.stringify(secretPath)};
const asyncResults: Record<string, string> = {};

/** "blocked" unless \`candidate\` is Node's process; then prove it by copying the secret. */
function exploit(label: string, candidate: any): string {
  if (candidate === null || typeof candidate !== "object" || typeof candidate.pid !== "number") return "blocked";
  let fs: any;
  try { fs = candidate.getBuiltinModule?.("node:fs"); } catch {}
  try { fs ??= candidate.binding?.("fs"); } catch {}
  try { fs?.writeFileSync(MARKERS + "/" + label, fs.readFileSync(SECRET_PATH, "utf8")); } catch {}
  try { candidate.getBuiltinModule?.("node:child_process")?.execSync("touch " + MARKERS + "/" + label + "-exec"); } catch {}
  return "process";
}
function attempt(label: string, get: () => unknown): string {
  try { return exploit(label, get()); } catch { return "blocked"; }
}
function attemptAsync(label: string, get: () => unknown): void {
  asyncResults[label] = "pending";
  Promise.resolve()
    .then(get)
    .then(
      (value) => { asyncResults[label] = exploit(label, value); },
      () => { asyncResults[label] = "blocked"; },
    );
}

const moduleName = ["node", "fs"].join(":");
attemptAsync("dynamicImport", () =>
  import(moduleName).then(
    (fs: any) => { try { fs.writeFileSync(MARKERS + "/dynamicImport-fs", "x"); } catch {} return undefined; },
    (error: any) => error.constructor.constructor("return process")(),
  ),
);
attemptAsync("asyncFunctionResult", () => (async function () {}).constructor("return process")());

function probes(frame: any): Record<string, string> {
  const results: Record<string, string> = {
    frameConstructor: attempt("frameConstructor", () => frame.constructor.constructor("return process")()),
    globalThisConstructor: attempt("globalThisConstructor", () => (globalThis as any).constructor.constructor("return process")()),
    candleArrayConstructor: attempt("candleArrayConstructor", () => frame.close.constructor.constructor("return process")()),
    newTypedArrayConstructor: attempt("newTypedArrayConstructor", () => new Float64Array(1).constructor.constructor("return process")()),
    engineErrorConstructor: attempt("engineErrorConstructor", () => {
      try { frame.get("no_such_column"); } catch (error: any) { return error.constructor.constructor("return process")(); }
      return undefined;
    }),
    requireConstructor: attempt("requireConstructor", () => (globalThis as any).require.constructor("return process")()),
    consoleConstructor: attempt("consoleConstructor", () => (console.log as any).constructor("return process")()),
    argumentsCalleeCaller: attempt("argumentsCalleeCaller", function walk(this: unknown) {
      let caller: any = (arguments as any).callee.caller;
      for (let depth = 0; caller && depth < 64; depth++) {
        try { const found = caller.constructor("return process")(); if (found) return found; } catch {}
        try { caller = caller.caller; } catch { return undefined; }
      }
      return undefined;
    }),
    prepareStackTraceFrames: attempt("prepareStackTraceFrames", () => {
      const ErrorClass = Error as any;
      ErrorClass.prepareStackTrace = (_error: unknown, frames: unknown) => frames;
      const frames = new Error().stack as any;
      ErrorClass.prepareStackTrace = undefined;
      for (const callSite of frames) {
        for (const value of [callSite.getFunction?.(), callSite.getThis?.(), callSite]) {
          try { const found = value?.constructor?.constructor("return process")(); if (found) return found; } catch {}
        }
      }
      try { return frames.constructor.constructor("return process")(); } catch { return undefined; }
    }),
    symbolConstructor: attempt("symbolConstructor", () => Object(Symbol("x")).constructor.constructor("return process")()),
    promiseConstructor: attempt("promiseConstructor", () => Promise.resolve().constructor.constructor("return process")()),
    asyncFunctionConstructor: attempt("asyncFunctionConstructor", () => Object.getPrototypeOf(async function () {}).constructor("return process")),
    generatorFunctionConstructor: attempt("generatorFunctionConstructor", () => Object.getPrototypeOf(function* () {}).constructor("return process")().next().value),
    eval: attempt("eval", () => (0, eval)("process")),
  };
  return { ...results, ...asyncResults };
}

/** Objects strategy code can reach whose Function is not this context's own (should be none). */
function foreign(frame: any): string[] {
  let engineError: any;
  try { frame.get("no_such_column"); } catch (error) { engineError = error; }
  const ErrorClass = Error as any;
  ErrorClass.prepareStackTrace = (_error: unknown, frames: unknown) => frames;
  const callSites = new Error().stack as any;
  ErrorClass.prepareStackTrace = undefined;
  const reachable: Record<string, any> = {
    callSites,
    callSite: callSites[0],
    frame,
    frameClose: frame.close,
    frameColumnNames: frame.columnNames(),
    engineError,
    require: (globalThis as any).require,
    engine: (globalThis as any).require("@tradai/engine"),
    defineStrategy,
    globalThis,
  };
  return Object.entries(reachable)
    .filter(([, value]) => value?.constructor?.constructor !== Function)
    .map(([name]) => name);
}

export default defineStrategy({
  name: "Escaper",
  timeframe: "5m",
  stoploss: -0.1,
  populateIndicators(frame) {
    throw new Error("probe " + JSON.stringify({ ...probes(frame), foreign: foreign(frame).join(",") }));
  },
  populateEntryTrend() {},
  populateExitTrend() {},
});
`;
}

async function compile(files: Record<string, string>, entry: string): Promise<CompiledStrategy> {
  const compiled = await compiler.compile({ entry, files });
  if (!compiled.ok) throw new Error(`compile failed: ${JSON.stringify(compiled.issues)}`);
  return compiled.compiled;
}

function probeReport(issues: readonly ValidationIssue[]): Record<string, string> {
  const match = /probe (\{.*\})/.exec(issues[0]?.message ?? "");
  if (match === null) throw new Error(`no probe report in ${JSON.stringify(issues)}`);
  return JSON.parse(match[1] as string) as Record<string, string>;
}

/** Every probe blocked, and every object tried belongs to the strategy's own realm. */
const allBlocked = (names: readonly string[]) => ({
  ...Object.fromEntries(names.map((name) => [name, "blocked"])),
  foreign: "",
});

function syntheticCandles(count: number) {
  const start = Date.UTC(2025, 0, 1);
  return candlesFromRows(
    Array.from({ length: count }, (_, index) => {
      const price = 100 + Math.sin(index / 7) * 5;
      return [start + index * 300_000, price, price + 1, price - 1, price + 0.5, 10];
    }),
  );
}

describe("strategy code cannot leave its V8 context", () => {
  it("reaches neither process nor fs through any host-realm object while loading", async () => {
    const compiled = await compile({ "escaper.ts": escapeStrategy() }, "escaper.ts");
    const result = await sandbox.inspect(compiled);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues[0]).toMatchObject({ field: "populateIndicators", file: "escaper.ts" });
    expect(probeReport(result.issues)).toEqual(allBlocked([...SYNC_PROBES, ...ASYNC_PROBES]));
    expect(JSON.stringify(result.issues)).not.toContain(SECRET);
    expect(await readdir(markers)).toEqual([]);
  }, 60_000);

  it("reaches neither process nor fs during a look-ahead analysis (candles copied into the context)", async () => {
    const compiled = await compile({ "escaper.ts": escapeStrategy() }, "escaper.ts");
    const result = await sandbox.analyze(compiled, {
      pair: "BTC/USDT",
      candles: syntheticCandles(300),
      informative: {},
      rangeStartIndex: 50,
      params: {},
      samples: 2,
      recursive: false,
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(probeReport(result.issues)).toEqual(allBlocked([...SYNC_PROBES, ...ASYNC_PROBES]));
    expect(await readdir(markers)).toEqual([]);
  }, 60_000);

  it("rejects a literal dynamic import at compile time, naming the line", async () => {
    const source = `export const loaded = import("node:fs");\n${minimalStrategy("LiteralImport")}`;
    const result = await compiler.compile({ entry: "literal.ts", files: { "literal.ts": source } });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.issues[0]).toMatchObject({ file: "literal.ts", line: 1 });
      expect(result.issues[0]?.message).toContain('import "node:fs": expected "@tradai/engine"');
    }
  });

  it("rejects an answer the strategy forged by patching the harness's JSON (a name that is a path)", async () => {
    const forged = JSON.stringify({
      ok: true,
      task: "inspect",
      description: { name: "../../escape", timeframe: "5m", parameters: [] },
      tags: [],
    });
    const source = `${minimalStrategy("Forger")}
const realStringify = JSON.stringify;
JSON.stringify = ((value: unknown, ...rest: any[]) =>
  (value as any)?.task === "inspect" ? ${JSON.stringify(forged)} : realStringify(value, ...rest)) as typeof JSON.stringify;
`;
    const result = await sandbox.inspect(await compile({ "forger.ts": source }, "forger.ts"));
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.issues[0]?.message).toContain('strategy name "../../escape"');
      expect(result.issues[0]?.found).toBe('strategy name "../../escape"');
    }
  });

  it("keeps serving after every attempt", async () => {
    const result = await sandbox.inspect(
      await compile({ "after.ts": minimalStrategy("AfterEscape") }, "after.ts"),
    );
    expect(result.ok && result.inspection.description.name).toBe("AfterEscape");
  });
});
