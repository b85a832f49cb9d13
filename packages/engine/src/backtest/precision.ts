/**
 * Exact decimal arithmetic and ccxt-style precision rounding, so amounts, prices and trade values
 * round exactly as Freqtrade's (which uses ccxt's `decimal_to_precision` and `Precise` on the
 * shortest decimal representation of each float).
 */

/** value = digits / 10^scale */
interface Decimal {
  readonly digits: bigint;
  readonly scale: number;
}

const TEN = 10n;

const POWERS: bigint[] = [];
for (let exponent = 0; exponent < 64; exponent++) POWERS.push(TEN ** BigInt(exponent));

function pow10(exponent: number): bigint {
  return POWERS[exponent] ?? TEN ** BigInt(exponent);
}

/** Parse the shortest decimal representation of a finite number (exponent notation included). */
export function toDecimal(value: number | string): Decimal {
  const text = typeof value === "number" ? String(value) : value;
  if (typeof value === "number" && Number.isInteger(value) && Math.abs(value) < 9e15) {
    return { digits: BigInt(value), scale: 0 };
  }
  if (text.indexOf("e") < 0 && text.indexOf("E") < 0) {
    // Plain decimal: digits without the point.
    const point = text.indexOf(".");
    if (point < 0) return { digits: BigInt(text), scale: 0 };
    return { digits: BigInt(text.slice(0, point) + text.slice(point + 1)), scale: text.length - point - 1 };
  }
  const match = /^(-?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text.trim());
  if (match === null) throw new RangeError(`expected a finite decimal number, got ${text}`);
  const sign = match[1] === "-" ? -1n : 1n;
  const integer = match[2] ?? "";
  const fraction = match[3] ?? "";
  const exponent = Number(match[4] ?? "0");
  let digits = BigInt(`${integer}${fraction}` === "" ? "0" : `${integer}${fraction}`);
  let scale = fraction.length - exponent;
  if (scale < 0) {
    digits *= pow10(-scale);
    scale = 0;
  }
  return { digits: sign * digits, scale };
}

function align(left: Decimal, right: Decimal): [bigint, bigint, number] {
  const scale = Math.max(left.scale, right.scale);
  return [left.digits * pow10(scale - left.scale), right.digits * pow10(scale - right.scale), scale];
}

export function decimalToNumber(value: Decimal): number {
  if (value.scale === 0) return Number(value.digits);
  // Exact when both the digits and the power of ten are exactly representable (then a single
  // correctly rounded division gives the nearest double, like parsing the decimal string).
  if (value.scale <= 22 && value.digits <= 9007199254740991n && value.digits >= -9007199254740991n) {
    return Number(value.digits) / 10 ** value.scale;
  }
  const negative = value.digits < 0n;
  const absolute = (negative ? -value.digits : value.digits).toString().padStart(value.scale + 1, "0");
  const text = `${absolute.slice(0, absolute.length - value.scale)}.${absolute.slice(absolute.length - value.scale)}`;
  return Number(negative ? `-${text}` : text);
}

export function decimalMul(left: Decimal, right: Decimal): Decimal {
  return { digits: left.digits * right.digits, scale: left.scale + right.scale };
}

export function decimalAdd(left: Decimal, right: Decimal): Decimal {
  const [a, b, scale] = align(left, right);
  return { digits: a + b, scale };
}

export function decimalSub(left: Decimal, right: Decimal): Decimal {
  const [a, b, scale] = align(left, right);
  return { digits: a - b, scale };
}

/** ccxt Precise.string_div: quotient truncated to `precision` (default 18) decimals. */
export function decimalDiv(left: Decimal, right: Decimal, precision = 18): Decimal {
  if (right.digits === 0n) throw new RangeError("division by zero");
  // left / right = (l / 10^ls) / (r / 10^rs) = l * 10^(rs - ls + precision) / r / 10^precision
  const shift = right.scale - left.scale + precision;
  const numerator = shift >= 0 ? left.digits * pow10(shift) : left.digits;
  const denominator = shift >= 0 ? right.digits : right.digits * pow10(-shift);
  return { digits: numerator / denominator, scale: precision };
}

