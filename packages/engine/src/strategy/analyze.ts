/**
 * Run a strategy's populate hooks over one pair's candles (Freqtrade's `analyze`/`advise_*`),
 * merging its informative data first, and check what the hooks produced.
 */
import { EngineInputError, StrategyRuntimeError, describeValue } from "../errors";
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
    for (let index = 0; index < column.length; index++) {
      const value: unknown = column[index];
      if (value === undefined || value === "") column[index] = null;
      else if (value !== null && typeof value !== "string") {
        throw new EngineInputError({
          pair: frame.pair,
          candleTime: frame.date[index] as number,
          field: `${field} (after ${hook})`,
          expected: "a string or null",
          found: describeValue(value),
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
