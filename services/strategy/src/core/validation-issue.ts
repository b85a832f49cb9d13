/** A problem found in a strategy source or a run configuration (proto `ValidationIssue`). */
export interface ValidationIssue {
  /** The configuration field ("parameters.buy_rsi", "timerange", "pairs[2]") or strategy field. */
  readonly field: string;
  /** "field: expected X, got Y" or a compiler message. */
  readonly message: string;
  readonly expected?: string;
  readonly found?: string;
  /** Source file for compile and interface errors. */
  readonly file?: string;
  /** 1-based line and column in `file`; absent when not applicable. */
  readonly line?: number;
  readonly column?: number;
}

/** `field: expected X, got Y`, the wording every issue uses (CONVENTIONS.md). */
export function fieldIssue(field: string, expected: string, found: string): ValidationIssue {
  return { field, message: `${field}: expected ${expected}, got ${found}`, expected, found };
}