/**
 * [digits, scale] of a finite number's shortest decimal form when digits fit a safe integer, else
 * null. Below 1e15 digits, the first `places` for which round(|value| × 10^places) / 10^places gives
 * the value back is the shortest form's (its digits are unique at that precision), found without
 * formatting the number; otherwise the decimal string decides.
 */
function smallDecimal(value: number): readonly [number, number] | null {
  const magnitude = Math.abs(value);
  if (magnitude < 1e15) {
    for (let places = 0; places <= 15; places++) {
      const power = POSITIVE_POWERS[places] as number;
      const digits = Math.round(magnitude * power);
      if (digits >= 1e15) break;
      if (digits / power === magnitude) return [value < 0 ? -digits : digits, places];
    }
  }
  const text = String(value);
  if (text.indexOf("e") >= 0) return null;
  const point = text.indexOf(".");
  const digits = point < 0 ? Number(text) : Number(text.slice(0, point) + text.slice(point + 1));
  if (!(Math.abs(digits) <= 9_007_199_254_740_991)) return null;
  return [digits, point < 0 ? 0 : text.length - point - 1];
}

/**
 * The exact decimal product of two floats' shortest forms rounded once (as
 * `decimalToNumber(decimalMul(toDecimal(left), toDecimal(right)))`), or null when it needs BigInt.
 */
export function smallExactProduct(left: number, right: number): number | null {
  const a = smallDecimal(left);
  const b = smallDecimal(right);
  if (a === null || b === null) return null;
  const digits = a[0] * b[0] + 0; // + 0: BigInt has no negative zero
  const scale = a[1] + b[1];
  if (!(Math.abs(digits) <= 9_007_199_254_740_991) || scale > 22) return null;
  return scale === 0 ? digits : digits / 10 ** scale;
}

/** Decimal places of a float's shortest form; null in exponent notation or beyond 2^53 digits. */
export function shortDecimalPlaces(value: number): number | null {
  return smallDecimal(value)?.[1] ?? null;
}

/**
 * amount × rate × (1 + sign × fee) with exact decimal arithmetic, rounded once (Freqtrade's FtPrecise
 * trade values): `sign` +1 adds the fee, −1 subtracts it. Uses safe-integer arithmetic when every
 * intermediate fits, BigInt otherwise.
 */
export function exactValueWithFee(amount: number, rate: number, fee: number, sign: 1 | -1): number {
  const a = smallDecimal(amount);
  const r = smallDecimal(rate);
  const f = smallDecimal(fee);
  if (a !== null && r !== null && f !== null) {
    const value = a[0] * r[0];
    const fees = value * f[0];
    const valueScaled = value * 10 ** f[1];
    const scale = a[1] + r[1] + f[1];
    if (
      Math.abs(fees) <= 9_007_199_254_740_991 &&
      Math.abs(valueScaled) <= 9_007_199_254_740_991 &&
      Math.abs(valueScaled) + Math.abs(fees) <= 9_007_199_254_740_991 &&
      scale <= 22
    ) {
      return (valueScaled + sign * fees) / 10 ** scale;
    }
  }
  const value = decimalMul(toDecimal(amount), toDecimal(rate));
  const fees = decimalMul(value, toDecimal(fee));
  return decimalToNumber(sign === 1 ? decimalAdd(value, fees) : decimalSub(value, fees));
}

/** Exact (decimal) product of two floats, rounded once to the nearest float. */
export function preciseMul(left: number, right: number): number {
  return decimalToNumber(decimalMul(toDecimal(left), toDecimal(right)));
}

/**
 * Round to 8 decimals like Python's float(f"{x:.8f}"). Fast path: x × 1e8 rounded is exact unless
 * the product sits next to a .5 boundary (or is huge), where the exact decimal path decides.
 */
