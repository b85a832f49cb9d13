/**
 * Merging an informative (slower) timeframe into the strategy frame without look-ahead:
 * Freqtrade's `merge_informative_pair` (strategy/strategy_helper.py). The informative candle opened
 * at t becomes visible on the main candle opened at t + tf_inf − tf (the main candle that closes
 * when the informative one closes); rows are matched on that exact date and then forward-filled.
 */
import { EngineInputError } from "../errors";
import { timeframeToMilliseconds, timeframeToSeconds } from "../timeframe";
import type { StrategyFrame } from "./frame";

export interface MergeInformativeOptions {
  /** Column name template: {column}, {timeframe}, {base}, {quote}; default "{column}_{timeframe}". */
  readonly format?: string;
  /** Forward-fill missing values; default true (Freqtrade's default). */
  readonly ffill?: boolean;
  /** Base currency (lower-cased in names), for the {base} placeholder. */
  readonly base?: string;
  /** Quote currency (lower-cased in names), for the {quote} placeholder. */
  readonly quote?: string;
}

/** First millisecond of the calendar month after the one containing `time` (UTC). */
function nextMonthStart(time: number): number {
  const date = new Date(time);
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1);
}

/** Shift each informative open time to the main candle on which it becomes visible. */
export function informativeMergeDates(
  informativeDates: Float64Array,
  mainTimeframe: string,
  informativeTimeframe: string,
): Float64Array {
  const mainSeconds = timeframeToSeconds(mainTimeframe);
  const informativeSeconds = timeframeToSeconds(informativeTimeframe);
  if (informativeSeconds < mainSeconds) {
    throw new EngineInputError({
      field: "informative.timeframe",
      expected: `a timeframe of at least the main timeframe ${mainTimeframe}`,
      found: JSON.stringify(informativeTimeframe),
    });
  }
  const shifted = new Float64Array(informativeDates.length);
  const mainMs = mainSeconds * 1000;
  for (let index = 0; index < informativeDates.length; index++) {
    const date = informativeDates[index] as number;
    if (informativeSeconds === mainSeconds) shifted[index] = date;
    else if (informativeTimeframe === "1M") shifted[index] = nextMonthStart(date) - mainMs;
    else shifted[index] = date + timeframeToMilliseconds(informativeTimeframe) - mainMs;
  }
  return shifted;
}

/**
 * Add every column of `informative` (date, OHLCV and its indicators) to `main`, renamed by
 * `format`. Returns the names added.
 */
export function mergeInformative(
  main: StrategyFrame,
  informative: StrategyFrame,
  options: MergeInformativeOptions = {},
): string[] {
  const format = options.format ?? "{column}_{timeframe}";
  const ffill = options.ffill ?? true;
  const mergeDates = informativeMergeDates(informative.date, main.timeframe, informative.timeframe);
  // Row of `informative` whose merge date equals each main date, or -1.
  const match = new Int32Array(main.length).fill(-1);
  let cursor = 0;
  for (let row = 0; row < main.length; row++) {
    const date = main.date[row] as number;
    while (cursor < mergeDates.length && (mergeDates[cursor] as number) < date) cursor++;
    if (cursor < mergeDates.length && mergeDates[cursor] === date) match[row] = cursor;
  }
  const names = ["date", "open", "high", "low", "close", "volume", ...informative.columnNames()];
  const added: string[] = [];
  for (const column of names) {
    const source = informative.get(column);
    const target = new Float64Array(main.length);
    let last = Number.NaN;
    for (let row = 0; row < main.length; row++) {
      const sourceRow = match[row] as number;
      let value = sourceRow >= 0 ? (source[sourceRow] as number) : Number.NaN;
      if (ffill) {
        if (Number.isNaN(value)) value = last;
        else last = value;
      }
      target[row] = value;
    }
    const name = format
      .replaceAll("{column}", column)
      .replaceAll("{timeframe}", informative.timeframe)
      .replaceAll("{base}", (options.base ?? "").toLowerCase())
      .replaceAll("{quote}", (options.quote ?? "").toLowerCase());
    main.set(name, target);
    added.push(name);
  }
  return added;
}

/** Split "BTC/USDT" (or "BTC/USDT:USDT") into base and quote. */
export function splitPair(pair: string): { base: string; quote: string } {
  const [base = "", rest = ""] = pair.split("/");
  const [quote = ""] = rest.split(":");
  return { base, quote };
}
