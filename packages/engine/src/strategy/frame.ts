/**
 * The columnar frame a strategy reads and writes: Freqtrade's dataframe as typed arrays.
 * OHLCV columns are Float64Array; indicator columns are Float64Array set by name; the four signal
 * columns are Uint8Array (1 = set) and the two tag columns are arrays of string or null.
 */
import { EngineInputError, describeValue } from "../errors";

/** Candles of one pair and timeframe; `date` is the candle open time in epoch milliseconds (UTC). */
export interface CandleSeries {
  readonly date: Float64Array;
  readonly open: Float64Array;
  readonly high: Float64Array;
  readonly low: Float64Array;
  readonly close: Float64Array;
  readonly volume: Float64Array;
}

export const CANDLE_COLUMNS = ["date", "open", "high", "low", "close", "volume"] as const;
export type CandleColumn = (typeof CANDLE_COLUMNS)[number];

/** A column value accepted by `StrategyFrame.set`. */
export type ColumnValues = Float64Array | readonly number[];

export interface StrategyFrame extends CandleSeries {
  readonly pair: string;
  readonly timeframe: string;
  readonly length: number;
  /** 1 where the strategy wants to open a long position (Freqtrade's `enter_long`). */
  enterLong: Uint8Array;
  /** 1 where the strategy wants to close a long position (`exit_long`). */
  exitLong: Uint8Array;
  /** 1 where the strategy wants to open a short position (`enter_short`). */
  enterShort: Uint8Array;
  /** 1 where the strategy wants to close a short position (`exit_short`). */
  exitShort: Uint8Array;
  /** Entry tag per candle (`enter_tag`), null when none. */
  enterTag: (string | null)[];
  /** Exit tag per candle (`exit_tag`), null when none. */
  exitTag: (string | null)[];
  /** A column by name (OHLCV or indicator). Throws naming the column and the available ones. */
  get(name: string): Float64Array;
  has(name: string): boolean;
  /** Set (or replace) an indicator column; throws unless it has `length` values. */
  set(name: string, values: ColumnValues): void;
  /** Indicator column names in insertion order (OHLCV and signals excluded). */
  columnNames(): string[];
  /**
   * The tag at `index` without materialising the tag array (the engine's read path; tag arrays are
   * allocated on first access to `enterTag` / `exitTag`).
   */
  tagAt(kind: "enter" | "exit", index: number): string | null;
  /** Whether the tag array of `kind` was ever accessed or assigned. */
  hasTags(kind: "enter" | "exit"): boolean;
}

class ColumnarFrame implements StrategyFrame {
  readonly pair: string;
  readonly timeframe: string;
  readonly length: number;
  readonly date: Float64Array;
  readonly open: Float64Array;
  readonly high: Float64Array;
  readonly low: Float64Array;
  readonly close: Float64Array;
  readonly volume: Float64Array;
  enterLong: Uint8Array;
  exitLong: Uint8Array;
  enterShort: Uint8Array;
  exitShort: Uint8Array;
  private enterTags: (string | null)[] | null = null;
  private exitTags: (string | null)[] | null = null;
  private readonly columns = new Map<string, Float64Array>();

  constructor(pair: string, timeframe: string, candles: CandleSeries) {
    this.pair = pair;
    this.timeframe = timeframe;
    this.length = candles.date.length;
    this.date = candles.date;
    this.open = candles.open;
    this.high = candles.high;
    this.low = candles.low;
    this.close = candles.close;
    this.volume = candles.volume;
    this.enterLong = new Uint8Array(this.length);
    this.exitLong = new Uint8Array(this.length);
    this.enterShort = new Uint8Array(this.length);
    this.exitShort = new Uint8Array(this.length);
  }

  get enterTag(): (string | null)[] {
    this.enterTags ??= new Array<string | null>(this.length).fill(null);
    return this.enterTags;
  }

  set enterTag(values: (string | null)[]) {
    this.enterTags = values;
  }

