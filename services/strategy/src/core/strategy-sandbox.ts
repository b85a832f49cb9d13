/**
 * Ports for running untrusted strategy code: a compiler (TypeScript → one script) and a sandbox
 * that loads the script in isolation, with a time limit, to describe it or analyse it.
 */
import type { CandleSeries, StrategyDescription } from "@tradai/engine";
import type { StrategySourceFiles } from "./strategy-source";
import type { ColumnFinding } from "./lookahead-analysis";
import type { ValidationIssue } from "./validation-issue";

/** A strategy compiled to one script, with the sources that went into it. */
export interface CompiledStrategy {
  /** Entry file path, e.g. "ema_cross.ts". */
  readonly entry: string;
  /** sha256 (hex) of the entry source and its local imports (see `strategyVersion`). */
  readonly version: string;
  /** The script (IIFE assigning the module's exports to `__tradaiStrategy`). */
  readonly code: string;
  /** Source map of `code` (JSON), to map runtime errors back to the TypeScript file and line. */
  readonly sourceMap: string;
  /** Entry and local imports actually bundled: path → source. */
  readonly sources: Readonly<Record<string, string>>;
}

export type CompileResult =
  | { readonly ok: true; readonly compiled: CompiledStrategy }
  | { readonly ok: false; readonly issues: ValidationIssue[] };

export interface StrategyCompiler {
  /** Never throws for bad sources: compile errors come back as issues with file, line and column. */
  compile(files: StrategySourceFiles): Promise<CompileResult>;
}

/** What the sandbox learned about a loaded strategy. */
export interface StrategyInspection {
  readonly description: StrategyDescription;
  /** `export const tags = [...]` of the strategy module; [] when absent. */
  readonly tags: readonly string[];
}

export type InspectResult =
  | { readonly ok: true; readonly inspection: StrategyInspection }
  | { readonly ok: false; readonly issues: ValidationIssue[] };

export interface SandboxAnalysisRequest {
  readonly pair: string;
  readonly candles: CandleSeries;
  /** Informative candles: "PAIR|timeframe" → candles. */
  readonly informative: Readonly<Record<string, CandleSeries>>;
  readonly rangeStartIndex: number;
  readonly params: Readonly<Record<string, unknown>>;
  readonly samples: number;
  readonly recursive: boolean;
}

export type AnalysisResult =
  | {
      readonly ok: true;
      readonly hasBias: boolean;
      readonly findings: ColumnFinding[];
      readonly samplesTested: number;
    }
  | {
      readonly ok: false;
      readonly issues: ValidationIssue[];
      /** The analysis was stopped by the analysis time limit (not a fault of the strategy's code). */
      readonly timedOut?: boolean;
    };

export interface StrategySandbox {
  /** Load, check the interface, and smoke-run the populate hooks; within the load time limit. */
  inspect(compiled: CompiledStrategy): Promise<InspectResult>;
  /** Look-ahead (and recursive) analysis; within the analysis time limit. */
  analyze(compiled: CompiledStrategy, request: SandboxAnalysisRequest): Promise<AnalysisResult>;
}
