/**
 * Candle input checks and Freqtrade's loader clean-up (data/converter.py `clean_ohlcv_dataframe`,
 * `ohlcv_fill_up_missing_data`): duplicate dates are merged (first open, max high, min low,
 * last close, max volume), gaps are filled with the previous close and zero volume. Unsorted
 * dates, non-finite values, mismatched column lengths and a timeframe mismatch are errors.
 */
import { EngineInputError } from "../errors";
import type { CandleSeries } from "../strategy/frame";
import { timeframeToMilliseconds } from "../timeframe";

const COLUMNS = ["date", "open", "high", "low", "close", "volume"] as const;

export interface PrepareCandlesOptions {
  /** Fill gaps (Freqtrade's default for backtests); default true. */
  readonly fillMissing?: boolean;
}

const preparedCache = new WeakMap<CandleSeries, Map<string, CandleSeries>>();

/**
 * Checked and cleaned candles of one pair. Returns the input unchanged when nothing needed fixing.
 * Results are memoised per `candles` object (sweeps reuse candles): do not mutate candles in place.
 */
export function prepareCandles(
  pair: string,
  timeframe: string,
  candles: CandleSeries,
  options: PrepareCandlesOptions = {},
): CandleSeries {
  const key = `${pair}|${timeframe}|${options.fillMissing ?? true}`;
  const cached =
    typeof candles === "object" && candles !== null ? preparedCache.get(candles)?.get(key) : undefined;
  if (cached !== undefined) return cached;
  const result = checkAndCleanCandles(pair, timeframe, candles, options);
  let byKey = preparedCache.get(candles);
  if (byKey === undefined) {
    byKey = new Map();
    preparedCache.set(candles, byKey);
  }
  byKey.set(key, result);
  return result;
}

function checkAndCleanCandles(
  pair: string,
  timeframe: string,
  candles: CandleSeries,
  options: PrepareCandlesOptions = {},
): CandleSeries {
  if (typeof candles !== "object" || candles === null) {
    throw new EngineInputError({
      pair,
      field: "candles",
      expected: "an object of Float64Array columns",
      found: String(candles),
    });
  }
  const length = candles.date?.length;
  for (const column of COLUMNS) {
    const values: unknown = candles[column];
    if (!(values instanceof Float64Array)) {
      throw new EngineInputError({
        pair,
        field: column,
        expected: "a Float64Array column",
        found: typeof values,
      });
    }
    if (values.length !== length) {
      throw new EngineInputError({
        pair,
        field: column,
        expected: `${length} values (the length of date)`,
        found: `${values.length} values`,
      });
    }
  }
  const step = timeframeToMilliseconds(timeframe);
  const variable = /[My]$/.test(timeframe);
  let duplicates = 0;
  let gaps = 0;
  let minimumStep = Number.POSITIVE_INFINITY;
  // Column by column (tight loops over typed arrays); report the first non-finite value.
  for (const column of COLUMNS) {
    const values = candles[column];
    for (let index = 0; index < length; index++) {
      const value = values[index] as number;
      if (value - value !== 0) {
        throw new EngineInputError({
          pair,
          ...(column === "date" ? {} : { candleTime: candles.date[index] as number }),
          field: column,
          expected: column === "date" ? "a finite epoch-millisecond time" : "a finite number",
          found: String(value),
        });
      }
    }
  }
  for (let index = 1; index < length; index++) {
    const date = candles.date[index] as number;
    const previous = candles.date[index - 1] as number;
    if (date < previous) {
      throw new EngineInputError({
        pair,
        candleTime: date,
        field: "date",
        expected: `dates in ascending order (after ${new Date(previous).toISOString()})`,
        found: "an earlier date",
      });
    }
    if (date === previous) {
      duplicates++;
      continue;
    }
    const difference = date - previous;
    minimumStep = Math.min(minimumStep, difference);
    if (!variable && difference % step !== 0) {
      throw new EngineInputError({
        pair,
        candleTime: date,
        field: "date",
        expected: `a multiple of the ${timeframe} timeframe after the previous candle`,
        found: `a step of ${difference / 60_000} minutes`,
      });
    }
    if (!variable && difference > step) gaps++;
  }
  if (!variable && length > 2 && minimumStep > step && Number.isFinite(minimumStep)) {
    throw new EngineInputError({
      pair,
      field: "timeframe",
      expected: `${timeframe} candles`,
      found: `candles at least ${minimumStep / 60_000} minutes apart`,
    });
  }
  let result = candles;
  if (duplicates > 0) result = mergeDuplicates(result);
  if (gaps > 0 && (options.fillMissing ?? true)) result = fillGaps(result, step);
  return result;
}

function mergeDuplicates(candles: CandleSeries): CandleSeries {
  const length = candles.date.length;
  const out = {
    date: new Float64Array(length),
    open: new Float64Array(length),
    high: new Float64Array(length),
    low: new Float64Array(length),
    close: new Float64Array(length),
    volume: new Float64Array(length),
  };
  let count = -1;
  for (let index = 0; index < length; index++) {
    const date = candles.date[index] as number;
    if (count >= 0 && out.date[count] === date) {
      out.high[count] = Math.max(out.high[count] as number, candles.high[index] as number);
      out.low[count] = Math.min(out.low[count] as number, candles.low[index] as number);
      out.close[count] = candles.close[index] as number;
      out.volume[count] = Math.max(out.volume[count] as number, candles.volume[index] as number);
      continue;
    }
    count++;
    out.date[count] = date;
    out.open[count] = candles.open[index] as number;
    out.high[count] = candles.high[index] as number;
    out.low[count] = candles.low[index] as number;
    out.close[count] = candles.close[index] as number;
    out.volume[count] = candles.volume[index] as number;
  }
  const size = count + 1;
  return {
    date: out.date.slice(0, size),
    open: out.open.slice(0, size),
    high: out.high.slice(0, size),
    low: out.low.slice(0, size),
    close: out.close.slice(0, size),
    volume: out.volume.slice(0, size),
  };
}

function fillGaps(candles: CandleSeries, step: number): CandleSeries {
  const length = candles.date.length;
  const first = candles.date[0] as number;
  const last = candles.date[length - 1] as number;
  const size = Math.round((last - first) / step) + 1;
  const out = {
    date: new Float64Array(size),
    open: new Float64Array(size),
    high: new Float64Array(size),
    low: new Float64Array(size),
    close: new Float64Array(size),
    volume: new Float64Array(size),
  };
  let source = 0;
  for (let index = 0; index < size; index++) {
    const date = first + index * step;
    out.date[index] = date;
    if (source < length && candles.date[source] === date) {
      out.open[index] = candles.open[source] as number;
      out.high[index] = candles.high[source] as number;
      out.low[index] = candles.low[source] as number;
      out.close[index] = candles.close[source] as number;
      out.volume[index] = candles.volume[source] as number;
      source++;
    } else {
      const previousClose = out.close[index - 1] as number;
      out.open[index] = previousClose;
      out.high[index] = previousClose;
      out.low[index] = previousClose;
      out.close[index] = previousClose;
      out.volume[index] = 0;
    }
  }
  return out;
}
