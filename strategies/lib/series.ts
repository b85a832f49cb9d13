/**
 * Small column helpers shared by the sample strategies (a local import: it is bundled with each
 * strategy and part of its version hash).
 */

/** Freqtrade's `series.shift(periods)`: value from `periods` rows earlier (NaN where there is none). */
export function shift(values: Float64Array, periods: number): Float64Array {
  const result = new Float64Array(values.length).fill(Number.NaN);
  for (let index = 0; index < values.length; index++) {
    const source = index - periods;
    if (source >= 0 && source < values.length) result[index] = values[source] as number;
  }
  return result;
}

/** Element-wise (a - b) / c, NaN where c is 0. */
export function ratio(a: Float64Array, b: Float64Array, c: Float64Array): Float64Array {
  const result = new Float64Array(a.length);
  for (let index = 0; index < a.length; index++) {
    const denominator = c[index] as number;
    result[index] =
      denominator === 0 ? Number.NaN : ((a[index] as number) - (b[index] as number)) / denominator;
  }
  return result;
}
