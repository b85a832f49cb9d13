import { invalidArgument } from "./errors";

const UNIT_MILLISECONDS: Record<string, number> = {
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
  // ccxt's parseTimeframe: a month is 30 days and a year 365 days.
  M: 2_592_000_000,
  y: 31_536_000_000,
};

const TIMEFRAME_PATTERN = /^([1-9][0-9]{0,3})([smhdwMy])$/;

/**
 * Length of a ccxt timeframe ("1m", "15m", "4h", "1d", "1w", "1M") in milliseconds.
 * Throws an invalid-argument error naming `field` for anything else.
 */
export function parseTimeframe(timeframe: string, field = "timeframe"): number {
  const match = TIMEFRAME_PATTERN.exec(timeframe);
  const unit = match?.[2];
  const amount = match?.[1];
  if (match === null || unit === undefined || amount === undefined) {
    throw invalidArgument(
      field,
      `expected a ccxt timeframe such as "1m", "5m", "1h" or "1d", got ${JSON.stringify(timeframe)}`,
    );
  }
  return Number(amount) * (UNIT_MILLISECONDS[unit] ?? 0);
}

/**
 * The candle grid of a timeframe: where candles open. Second-to-day timeframes tile the epoch;
 * weeks open on Monday 00:00 UTC and months on the 1st 00:00 UTC (Binance's and ccxt's klines), so
 * "next candle" is calendar arithmetic there, not a fixed step.
 */
export interface TimeframeGrid {
  readonly timeframe: string;
  /** Nominal length (ccxt's parseTimeframe: a month is 30 days). */
  readonly nominalMs: number;
  /** Open time of the candle containing `timestampMs`. */
  floor(timestampMs: number): number;
  /** The first open time at or after `timestampMs`. */
  ceil(timestampMs: number): number;
  /** Open time `steps` candles after (negative: before) the grid point `openMs`. */
  add(openMs: number, steps: number): number;
  /** Candle steps from grid point `fromMs` to grid point `toMs`. */
  stepsBetween(fromMs: number, toMs: number): number;
  contains(timestampMs: number): boolean;
}

// 1970-01-01 was a Thursday; Monday 1970-01-05 anchors weekly candles.
const MONDAY_ANCHOR_MS = 4 * 86_400_000;

function fixedGrid(timeframe: string, stepMs: number, anchorMs: number): TimeframeGrid {
  const floor = (timestampMs: number): number =>
    anchorMs + Math.floor((timestampMs - anchorMs) / stepMs) * stepMs;
  return {
    timeframe,
    nominalMs: stepMs,
    floor,
    ceil: (timestampMs) => anchorMs + Math.ceil((timestampMs - anchorMs) / stepMs) * stepMs,
    add: (openMs, steps) => openMs + steps * stepMs,
    stepsBetween: (fromMs, toMs) => Math.round((toMs - fromMs) / stepMs),
    contains: (timestampMs) => floor(timestampMs) === timestampMs,
  };
}

function monthIndex(timestampMs: number): number {
  const date = new Date(timestampMs);
  return (date.getUTCFullYear() - 1970) * 12 + date.getUTCMonth();
}

function monthStart(index: number): number {
  return Date.UTC(1970 + Math.floor(index / 12), ((index % 12) + 12) % 12, 1);
}

function calendarGrid(timeframe: string, months: number, nominalMs: number): TimeframeGrid {
  const floor = (timestampMs: number): number => {
    const index = monthIndex(timestampMs);
    return monthStart(index - (((index % months) + months) % months));
  };
  return {
    timeframe,
    nominalMs,
    floor,
    ceil: (timestampMs) => {
      const down = floor(timestampMs);
      return down === timestampMs ? down : monthStart(monthIndex(down) + months);
    },
    add: (openMs, steps) => monthStart(monthIndex(openMs) + steps * months),
    stepsBetween: (fromMs, toMs) => Math.round((monthIndex(toMs) - monthIndex(fromMs)) / months),
    contains: (timestampMs) => floor(timestampMs) === timestampMs,
  };
}

/** A grid with a fixed step from the epoch (tests, or timeframes known only by length). */
export function fixedTimeframeGrid(stepMs: number): TimeframeGrid {
  return fixedGrid(`${stepMs}ms`, stepMs, 0);
}

/** The grid of a ccxt timeframe; throws an invalid-argument error naming `field` for bad input. */
export function timeframeGrid(timeframe: string, field = "timeframe"): TimeframeGrid {
  const nominalMs = parseTimeframe(timeframe, field);
  const amount = Number(timeframe.slice(0, -1));
  switch (timeframe.slice(-1)) {
    case "M":
      return calendarGrid(timeframe, amount, nominalMs);
    case "y":
      return calendarGrid(timeframe, amount * 12, nominalMs);
    case "w":
      return fixedGrid(timeframe, nominalMs, MONDAY_ANCHOR_MS);
    default:
      return fixedGrid(timeframe, nominalMs, 0);
  }
}
