/**
 * The strategy sandbox's harness. One file with two roles, because the deployment ships exactly
 * this file, pre-bundled, beside the service (docker/strategy.Dockerfile):
 *
 * - **Host** (in the sandbox worker thread): creates an empty V8 context, evaluates this same bundle
 *   inside it (the realm role), then the compiled strategy, then asks the realm to run the task.
 *   Only primitives cross into the context (the task and the candles as strings); the answer comes
 *   back as a JSON string. The host never calls a function that came from the context, never reads
 *   a property of an object that came from it and never hands it an object of its own.
 * - **Realm** (inside that context): the engine, the look-ahead analysis and the strategy share the
 *   context's own built-ins, so every object strategy code can reach — the frame, candle and typed
 *   arrays, errors, `require`, functions up the `caller` chain — belongs to the context, and
 *   `x.constructor.constructor` is the context's `Function`, which cannot compile code (code
 *   generation from strings is disabled there). Issue #5's audit: handing host-realm objects (the
 *   engine, typed-array constructors, a host `{}` as the global) into the context leaked the
 *   worker's `Function` and with it `process`.
 */
import * as engine from "@tradai/engine";
import type { CandleSeries, Strategy } from "@tradai/engine";
import { analyzeLookahead } from "../core/lookahead-analysis";
import type {
  EncodedSeries,
  HarnessInput,
  HarnessIssue,
  HarnessOutput,
  HarnessRealmInput,
} from "./sandbox-protocol";
import type * as NodeVm from "node:vm";

const STRATEGY_GLOBAL = "__tradaiStrategy";
const ENGINE_MODULE = "@tradai/engine";
/** Globals of the context the host sets (primitives, or the strategy's own thrown value). */
const REALM_ENTRY = "__tradaiRealm";
const INPUT_GLOBAL = "__tradaiInput";
const LOAD_FAILED_GLOBAL = "__tradaiLoadFailed";
const LOAD_ERROR_GLOBAL = "__tradaiLoadError";

class HarnessFailure extends Error {
  constructor(readonly issues: HarnessIssue[]) {
    super(issues.map((issue) => issue.message).join("; "));
  }
}

/** Errors from the strategy's context are not `instanceof Error` here: check their shape. */
function stackOf(value: unknown): string | undefined {
  const stack = (value as { stack?: unknown } | null)?.stack;
  return typeof stack === "string" ? stack : undefined;
}

