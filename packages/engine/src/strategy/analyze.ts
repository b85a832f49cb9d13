/**
 * Run a strategy's populate hooks over one pair's candles (Freqtrade's `analyze`/`advise_*`),
 * merging its informative data first, and check what the hooks produced.
 */
import { EngineInputError, StrategyRuntimeError, describeValue } from "../errors";
import { blockEnd, firstBlockEnd } from "../indicators/util";
import { createStrategyFrame, type CandleSeries, type StrategyFrame } from "./frame";
import { mergeInformative, splitPair } from "./informative";
import type { ParameterSchema, ParameterValues } from "./parameters";
import type { PopulateContext, RunMode, Strategy } from "./strategy";

/** Looks up candles of another pair or timeframe (informative data); undefined when not loaded. */
export type CandleSource = (pair: string, timeframe: string) => CandleSeries | undefined;

export interface AnalyzePairOptions<S extends ParameterSchema = ParameterSchema> {
  readonly strategy: Strategy<S>;
  /** Resolved parameter values (see `resolveParameters`). */
  readonly params: ParameterValues<S>;
  readonly pair: string;
  /** Candles of `pair` at the strategy timeframe. */
  readonly candles: CandleSeries;
  /** Default "backtest". */
  readonly mode?: RunMode;
  /** Needed when the strategy declares informative data. */
  readonly candleSource?: CandleSource;
}

function callHook(strategy: Strategy, hook: string, pair: string, run: () => void): void {
  try {
    run();
  } catch (error) {
    if (error instanceof EngineInputError || error instanceof StrategyRuntimeError) throw error;
    throw new StrategyRuntimeError({ strategy: strategy.name, hook, pair }, error);
  }
}

const SIGNALS = ["enterLong", "exitLong", "enterShort", "exitShort"] as const;
const TAGS = ["enterTag", "exitTag"] as const;

/**
 * Whether every byte of `column` is 0 or 1: ORs the bytes four at a time (through a Uint32Array
 * view when the column is 4-byte aligned) and tests the bits above the lowest of each byte. The
 * per-row scan that names the first bad candle only runs when this is false. The loops run in
 * blocks of rows, like the indicators' (see CHUNK_ROWS in indicators/util.ts).
 */
function allZeroOrOne(column: Uint8Array): boolean {
  const length = column.length;
  let bits = 0;
  let tail = 0;
  if ((column.byteOffset & 3) === 0) {
    const words = new Uint32Array(column.buffer, column.byteOffset, length >>> 2);
    const count = words.length;
    for (let from = 0, to = firstBlockEnd(0, count); from < count; from = to, to = blockEnd(to, count)) {
      bits |= orWords(words, from, to);
    }
    tail = count << 2;
  }
  // The last byte is read again when no tail is left (OR is idempotent), so that the byte loop
  // runs on every call and V8 never meets it unoptimised in an optimised caller.
  if (tail === length && length > 0) tail = length - 1;
  for (
    let from = tail, to = firstBlockEnd(tail, length);
    from < length;
    from = to, to = blockEnd(to, length)
  ) {
    bits |= orBytes(column, from, to);
  }
  return (bits & 0xfefefefe) === 0;
}

function orWords(words: Uint32Array, from: number, to: number): number {
  let bits = 0;
  for (let index = from; index < to; index++) bits |= words[index] as number;
  return bits;
}

function orBytes(column: Uint8Array, from: number, to: number): number {
  let bits = 0;
  for (let index = from; index < to; index++) bits |= column[index] as number;
  return bits;
}

/**
 * Tags of rows [from, to): undefined and "" become null; returns the first row holding anything
 * but a string or null, or -1.
 */
function normalizeTags(column: unknown[], from: number, to: number): number {
  for (let index = from; index < to; index++) {
    const value = column[index];
    if (value === null) continue; // nearly every row
    if (typeof value === "string") {
      if (value === "") column[index] = null;
    } else if (value === undefined) column[index] = null;
    else return index;
  }
  return -1;
}