export function round8(value: number): number {
  const scaled = value * 1e8;
  const floor = Math.floor(scaled);
  const fraction = scaled - floor;
  if (Math.abs(fraction - 0.5) > 1e-4 && Math.abs(scaled) < 4e15) {
    return (fraction > 0.5 ? floor + 1 : floor) / 1e8;
  }
  return Number(value.toFixed(8));
}

const NEGATIVE_POWERS = Array.from({ length: 21 }, (_, places) => 1 / 10 ** places);
const POSITIVE_POWERS = Array.from({ length: 21 }, (_, places) => 10 ** places);
let lastStep = Number.NaN;
let lastStepPlaces: number | null = null;

/** k when `step` is exactly 10^-k (k ≥ 0), else null. */
function powerOfTenPlaces(step: number): number | null {
  if (step === lastStep) return lastStepPlaces;
  const index = NEGATIVE_POWERS.indexOf(step);
  lastStep = step;
  lastStepPlaces = index < 0 ? null : index;
  return lastStepPlaces;
}

/**
 * Numeric fast path of `toPrecision` for a positive value and a grid of 1 / `power`, equal to the
 * text path: on the grid when the nearest double of round(value × power) / power is the value
 * itself; otherwise, unless the scaled value sits within 1e-6 of an integer or (for "round") of a
 * half, its floor is the kept digits of the shortest form. Below 1e9 the float error of the scaled
 * value (and its distance to the shortest form's) is under 3e-7. NaN when it cannot decide.
 */
function toGridFast(value: number, power: number, rounding: RoundingMode): number {
  const scaled = value * power;
  if (!(scaled < 1e9)) return Number.NaN;
  if (Math.round(scaled) / power === value) return value;
  const floor = Math.floor(scaled);
  const fraction = scaled - floor;
  if (!(fraction > 1e-6 && fraction < 1 - 1e-6 && Math.abs(fraction - 0.5) > 1e-6)) return Number.NaN;
  const up = rounding === "roundUp" || (rounding === "round" && fraction > 0.5);
  return (up ? floor + 1 : floor) / power;
}

/**
 * Freqtrade's `get_tick_size_over_time` (backtests since 2024.x): per calendar month, the largest
 * number of decimals any open/high/low/close shows when printed with 15 decimals ("{:.15f}" of the
 * value rounded to 14), as a tick size 10^-n. Returns month start (epoch ms) → tick.
 */
const tickCache = new WeakMap<Float64Array, Map<number, number>>();

/** `tickSizeOverTime` memoised per candle arrays (sweeps rerun the same candles; never mutate them). */
export function cachedTickSizeOverTime(
  date: Float64Array,
  columns: readonly Float64Array[],
): Map<number, number> {
  const key = columns[0] ?? date;
  let ticks = tickCache.get(key);
  if (ticks === undefined) {
    ticks = tickSizeOverTime(date, columns);
    tickCache.set(key, ticks);
  }
  return ticks;
}

export function tickSizeOverTime(date: Float64Array, columns: readonly Float64Array[]): Map<number, number> {
  const result = new Map<number, number>();
  let monthStart = Number.NaN;
  let monthEnd = Number.NaN;
  let best = 0;
  const flush = (): void => {
    // A month of whole numbers only gives no tick in Freqtrade (NaN → exchange precision).
    if (!Number.isNaN(monthStart) && best > 0) result.set(monthStart, 1 / 10 ** best);
  };
  for (let index = 0; index < date.length; index++) {
    const time = date[index] as number;
    if (!(time < monthEnd && time >= monthStart)) {
      flush();
      const day = new Date(time);
      monthStart = Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), 1);
      monthEnd = Date.UTC(day.getUTCFullYear(), day.getUTCMonth() + 1, 1);
      best = 0;
    }
    if (best >= 15) continue;
    const scale = 10 ** best;
    for (const column of columns) {
      const value = column[index] as number;
      // Fast reject: below 8 a double's error is under 0.5e-15, so a value that round-trips with
      // `best` decimals prints with at most `best` decimals at 15 places.
      if (value < 8 && value > -8 && Math.round(value * scale) / scale === value) continue;
      const text = value.toFixed(15);
      let end = text.length;
      while (end > 0 && text.charCodeAt(end - 1) === 48) end--;
      const point = text.indexOf(".");
      const count = end - 1 > point ? end - 1 - point : 0;
      if (count > best) best = count;
    }
  }
  flush();
  return result;
}

