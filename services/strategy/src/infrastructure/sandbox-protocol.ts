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
