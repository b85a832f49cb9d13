// Shared helpers of the indicator functions: parameter validation, the leading-NaN rule of
// TA-Lib's Python wrapper, and output allocation.

/** TA-Lib's upper bound for every integer period parameter. */
export const MAX_PERIOD = 100_000;

/**
 * Thrown for a parameter outside the range TA-Lib accepts (TA-Lib itself returns TA_BAD_PARAM and
 * its Python wrapper raises). The message names the function, the parameter, what was expected
 * and what was given, e.g. `sma: timePeriod: expected an integer in [2, 100000], got 1`.
 */
export class IndicatorParamError extends RangeError {
  override readonly name = "IndicatorParamError";
  constructor(
    readonly indicator: string,
    readonly param: string,
    readonly expected: string,
    readonly got: unknown,
  ) {
    super(`${indicator}: ${param}: expected ${expected}, got ${describe(got)}`);
  }
}

/** Thrown when the input columns of one call do not have the same length. */
export class IndicatorInputError extends RangeError {
  override readonly name = "IndicatorInputError";
  constructor(
    readonly indicator: string,
    message: string,
  ) {
    super(`${indicator}: ${message}`);
  }
}

function describe(v: unknown): string {
  if (typeof v === "number") return Object.is(v, -0) ? "-0" : String(v);
  if (typeof v === "string") return JSON.stringify(v);
  return String(v);
}

/** Validates an integer period in [min, MAX_PERIOD] (TA-Lib's ranges) and returns it. */
export function checkPeriod(fn: string, param: string, value: number, min: number): number {
  if (!Number.isInteger(value) || value < min || value > MAX_PERIOD) {
    throw new IndicatorParamError(fn, param, `an integer in [${min}, ${MAX_PERIOD}]`, value);
  }
  return value;
}

/** Validates a finite real number in [min, max]. */
export function checkReal(fn: string, param: string, value: number, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < min || value > max) {
    throw new IndicatorParamError(fn, param, `a finite number in [${min}, ${max}]`, value);
  }
  return value;
}

/** TA-Lib moving-average types. Only SMA is implemented where an indicator takes a maType. */
export const MaType = { SMA: 0 } as const;
export type MaType = (typeof MaType)[keyof typeof MaType];

export function checkMaType(fn: string, param: string, value: number): void {
  if (value !== MaType.SMA) {
    throw new IndicatorParamError(fn, param, "0 (MaType.SMA, the only moving average implemented)", value);
  }
}

/** Throws unless every column has the same length; returns that length. */
export function sameLength(fn: string, names: readonly string[], cols: readonly Float64Array[]): number {
  const n = cols[0]!.length;
  for (let c = 1; c < cols.length; c++) {
    if (cols[c]!.length !== n) {
      const lens = cols.map((a, i) => `${names[i]}=${a.length}`).join(", ");
      throw new IndicatorInputError(fn, `input columns must have the same length, got ${lens}`);
    }
  }
  return n;
}

/**
 * Index of the first row where no input is NaN: TA-Lib's Python wrapper (`check_begidx1..4`)
 * starts the computation there, so a column with a NaN prefix (e.g. another indicator's output)
 * gives the same result as TA-Lib called from a Freqtrade strategy. When every row has a NaN it
 * returns n - 1, like the wrapper.
 */
export function firstValid1(a: Float64Array): number {
  const n = a.length;
  for (let i = 0; i < n; i++) if (a[i] === a[i]) return i;
  return n - 1;
}

export function firstValid2(a: Float64Array, b: Float64Array): number {
  const n = a.length;
  for (let i = 0; i < n; i++) if (a[i] === a[i] && b[i] === b[i]) return i;
  return n - 1;
}

export function firstValid3(a: Float64Array, b: Float64Array, c: Float64Array): number {
  const n = a.length;
  for (let i = 0; i < n; i++) if (a[i] === a[i] && b[i] === b[i] && c[i] === c[i]) return i;
  return n - 1;
}

export function firstValid4(a: Float64Array, b: Float64Array, c: Float64Array, d: Float64Array): number {
  const n = a.length;
  for (let i = 0; i < n; i++) if (a[i] === a[i] && b[i] === b[i] && c[i] === c[i] && d[i] === d[i]) return i;
  return n - 1;
}

/** A new column of n NaN. */
export function nanArray(n: number): Float64Array {
  return new Float64Array(n).fill(Number.NaN);
}

/**
 * A new output column whose rows before `start` are NaN (all rows when start >= n). The other rows
 * are 0 until the caller writes them: every function writes each row from `start` on.
 */
export function outputColumn(n: number, start: number): Float64Array {
  const a = new Float64Array(n);
  a.fill(Number.NaN, 0, start < n ? start : n);
  return a;
}

/** TA-Lib's `TA_IS_ZERO` band (TA_EPSILON of TA-Lib >= 0.7). */
export const TA_EPSILON = 1e-14;

/**
 * Rows per call of a row kernel. Every per-row loop of the indicators is a small function over a
 * block of rows [from, to) with its running state passed in and out, called block after block. V8
 * then optimises the kernel as a whole after a few blocks of the first call, with type feedback
 * for all of its code, and the next calls (the next pair, the next backtest) run optimised code from
 * their first row. One long loop per call instead runs each call's first rows in baseline code
 * until an on-stack replacement is compiled, and deoptimises on the code around the loop, for
 * several calls (measured: the second and third analysis of a pair 1.5–2.5× slower than the
 * later ones). 4096 keeps the per-block cost (a call, the state loaded and stored) far below 1 %.
 */
export const CHUNK_ROWS = 4096;

/**
 * Rows of the first block: small, so that the kernel returns (and V8 records feedback for the code
 * after its loop) before its loop is hot enough to be compiled on its own.
 */
export const FIRST_CHUNK_ROWS = 256;

/** End (exclusive) of the first block of rows starting at `from`, capped at `end`. */
export function firstBlockEnd(from: number, end: number): number {
  return from + FIRST_CHUNK_ROWS < end ? from + FIRST_CHUNK_ROWS : end;
}

/** End (exclusive) of the block of rows starting at `from`, capped at `end`. */
export function blockEnd(from: number, end: number): number {
  return from + CHUNK_ROWS < end ? from + CHUNK_ROWS : end;
}
