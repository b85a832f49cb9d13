// Freqtrade's --timerange syntax: "YYYYMMDD-YYYYMMDD", "YYYYMMDD-" (open end), "-YYYYMMDD" (open
// start); dates are UTC midnights and the end is exclusive, as in Freqtrade.
export interface Timerange {
  /** Epoch ms (inclusive); undefined for an open start. */
  startMs?: number;
  /** Epoch ms (exclusive); undefined for an open end. */
  endMs?: number;
}

const DATE = /^(\d{4})(\d{2})(\d{2})$/;

function parseDate(text: string): number | undefined {
  const match = DATE.exec(text);
  if (!match) return undefined;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const ms = Date.UTC(year, month - 1, day);
  const back = new Date(ms);
  return back.getUTCFullYear() === year && back.getUTCMonth() === month - 1 && back.getUTCDate() === day
    ? ms
    : undefined;
}

/** Parses a timerange; returns an error text ("expected …, got …") instead of throwing. */
export function parseTimerange(text: string): { range?: Timerange; error?: string } {
  const expected = 'expected "YYYYMMDD-YYYYMMDD", "YYYYMMDD-" or "-YYYYMMDD"';
  const parts = text.split("-");
  if (parts.length !== 2) return { error: `${expected}, got "${text}"` };
  const [startText = "", endText = ""] = parts;
  if (startText === "" && endText === "") return { error: `${expected}, got an empty range "${text}"` };
  const startMs = startText === "" ? undefined : parseDate(startText);
  const endMs = endText === "" ? undefined : parseDate(endText);
  if ((startText !== "" && startMs === undefined) || (endText !== "" && endMs === undefined)) {
    return { error: `${expected} with real calendar dates, got "${text}"` };
  }
  if (startMs !== undefined && endMs !== undefined && endMs <= startMs) {
    return { error: `expected the start before the end, got "${text}" (empty or inverted range)` };
  }
  return {
    range: { ...(startMs === undefined ? {} : { startMs }), ...(endMs === undefined ? {} : { endMs }) },
  };
}
