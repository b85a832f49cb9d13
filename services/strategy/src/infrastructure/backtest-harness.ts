/**
 * The backtest sandbox's harness (the worker's backtests of registered strategies): the same
 * design and shared code as sandbox-harness.ts (sandbox-realm.ts), one file with two roles,
 * shipped pre-bundled beside the worker (docker/worker.Dockerfile):
 *
 * - **Host** (in a worker thread): creates an empty V8 context, evaluates this bundle inside it,
 *   then the compiled strategy, then hands the realm the task as one JSON string and the candles
 *   as one string of their bytes, and posts back the realm's answer, a JSON string, unread.
 * - **Realm** (inside that context): the engine's `runBacktest` — analysis, signals, simulation,
 *   every strategy hook and callback — runs on the context's own built-ins, so nothing strategy
 *   code can reach belongs to the worker (issue #5). The run result goes back as tagged JSON
 *   (backtest-protocol.ts); statistics and the export are computed by the caller from it.
 */
import * as engine from "@tradai/engine";
import type { BacktestHarnessInput, BacktestHarnessOutput, BacktestRealmInput } from "./backtest-protocol";
import { CANDLE_COLUMNS, taggedJson } from "./backtest-protocol";
import { ANSWER_BUDGET_CHARS, oversizedAnswerMessage } from "./sandbox-protocol";
import {
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

/** The candles back from the payload's bytes, as typed arrays of this context. */
function decodeCandles(
  series: Extract<BacktestRealmInput, { task: "backtest" }>["series"],
  payload: string,
): Record<string, engine.CandleSeries> {
  const bytes = new Uint8Array(payload.length);
  for (let index = 0; index < payload.length; index++) bytes[index] = payload.charCodeAt(index);
  const values = new Float64Array(bytes.buffer);
  const candles: Record<string, engine.CandleSeries> = {};
  let offset = 0;
  for (const { pair, length } of series) {
    const columns: Partial<Record<(typeof CANDLE_COLUMNS)[number], Float64Array>> = {};
    for (const column of CANDLE_COLUMNS) {
      columns[column] = values.slice(offset, offset + length);
      offset += length;
    }
    candles[pair] = columns as engine.CandleSeries;
  }
  if (offset !== values.length) {
    throw new HarnessFailure([
      { field: "candles", message: `the candle payload holds ${values.length} values, expected ${offset}` },
    ]);
  }
  return candles;
}

function backtest(
  input: Extract<BacktestRealmInput, { task: "backtest" }>,
  payload: string,
): BacktestHarnessOutput {
  const { strategy } = loadedStrategy();
  const candles = decodeCandles(input.series, payload);
  try {
    const run = engine.runBacktest({
      strategy,
      params: input.params,
      pairs: input.pairs,
      candles,
      config: input.config,
    });
    return { ok: true, task: "backtest", run };
  } catch (error) {
    throw new HarnessFailure(errorIssues(error, "backtest", "the backtest threw"));
  }
}

const runInRealm = realmEntry((inputJson, payload): BacktestHarnessOutput => {
  const input = taggedJson.parse(inputJson) as BacktestRealmInput;
  if (input.task === "describe") {
    return { ok: true, task: "describe", description: engine.describeStrategy(loadedStrategy().strategy) };
  }
  return backtest(input, payload);
}, taggedJson.stringify);

// ---- host role: runs in the sandbox worker -----------------------------------------------------

/** The task as JSON for the realm, and the candles' bytes as the payload string. */
function realmInput(input: BacktestHarnessInput): { json: string; payload: string } {
  if (input.task === "describe") return { json: taggedJson.stringify({ task: "describe" }), payload: "" };
  const series: { pair: string; length: number }[] = [];
  const chunks: Buffer[] = [];
  for (const [pair, candles] of Object.entries(input.candles)) {
    series.push({ pair, length: candles.date.length });
    for (const column of CANDLE_COLUMNS) {
      const values = candles[column];
      if (values.length !== candles.date.length) {
        throw new Error(
          `candles of ${pair}: column ${column} has ${values.length} values, expected ${candles.date.length}`,
        );
      }
      chunks.push(Buffer.from(values.buffer, values.byteOffset, values.byteLength));
    }
  }
  const realm: BacktestRealmInput = {
    task: "backtest",
    pairs: input.pairs,
    series,
    params: input.params,
    config: input.config,
  };
  return { json: taggedJson.stringify(realm), payload: Buffer.concat(chunks).toString("latin1") };
}

function runHost(vm: typeof NodeVm, workerData: unknown, post: (message: unknown) => void): void {
  const input = workerData as BacktestHarnessInput;
  const { json, payload } = realmInput(input);
  const answer = runInContext(vm, {
    harness: input.harness,
    harnessFile: "backtest-harness.js",
    code: input.code,
    input: json,
    payload,
  });
  // The answer goes to the main thread as the string it is (parsed and checked there), unless it
  // is over its budget: a forged giant answer must not reach the main thread's parser.
  if (typeof answer === "string" && answer.length > ANSWER_BUDGET_CHARS[input.task]) {
    post(JSON.stringify(sandboxFailure(oversizedAnswerMessage(input.task, answer.length))));
    return;
  }
  post(typeof answer === "string" ? answer : JSON.stringify(answer));
}

startHarness(runInRealm, runHost, (failure) => JSON.stringify(failure));
