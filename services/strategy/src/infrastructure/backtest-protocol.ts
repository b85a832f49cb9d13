/**
 * Messages of the backtest sandbox (backtest-harness.ts): the worker's main thread, the harness in
 * each worker thread and the strategy's realm. Numbers JSON cannot spell (NaN, ±Infinity, -0)
 * cross as tagged objects, so a run comes back exactly as the engine produced it.
 */
import type { BacktestConfig, CandleSeries, StrategyDescription } from "@tradai/engine";
import type { HarnessIssue } from "./sandbox-protocol";

/** What a worker thread receives (`workerData`). */
export type BacktestHarnessInput = {
  /** The harness bundle itself: the worker evaluates it again inside the strategy's context. */
  readonly harness: string;
  /** The compiled strategy script. */
  readonly code: string;
} & (
  | { readonly task: "describe" }
  | {
      readonly task: "backtest";
      readonly pairs: readonly string[];
      readonly candles: Readonly<Record<string, CandleSeries>>;
      readonly params: Readonly<Record<string, unknown>>;
      readonly config: BacktestConfig;
    }
);

/**
 * The task as the realm receives it: one JSON string (written with `taggedJson`). The candles come
 * beside it as one payload string of little-endian float64 bytes (one char per byte, 0..255):
 * per entry of `series` in order, its six columns in CANDLE_COLUMNS order, `length` values each.
 */
export type BacktestRealmInput =
  | { readonly task: "describe" }
  | {
      readonly task: "backtest";
      readonly pairs: readonly string[];
      readonly series: readonly { readonly pair: string; readonly length: number }[];
      readonly params: Readonly<Record<string, unknown>>;
      readonly config: BacktestConfig;
    };

/** Column order of the candle payload. */
export const CANDLE_COLUMNS = ["date", "open", "high", "low", "close", "volume"] as const;

/** The realm's answer (as a `taggedJson` string); `run` is the engine's BacktestRunResult, unchecked. */
export type BacktestHarnessOutput =
  | { readonly ok: true; readonly task: "describe"; readonly description: StrategyDescription }
  | { readonly ok: true; readonly task: "backtest"; readonly run: unknown }
  | { readonly ok: false; readonly issues: HarnessIssue[] };

const NUMBER_TAG = "$tradaiNumber";
const SPECIAL_NUMBERS: Readonly<Record<string, number>> = {
  NaN: Number.NaN,
  Infinity: Number.POSITIVE_INFINITY,
  "-Infinity": Number.NEGATIVE_INFINITY,
  "-0": -0,
};

/** JSON that keeps NaN, ±Infinity and -0 (JSON.stringify writes null, null and 0). */
export const taggedJson = {
  stringify(value: unknown): string {
    return JSON.stringify(value, (_key, item: unknown) =>
      typeof item === "number" && (!Number.isFinite(item) || Object.is(item, -0))
        ? { [NUMBER_TAG]: Object.is(item, -0) ? "-0" : String(item) }
        : item,
    );
  },
  parse(text: string): unknown {
    return JSON.parse(text, (_key, item: unknown) => {
      if (typeof item !== "object" || item === null || Array.isArray(item)) return item;
      const tag = (item as Record<string, unknown>)[NUMBER_TAG];
      if (typeof tag !== "string" || Object.keys(item).length !== 1) return item;
      return Object.hasOwn(SPECIAL_NUMBERS, tag) ? SPECIAL_NUMBERS[tag] : item;
    });
  },
};
