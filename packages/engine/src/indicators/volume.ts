// Volume indicators: OBV. Same conventions as overlap.ts.

import { firstValid2, outputColumn, sameLength } from "./util.ts";

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
  let prevReal = real[b]!;
  for (let i = b; i < n; i++) {
    const v = real[i]!;
    if (v > prevReal) prevObv += volume[i]!;
    else if (v < prevReal) prevObv -= volume[i]!;
    out[i] = prevObv;
    prevReal = v;
  }
  return out;
}
