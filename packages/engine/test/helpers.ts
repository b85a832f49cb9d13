/** Test helpers: candles and signal-driven strategies (no indicator code involved). */
import {
  candlesFromRows,
  defineStrategy,
  type CandleSeries,
  type Strategy,
  type StrategyCallbacks,
  type StrategyDefinition,
} from "../src/index";

export const HOUR = 3_600_000;
export const START = Date.UTC(2024, 0, 1);

/** Rows [open, high, low, close] per hour from START. */
export function hourly(
  rows: readonly (readonly [number, number, number, number])[],
  volume = 100,
): CandleSeries {
  return candlesFromRows(
    rows.map((row, index) => [START + index * HOUR, row[0], row[1], row[2], row[3], volume]),
  );
}

/** Flat candles at `price`. */
export function flat(count: number, price: number): [number, number, number, number][] {
  return Array.from({ length: count }, () => [price, price, price, price]);
}

export interface Signals {
  readonly enterLong?: readonly number[];
  readonly exitLong?: readonly number[];
  readonly enterShort?: readonly number[];
  readonly exitShort?: readonly number[];
  readonly enterTag?: Readonly<Record<number, string>>;
}

/** A 1h strategy whose signals come from `signals[pair]` (candle indexes where the signal is set). */
export function signalStrategy(
  signals: Readonly<Record<string, Signals>>,
  settings: Partial<
    Omit<StrategyDefinition, "populateIndicators" | "populateEntryTrend" | "populateExitTrend">
  > &
    StrategyCallbacks = {},
): Strategy {
  return defineStrategy({
    name: "SignalStrategy",
    timeframe: "1h",
    stoploss: -0.5,
    ...settings,
    populateIndicators: () => undefined,
    populateEntryTrend(frame) {
      const own = signals[frame.pair] ?? {};
      for (const index of own.enterLong ?? []) frame.enterLong[index] = 1;
      for (const index of own.enterShort ?? []) frame.enterShort[index] = 1;
      for (const [index, tag] of Object.entries(own.enterTag ?? {})) frame.enterTag[Number(index)] = tag;
    },
    populateExitTrend(frame) {
      const own = signals[frame.pair] ?? {};
      for (const index of own.exitLong ?? []) frame.exitLong[index] = 1;
      for (const index of own.exitShort ?? []) frame.exitShort[index] = 1;
    },
  });
}
