// Volume indicators: OBV. Same conventions as overlap.ts.

import { blockEnd, firstBlockEnd, firstValid2, outputColumn, sameLength } from "./util.ts";

/**
 * OBV, on-balance volume. TA-Lib `OBV(real, volume)` (Freqtrade: `ta.OBV(dataframe)`, i.e. close).
 * Starts at the first row's volume (not 0), then adds the volume on an up-close and subtracts it
 * on a down-close. Lookback 0, so the result depends on where the series starts.
 */
export function obv(real: Float64Array, volume: Float64Array): Float64Array {
  const n = sameLength("obv", ["real", "volume"], [real, volume]);
  const b = firstValid2(real, volume);
  const out = outputColumn(n, b);
  if (n === 0) return out;
  let prevObv = volume[b]!;
  // Row b compares with itself (no change), the next rows with the row before.
  out[b] = prevObv;
  for (let i = b + 1, to = firstBlockEnd(b + 1, n); i < n; i = to, to = blockEnd(to, n)) {
    prevObv = obvRows(real, volume, i, to, out, prevObv);
  }
  return out;
}

/** obv over rows [from, to), from >= 1 (see CHUNK_ROWS in util.ts); returns the last OBV. */
function obvRows(
  real: Float64Array,
  volume: Float64Array,
  from: number,
  to: number,
  out: Float64Array,
  prevObv: number,
): number {
  let prevReal = real[from - 1]!;
  for (let i = from; i < to; i++) {
    const v = real[i]!;
    if (v > prevReal) prevObv += volume[i]!;
    else if (v < prevReal) prevObv -= volume[i]!;
    out[i] = prevObv;
    prevReal = v;
  }
  return prevObv;
}