/** ccxt precision modes. */
export type PrecisionMode = "tickSize" | "decimalPlaces" | "significantDigits";

export type RoundingMode = "truncate" | "round" | "roundUp" | "roundDown";

function positiveMod(value: bigint, modulus: bigint): bigint {
  const remainder = value % modulus;
  return remainder < 0n ? remainder + modulus : remainder;
}

/**
 * Round `value` to a tick size (e.g. 0.01) or a number of decimal places, with ccxt's
 * `decimal_to_precision` semantics (truncate = toward zero, round = half away from zero) and
 * Freqtrade's ROUND_UP / ROUND_DOWN (toward +∞ / −∞) for stop prices.
 */
export function toPrecision(
  value: number,
  precision: number | null | undefined,
  mode: PrecisionMode,
  rounding: RoundingMode,
): number {
  if (precision === null || precision === undefined || !Number.isFinite(value)) return value;
  if (mode === "significantDigits") {
    const digits = Math.round(precision);
    if (value === 0) return 0;
    const magnitude = Math.floor(Math.log10(Math.abs(value)));
    return toPrecision(value, digits - 1 - magnitude, "decimalPlaces", rounding);
  }
  const places = mode === "tickSize" ? powerOfTenPlaces(precision) : Math.round(precision);
  if (places !== null && value > 0 && places >= 0 && places <= 15) {
    const result = toGridFast(value, POSITIVE_POWERS[places] as number, rounding);
    if (result === result) return result; // not NaN
  }
  if (places !== null) {
    // Fast paths on the shortest decimal representation (what ccxt rounds too), avoiding BigInt.
    const text = String(value);
    if (text.indexOf("e") < 0) {
      const point = text.indexOf(".");
      if ((point < 0 ? 0 : text.length - point - 1) <= places) return value; // already on the grid
      if (value > 0 && places <= 15) {
        const kept = text.slice(0, point + 1 + places);
        const integer = Number(kept.replace(".", ""));
        if (integer < 9_007_199_254_740_991) {
          // The removed digits are non-zero (the shortest form ends with a non-zero digit).
          const up =
            rounding === "roundUp" || (rounding === "round" && text.charCodeAt(point + 1 + places) >= 53); // "5"
          return (up ? integer + 1 : integer) / 10 ** places;
        }
      }
    }
  }
  const decimal = toDecimal(value);
  const step: Decimal =
    mode === "tickSize" ? toDecimal(precision) : { digits: 1n, scale: Math.round(precision) };
  if (step.digits <= 0n) return value;
  const [digits, stepDigits, scale] = align(decimal, step);
  const below = digits - positiveMod(digits, stepDigits); // floor to a multiple of the step
  let result: bigint;
  switch (rounding) {
    case "roundDown":
      result = below;
      break;
    case "roundUp":
      result = below === digits ? digits : below + stepDigits;
      break;
    case "truncate":
      result = digits >= 0n ? below : below === digits ? digits : below + stepDigits;
      break;
    case "round": {
      const remainder = digits - below;
      // half away from zero
      const twice = remainder * 2n;
      if (twice > stepDigits || (twice === stepDigits && digits >= 0n)) result = below + stepDigits;
      else result = below;
      break;
    }
  }
  return decimalToNumber({ digits: result, scale });
}
