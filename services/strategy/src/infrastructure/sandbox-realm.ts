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
import { MAX_HARNESS_ISSUES, MAX_ISSUE_STACK_CHARS, MAX_ISSUE_TEXT_CHARS } from "./sandbox-protocol";
import type * as NodeVm from "node:vm";

const STRATEGY_GLOBAL = "__tradaiStrategy";
const ENGINE_MODULE = "@tradai/engine";
/** The realm's entry, a global of the context the realm defines (non-writable) before the strategy runs. */
const REALM_ENTRY = "__tradaiRealm";

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
const clip = (text: string, limit: number) =>
  text.length <= limit ? text : `${text.slice(0, limit - 32)}... (${text.length - limit + 32} more)`;

/**
 * Issues within the answer checks' budgets (sandbox-protocol.ts): at most MAX_HARNESS_ISSUES, the
 * last one saying how many more there were, and every text clipped. An honest harness never
 * trips the main thread's check for forged answers.
 */
export function boundIssues(issues: readonly HarnessIssue[]): HarnessIssue[] {
  const kept =
    issues.length <= MAX_HARNESS_ISSUES
      ? issues
      : [
          ...issues.slice(0, MAX_HARNESS_ISSUES - 1),
          {
            field: "source",
            message: `${issues.length - MAX_HARNESS_ISSUES + 1} more issues not shown`,
          },
        ];
  return kept.map((issue) => ({
    field: clip(issue.field, MAX_ISSUE_TEXT_CHARS),
    message: clip(issue.message, MAX_ISSUE_TEXT_CHARS),
    ...(issue.expected === undefined ? {} : { expected: clip(issue.expected, MAX_ISSUE_TEXT_CHARS) }),
    ...(issue.found === undefined ? {} : { found: clip(issue.found, MAX_ISSUE_TEXT_CHARS) }),
    ...(issue.stack === undefined ? {} : { stack: clip(issue.stack, MAX_ISSUE_STACK_CHARS) }),
    ...(issue.locateField === undefined ? {} : { locateField: issue.locateField }),
  }));
}

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
          ? { ok: false, issues: boundIssues(error.issues) }
          : { ok: false, issues: boundIssues(errorIssues(error, "source", "the sandbox failed")) };
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
  // the context was this realm's Object (and `.constructor` again its Function). The host never
  // touches it again: strategy code may define accessors on the context's global, and they would
  // run on a write from here.
  const context = vm.createContext(Object.create(null) as object, {
    name: "strategy",
    // No eval / new Function / WebAssembly compilation: only the code compiled by the service runs.
    codeGeneration: { strings: false, wasm: false },
    // Promise jobs of the strategy run before each evaluation returns, never later in the worker.
    microtaskMode: "afterEvaluate",
  });
  let realm: NodeVm.Script;
  let strategy: NodeVm.Script;
  let entry: RealmEntry;
  try {
    // Strict like the harness bundle (whose `"use strict"` banner is no directive in here).
    realm = new vm.Script(
      `(function () { "use strict"; const { ${LOCAL_BUILTINS.join(", ")} } = globalThis;\n${run.harness}\n})();`,
      { filename: run.harnessFile },
    );
    strategy = new vm.Script(run.code, { filename: "strategy-bundle.js" });
    // Compiled here, in the context, before any strategy code exists: the task and the load
    // outcome go to the realm as call arguments, never through globals the strategy could hook.
    entry = vm.compileFunction(
      `"use strict"; return ${REALM_ENTRY}(inputJson, loadFailed, loadError, payload);`,
      ["inputJson", "loadFailed", "loadError", "payload"],
      { parsingContext: context, filename: "sandbox-entry.js" },
    ) as RealmEntry;
  } catch (error) {
    // Thrown by this realm's compiler: ours to read.
    return sandboxFailure(`the strategy script does not compile: ${(error as Error).message}`);
  }
  try {
    realm.runInContext(context);
  } catch {
    return sandboxFailure("the sandbox failed to start");
  }
  let loadFailed = false;
  let loadError: unknown;
  try {
    strategy.runInContext(context);
  } catch (error) {
    // Whatever the strategy threw goes back to the realm unread: reading it here (even `.stack`)
    // could run strategy code with this realm's objects at hand.
    loadFailed = true;
    loadError = error;
  }
  let answer: unknown;
  try {
    answer = entry(run.input, loadFailed, loadError, run.payload ?? "");
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
 * The context's `Error` as Node's stack formatting sees it: Node calls the error's context's
 * `globalThis.Error.prepareStackTrace` whenever any code reads an error's `.stack`, with call
 * sites built in the realm that reads it. Read from the worker's realm (its uncaught-exception
 * handler, say), a strategy's hook got the worker's `Function` (code generation allowed, `require`
 * in scope). So the hook is fixed to undefined and `Error` to this constructor before strategy code
 * runs; stacks are then formatted by Node's own default.
 */
function lockStackFormatting(): void {
  Object.defineProperty(Error, "prepareStackTrace", {
    value: undefined,
    writable: false,
    configurable: false,
  });
  Object.defineProperty(globalThis, "Error", { value: Error, writable: false, configurable: false });
}

/** Never returns: the thread waits here until the main thread terminates it. */
function waitForTermination(): never {
  for (;;) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
}

/**
 * Starts a harness bundle in its role: inside the strategy's context (no `process`) it locks the
 * stack formatting and installs the realm's entry and `require`; in a worker thread it runs `host`
 * with `node:vm`, the worker's data and its port, after taking the powers off `process`.
 *
 * The worker thread never goes back to its event loop once strategy code has run: it posts its
 * answer, then blocks until the main thread terminates it. Whatever the strategy left behind — an
 * unhandled rejection, a FinalizationRegistry callback, a pending promise job — would run from
 * there with this realm's objects at hand (an uncaught exception's `.stack` read by Node's handler).
 * The no-op handlers are the second line: they never touch what they are given.
 */
export function startHarness(
  realm: RealmEntry,
  host: (vm: typeof NodeVm, workerData: unknown, post: (message: unknown) => void) => void,
  encodeFailure: (failure: ReturnType<typeof sandboxFailure>) => unknown = (failure) => failure,
): void {
  if (typeof process === "undefined") {
    lockStackFormatting();
    Object.defineProperty(globalThis, REALM_ENTRY, { value: realm });
    Object.defineProperty(globalThis, "require", { value: strategyRequire });
    return;
  }
  const ignore = () => {};
  process.on("uncaughtException", ignore);
  process.on("unhandledRejection", ignore);
  const vm = process.getBuiltinModule("node:vm");
  const { parentPort, workerData } = process.getBuiltinModule("node:worker_threads");
  hardenProcess();
  const post = (message: unknown) => parentPort?.postMessage(message);
  try {
    host(vm, workerData, post);
  } catch (error) {
    // Only this realm's own errors get here (runInContext catches whatever the context throws).
    const reason = error instanceof Error ? error.message : "unknown error";
    post(encodeFailure(sandboxFailure(`the sandbox host failed: ${reason}`)));
  }
  if (parentPort !== null) waitForTermination();
}
