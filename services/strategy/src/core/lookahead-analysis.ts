/**
 * Look-ahead and recursive analysis (Freqtrade's `lookahead-analysis` and `recursive-analysis`),
 * pure over the engine: it runs a strategy's populate hooks on the full candle range and on
 * truncated ranges and reports every column whose values differ. Runs inside the sandbox worker.
 */
import {
  analyzePair,
  sliceCandles,
  type CandleSeries,
  type CandleSource,
  type ParameterValues,
  type Strategy,
  type StrategyFrame,
} from "@tradai/engine";

export type FindingKind = "lookahead" | "recursive";

export interface ColumnFinding {
  readonly column: string;
  readonly kind: FindingKind;
  /** Distinct candles at which the value changed. */
  readonly affectedCandles: number;
  /** Largest |a - b| / max(|a|, |b|); 1 when one side is NaN and the other is not. */
  readonly maxRelativeDifference: number;
  /** Open time (epoch ms) of the earliest affected candle. */
  readonly firstAffected: number;
}

export interface LookaheadAnalysisOptions {
  readonly strategy: Strategy;
  readonly params: ParameterValues<Strategy["parameters"]>;
  readonly pair: string;
  /** Candles of `pair` at the strategy timeframe, startup history included. */
  readonly candles: CandleSeries;
  /** Index of the first candle of the analysed range (the candles before it are startup history). */
  readonly rangeStartIndex: number;
  /** Truncation points to test; default 20. */
  readonly samples?: number;
  /** Also run the recursive (startup candle count) check; default false. */
  readonly recursive?: boolean;
  /**
   * Relative difference above which the recursive check reports a column; default 1e-4 (0.01 %).
   * Differences are taken relative to the larger of the two values and the column's mean absolute
   * value, so a zero-crossing oscillator is judged on its usual scale.
   */
  readonly recursiveTolerance?: number;
  /** Informative candles (full range); truncated alongside the main candles. */
  readonly candleSource?: CandleSource;
}

export interface LookaheadAnalysisResult {
  readonly hasBias: boolean;
  readonly findings: ColumnFinding[];
  readonly samplesTested: number;
}

/** Freqtrade's names for the signal columns, so findings read as in Freqtrade's report. */
const SIGNAL_COLUMNS = [
  ["enter_long", "enterLong"],
  ["exit_long", "exitLong"],
  ["enter_short", "enterShort"],
  ["exit_short", "exitShort"],
] as const;

function columnsOf(frame: StrategyFrame): Map<string, ArrayLike<number>> {
  const columns = new Map<string, ArrayLike<number>>();
  for (const name of frame.columnNames()) columns.set(name, frame.get(name));
  for (const [name, field] of SIGNAL_COLUMNS) columns.set(name, frame[field]);
  return columns;
}

/**
 * |a - b| / max(|a|, |b|, floor), capped at 1; 1 when exactly one side is NaN. `floor` keeps
 * oscillators that cross zero (MACD histogram) from reporting huge ratios of tiny differences.
 */
function relativeDifference(left: number, right: number, floor = 0): number {
  const leftNaN = Number.isNaN(left);
  const rightNaN = Number.isNaN(right);
  if (leftNaN && rightNaN) return 0;
  if (leftNaN !== rightNaN) return 1;
  if (left === right) return 0;
  const scale = Math.max(Math.abs(left), Math.abs(right), floor);
  return scale === 0 ? 0 : Math.min(1, Math.abs(left - right) / scale);
}

/** Mean absolute value of the finite entries: the typical size of a column. */
function typicalMagnitude(values: ArrayLike<number>): number {
  let sum = 0;
  let count = 0;
  for (let index = 0; index < values.length; index++) {
    const value = values[index] as number;
    if (Number.isFinite(value)) {
      sum += Math.abs(value);
      count += 1;
    }
  }
  return count === 0 ? 0 : sum / count;
}

class FindingCollector {
  private readonly byColumn = new Map<string, { candles: Set<number>; max: number; first: number }>();

  constructor(
    private readonly kind: FindingKind,
    private readonly dates: Float64Array,
  ) {}

  record(column: string, fullIndex: number, difference: number): void {
    let entry = this.byColumn.get(column);
    if (entry === undefined) {
      entry = { candles: new Set(), max: 0, first: fullIndex };
      this.byColumn.set(column, entry);
    }
    entry.candles.add(fullIndex);
    entry.max = Math.max(entry.max, difference);
    entry.first = Math.min(entry.first, fullIndex);
  }

  findings(): ColumnFinding[] {
    return [...this.byColumn.entries()]
      .map(([column, entry]) => ({
        column,
        kind: this.kind,
        affectedCandles: entry.candles.size,
        maxRelativeDifference: entry.max,
        firstAffected: this.dates[entry.first] as number,
      }))
      .sort((left, right) => left.column.localeCompare(right.column));
  }
}

