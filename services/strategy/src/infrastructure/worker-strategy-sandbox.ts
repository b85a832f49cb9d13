/**
 * Runs compiled strategies in isolation: one worker thread per load or analysis, with an empty
 * environment, a memory cap and a time limit; inside it, the strategy and its own copy of the
 * engine run in a V8 context that holds no object of the worker's realm (sandbox-harness.ts). A
 * strategy that loops forever at import or in a populate hook is stopped (Worker.terminate
 * interrupts running JavaScript) and reported; nothing a strategy does can take the service down.
 * What comes back from the worker was produced next to strategy code, so it is checked here.
 */
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { build } from "esbuild";
import type {
  AnalysisResult,
  CompiledStrategy,
  InspectResult,
  SandboxAnalysisRequest,
  StrategySandbox,
} from "../core/strategy-sandbox";
import type { ValidationIssue } from "../core/validation-issue";
import type { HarnessInput, HarnessIssue, HarnessOutput, HarnessTask } from "./sandbox-protocol";
import { MAX_HARNESS_ISSUES, MAX_ISSUE_STACK_CHARS, MAX_ISSUE_TEXT_CHARS } from "./sandbox-protocol";
import { createSourceMapReader } from "./source-map";

export interface WorkerStrategySandboxOptions {
  /** Longest a load + interface check + smoke run may take; default 5000 ms. */
  loadTimeoutMs?: number;
  /** Longest a look-ahead analysis may take; default 60 000 ms. */
  analysisTimeoutMs?: number;
  /** Workers running at once; more requests wait. Default 2. */
  maxConcurrency?: number;
  /** Old-generation heap cap per worker; default 512 MiB. */
  maxMemoryMb?: number;
}

export interface WorkerStrategySandbox extends StrategySandbox {
  /** Stops every running worker. */
  close(): Promise<void>;
}

const HARNESS_PATH = fileURLToPath(new URL("./sandbox-harness.ts", import.meta.url));

/** The harness and its own copy of the engine, bundled into one script. */
const bundleHarness = () => bundleHarnessAt(HARNESS_PATH);

/** A harness file (sandbox-harness.ts, backtest-harness.ts) and its own engine copy, as one script. */
export function bundleHarnessAt(harnessPath: string): Promise<string> {
  return build({
    entryPoints: [harnessPath],
    bundle: true,
    write: false,
    format: "iife",
    platform: "node",
    target: "node20",
    // Strict code throughout: a strict caller is never exposed through `fn.caller`.
    banner: { js: '"use strict";' },
    supported: { "dynamic-import": false },
    logLevel: "silent",
  }).then((result) => result.outputFiles[0]?.text ?? "");
}

class Semaphore {
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  constructor(private readonly limit: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active += 1;
    try {
      return await task();
    } finally {
      this.active -= 1;
      this.waiting.shift()?.();
    }
  }
}

/** Same rule as the engine's defineStrategy: the name becomes a registry path segment. */
const STRATEGY_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);
const optionalString = (value: unknown) => value === undefined || typeof value === "string";

export function isHarnessIssue(value: unknown): value is HarnessIssue {
  return (
    isRecord(value) &&
    typeof value["field"] === "string" &&
    typeof value["message"] === "string" &&
    optionalString(value["expected"]) &&
    optionalString(value["found"]) &&
    optionalString(value["stack"]) &&
    (value["locateField"] === undefined || typeof value["locateField"] === "boolean")
  );
}

/**
 * Why a forged answer's issue list is refused, or undefined: not a non-empty list of issues, more
 * than MAX_HARNESS_ISSUES of them, or texts over budget (each issue costs the main thread a source
 * lookup, so an unbounded list would block it).
 */
export function issuesDefect(issues: unknown): string | undefined {
  if (!Array.isArray(issues) || issues.length === 0) return "issues that are not a non-empty list";
  if (issues.length > MAX_HARNESS_ISSUES)
    return `${issues.length} issues, expected at most ${MAX_HARNESS_ISSUES}`;
  for (const issue of issues) {
    if (!isHarnessIssue(issue)) return "issues that are not {field, message} objects";
    for (const key of ["field", "message", "expected", "found"] as const) {
      const text = issue[key];
      if (text !== undefined && text.length > MAX_ISSUE_TEXT_CHARS)
        return `an issue ${key} of ${text.length} characters, expected at most ${MAX_ISSUE_TEXT_CHARS}`;
    }
    if (issue.stack !== undefined && issue.stack.length > MAX_ISSUE_STACK_CHARS)
      return `an issue stack of ${issue.stack.length} characters, expected at most ${MAX_ISSUE_STACK_CHARS}`;
  }
  return undefined;
}

