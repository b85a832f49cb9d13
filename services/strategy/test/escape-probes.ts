// The escape probes of issue #5's audit, shared by the strategy service's sandbox tests
// (sandbox-escape.test.ts) and the worker's (services/worker/test/sandboxed-backtest.test.ts).
import type { ValidationIssue } from "../src/core/validation-issue";

export const SYNC_PROBES = [
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
export const ASYNC_PROBES = ["dynamicImport", "asyncFunctionResult"];

/**
 * A strategy that tries every escape and throws a JSON report of what each attempt reached: in
 * populateIndicators (default), or in a callback (customStakeAmount, on the first entry; its
 * populate hooks then signal an entry on every candle) with the callback's frame and arguments.
 * On success a probe copies the secret file into the markers directory.
 */
export function escapeStrategySource(
  markers: string,
  secretPath: string,
  hook: "populateIndicators" | "callback" = "populateIndicators",
): string {
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

${
  hook === "populateIndicators"
    ? `export default defineStrategy({
  name: "Escaper",
  timeframe: "5m",
  stoploss: -0.1,
  populateIndicators(frame) {
    throw new Error("probe " + JSON.stringify({ ...probes(frame), foreign: foreign(frame).join(",") }));
  },
  populateEntryTrend() {},
  populateExitTrend() {},
});`
    : `export default defineStrategy({
  name: "CallbackEscaper",
  timeframe: "5m",
  stoploss: -0.1,
  populateIndicators() {},
  populateEntryTrend(frame) {
    frame.enterLong.fill(1);
  },
  populateExitTrend() {},
  customStakeAmount(args: any) {
    const argsFound = attempt("callbackArgsConstructor", () => args.constructor.constructor("return process")());
    throw new Error("probe " + JSON.stringify({
      ...probes(args.frame),
      callbackArgsConstructor: argsFound,
      foreign: foreign(args.frame).join(","),
    }));
  },
});`
}
`;
}

export function probeReport(issues: readonly ValidationIssue[]): Record<string, string> {
  const match = /probe (\{.*\})/.exec(issues[0]?.message ?? "");
  if (match === null) throw new Error(`no probe report in ${JSON.stringify(issues)}`);
  return JSON.parse(match[1] as string) as Record<string, string>;
}

/** Every probe blocked, and every object tried belongs to the strategy's own realm. */
export const allBlocked = (names: readonly string[]) => ({
  ...Object.fromEntries(names.map((name) => [name, "blocked"])),
  foreign: "",
});
