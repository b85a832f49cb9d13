/**
 * Runs inside a sandbox worker (bundled by esbuild with its own copy of @tradai/engine): loads one
 * compiled strategy script, then inspects or analyses it, and posts one HarnessOutput back.
 * Strategy code can only `require("@tradai/engine")`; the worker has an empty environment.
 */
import vm from "node:vm";
import { parentPort, workerData } from "node:worker_threads";
import * as engine from "@tradai/engine";
import type { CandleSeries, Strategy } from "@tradai/engine";
import { analyzeLookahead } from "../core/lookahead-analysis";
import type { HarnessInput, HarnessIssue, HarnessOutput } from "./sandbox-protocol";

const STRATEGY_GLOBAL = "__tradaiStrategy";
const ENGINE_MODULE = "@tradai/engine";

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

/**
 * The strategy runs in its own V8 context: only JavaScript's built-ins, `require` for the engine,
 * a silent console and this realm's typed-array constructors (so the engine's `instanceof
 * Float64Array` checks accept arrays the strategy creates). No `process`, `fetch`, timers or
 * dynamic `import()`: a strategy cannot reach the file system, the network or the worker itself.
 */
function strategyContext(): vm.Context {
  const silent = () => undefined;
  return vm.createContext({
    require: (name: string) => {
      if (name === ENGINE_MODULE) return engine;
      throw new Error(`require("${name}"): strategies may import only ${ENGINE_MODULE} and local files`);
    },
    console: { log: silent, info: silent, warn: silent, error: silent, debug: silent, trace: silent },
    ArrayBuffer,
    Float64Array,
    Float32Array,
    Int8Array,
    Int16Array,
    Int32Array,
    Uint8Array,
    Uint8ClampedArray,
    Uint16Array,
    Uint32Array,
  });
}

function loadStrategy(code: string): { strategy: Strategy; tags: string[] } {
  const context = strategyContext();
  try {
    new vm.Script(code, { filename: "strategy-bundle.js" }).runInContext(context);
  } catch (error) {
    throw new HarnessFailure(errorIssues(error, "source", "loading the strategy threw"));
  }
  const moduleExports = (context as Record<string, unknown>)[STRATEGY_GLOBAL] as
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

function inspect(code: string): HarnessOutput {
  const { strategy, tags } = loadStrategy(code);
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

function analyze(input: Extract<HarnessInput, { task: "analyze" }>): HarnessOutput {
  const { strategy } = loadStrategy(input.code);
  const { request } = input;
  let params;
  try {
    params = engine.resolveParameters(strategy, request.params);
  } catch (error) {
    throw new HarnessFailure(errorIssues(error, "params", "parameters"));
  }
  try {
    const result = analyzeLookahead({
      strategy,
      params,
      pair: request.pair,
      candles: request.candles,
      rangeStartIndex: request.rangeStartIndex,
      samples: request.samples,
      recursive: request.recursive,
      candleSource: (pair, timeframe) => request.informative[`${pair}|${timeframe}`],
    });
    return { ok: true, task: "analyze", ...result };
  } catch (error) {
    throw new HarnessFailure(errorIssues(error, "populate", "the analysis threw"));
  }
}

function run(input: HarnessInput): HarnessOutput {
  try {
    return input.task === "inspect" ? inspect(input.code) : analyze(input);
  } catch (error) {
    if (error instanceof HarnessFailure) return { ok: false, issues: error.issues };
    return { ok: false, issues: errorIssues(error, "source", "the sandbox failed") };
  }
}

parentPort?.postMessage(run(workerData as HarnessInput));
