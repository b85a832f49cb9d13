/**
 * The strategy sandbox's harness. One file with two roles, because the deployment ships exactly
 * this file, pre-bundled, beside the service (docker/strategy.Dockerfile):
 *
 * - **Host** (in the sandbox worker thread): creates an empty V8 context, evaluates this same bundle
 *   inside it (the realm role), then the compiled strategy, then asks the realm to run the task.
 *   Only primitives cross into the context (the task and the candles as strings); the answer comes
 *   back as a JSON string. The host calls no function of the context but the entry it compiled
 *   there itself before the strategy ran, never reads a property of an object that came from it
 *   (not even an error's `.stack`) and never hands it an object of its own. Once it has posted the
 *   answer, the worker thread blocks until the main thread terminates it (sandbox-realm.ts).
 * - **Realm** (inside that context): the engine, the look-ahead analysis and the strategy share the
 *   context's own built-ins, so every object strategy code can reach — the frame, candle and typed
 *   arrays, errors, `require`, functions up the `caller` chain — belongs to the context, and
 *   `x.constructor.constructor` is the context's `Function`, which cannot compile code (code
 *   generation from strings is disabled there). Issue #5's audit: handing host-realm objects (the
 *   engine, typed-array constructors, a host `{}` as the global) into the context leaked the
 *   worker's `Function` and with it `process`.
 *
 * The parts shared with the worker's backtest harness (backtest-harness.ts) live in
 * sandbox-realm.ts: the context set-up, the strategy's `require`, loading, error mapping.
 */
import * as engine from "@tradai/engine";
import type { CandleSeries } from "@tradai/engine";
import { analyzeLookahead } from "../core/lookahead-analysis";
import type { HarnessInput, HarnessOutput, HarnessRealmInput } from "./sandbox-protocol";
import { ANSWER_BUDGET_CHARS, oversizedAnswerMessage } from "./sandbox-protocol";
import {
  decodeSeries,
  encodeSeries,
  errorIssues,
  HarnessFailure,
  loadedStrategy,
  realmEntry,
  runInContext,
  sandboxFailure,
  startHarness,
} from "./sandbox-realm";
import type * as NodeVm from "node:vm";

// ---- realm role: runs inside the strategy's context --------------------------------------------

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
const runInRealm = realmEntry((inputJson): HarnessOutput => {
  const input = JSON.parse(inputJson) as HarnessRealmInput;
  return input.task === "inspect" ? inspect() : analyze(input);
});

// ---- host role: runs in the sandbox worker -----------------------------------------------------

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

function runHost(vm: typeof NodeVm, workerData: unknown, post: (message: unknown) => void): void {
  const input = workerData as HarnessInput;
  const answer = runInContext(vm, {
    harness: input.harness,
    harnessFile: "sandbox-harness.js",
    code: input.code,
    input: JSON.stringify(realmInput(input)),
  });
  if (typeof answer !== "string") {
    post(answer);
    return;
  }
  // A forged giant answer is refused before it is parsed here or cloned to the main thread.
  if (answer.length > ANSWER_BUDGET_CHARS[input.task]) {
    post(sandboxFailure(oversizedAnswerMessage(input.task, answer.length)));
    return;
  }
  let output: HarnessOutput;
  try {
    output = JSON.parse(answer) as HarnessOutput;
  } catch {
    output = sandboxFailure("the sandbox harness answered text that is not JSON");
  }
  post(output);
}

// Inside the strategy's context there is no `process`: that is the realm.
startHarness(runInRealm, runHost);
