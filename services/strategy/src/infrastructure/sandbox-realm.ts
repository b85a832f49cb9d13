/**
 * The parts every sandbox harness shares (sandbox-harness.ts for loads and look-ahead analyses,
 * backtest-harness.ts for the worker's backtests). Side-effect free: each harness imports what it
 * needs and starts itself with `startHarness`. See sandbox-harness.ts for the design: the harness
 * bundle runs twice, as the host in a worker thread and as the realm inside the strategy's own V8
 * context; only strings cross between the two.
 */
import * as engine from "@tradai/engine";
import type { CandleSeries, Strategy } from "@tradai/engine";
import type { EncodedSeries, HarnessIssue } from "./sandbox-protocol";
import type * as NodeVm from "node:vm";

const STRATEGY_GLOBAL = "__tradaiStrategy";
const ENGINE_MODULE = "@tradai/engine";
/** Globals of the context the host sets (primitives, or the strategy's own thrown value). */
const REALM_ENTRY = "__tradaiRealm";
const INPUT_GLOBAL = "__tradaiInput";
const LOAD_FAILED_GLOBAL = "__tradaiLoadFailed";
const LOAD_ERROR_GLOBAL = "__tradaiLoadError";
const PAYLOAD_GLOBAL = "__tradaiPayload";

/**
 * The context's standard built-ins, bound as locals of the harness (its own objects, read from its
 * own global once): a global lookup in a V8 context whose global is backed by a host object goes
 * through an interceptor, which made the engine's hot loops several times slower than in the
 * worker's own realm.
 */
const LOCAL_BUILTINS = [
  "Array",
  "ArrayBuffer",
  "BigInt",
  "BigInt64Array",
  "BigUint64Array",
  "Boolean",
  "DataView",
  "Date",
  "Error",
  "EvalError",
  "Float32Array",
  "Float64Array",
  "Int8Array",
  "Int16Array",
  "Int32Array",
  "Intl",
  "JSON",
  "Map",
  "Math",
  "Number",
  "Object",
  "Promise",
  "Proxy",
  "RangeError",
  "ReferenceError",
  "Reflect",
  "RegExp",
  "Set",
  "String",
  "Symbol",
  "SyntaxError",
  "TypeError",
  "URIError",
  "Uint8Array",
  "Uint8ClampedArray",
  "Uint16Array",
  "Uint32Array",
  "WeakMap",
  "WeakSet",
  "NaN",
  "Infinity",
  "isFinite",
  "isNaN",
  "parseFloat",
  "parseInt",
] as const;

export class HarnessFailure extends Error {
  constructor(readonly issues: HarnessIssue[]) {
    super(issues.map((issue) => issue.message).join("; "));
  }
}

/** Errors from the strategy's context are not `instanceof Error` here: check their shape. */
function stackOf(value: unknown): string | undefined {
  const stack = (value as { stack?: unknown } | null)?.stack;
  return typeof stack === "string" ? stack : undefined;
}

export function errorIssues(error: unknown, field: string, prefix: string): HarnessIssue[] {
  if (error instanceof engine.StrategyValidationError) {
    return error.problems.map((problem) => ({
      field: problem.field,
      message: problem.message,
      expected: problem.expected,
      found: problem.found,
      locateField: true,
    }));
  }
  if (error instanceof engine.StrategyRuntimeError) {
    const stack = stackOf(error.cause);
    return [{ field: error.hook, message: error.message, ...(stack === undefined ? {} : { stack }) }];
  }
  if (error instanceof engine.EngineInputError) {
    return [
      {
        field: error.field,
        message: error.message,
        expected: error.expected,
        found: error.found,
        ...(error.stack === undefined ? {} : { stack: error.stack }),
      },
    ];
  }
  const rawMessage = (error as { message?: unknown } | null)?.message;
  const message = typeof rawMessage === "string" ? rawMessage : String(error);
  const stack = stackOf(error);
  return [{ field, message: `${prefix}: ${message}`, ...(stack === undefined ? {} : { stack }) }];
}

/** The realm's entry as the host calls it (see runInContext). */
type RealmEntry = (inputJson: string, loadFailed: boolean, loadError: unknown, payload: string) => string;

// ---- realm role: runs inside the strategy's context --------------------------------------------