  get exitTag(): (string | null)[] {
    this.exitTags ??= new Array<string | null>(this.length).fill(null);
    return this.exitTags;
  }

  set exitTag(values: (string | null)[]) {
    this.exitTags = values;
  }

  tagAt(kind: "enter" | "exit", index: number): string | null {
    const tags = kind === "enter" ? this.enterTags : this.exitTags;
    return tags === null ? null : (tags[index] ?? null);
  }

  hasTags(kind: "enter" | "exit"): boolean {
    return (kind === "enter" ? this.enterTags : this.exitTags) !== null;
  }

  get(name: string): Float64Array {
    switch (name) {
      case "date":
        return this.date;
      case "open":
        return this.open;
      case "high":
        return this.high;
      case "low":
        return this.low;
      case "close":
        return this.close;
      case "volume":
        return this.volume;
    }
    const column = this.columns.get(name);
    if (column === undefined) {
      const available = [...CANDLE_COLUMNS, ...this.columns.keys()].join(", ");
      throw new EngineInputError({
        pair: this.pair,
        field: `column ${name}`,
        expected: `an existing column (${available})`,
        found: "no such column",
      });
    }
    return column;
  }

  has(name: string): boolean {
    return (CANDLE_COLUMNS as readonly string[]).includes(name) || this.columns.has(name);
  }

  set(name: string, values: ColumnValues): void {
    if ((CANDLE_COLUMNS as readonly string[]).includes(name)) {
      throw new EngineInputError({
        pair: this.pair,
        field: `column ${name}`,
        expected: "an indicator name (OHLCV columns are read-only)",
        found: JSON.stringify(name),
      });
    }
    const isTyped = values instanceof Float64Array;
    if (!isTyped && !Array.isArray(values)) {
      throw new EngineInputError({
        pair: this.pair,
        field: `column ${name}`,
        expected: "a Float64Array or number[]",
        found: describeValue(values),
      });
    }
    if (values.length !== this.length) {
      throw new EngineInputError({
        pair: this.pair,
        field: `column ${name}`,
        expected: `${this.length} values (one per candle)`,
        found: `${values.length} values`,
      });
    }
    this.columns.set(name, isTyped ? values : Float64Array.from(values));
  }

  columnNames(): string[] {
    return [...this.columns.keys()];
  }
}

/** A fresh frame over `candles` (the candle arrays are shared, not copied), with zeroed signals. */
export function createStrategyFrame(pair: string, timeframe: string, candles: CandleSeries): StrategyFrame {
  return new ColumnarFrame(pair, timeframe, candles);
}

/** Copy of a slice [start, end) of candle arrays. */
export function sliceCandles(candles: CandleSeries, start: number, end: number): CandleSeries {
  return {
    date: candles.date.slice(start, end),
    open: candles.open.slice(start, end),
    high: candles.high.slice(start, end),
    low: candles.low.slice(start, end),
    close: candles.close.slice(start, end),
    volume: candles.volume.slice(start, end),
  };
}

/** Build a CandleSeries from rows `[dateMs, open, high, low, close, volume]` (Freqtrade's json layout). */
export function candlesFromRows(rows: readonly (readonly number[])[]): CandleSeries {
  const length = rows.length;
  const columns = {
    date: new Float64Array(length),
    open: new Float64Array(length),
    high: new Float64Array(length),
    low: new Float64Array(length),
    close: new Float64Array(length),
    volume: new Float64Array(length),
  };
  for (let index = 0; index < length; index++) {
    const row = rows[index] as readonly number[];
    columns.date[index] = row[0] ?? Number.NaN;
    columns.open[index] = row[1] ?? Number.NaN;
    columns.high[index] = row[2] ?? Number.NaN;
    columns.low[index] = row[3] ?? Number.NaN;
    columns.close[index] = row[4] ?? Number.NaN;
    columns.volume[index] = row[5] ?? Number.NaN;
  }
  return columns;
}