/**
 * The worker's answer, checked: strategy code runs in the same V8 context as the harness that
 * writes it, so a hostile strategy can forge it (it can only misdescribe itself, but its name
 * becomes a path in the registry and its shape must not break the service).
 */
function checkHarnessOutput(value: unknown, task: HarnessTask["task"]): HarnessOutput {
  const malformed = (found: string): HarnessOutput => ({
    ok: false,
    issues: [
      {
        field: "source",
        message: `the sandbox answered a malformed result (${found}); the strategy tampered with its harness`,
        expected: `a ${task} result`,
        found,
      },
    ],
  });
  if (!isRecord(value)) return malformed(typeof value);
  if (value["ok"] === false) {
    const issues = value["issues"];
    const defect = issuesDefect(issues);
    if (defect !== undefined) return malformed(defect);
    return { ok: false, issues: issues as HarnessIssue[] };
  }
  if (value["ok"] !== true || value["task"] !== task) return malformed(`task ${String(value["task"])}`);
  if (task === "inspect") {
    const description = value["description"];
    const tags = value["tags"];
    if (!isRecord(description) || typeof description["name"] !== "string")
      return malformed("no strategy description");
    if (!STRATEGY_NAME.test(description["name"]))
      return malformed(`strategy name ${JSON.stringify(description["name"])}`);
    if (typeof description["timeframe"] !== "string" || !Array.isArray(description["parameters"]))
      return malformed("a description without timeframe or parameters");
    if (!Array.isArray(tags) || !tags.every((tag) => typeof tag === "string")) return malformed("tags");
    return value as HarnessOutput;
  }
  const findings = value["findings"];
  if (
    typeof value["hasBias"] !== "boolean" ||
    typeof value["samplesTested"] !== "number" ||
    !Array.isArray(findings) ||
    !findings.every(
      (finding) =>
        isRecord(finding) &&
        typeof finding["column"] === "string" &&
        (finding["kind"] === "lookahead" || finding["kind"] === "recursive") &&
        typeof finding["affectedCandles"] === "number" &&
        typeof finding["maxRelativeDifference"] === "number" &&
        typeof finding["firstAffected"] === "number",
    )
  )
    return malformed("an analysis result of the wrong shape");
  return value as HarnessOutput;
}

const STACK_FRAME = /strategy-bundle\.js:(\d+):(\d+)/;

/** Where each line of a source starts, for line lookups by binary search. */
function lineStarts(source: string): number[] {
  const starts = [0];
  for (let index = source.indexOf("\n"); index !== -1; index = source.indexOf("\n", index + 1))
    starts.push(index + 1);
  return starts;
}

function lineOf(starts: readonly number[], index: number): number {
  let low = 0;
  let high = starts.length - 1;
  while (low < high) {
    const middle = (low + high + 1) >> 1;
    if ((starts[middle] as number) <= index) low = middle;
    else high = middle - 1;
  }
  return low + 1;
}

/** Per compiled strategy: its entry's line index and the lines found per field (computed once). */
interface SourceIndex {
  readonly source: string;
  readonly starts: number[];
  readonly fields: Map<string, number | undefined>;
}
const sourceIndexes = new WeakMap<CompiledStrategy, SourceIndex>();

function sourceIndexOf(compiled: CompiledStrategy): SourceIndex {
  let index = sourceIndexes.get(compiled);
  if (index === undefined) {
    const source = compiled.sources[compiled.entry] ?? "";
    index = { source, starts: lineStarts(source), fields: new Map() };
    sourceIndexes.set(compiled, index);
  }
  return index;
}

