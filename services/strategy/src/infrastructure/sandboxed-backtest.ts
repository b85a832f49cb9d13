/**
 * Backtests of untrusted (registered) strategies, for the worker: each task runs in its own worker
 * thread (empty environment, memory cap, time limit, stopped on cancel), and inside it in the
 * strategy's own V8 context with its own engine copy (backtest-harness.ts; the same design and
 * shared code as the strategy service's sandbox). Only the candles and the task go in, only the
 * run result comes back, as a JSON string, checked here before anyone reads it.
 */
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import type { BacktestConfig, BacktestRunResult, CandleSeries, StrategyDescription } from "@tradai/engine";
import type { CompiledStrategy } from "../core/strategy-sandbox";
import type { ValidationIssue } from "../core/validation-issue";
import { taggedJson, type BacktestHarnessInput } from "./backtest-protocol";
import { ANSWER_BUDGET_CHARS, type HarnessIssue } from "./sandbox-protocol";
import { bundleHarnessAt, issuesDefect, toValidationIssue } from "./worker-strategy-sandbox";

export interface SandboxedBacktestOptions {
  /** Longest a load + describe may take; default 10 000 ms. */
  describeTimeoutMs?: number;
  /** Longest a backtest may take; default 1 h. */
  backtestTimeoutMs?: number;
  /** Old-generation heap cap per worker thread; default 4096 MiB (a backtest holds all its pairs). */
  maxMemoryMb?: number;
}

export interface SandboxedBacktestRequest {
  readonly pairs: readonly string[];
  /** Candles at the strategy timeframe per pair, startup candles included (copied to the worker). */
  readonly candles: Readonly<Record<string, CandleSeries>>;
  readonly params?: Readonly<Record<string, unknown>>;
  readonly config: BacktestConfig;
}

export type SandboxedResult<T> =
  | ({ readonly ok: true } & T)
  | {
      readonly ok: false;
      readonly issues: ValidationIssue[];
      readonly timedOut?: true;
      readonly cancelled?: true;
    };

export interface SandboxedBacktestRunner {
  /** Loads the strategy in the sandbox and describes it (name, timeframe, startup candles...). */
  describe(
    compiled: CompiledStrategy,
    signal?: AbortSignal,
  ): Promise<SandboxedResult<{ description: StrategyDescription }>>;
  /** Runs the engine's runBacktest on the strategy inside its sandbox. */
  backtest(
    compiled: CompiledStrategy,
    request: SandboxedBacktestRequest,
    signal?: AbortSignal,
  ): Promise<SandboxedResult<{ run: BacktestRunResult }>>;
  /** Stops every running worker thread. */
  close(): Promise<void>;
}

const HARNESS_PATH = fileURLToPath(new URL("./backtest-harness.ts", import.meta.url));

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);
const isNumber = (value: unknown) => typeof value === "number";
const isStringArray = (value: unknown) =>
  Array.isArray(value) && value.every((item) => typeof item === "string");

const TRADE_NUMBERS = [
  "tradeId",
  "stakeAmount",
  "amount",
  "openDate",
  "closeDate",
  "openRate",
  "closeRate",
  "profitRatio",
  "profitAbs",
] as const;
const RUN_NUMBERS = [
  "startDate",
  "endDate",
  "startingBalance",
  "finalBalance",
  "rejectedSignals",
  "fee",
] as const;

/** Why a run result from the sandbox is not one the statistics can read, or undefined. */
function runDefect(run: unknown): string | undefined {
  if (!isRecord(run)) return `a run of type ${typeof run}`;
  if (typeof run["strategy"] !== "string" || typeof run["timeframe"] !== "string")
    return "a run without strategy or timeframe";
  for (const name of RUN_NUMBERS) if (!isNumber(run[name])) return `a run whose ${name} is not a number`;
  if (!isStringArray(run["pairs"])) return "a run whose pairs are not strings";
  if (!isRecord(run["config"]) || !isRecord(run["settings"]) || !isRecord(run["pairCloses"]))
    return "a run without config, settings or pairCloses";
  if (!Array.isArray(run["locks"])) return "a run whose locks are not a list";
  const trades = run["trades"];
  if (!Array.isArray(trades)) return "a run whose trades are not a list";
  for (const trade of trades) {
    if (!isRecord(trade) || typeof trade["pair"] !== "string" || !Array.isArray(trade["orders"]))
      return "a trade that is not a trade";
    for (const name of TRADE_NUMBERS)
      if (!isNumber(trade[name])) return `a trade whose ${name} is not a number`;
  }
  return undefined;
}

