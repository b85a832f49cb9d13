/** Messages between the sandbox (main thread) and the harness inside each worker. */
import type { StrategyDescription } from "@tradai/engine";
import type { SandboxAnalysisRequest } from "../core/strategy-sandbox";
import type { ColumnFinding } from "../core/lookahead-analysis";

export type HarnessInput =
  | { readonly task: "inspect"; readonly code: string }
  | { readonly task: "analyze"; readonly code: string; readonly request: SandboxAnalysisRequest };

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