/** Throw an EngineInputError naming pair, candle and field when a hook left bad signal columns. */
export function checkSignals(frame: StrategyFrame, hook: string): void {
  for (const field of SIGNALS) {
    const column: unknown = frame[field];
    if (!(column instanceof Uint8Array)) {
      throw new EngineInputError({
        pair: frame.pair,
        field: `${field} (after ${hook})`,
        expected: `a Uint8Array of ${frame.length} values`,
        found: describeValue(column),
      });
    }
    if (column.length !== frame.length) {
      throw new EngineInputError({
        pair: frame.pair,
        field: `${field} (after ${hook})`,
        expected: `${frame.length} values (one per candle)`,
        found: `${column.length} values`,
      });
    }
    if (allZeroOrOne(column)) continue;
    for (let index = 0; index < column.length; index++) {
      const value = column[index] as number;
      if (value > 1) {
        throw new EngineInputError({
          pair: frame.pair,
          candleTime: frame.date[index] as number,
          field: `${field} (after ${hook})`,
          expected: "0 or 1",
          found: String(value),
        });
      }
    }
  }
  for (const field of TAGS) {
    if (!frame.hasTags(field === "enterTag" ? "enter" : "exit")) continue; // never touched: all null
    const column: unknown = frame[field];
    if (!Array.isArray(column) || column.length !== frame.length) {
      throw new EngineInputError({
        pair: frame.pair,
        field: `${field} (after ${hook})`,
        expected: `an array of ${frame.length} strings or nulls`,
        found: describeValue(column),
      });
    }
    const length = column.length;
    for (let from = 0, to = firstBlockEnd(0, length); from < length; from = to, to = blockEnd(to, length)) {
      const index = normalizeTags(column as unknown[], from, to);
      if (index >= 0) {
        throw new EngineInputError({
          pair: frame.pair,
          candleTime: frame.date[index] as number,
          field: `${field} (after ${hook})`,
          expected: "a string or null",
          found: describeValue(column[index]),
        });
      }
    }
  }
}

/** Analyse one pair: informative merges, populateIndicators, populateEntryTrend, populateExitTrend. */
export function analyzePair<S extends ParameterSchema>(options: AnalyzePairOptions<S>): StrategyFrame {
  const strategy = options.strategy as unknown as Strategy;
  const { pair } = options;
  const frame = createStrategyFrame(pair, strategy.timeframe, options.candles);
  const context: PopulateContext = {
    params: options.params,
    pair,
    timeframe: strategy.timeframe,
    mode: options.mode ?? "backtest",
  };
  const { base, quote } = splitPair(pair);
  strategy.informative.forEach((informative, index) => {
    const informativePair = (informative.pair ?? pair)
      .replaceAll("{base}", base)
      .replaceAll("{quote}", quote);
    const candles = options.candleSource?.(informativePair, informative.timeframe);
    if (candles === undefined) {
      throw new EngineInputError({
        pair,
        field: `informative.${index}`,
        expected: `candles for ${informativePair} ${informative.timeframe}`,
        found: "none loaded",
      });
    }
    const informativeFrame = createStrategyFrame(informativePair, informative.timeframe, candles);
    if (informative.populate !== undefined) {
      const populate = informative.populate;
      callHook(strategy, `informative.${index}.populate`, pair, () =>
        populate(informativeFrame, { ...context, pair: informativePair, timeframe: informative.timeframe }),
      );
    }
    const other = splitPair(informativePair);
    mergeInformative(frame, informativeFrame, {
      format:
        informative.format ??
        (informative.pair === undefined ? "{column}_{timeframe}" : "{base}_{quote}_{column}_{timeframe}"),
      ffill: informative.ffill ?? true,
      base: other.base,
      quote: other.quote,
    });
  });
  callHook(strategy, "populateIndicators", pair, () => strategy.populateIndicators(frame, context));
  callHook(strategy, "populateEntryTrend", pair, () => strategy.populateEntryTrend(frame, context));
  checkSignals(frame, "populateEntryTrend");
  callHook(strategy, "populateExitTrend", pair, () => strategy.populateExitTrend(frame, context));
  checkSignals(frame, "populateExitTrend");
  return frame;
}