/** `require` as the compiled strategy calls it: the engine of this context, nothing else. */
function strategyRequire(name: string): unknown {
  if (name === ENGINE_MODULE) return engine;
  throw new Error(`require("${name}"): strategies may import only ${ENGINE_MODULE} and local files`);
}

export function loadedStrategy(): { strategy: Strategy; tags: string[] } {
  const moduleExports = (globalThis as Record<string, unknown>)[STRATEGY_GLOBAL] as
    Record<string, unknown> | undefined;
  const exported = moduleExports?.["default"];
  if (typeof exported !== "object" || exported === null) {
    const found = exported === undefined ? "no default export" : typeof exported;
    throw new HarnessFailure([
      {
        field: "default export",
        message: `default export: expected a strategy (export default defineStrategy({...}) from "${ENGINE_MODULE}"), got ${found}`,
        expected: "a strategy from defineStrategy",
        found,
      },
    ]);
  }
  let strategy: Strategy;
  try {
    // Normalises and validates plain definitions too; idempotent on defineStrategy results.
    strategy = engine.defineStrategy({ ...(exported as engine.StrategyDefinition) });
  } catch (error) {
    throw new HarnessFailure(errorIssues(error, "default export", "defineStrategy threw"));
  }
  const rawTags = moduleExports?.["tags"];
  const tags = Array.isArray(rawTags) ? rawTags.filter((tag): tag is string => typeof tag === "string") : [];
  return { strategy, tags };
}

/** A column back from its bytes, as a typed array of this context. */
function decodeColumn(text: string): Float64Array {
  const bytes = new Uint8Array(text.length);
  for (let index = 0; index < text.length; index++) bytes[index] = text.charCodeAt(index);
  return new Float64Array(bytes.buffer);
}

export function decodeSeries(encoded: EncodedSeries): CandleSeries {
  return {
    date: decodeColumn(encoded.date),
    open: decodeColumn(encoded.open),
    high: decodeColumn(encoded.high),
    low: decodeColumn(encoded.low),
    close: decodeColumn(encoded.close),
    volume: decodeColumn(encoded.volume),
  };
}

/**
 * The realm's entry around a harness's task runner: the task as JSON in (and the bulk payload
 * string, if any), its answer as a JSON string out (`{ ok: false, issues }` for anything thrown).
 * `serialize` writes the answer (default JSON.stringify).
 */
export function realmEntry(
  runTask: (inputJson: string, payload: string) => unknown,
  serialize: (output: unknown) => string = (output) => JSON.stringify(output),
): RealmEntry {
  return (inputJson, loadFailed, loadError, payload) => {
    let output: unknown;
    try {
      if (loadFailed)
        throw new HarnessFailure(errorIssues(loadError, "source", "loading the strategy threw"));
      output = runTask(inputJson, payload);
    } catch (error) {
      output =
        error instanceof HarnessFailure
          ? { ok: false, issues: error.issues }
          : { ok: false, issues: errorIssues(error, "source", "the sandbox failed") };
    }
    return serialize(output);
  };
}

// ---- host role: runs in the sandbox worker -----------------------------------------------------

export function encodeSeries(series: CandleSeries): EncodedSeries {
  const encode = (values: Float64Array) =>
    Buffer.from(values.buffer, values.byteOffset, values.byteLength).toString("latin1");
  return {
    date: encode(series.date),
    open: encode(series.open),
    high: encode(series.high),
    low: encode(series.low),
    close: encode(series.close),
    volume: encode(series.volume),
  };
}

export const sandboxFailure = (message: string) => ({
  ok: false as const,
  issues: [{ field: "source", message }],
});

export interface ContextRun {
  /** The harness bundle, evaluated again inside the strategy's context (the realm role). */
  readonly harness: string;
  /** File name of the harness script in stack traces. */
  readonly harnessFile: string;
  /** The compiled strategy script. */
  readonly code: string;
  /** The task for the realm, as one JSON string. */
  readonly input: string;
  /** Bulk data for the task as one more string (candle bytes), kept out of the JSON. */
  readonly payload?: string;
}

/**
 * Evaluates the harness and the strategy in a fresh context and runs the task there. Returns the
 * realm's answer — a string, whatever it holds — or a failure object of this realm.
 */