/** The realm's answer, parsed and checked (strategy code can forge it; it must not break us). */
export function checkAnswer(
  message: unknown,
  task: "describe" | "backtest",
): { ok: true; value: unknown } | { ok: false; issues: HarnessIssue[] } {
  const malformed = (found: string) => ({
    ok: false as const,
    issues: [
      {
        field: "source",
        message: `the sandbox answered a malformed result (${found}); the strategy tampered with its harness`,
        expected: `a ${task} result`,
        found,
      },
    ],
  });
  if (typeof message !== "string") return malformed(typeof message);
  // Refused before any parse: a forged giant answer would be parsed on this (the main) thread.
  if (message.length > ANSWER_BUDGET_CHARS[task])
    return malformed(
      `an answer of ${message.length} characters, expected at most ${ANSWER_BUDGET_CHARS[task]}`,
    );
  let value: unknown;
  try {
    value = taggedJson.parse(message);
  } catch {
    return malformed("text that is not JSON");
  }
  if (!isRecord(value)) return malformed(typeof value);
  if (value["ok"] === false) {
    const issues = value["issues"];
    const defect = issuesDefect(issues);
    if (defect !== undefined) return malformed(defect);
    return { ok: false, issues: issues as HarnessIssue[] };
  }
  if (value["ok"] !== true || value["task"] !== task) return malformed(`task ${String(value["task"])}`);
  if (task === "describe") {
    const description = value["description"];
    if (
      !isRecord(description) ||
      typeof description["name"] !== "string" ||
      typeof description["timeframe"] !== "string" ||
      !Number.isInteger(description["startupCandleCount"]) ||
      (description["startupCandleCount"] as number) < 0
    )
      return malformed("a description without name, timeframe or startup candle count");
    return { ok: true, value: description };
  }
  const defect = runDefect(value["run"]);
  return defect === undefined ? { ok: true, value: value["run"] } : malformed(defect);
}

export function createSandboxedBacktestRunner(
  options: SandboxedBacktestOptions = {},
): SandboxedBacktestRunner {
  const describeTimeoutMs = options.describeTimeoutMs ?? 10_000;
  const backtestTimeoutMs = options.backtestTimeoutMs ?? 3_600_000;
  const running = new Set<Worker>();
  let harnessCode: Promise<string> | undefined;
  const loadHarness = () =>
    (harnessCode ??= bundleHarnessAt(HARNESS_PATH).catch((error: unknown) => {
      harnessCode = undefined; // retry on the next run instead of failing forever
      throw error;
    }));

  async function runWorker(
    compiled: CompiledStrategy,
    task: { task: "describe" } | ({ task: "backtest" } & Omit<SandboxedBacktestRequest, "params">),
    params: Readonly<Record<string, unknown>>,
    timeoutMs: number,
    signal: AbortSignal | undefined,
  ): Promise<SandboxedResult<{ value: unknown }>> {
    const harness = await loadHarness();
    const what = task.task === "describe" ? "loading" : "backtesting";
    const toIssues = (issues: readonly HarnessIssue[]) =>
      issues.map((issue) => toValidationIssue(compiled, issue));
    const workerData: BacktestHarnessInput =
      task.task === "describe"
        ? { task: "describe", harness, code: compiled.code }
        : {
            task: "backtest",
            harness,
            code: compiled.code,
            pairs: task.pairs,
            candles: task.candles,
            params,
            config: task.config,
          };
    return new Promise((resolve) => {
      if (signal?.aborted) {
        resolve({ ok: false, issues: [{ field: "source", message: `${what} cancelled` }], cancelled: true });
        return;
      }
      const worker = new Worker(harness, {
        eval: true,
        workerData,
        env: {},
        stdout: true,
        stderr: true,
        resourceLimits: { maxOldGenerationSizeMb: options.maxMemoryMb ?? 4096 },
      });
      running.add(worker);
      worker.stdout.resume();
      worker.stderr.resume();
      let settled = false;
      const finish = (result: SandboxedResult<{ value: unknown }>) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        running.delete(worker);
        void worker.terminate();
        resolve(result);
      };
      const fail = (issue: ValidationIssue, extra: { timedOut?: true; cancelled?: true } = {}) =>
        finish({ ok: false, issues: [issue], ...extra });
      const onAbort = () =>
        fail({ field: "source", message: `${what} ${compiled.entry} was cancelled` }, { cancelled: true });
      signal?.addEventListener("abort", onAbort, { once: true });
      const timer = setTimeout(
        () =>
          fail(
            {
              field: "source",
              message: `${what} ${compiled.entry} did not finish within ${timeoutMs} ms (an endless loop in a strategy hook?); it was stopped`,
              expected: `at most ${timeoutMs} ms`,
              found: "still running",
              file: compiled.entry,
            },
            { timedOut: true },
          ),
        timeoutMs,
      );
      worker.once("message", (message: unknown) => {
        const answer = checkAnswer(message, task.task);
        finish(
          answer.ok ? { ok: true, value: answer.value } : { ok: false, issues: toIssues(answer.issues) },
        );
      });
      worker.once("error", (error: Error) =>
        fail({
          field: "source",
          message: `${what} ${compiled.entry} failed: ${error.message}`,
          file: compiled.entry,
        }),
      );
      worker.once("exit", (code) =>
        fail({
          field: "source",
          message: `${what} ${compiled.entry} exited (code ${code}) without a result`,
          file: compiled.entry,
        }),
      );
    });
  }

  return {
    async describe(compiled, signal) {
      const result = await runWorker(compiled, { task: "describe" }, {}, describeTimeoutMs, signal);
      if (!result.ok) return result;
      return { ok: true, description: result.value as StrategyDescription };
    },
    async backtest(compiled, request, signal) {
      const result = await runWorker(
        compiled,
        { task: "backtest", pairs: request.pairs, candles: request.candles, config: request.config },
        request.params ?? {},
        backtestTimeoutMs,
        signal,
      );
      if (!result.ok) return result;
      return { ok: true, run: result.value as BacktestRunResult };
    },
    async close() {
      await Promise.all([...running].map((worker) => worker.terminate()));
      running.clear();
    },
  };
}
