import { EngineInputError } from "./errors";

const UNIT_SECONDS: Record<string, number> = {
  s: 1,
  m: 60,
  h: 3_600,
  d: 86_400,
  w: 604_800,
  // ccxt's parse_timeframe: a month is 30 days, a year 365 days.
  M: 2_592_000,
  y: 31_536_000,
};

/** Timeframe length in seconds, with ccxt's `parse_timeframe` rules ("5m" → 300, "1M" → 30 days). */
export function timeframeToSeconds(timeframe: string): number {
  const match = /^([1-9][0-9]*)([smhdwMy])$/.exec(timeframe);
  const unit = match?.[2];
  const amount = match?.[1];
  const seconds = unit === undefined ? undefined : UNIT_SECONDS[unit];
  if (amount === undefined || seconds === undefined) {
    throw new EngineInputError({
      field: "timeframe",
      expected: 'a timeframe such as "1m", "5m", "1h", "1d"',
      found: JSON.stringify(timeframe),
    });
  }
  return Number(amount) * seconds;
}

export function timeframeToMinutes(timeframe: string): number {
  return timeframeToSeconds(timeframe) / 60;
}

export function timeframeToMilliseconds(timeframe: string): number {
  return timeframeToSeconds(timeframe) * 1000;
}

export function isValidTimeframe(timeframe: string): boolean {
  return /^([1-9][0-9]*)([smhdwMy])$/.test(timeframe);
}