/** Best line for a strategy field ("stoploss", "parameters.buyRsi.default", "populateEntryTrend"). */
function locateField(index: SourceIndex, field: string): number | undefined {
  if (index.fields.has(field)) return index.fields.get(field);
  const { source, starts } = index;
  let line: number | undefined;
  const parts = field.split(".").filter((part) => !/^\d+$/.test(part));
  for (const part of [...parts].reverse()) {
    if (part === "default" || part === "low" || part === "high") continue;
    const match = new RegExp(`\\b${part.replace(/[^A-Za-z0-9_]/g, "")}\\s*[:(]`).exec(source);
    if (match !== null) {
      line = lineOf(starts, match.index);
      break;
    }
  }
  if (line === undefined) {
    const anchor = /defineStrategy\s*\(|export\s+default/.exec(source);
    line = anchor === null ? undefined : lineOf(starts, anchor.index);
  }
  index.fields.set(field, line);
  return line;
}

/** A harness issue as a ValidationIssue on the strategy's source (stack mapped through the source map). */
export function toValidationIssue(compiled: CompiledStrategy, issue: HarnessIssue): ValidationIssue {
  const base: ValidationIssue = {
    field: issue.field,
    message: issue.message,
    ...(issue.expected === undefined ? {} : { expected: issue.expected }),
    ...(issue.found === undefined ? {} : { found: issue.found }),
    file: compiled.entry,
  };
  if (issue.stack !== undefined) {
    const frame = STACK_FRAME.exec(issue.stack);
    if (frame !== null) {
      const reader = createSourceMapReader(compiled.sourceMap, (source) => source.replace(/^strategy:/, ""));
      const position = reader.originalPosition(Number(frame[1]), Number(frame[2]));
      if (position !== undefined) {
        return { ...base, file: position.source, line: position.line, column: position.column };
      }
    }
  }
  if (issue.locateField === true || issue.field === "default export") {
    const line = locateField(sourceIndexOf(compiled), issue.field);
    if (line !== undefined) return { ...base, line };
  }
  return base;
}

export function createWorkerStrategySandbox(
  options: WorkerStrategySandboxOptions = {},
): WorkerStrategySandbox {
  const loadTimeoutMs = options.loadTimeoutMs ?? 5_000;
  const analysisTimeoutMs = options.analysisTimeoutMs ?? 60_000;
  const semaphore = new Semaphore(options.maxConcurrency ?? 2);
  const running = new Set<Worker>();
  let harnessCode: Promise<string> | undefined;
  const loadHarness = () =>
    (harnessCode ??= bundleHarness().catch((error: unknown) => {
      harnessCode = undefined; // retry on the next load instead of failing forever
      throw error;
    }));

  async function runWorker(
    compiled: CompiledStrategy,
    input: HarnessTask,
    timeoutMs: number,
    what: string,
  ): Promise<{ output: HarnessOutput; timedOut: boolean }> {
    const harness = await loadHarness();
    return semaphore.run(
      () =>
        new Promise<{ output: HarnessOutput; timedOut: boolean }>((resolve) => {
          const worker = new Worker(harness, {
            eval: true,
            workerData: { ...input, code: compiled.code, harness } satisfies HarnessInput,
            env: {},
            stdout: true,
            stderr: true,
            resourceLimits: { maxOldGenerationSizeMb: options.maxMemoryMb ?? 512 },
          });
          running.add(worker);
          worker.stdout.resume();
          worker.stderr.resume();
          let settled = false;
          const finish = (output: HarnessOutput, timedOut = false) => {
            if (settled) return;
            settled = true;
            clearTimeout(timer);
            running.delete(worker);
            void worker.terminate();
            resolve({ output, timedOut });
          };
          const timer = setTimeout(
            () =>
              finish(
                {
                  ok: false,
                  issues: [
                    {
                      field: "source",
                      message: `${what} ${compiled.entry} did not finish within ${timeoutMs} ms (an endless loop at import or in a populate hook?); it was stopped`,
                      expected: `at most ${timeoutMs} ms`,
                      found: "still running",
                    },
                  ],
                },
                true,
              ),
            timeoutMs,
          );
          worker.once("message", (output: unknown) => finish(checkHarnessOutput(output, input.task)));
          worker.once("error", (error: Error) =>
            finish({
              ok: false,
              issues: [
                {
                  field: "source",
                  message: `${what} ${compiled.entry} failed: ${error.message}`,
                  ...(error.stack === undefined ? {} : { stack: error.stack }),
                },
              ],
            }),
          );
          worker.once("exit", (code) =>
            finish({
              ok: false,
              issues: [
                {
                  field: "source",
                  message: `${what} ${compiled.entry} exited (code ${code}) without a result`,
                },
              ],
            }),
          );
        }),
    );
  }

  return {
    async inspect(compiled): Promise<InspectResult> {
      const { output } = await runWorker(compiled, { task: "inspect" }, loadTimeoutMs, "loading");
      if (!output.ok)
        return { ok: false, issues: output.issues.map((issue) => toValidationIssue(compiled, issue)) };
      if (output.task !== "inspect") throw new Error("sandbox answered the wrong task");
      return { ok: true, inspection: { description: output.description, tags: output.tags } };
    },
    async analyze(compiled, request: SandboxAnalysisRequest): Promise<AnalysisResult> {
      const { output, timedOut } = await runWorker(
        compiled,
        { task: "analyze", request },
        analysisTimeoutMs,
        "analysing",
      );
      if (!output.ok)
        return {
          ok: false,
          issues: output.issues.map((issue) => toValidationIssue(compiled, issue)),
          ...(timedOut ? { timedOut } : {}),
        };
      if (output.task !== "analyze") throw new Error("sandbox answered the wrong task");
      return {
        ok: true,
        hasBias: output.hasBias,
        findings: output.findings,
        samplesTested: output.samplesTested,
      };
    },
    async close() {
      await Promise.all([...running].map((worker) => worker.terminate()));
      running.clear();
    },
  };
}
