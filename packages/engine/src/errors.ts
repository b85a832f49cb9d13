/**
 * Errors raised by the engine. Every input error names the pair, the candle time (ISO 8601, UTC)
 * and the field, and says what was expected and what was found (CONVENTIONS.md, "Errors").
 */

/** Where an input problem was found. All parts are optional: fill what is known. */
export interface InputErrorLocation {
  /** Pair, e.g. "BTC/USDT". */
  readonly pair?: string;
  /** Candle open time in epoch milliseconds. */
  readonly candleTime?: number;
  /** Field or column, e.g. "close", "enterLong", "parameters.buyRsi". */
  readonly field: string;
  /** What was expected, in words. */
  readonly expected: string;
  /** What was found, in words. */
  readonly found: string;
}

export function formatCandleTime(time: number): string {
  if (!Number.isFinite(time)) return String(time);
  return new Date(time).toISOString();
}

function formatLocation(location: InputErrorLocation): string {
  const parts: string[] = [];
  if (location.pair !== undefined) parts.push(`pair ${location.pair}`);
  if (location.candleTime !== undefined) parts.push(`candle ${formatCandleTime(location.candleTime)}`);
  parts.push(`field ${location.field}`);
  return `${parts.join(", ")}: expected ${location.expected}, got ${location.found}`;
}

/** Bad input to the engine: candles, configuration, strategy output. Not retryable. */
export class EngineInputError extends Error {
  readonly pair: string | undefined;
  readonly candleTime: number | undefined;
  readonly field: string;
  readonly expected: string;
  readonly found: string;

  constructor(location: InputErrorLocation, options?: { cause?: unknown }) {
    super(formatLocation(location), options);
    this.name = "EngineInputError";
    this.pair = location.pair;
    this.candleTime = location.candleTime;
    this.field = location.field;
    this.expected = location.expected;
    this.found = location.found;
  }
}

/** One problem with a strategy definition or its parameters. */
export interface StrategyProblem {
  /** Dotted path of the offending field, e.g. "parameters.buyRsi" or "minimalRoi.30". */
  readonly field: string;
  readonly expected: string;
  readonly found: string;
  /** `field: expected X, got Y`. */
  readonly message: string;
}

export function strategyProblem(field: string, expected: string, found: string): StrategyProblem {
  return { field, expected, found, message: `${field}: expected ${expected}, got ${found}` };
}

/** A strategy definition or parameter set is invalid; `problems` lists every problem found. */
export class StrategyValidationError extends Error {
  readonly problems: readonly StrategyProblem[];

  constructor(strategyName: string, problems: readonly StrategyProblem[]) {
    super(`strategy ${strategyName} is invalid: ${problems.map((problem) => problem.message).join("; ")}`);
    this.name = "StrategyValidationError";
    this.problems = problems;
  }
}

/** A strategy hook or callback threw. The original error is kept as `cause`. */
export class StrategyRuntimeError extends Error {
  readonly strategy: string;
  readonly hook: string;
  readonly pair: string | undefined;
  readonly candleTime: number | undefined;

  constructor(
    details: { strategy: string; hook: string; pair?: string; candleTime?: number },
    cause: unknown,
  ) {
    const where = [
      details.pair === undefined ? undefined : `pair ${details.pair}`,
      details.candleTime === undefined ? undefined : `candle ${formatCandleTime(details.candleTime)}`,
    ]
      .filter((part) => part !== undefined)
      .join(", ");
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(
      `strategy ${details.strategy} threw in ${details.hook}${where === "" ? "" : ` (${where})`}: ${reason}`,
      {
        cause,
      },
    );
    this.name = "StrategyRuntimeError";
    this.strategy = details.strategy;
    this.hook = details.hook;
    this.pair = details.pair;
    this.candleTime = details.candleTime;
  }
}

/** Describe a value for an error message ("got ..."). */
export function describeValue(value: unknown): string {
  if (value === undefined) return "undefined";
  if (value === null) return "null";
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name}`;
  if (typeof value === "function") return "a function";
  return `an object`;
}
