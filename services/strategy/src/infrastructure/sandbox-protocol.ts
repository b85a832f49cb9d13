/** Messages between the sandbox (main thread), the harness in each worker and the strategy's realm. */
import type { CandleColumn, StrategyDescription } from "@tradai/engine";
import type { SandboxAnalysisRequest } from "../core/strategy-sandbox";
import type { ColumnFinding } from "../core/lookahead-analysis";

export type HarnessTask =
  { readonly task: "inspect" } | { readonly task: "analyze"; readonly request: SandboxAnalysisRequest };

/** What the main thread hands a worker (`workerData`). */
export type HarnessInput = HarnessTask & {
  /** The compiled strategy script. */
  readonly code: string;
  /** The harness bundle itself: the worker evaluates it again inside the strategy's context. */
  readonly harness: string;
};

/**
 * A candle column as a string of its little-endian float64 bytes (one char per byte, 0..255): a
 * primitive, so candles enter the strategy's context without any host-realm object.
 */
export type EncodedSeries = Readonly<Record<CandleColumn, string>>;

/** The task as the realm inside the context receives it: one JSON string. */
export type HarnessRealmInput =
  | { readonly task: "inspect" }
  | {
      readonly task: "analyze";
      readonly pair: string;
      readonly candles: EncodedSeries;
      /** "PAIR|timeframe" → candles. */
      readonly informative: Readonly<Record<string, EncodedSeries>>;
      readonly rangeStartIndex: number;
      readonly params: Readonly<Record<string, unknown>>;
      readonly samples: number;
      readonly recursive: boolean;
    };

/** A problem found inside the worker; `stack` is mapped to the TypeScript source by the main thread. */
export interface HarnessIssue {
  readonly field: string;
  readonly message: string;
  readonly expected?: string;
  readonly found?: string;
  readonly stack?: string;
  /** Look the field up in the source to give it a line (interface violations). */
  readonly locateField?: boolean;
}

export type HarnessOutput =
  | {
      readonly ok: true;
      readonly task: "inspect";
      readonly description: StrategyDescription;
      readonly tags: string[];
    }
  | {
      readonly ok: true;
      readonly task: "analyze";
      readonly hasBias: boolean;
      readonly findings: ColumnFinding[];
      readonly samplesTested: number;
    }
  | { readonly ok: false; readonly issues: HarnessIssue[] };

/**
 * Budgets for what a sandbox answers. The answer is written next to strategy code, which can
 * forge it (replace the context's JSON.stringify): without a budget, a strategy could make the
 * service parse a string of hundreds of MB, or map thousands of issues to source lines, on the
 * main thread. Worker hosts refuse longer answers before posting; the main thread checks again
 * before parsing anything.
 */
export const ANSWER_BUDGET_CHARS = {
  /** A description (+ tags) or a list of issues: small. */
  inspect: 1024 * 1024,
  describe: 1024 * 1024,
  /** Findings per column: small, but a wide frame has many columns. */
  analyze: 16 * 1024 * 1024,
  /** A whole run (trades with their orders, locks, closes per pair): large, but bounded. */
  backtest: 256 * 1024 * 1024,
} as const;

/** Most issues one answer may carry. */
export const MAX_HARNESS_ISSUES = 50;
/** Longest field / message / expected / found of an issue, in characters. */
export const MAX_ISSUE_TEXT_CHARS = 4 * 1024;
/** Longest stack of an issue, in characters. */
export const MAX_ISSUE_STACK_CHARS = 64 * 1024;

/** The failure a host posts instead of an answer over its budget. */
export function oversizedAnswerMessage(task: keyof typeof ANSWER_BUDGET_CHARS, length: number): string {
  return `the sandbox answer to ${task} is ${length} characters long, expected at most ${ANSWER_BUDGET_CHARS[task]}; the strategy tampered with its harness`;
}