/** Evenly spread indices: signal candles first (where bias matters most), then a regular grid. */
export function chooseCutPoints(full: StrategyFrame, rangeStartIndex: number, samples: number): number[] {
  const last = full.length - 1;
  const signalRows: number[] = [];
  for (let index = Math.max(rangeStartIndex, 1); index < last; index++) {
    if (
      full.enterLong[index] === 1 ||
      full.exitLong[index] === 1 ||
      full.enterShort[index] === 1 ||
      full.exitShort[index] === 1
    ) {
      signalRows.push(index);
    }
  }
  const chosen = new Set<number>();
  // Spread `count` picks evenly over `pool`, moving to the next free entry on a collision.
  const pick = (pool: number[], count: number) => {
    const target = Math.min(samples, chosen.size + count);
    for (let slot = 0; slot < count && chosen.size < target; slot++) {
      let position = Math.floor((slot * pool.length) / count);
      for (let tries = 0; tries < pool.length && chosen.has(pool[position] as number); tries++) {
        position = (position + 1) % pool.length;
      }
      const candidate = pool[position];
      if (candidate !== undefined) chosen.add(candidate);
    }
  };
  pick(signalRows, Math.min(Math.ceil(samples / 2), signalRows.length));
  const grid: number[] = [];
  for (let index = Math.max(rangeStartIndex, 1); index < last; index++) grid.push(index);
  pick(grid, samples - chosen.size);
  return [...chosen].sort((left, right) => left - right);
}

function truncatedSource(source: CandleSource | undefined, endTime: number): CandleSource | undefined {
  if (source === undefined) return undefined;
  return (pair, timeframe) => {
    const candles = source(pair, timeframe);
    if (candles === undefined) return undefined;
    let end = candles.date.length;
    while (end > 0 && (candles.date[end - 1] as number) > endTime) end -= 1;
    return sliceCandles(candles, 0, end);
  };
}

/**
 * Lookahead: for each cut point c, analyse candles [0, c] alone and compare every indicator and
 * signal column at rows 0..c with the full run. Recursive: analyse only `startupCandleCount`
 * candles before each evaluation point and compare the point's values with the full run.
 */
export function analyzeLookahead(options: LookaheadAnalysisOptions): LookaheadAnalysisResult {
  const { strategy, params, pair, candles } = options;
  const samples = Math.max(1, options.samples ?? 20);
  const run = (slice: CandleSeries, endTime: number) =>
    analyzePair({
      strategy,
      params,
      pair,
      candles: slice,
      candleSource: truncatedSource(options.candleSource, endTime),
    });
  const full = run(candles, Number.POSITIVE_INFINITY);
  const fullColumns = columnsOf(full);
  const cuts = chooseCutPoints(full, options.rangeStartIndex, samples);

  const lookahead = new FindingCollector("lookahead", candles.date);
  for (const cut of cuts) {
    const truncated = run(sliceCandles(candles, 0, cut + 1), candles.date[cut] as number);
    const truncatedColumns = columnsOf(truncated);
    for (const [name, fullValues] of fullColumns) {
      const values = truncatedColumns.get(name);
      if (values === undefined) continue;
      for (let index = 0; index <= cut; index++) {
        const difference = relativeDifference(values[index] as number, fullValues[index] as number);
        if (difference > 0) lookahead.record(name, index, difference);
      }
    }
  }

  const findings = lookahead.findings();
  if (options.recursive === true) {
    const tolerance = options.recursiveTolerance ?? 1e-4;
    const startup = strategy.startupCandleCount;
    const recursive = new FindingCollector("recursive", candles.date);
    const magnitudes = new Map([...fullColumns].map(([name, values]) => [name, typicalMagnitude(values)]));
    // Points with more history in the full run than the startup window, so the full run is the reference.
    const points = [...cuts, full.length - 1].filter((point) => point - startup >= 1);
    for (const point of points) {
      const from = point - startup;
      const window = run(sliceCandles(candles, from, point + 1), candles.date[point] as number);
      const windowColumns = columnsOf(window);
      for (const [name, fullValues] of fullColumns) {
        const values = windowColumns.get(name);
        if (values === undefined) continue;
        const difference = relativeDifference(
          values[startup] as number,
          fullValues[point] as number,
          magnitudes.get(name) ?? 0,
        );
        if (difference > tolerance) recursive.record(name, point, difference);
      }
    }
    findings.push(...recursive.findings());
  }
  return { hasBias: findings.length > 0, findings, samplesTested: cuts.length };
}
