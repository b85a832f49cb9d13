import { fixedTimeframeGrid, type TimeframeGrid } from "./timeframe";

/** Verdict for one series (tradai.data.v1.FreshnessVerdict). */
export type FreshnessVerdictKind = "fresh" | "stale" | "missing";

export interface FreshnessInput {
  /** Open time of the latest stored candle; undefined when nothing is stored. */
  lastCandleMs: number | undefined;
  /** The series' timeframe grid (or a fixed length in ms). */
  grid: TimeframeGrid | number;
  nowMs: number;
  /** Stale when the latest candle closed more than this many periods ago. Default 2. */
  maxAgePeriods?: number;
}

export interface FreshnessResult {
  verdict: FreshnessVerdictKind;
  /**
   * Seconds since the latest stored candle closed (its open time + one timeframe); 0 when it is
   * the candle that just closed at `nowMs`; NaN when missing.
   */
  ageSeconds: number;
}

export const DEFAULT_MAX_AGE_PERIODS = 2;

/**
 * A series is fresh while its latest candle closed at most `maxAgePeriods` timeframes ago. With
 * the default 2 a series one candle behind the exchange is still fresh; two behind is stale.
 */
export function evaluateFreshness(input: FreshnessInput): FreshnessResult {
  if (input.lastCandleMs === undefined) return { verdict: "missing", ageSeconds: Number.NaN };
  const maxAgePeriods =
    input.maxAgePeriods !== undefined && input.maxAgePeriods > 0
      ? input.maxAgePeriods
      : DEFAULT_MAX_AGE_PERIODS;
  const grid = typeof input.grid === "number" ? fixedTimeframeGrid(input.grid) : input.grid;
  const ageMs = Math.max(0, input.nowMs - grid.add(input.lastCandleMs, 1));
  return {
    verdict: ageMs > maxAgePeriods * grid.nominalMs ? "stale" : "fresh",
    ageSeconds: ageMs / 1000,
  };
}