export function runInContext(
  vm: typeof NodeVm,
  run: ContextRun,
): string | { readonly ok: false; readonly issues: HarnessIssue[] } {
  // A null-prototype object as the global's backing store: with `{}`, `this.constructor` inside
  // the context was this realm's Object (and `.constructor` again its Function).
  const sandbox = Object.create(null) as Record<string, unknown>;
  sandbox[INPUT_GLOBAL] = run.input;
  sandbox[LOAD_FAILED_GLOBAL] = false;
  sandbox[LOAD_ERROR_GLOBAL] = undefined;
  sandbox[PAYLOAD_GLOBAL] = run.payload ?? "";
  const context = vm.createContext(sandbox, {
    name: "strategy",
    // No eval / new Function / WebAssembly compilation: only the code compiled by the service runs.
    codeGeneration: { strings: false, wasm: false },
    // Promise jobs of the strategy run before each evaluation returns, never later in the worker.
    microtaskMode: "afterEvaluate",
  });
  let realm: NodeVm.Script;
  let strategy: NodeVm.Script;
  let entry: NodeVm.Script;
  try {
    // Strict like the harness bundle (whose `"use strict"` banner is no directive in here).
    realm = new vm.Script(
      `(function () { "use strict"; const { ${LOCAL_BUILTINS.join(", ")} } = globalThis;\n${run.harness}\n})();`,
      { filename: run.harnessFile },
    );
    strategy = new vm.Script(run.code, { filename: "strategy-bundle.js" });
    entry = new vm.Script(
      `${REALM_ENTRY}(${INPUT_GLOBAL}, ${LOAD_FAILED_GLOBAL}, ${LOAD_ERROR_GLOBAL}, ${PAYLOAD_GLOBAL})`,
      {
        filename: "sandbox-entry.js",
      },
    );
  } catch (error) {
    // Thrown by this realm's compiler: ours to read.
    return sandboxFailure(`the strategy script does not compile: ${(error as Error).message}`);
  }
  try {
    realm.runInContext(context);
  } catch {
    return sandboxFailure("the sandbox failed to start");
  }
  try {
    strategy.runInContext(context);
  } catch (error) {
    // Whatever the strategy threw goes back to the realm unread: reading it here could run
    // strategy code (getters) with this realm's functions on the stack.
    sandbox[LOAD_FAILED_GLOBAL] = true;
    sandbox[LOAD_ERROR_GLOBAL] = error;
  }
  let answer: unknown;
  try {
    answer = entry.runInContext(context);
  } catch {
    return sandboxFailure("the strategy broke the sandbox harness (it threw out of the harness)");
  }
  if (typeof answer !== "string") {
    return sandboxFailure(`the sandbox harness answered ${typeof answer}, expected a JSON string`);
  }
  return answer;
}

/**
 * Defence in depth, should a host-realm object ever reach the context again: this worker's
 * `process` loses the ways to load modules or native code and to signal or abort the service.
 * Not the guarantee (that is realm hygiene): a deny-list cannot be complete.
 */
function hardenProcess(): void {
  const exposed = process as unknown as Record<string, unknown>;
  for (const key of ["getBuiltinModule", "binding", "_linkedBinding", "dlopen", "kill", "abort"]) {
    try {
      delete exposed[key];
    } catch {
      // non-configurable: leave it
    }
  }
}

/**
 * Starts a harness bundle in its role: inside the strategy's context (no `process`) it installs
 * the realm's entry and `require`; in a worker thread it runs `host` with `node:vm`, the
 * worker's data and its port, after taking the powers off `process`.
 */
export function startHarness(
  realm: RealmEntry,
  host: (vm: typeof NodeVm, workerData: unknown, post: (message: unknown) => void) => void,
): void {
  if (typeof process === "undefined") {
    Object.defineProperty(globalThis, REALM_ENTRY, { value: realm });
    Object.defineProperty(globalThis, "require", { value: strategyRequire });
    return;
  }
  const vm = process.getBuiltinModule("node:vm");
  const { parentPort, workerData } = process.getBuiltinModule("node:worker_threads");
  hardenProcess();
  host(vm, workerData, (message) => parentPort?.postMessage(message));
}