function errorIssues(error: unknown, field: string, prefix: string): HarnessIssue[] {
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

// ---- realm role: runs inside the strategy's context --------------------------------------------

/** `require` as the compiled strategy calls it: the engine of this context, nothing else. */
function strategyRequire(name: string): unknown {
  if (name === ENGINE_MODULE) return engine;
  throw new Error(`require("${name}"): strategies may import only ${ENGINE_MODULE} and local files`);
}

function loadedStrategy(): { strategy: Strategy; tags: string[] } {
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

/** Deterministic random-walk candles for the smoke run (shape only; values are never asserted). */
function smokeCandles(timeframe: string, count: number, seed: number): CandleSeries {
  const step = engine.timeframeToMilliseconds(timeframe);
  const start = Date.UTC(2024, 0, 1);
  let state = seed >>> 0;
  const random = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296;
  };
  const rows: number[][] = [];
  let price = 100;
  for (let index = 0; index < count; index++) {
    const open = price;
    const close = Math.max(1, open * (1 + (random() - 0.5) * 0.02));
    const high = Math.max(open, close) * (1 + random() * 0.005);
    const low = Math.min(open, close) * (1 - random() * 0.005);
    rows.push([start + index * step, open, high, low, close, 1 + random() * 100]);
    price = close;
  }
  return engine.candlesFromRows(rows);
}

function inspect(): HarnessOutput {
  const { strategy, tags } = loadedStrategy();
  const description = engine.describeStrategy(strategy);
  const count = Math.min(strategy.startupCandleCount + 300, 5_000);
  const spanMs = count * engine.timeframeToMilliseconds(strategy.timeframe);
  try {
    engine.analyzePair({
      strategy,
      params: engine.resolveParameters(strategy),
      pair: "BTC/USDT",
      candles: smokeCandles(strategy.timeframe, count, 42),
      candleSource: (_pair, timeframe) =>
        smokeCandles(
          timeframe,
          Math.max(2, Math.ceil(spanMs / engine.timeframeToMilliseconds(timeframe))),
          7,
        ),
    });
  } catch (error) {
    throw new HarnessFailure(errorIssues(error, "populate", "the populate hooks threw"));
  }
  return { ok: true, task: "inspect", description, tags };
}

/** A column back from its bytes, as a typed array of this context. */
function decodeColumn(text: string): Float64Array {
  const bytes = new Uint8Array(text.length);
  for (let index = 0; index < text.length; index++) bytes[index] = text.charCodeAt(index);
  return new Float64Array(bytes.buffer);
}

function decodeSeries(encoded: EncodedSeries): CandleSeries {
  return {
    date: decodeColumn(encoded.date),
    open: decodeColumn(encoded.open),
    high: decodeColumn(encoded.high),
    low: decodeColumn(encoded.low),
    close: decodeColumn(encoded.close),
    volume: decodeColumn(encoded.volume),
  };
}

function analyze(input: Extract<HarnessRealmInput, { task: "analyze" }>): HarnessOutput {
  const { strategy } = loadedStrategy();
  let params;
  try {
    params = engine.resolveParameters(strategy, input.params);
  } catch (error) {
    throw new HarnessFailure(errorIssues(error, "params", "parameters"));
  }
  const informative = new Map(
    Object.entries(input.informative).map(([key, series]) => [key, decodeSeries(series)]),
  );
  try {
    const result = analyzeLookahead({
      strategy,
      params,
      pair: input.pair,
      candles: decodeSeries(input.candles),
      rangeStartIndex: input.rangeStartIndex,
      samples: input.samples,
      recursive: input.recursive,
      candleSource: (pair, timeframe) => informative.get(`${pair}|${timeframe}`),
    });
    return { ok: true, task: "analyze", ...result };
  } catch (error) {
    throw new HarnessFailure(errorIssues(error, "populate", "the analysis threw"));
  }
}

/** The realm's entry: the task as JSON in, a HarnessOutput as JSON out. */
function runInRealm(inputJson: string, loadFailed: boolean, loadError: unknown): string {
  let output: HarnessOutput;
  try {
    if (loadFailed) throw new HarnessFailure(errorIssues(loadError, "source", "loading the strategy threw"));
    const input = JSON.parse(inputJson) as HarnessRealmInput;
    output = input.task === "inspect" ? inspect() : analyze(input);
  } catch (error) {
    output =
      error instanceof HarnessFailure
        ? { ok: false, issues: error.issues }
        : { ok: false, issues: errorIssues(error, "source", "the sandbox failed") };
  }
  return JSON.stringify(output);
}

// ---- host role: runs in the sandbox worker -----------------------------------------------------

function encodeSeries(series: CandleSeries): EncodedSeries {
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

function realmInput(input: HarnessInput): HarnessRealmInput {
  if (input.task === "inspect") return { task: "inspect" };
  const { request } = input;
  return {
    task: "analyze",
    pair: request.pair,
    candles: encodeSeries(request.candles),
    informative: Object.fromEntries(
      Object.entries(request.informative).map(([key, series]) => [key, encodeSeries(series)]),
    ),
    rangeStartIndex: request.rangeStartIndex,
    params: request.params,
    samples: request.samples,
    recursive: request.recursive,
  };
}

const sandboxFailure = (message: string): HarnessOutput => ({
  ok: false,
  issues: [{ field: "source", message }],
});

function runInContext(vm: typeof NodeVm, input: HarnessInput): HarnessOutput {
  // A null-prototype object as the global's backing store: with `{}`, `this.constructor` inside
  // the context was this realm's Object (and `.constructor` again its Function).
  const sandbox = Object.create(null) as Record<string, unknown>;
  sandbox[INPUT_GLOBAL] = JSON.stringify(realmInput(input));
  sandbox[LOAD_FAILED_GLOBAL] = false;
  sandbox[LOAD_ERROR_GLOBAL] = undefined;
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
    realm = new vm.Script(input.harness, { filename: "sandbox-harness.js" });
    strategy = new vm.Script(input.code, { filename: "strategy-bundle.js" });
    entry = new vm.Script(`${REALM_ENTRY}(${INPUT_GLOBAL}, ${LOAD_FAILED_GLOBAL}, ${LOAD_ERROR_GLOBAL})`, {
      filename: "sandbox-entry.js",
    });
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
  try {
    return JSON.parse(answer) as HarnessOutput;
  } catch {
    return sandboxFailure("the sandbox harness answered text that is not JSON");
  }
}

function runHost(): void {
  const vm = process.getBuiltinModule("node:vm");
  const { parentPort, workerData } = process.getBuiltinModule("node:worker_threads");
  // Defence in depth, should a host-realm object ever reach the context again: this worker's
  // `process` loses the ways to load modules or native code and to signal or abort the service.
  // Not the guarantee (that is realm hygiene above): a deny-list cannot be complete.
  const exposed = process as unknown as Record<string, unknown>;
  for (const key of ["getBuiltinModule", "binding", "_linkedBinding", "dlopen", "kill", "abort"]) {
    try {
      delete exposed[key];
    } catch {
      // non-configurable: leave it
    }
  }
  parentPort?.postMessage(runInContext(vm, workerData as HarnessInput));
}

// Inside the strategy's context there is no `process`: that is the realm.
if (typeof process === "undefined") {
  Object.defineProperty(globalThis, REALM_ENTRY, { value: runInRealm });
  Object.defineProperty(globalThis, "require", { value: strategyRequire });
} else {
  runHost();
}
