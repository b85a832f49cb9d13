// Hand-computed cases, edge cases and parameter errors. The comparison with TA-Lib itself on real
// candles is packages/engine/test/indicators.test.ts.

import { describe, expect, it } from "vitest";
import * as ind from "./index.ts";
import { IndicatorInputError, IndicatorParamError } from "./index.ts";

const f = (xs: number[]): Float64Array => Float64Array.from(xs);
const N = Number.NaN;

/** Element-wise equality to `digits` decimals, NaN only where NaN is expected. */
function expectClose(got: Float64Array, want: number[], digits = 12): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!;
    const g = got[i]!;
    if (Number.isNaN(w)) expect(g, `row ${i}`).toBeNaN();
    else expect(g, `row ${i}`).toBeCloseTo(w, digits);
  }
}

function nanCount(a: Float64Array): number {
  let c = 0;
  for (const v of a) if (Number.isNaN(v)) c++;
  return c;
}

function leadingNaN(a: Float64Array): number {
  let i = 0;
  while (i < a.length && Number.isNaN(a[i]!)) i++;
  return i;
}

/** A deterministic random walk of candles. */
function candles(
  n: number,
  seed = 7,
): { high: Float64Array; low: Float64Array; close: Float64Array; volume: Float64Array } {
  let s = seed;
  const rnd = (): number => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
  const close = new Float64Array(n);
  const high = new Float64Array(n);
  const low = new Float64Array(n);
  const volume = new Float64Array(n);
  let x = 100;
  for (let i = 0; i < n; i++) {
    x *= 1 + (rnd() - 0.5) * 0.02;
    close[i] = x;
    high[i] = x * (1 + rnd() * 0.01);
    low[i] = x * (1 - rnd() * 0.01);
    volume[i] = 1 + rnd() * 100;
  }
  return { high, low, close, volume };
}

describe("hand-computed values", () => {
  it("sma", () => {
    expectClose(ind.sma(f([1, 2, 3, 4, 5]), 3), [N, N, 2, 3, 4]);
  });

  it("ema is seeded with the SMA of the first period, then k = 2/(p+1)", () => {
    // k = 0.5; seed mean(1,2,3) = 2; then (4-2)/2+2 = 3, (5-3)/2+3 = 4, (6-4)/2+4 = 5.
    expectClose(ind.ema(f([1, 2, 3, 4, 5, 6]), 3), [N, N, 2, 3, 4, 5]);
  });

  it("wma weights 1..p, newest heaviest", () => {
    expectClose(ind.wma(f([1, 2, 3, 4]), 3), [N, N, 14 / 6, 20 / 6]);
  });

  it("dema and tema follow a straight line exactly once warmed up", () => {
    const x = f([1, 2, 3, 4, 5, 6, 7, 8]);
    expectClose(ind.dema(x, 2), [N, N, 3, 4, 5, 6, 7, 8]);
    expectClose(ind.tema(x, 2), [N, N, N, 4, 5, 6, 7, 8]);
  });

  it("rsi uses Wilder's smoothing after a plain-mean seed", () => {
    // changes +1 +1 -1 -1 +1; seed gain 1 loss 0 -> 100; then (g,l) = (.5,.5) (.25,.75) (.625,.375)
    expectClose(ind.rsi(f([1, 2, 3, 2, 1, 2]), 2), [N, N, 100, 50, 25, 62.5]);
  });

  it("rsi is 0 on a flat series (TA-Lib: gain + loss = 0)", () => {
    expectClose(ind.rsi(f([5, 5, 5, 5, 5]), 2), [N, N, 0, 0, 0]);
  });

  it("macd: lookback slow-1 + signal-1, hist = macd - signal, fast/slow swapped when reversed", () => {
    const { close } = candles(200);
    const r = ind.macd(close);
    expect(leadingNaN(r.macd)).toBe(25 + 8);
    expect(leadingNaN(r.signal)).toBe(33);
    expect(leadingNaN(r.hist)).toBe(33);
    for (let i = 33; i < 200; i++) expect(r.hist[i]).toBe(r.macd[i]! - r.signal[i]!);
    const swapped = ind.macd(close, { fastPeriod: 26, slowPeriod: 12 });
    expect(Array.from(swapped.macd)).toEqual(Array.from(r.macd));
  });

  it("macd seeds the fast EMA where the slow one starts (TA-Lib), not at fastPeriod-1", () => {
    const x = f([1, 5, 2, 8, 3, 9, 4]);
    const r = ind.macd(x, { fastPeriod: 2, slowPeriod: 4, signalPeriod: 1 });
    // slow seed at row 3: mean(1,5,2,8) = 4; fast seed at row 3: mean(2,8) = 5 -> macd 1
    expect(r.macd[3]).toBeCloseTo(1, 12);
    expect(r.signal[3]).toBeCloseTo(1, 12); // signal period 1 = the line itself
    // row 4: slow = (3-4)*0.4+4 = 3.6, fast = (3-5)*(2/3)+5 = 11/3
    expect(r.macd[4]).toBeCloseTo(11 / 3 - 3.6, 12);
  });

  it("bbands: SMA middle and population standard deviation", () => {
    const r = ind.bbands(f([1, 2, 3, 4, 5]), { timePeriod: 5, nbDevUp: 1, nbDevDn: 2 });
    expectClose(r.middle, [N, N, N, N, 3]);
    expectClose(r.upper, [N, N, N, N, 3 + Math.SQRT2]);
    expectClose(r.lower, [N, N, N, N, 3 - 2 * Math.SQRT2]);
    const flat = ind.bbands(f([7, 7, 7, 7, 7, 7]), { timePeriod: 3 });
    expectClose(flat.upper, [N, N, 7, 7, 7, 7]);
    expectClose(flat.lower, [N, N, 7, 7, 7, 7]);
  });

  it("trange, atr, natr", () => {
    const high = f([10, 11, 12, 12]);
    const low = f([9, 9, 10, 8]);
    const close = f([9.5, 10, 11, 9]);
    // TR: row1 max(2, 1.5, 0.5) = 2; row2 max(2, 2, 0) = 2; row3 max(4, 1, 3) = 4
    expectClose(ind.trange(high, low, close), [N, 2, 2, 4]);
    expectClose(ind.atr(high, low, close, 2), [N, N, 2, 3]);
    expectClose(ind.atr(high, low, close, 1), [N, 2, 2, 4]);
    expectClose(ind.natr(high, low, close, 2), [N, N, (2 / 11) * 100, (3 / 9) * 100]);
    // TA-Lib quirk: NATR with timePeriod 1 is the plain true range.
    expectClose(ind.natr(high, low, close, 1), [N, 2, 2, 4]);
  });

  it("plus/minus DI and ADX on a steady uptrend", () => {
    const n = 40;
    const high = new Float64Array(n);
    const low = new Float64Array(n);
    const close = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      high[i] = 10 + i + 1;
      low[i] = 10 + i;
      close[i] = 10 + i + 0.5;
    }
    const pdi = ind.plusDi(high, low, close, 5);
    const mdi = ind.minusDi(high, low, close, 5);
    const a = ind.adx(high, low, close, 5);
    expect(leadingNaN(pdi)).toBe(5);
    expect(leadingNaN(a)).toBe(9);
    // +DM1 = 1, TR1 = 1.5 every bar: +DI = 100 / 1.5, -DI = 0, DX = 100, ADX = 100.
    for (let i = 5; i < n; i++) {
      expect(pdi[i]).toBeCloseTo(100 / 1.5, 10);
      expect(mdi[i]).toBe(0);
    }
    for (let i = 9; i < n; i++) expect(a[i]).toBeCloseTo(100, 10);
    // TA-Lib's period-1 branch returns DM1/TR1 without the x100.
    expectClose(ind.plusDi(high, low, close, 1).subarray(0, 3), [N, 1 / 1.5, 1 / 1.5]);
  });

  it("stochf and stoch", () => {
    const high = f([10, 12, 11, 13, 12]);
    const low = f([8, 9, 9, 10, 10]);
    const close = f([9, 11, 10, 12, 11]);
    // fastK(3): row2 (10-8)/(12-8) = 50, row3 (12-9)/(13-9) = 75, row4 (11-9)/(13-9) = 50
    const sf = ind.stochf(high, low, close, { fastKPeriod: 3, fastDPeriod: 1 });
    expectClose(sf.fastK, [N, N, 50, 75, 50]);
    expectClose(sf.fastD, [N, N, 50, 75, 50]);
    const sf2 = ind.stochf(high, low, close, { fastKPeriod: 3, fastDPeriod: 2 });
    expectClose(sf2.fastK, [N, N, N, 75, 50]); // NaN until fastD starts, as TA-Lib
    expectClose(sf2.fastD, [N, N, N, 62.5, 62.5]);
    const s = ind.stoch(high, low, close, { fastKPeriod: 3, slowKPeriod: 2, slowDPeriod: 2 });
    expectClose(s.slowK, [N, N, N, N, 62.5]);
    expectClose(s.slowD, [N, N, N, N, 62.5]);
    // A zero range gives 0, as TA-Lib.
    expectClose(
      ind.stochf(f([5, 5, 5]), f([5, 5, 5]), f([5, 5, 5]), { fastKPeriod: 2, fastDPeriod: 1 }).fastK,
      [N, 0, 0],
    );
  });

  it("willr", () => {
    const high = f([10, 12, 11]);
    const low = f([8, 9, 9]);
    expectClose(ind.willr(high, low, f([9, 12, 9]), 2), [N, 0, -100]);
    expectClose(ind.willr(f([5, 5]), f([5, 5]), f([5, 5]), 2), [N, 0]);
  });

  it("mfi", () => {
    const up = f([1, 2, 3, 4, 5]);
    const vol = f([10, 10, 10, 10, 10]);
    expectClose(ind.mfi(up, up, up, vol, 2), [N, N, 100, 100, 100]);
    const zig = f([1, 2, 1, 2, 1]);
    // flows: +20, -10, +20, -10 -> row2 20/30, row3 20/30, row4 20/30
    expectClose(ind.mfi(zig, zig, zig, vol, 2), [N, N, 200 / 3, 200 / 3, 200 / 3]);
    // Total flow below 1 gives 0 (TA-Lib's threshold).
    expectClose(ind.mfi(up, up, up, f([0.01, 0.01, 0.01, 0.01, 0.01]), 2), [N, N, 0, 0, 0]);
  });

  it("sar on a steady uptrend stays below the lows and accelerates", () => {
    const n = 12;
    const high = new Float64Array(n);
    const low = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      high[i] = 10 + i + 1;
      low[i] = 10 + i;
    }
    const s = ind.sar(high, low);
    expect(leadingNaN(s)).toBe(1);
    expect(s[1]).toBe(10); // first bar's low
    // row 2: ep = 12 (bar 1 high) was set at start, af 0.02 -> 10 + 0.02*(12-10) = 10.04
    expect(s[2]).toBeCloseTo(10.04, 12);
    for (let i = 2; i < n; i++) {
      expect(s[i]!).toBeGreaterThan(s[i - 1]!);
      expect(s[i]!).toBeLessThanOrEqual(low[i]!);
    }
  });

  it("sar lowers an acceleration above the maximum to the maximum", () => {
    const { high, low } = candles(100);
    const a = ind.sar(high, low, { acceleration: 0.5, maximum: 0.2 });
    const b = ind.sar(high, low, { acceleration: 0.2, maximum: 0.2 });
    expect(Array.from(a)).toEqual(Array.from(b));
  });

  it("cci", () => {
    const h = f([1, 2, 3]);
    // tp = 1, 2, 3; mean 2; mean dev 2/3; (3 - 2) / (0.015 * 2/3) = 100
    expectClose(ind.cci(h, h, h, 3), [N, N, 100]);
    expectClose(ind.cci(f([4, 4, 4]), f([4, 4, 4]), f([4, 4, 4]), 3), [N, N, 0]);
  });

  it("obv starts at the first volume", () => {
    expectClose(ind.obv(f([1, 2, 2, 1]), f([10, 20, 30, 40])), [10, 30, 30, -10]);
  });

  it("roc and mom", () => {
    expectClose(ind.roc(f([10, 11, 0, 12]), 1), [N, 10, -100, 0]); // 0 previous value -> 0
    expectClose(ind.mom(f([10, 11, 9, 12]), 2), [N, N, -1, 1]);
  });

  it("htSine: lookback 63, sine and lead sine within [-1, 1]", () => {
    const n = 300;
    const x = new Float64Array(n);
    for (let i = 0; i < n; i++) x[i] = 100 + 10 * Math.sin((2 * Math.PI * i) / 20);
    const r = ind.htSine(x);
    expect(leadingNaN(r.sine)).toBe(63);
    expect(leadingNaN(r.leadSine)).toBe(63);
    for (let i = 63; i < n; i++) {
      expect(Math.abs(r.sine[i]!)).toBeLessThanOrEqual(1);
      expect(Math.abs(r.leadSine[i]!)).toBeLessThanOrEqual(1);
    }
  });

  it("typicalPrice and qtpylib bollingerBands (min_periods=1, sample std)", () => {
    expectClose(ind.typicalPrice(f([3, 6]), f([0, 3]), f([3, 3])), [2, 4]);
    const r = ind.bollingerBands(f([1, 2, 3, 5]), 2, 2);
    const s = Math.SQRT1_2; // sample std of two values 1 apart
    expectClose(r.mid, [1, 1.5, 2.5, 4]);
    expectClose(r.upper, [N, 1.5 + 2 * s, 2.5 + 2 * s, 4 + 2 * Math.SQRT2]);
    expectClose(r.lower, [N, 1.5 - 2 * s, 2.5 - 2 * s, 4 - 2 * Math.SQRT2]);
    // A window of equal values has a std of exactly 0 and a mean equal to that value.
    const flat = ind.bollingerBands(f([1.1, 1.1, 1.1, 1.1]), 3, 2);
    expect(Array.from(flat.upper.subarray(1))).toEqual([1.1, 1.1, 1.1]);
    // NaN inputs are skipped inside the window (pandas).
    expectClose(ind.bollingerBands(f([1, N, 3]), 3, 1).mid, [1, 1, 2]);
  });

  it("crossedAbove / crossedBelow (qtpylib semantics)", () => {
    const a = f([1, 2, 3, 2, 1, 2]);
    expect(Array.from(ind.crossedAbove(a, 2))).toEqual([0, 0, 1, 0, 0, 0]);
    expect(Array.from(ind.crossedBelow(a, 2))).toEqual([0, 0, 0, 0, 1, 0]);
    const b = f([2, 2, 2, 2, 2, 1]);
    expect(Array.from(ind.crossedAbove(a, b))).toEqual([0, 0, 1, 0, 0, 1]);
    // Touching (equal) then moving above counts; NaN on either side never crosses.
    expect(Array.from(ind.crossedAbove(f([1, 2, 3]), f([1, 2, 2])))).toEqual([0, 0, 1]);
    expect(Array.from(ind.crossedAbove(f([N, 3, N, 3]), 2))).toEqual([0, 0, 0, 0]);
    expect(ind.crossedAbove(a, 2)).toBeInstanceOf(Uint8Array);
  });
});

describe("row blocks", () => {
  // The loops run block by block (256 rows, then 4096: util.ts CHUNK_ROWS) with their running state
  // carried from block to block; on 10,000 rows the recurrences must equal one uninterrupted loop.
  const n = 10_000;
  const x = Float64Array.from({ length: n }, (_, i) => 100 + 10 * Math.sin(i / 37) + (i % 7) * 0.25);

  it("ema and sma over several blocks equal a plain loop, bit for bit", () => {
    const p = 20;
    const k = 2 / (p + 1);
    let sum = 0;
    for (let i = 0; i < p; i++) sum += x[i]!;
    let prev = sum / p;
    const emaWant = new Float64Array(n).fill(N);
    emaWant[p - 1] = prev;
    for (let i = p; i < n; i++) {
      prev = (x[i]! - prev) * k + prev;
      emaWant[i] = prev;
    }
    expect(Array.from(ind.ema(x, p))).toEqual(Array.from(emaWant));
    let total = 0;
    const smaWant = new Float64Array(n).fill(N);
    for (let i = 0; i < n; i++) {
      total += x[i]!;
      if (i >= p - 1) {
        smaWant[i] = total / p;
        total -= x[i - p + 1]!;
      }
    }
    expect(Array.from(ind.sma(x, p))).toEqual(Array.from(smaWant));
  });

  it("crossedAbove over several blocks sees the crosses on block edges", () => {
    // A cross at every row i with i % 4 === 0 (rows 256 and 4352, the block starts, included).
    const a = Float64Array.from({ length: n }, (_, i) => (i % 4 === 0 ? 2 : 0));
    const crosses: number[] = [];
    for (let i = 4; i < n; i += 4) crosses.push(i);
    expect(Array.from(ind.indicesWhere(ind.crossedAbove(a, 1)))).toEqual(crosses);
    const drops: number[] = [];
    for (let i = 1; i < n; i += 4) drops.push(i);
    expect(Array.from(ind.indicesWhere(ind.crossedBelow(a, 1)))).toEqual(drops);
  });
});

describe("indicesWhere", () => {
  it("lists the non-zero rows in order (numpy's flatnonzero)", () => {
    expect(Array.from(ind.indicesWhere(Uint8Array.from([0, 1, 0, 0, 1, 1, 0])))).toEqual([1, 4, 5]);
    expect(Array.from(ind.indicesWhere(Uint8Array.from([2, 0, 255])))).toEqual([0, 2]);
    expect(Array.from(ind.indicesWhere(new Uint8Array(0)))).toEqual([]);
    expect(Array.from(ind.indicesWhere(new Uint8Array(5000)))).toEqual([]);
    expect(ind.indicesWhere(Uint8Array.from([1]))).toBeInstanceOf(Int32Array);
  });

  it("finds rows past the first blocks", () => {
    const mask = new Uint8Array(9000);
    for (const i of [0, 255, 256, 4351, 4352, 8999]) mask[i] = 1;
    expect(Array.from(ind.indicesWhere(mask))).toEqual([0, 255, 256, 4351, 4352, 8999]);
  });
});

describe("edge cases", () => {
  const { high, low, close, volume } = candles(300);

  /** Every indicator with its (first) output, called on columns of the given length. */
  function all(len: number): [string, Float64Array[]][] {
    const h = high.subarray(0, len);
    const l = low.subarray(0, len);
    const c = close.subarray(0, len);
    const v = volume.subarray(0, len);
    const m = ind.macd(c);
    const bb = ind.bbands(c);
    const st = ind.stoch(h, l, c);
    const sf = ind.stochf(h, l, c);
    const hs = ind.htSine(c);
    return [
      ["sma", [ind.sma(c)]],
      ["ema", [ind.ema(c)]],
      ["wma", [ind.wma(c)]],
      ["dema", [ind.dema(c)]],
      ["tema", [ind.tema(c)]],
      ["rsi", [ind.rsi(c)]],
      ["macd", [m.macd, m.signal, m.hist]],
      ["bbands", [bb.upper, bb.middle, bb.lower]],
      ["atr", [ind.atr(h, l, c)]],
      ["natr", [ind.natr(h, l, c)]],
      ["trange", [ind.trange(h, l, c)]],
      ["adx", [ind.adx(h, l, c)]],
      ["plusDi", [ind.plusDi(h, l, c)]],
      ["minusDi", [ind.minusDi(h, l, c)]],
      ["stoch", [st.slowK, st.slowD]],
      ["stochf", [sf.fastK, sf.fastD]],
      ["mfi", [ind.mfi(h, l, c, v)]],
      ["sar", [ind.sar(h, l)]],
      ["cci", [ind.cci(h, l, c)]],
      ["roc", [ind.roc(c)]],
      ["mom", [ind.mom(c)]],
      ["willr", [ind.willr(h, l, c)]],
      ["htSine", [hs.sine, hs.leadSine]],
    ];
  }

  // TA-Lib lookbacks with default parameters.
  const LOOKBACK: Record<string, number> = {
    sma: 29,
    ema: 29,
    wma: 29,
    dema: 58,
    tema: 87,
    rsi: 14,
    macd: 33,
    bbands: 4,
    atr: 14,
    natr: 14,
    trange: 1,
    adx: 27,
    plusDi: 14,
    minusDi: 14,
    stoch: 8,
    stochf: 6,
    mfi: 14,
    sar: 1,
    cci: 13,
    roc: 10,
    mom: 10,
    willr: 13,
    htSine: 63,
  };

  it("NaN prefix is exactly the TA-Lib lookback, and there are no other NaN", () => {
    for (const [name, outs] of all(300)) {
      for (const o of outs) {
        expect(o.length, name).toBe(300);
        expect(leadingNaN(o), name).toBe(LOOKBACK[name]);
        expect(nanCount(o), name).toBe(LOOKBACK[name]);
      }
    }
  });

  it("input no longer than the lookback gives all NaN", () => {
    for (const [name, outs] of all(300)) {
      const lb = LOOKBACK[name]!;
      const short = all(lb).find(([n]) => n === name)![1];
      for (const o of short) {
        expect(o.length, name).toBe(lb);
        expect(nanCount(o), name).toBe(lb);
      }
      expect(outs.length).toBeGreaterThan(0);
    }
    // Exactly lookback + 1 rows gives exactly one value.
    for (const [name] of all(300)) {
      const lb = LOOKBACK[name]!;
      for (const o of all(lb + 1).find(([n]) => n === name)![1]) expect(nanCount(o), name).toBe(lb);
    }
  });

  it("empty input gives empty output", () => {
    for (const [name, outs] of all(0)) for (const o of outs) expect(o.length, name).toBe(0);
    expect(ind.obv(new Float64Array(0), new Float64Array(0)).length).toBe(0);
    expect(ind.typicalPrice(new Float64Array(0), new Float64Array(0), new Float64Array(0)).length).toBe(0);
    expect(ind.bollingerBands(new Float64Array(0)).mid.length).toBe(0);
    expect(ind.crossedAbove(new Float64Array(0), 1).length).toBe(0);
    const e = new Float64Array(0);
    // Period 1 moving averages copy their input (TA_MA's special case), here nothing.
    const fast1 = ind.stochf(e, e, e, { fastKPeriod: 1, fastDPeriod: 1 });
    expect([fast1.fastK.length, fast1.fastD.length]).toEqual([0, 0]);
    const slow1 = ind.stoch(e, e, e, { fastKPeriod: 1, slowKPeriod: 1, slowDPeriod: 1 });
    expect([slow1.slowK.length, slow1.slowD.length]).toEqual([0, 0]);
  });

  it("inputs are not modified and outputs are new arrays", () => {
    const c = Float64Array.from(close);
    const out = ind.sma(c, 2);
    expect(out).not.toBe(c);
    expect(Array.from(c)).toEqual(Array.from(close));
    ind.bbands(c);
    ind.stoch(high, low, c);
    expect(Array.from(c)).toEqual(Array.from(close));
  });

  it("leading NaNs are skipped like TA-Lib's Python wrapper (chaining indicators)", () => {
    const r = ind.rsi(close, 14); // 14 leading NaN
    const chained = ind.sma(r, 5);
    expect(leadingNaN(chained)).toBe(14 + 4);
    const direct = ind.sma(r.subarray(14), 5);
    expect(Array.from(chained.subarray(14))).toEqual(Array.from(direct));
    // multi-input: the first row where every input is valid starts the computation
    const h = Float64Array.from(high);
    h[0] = N;
    h[1] = N;
    expect(leadingNaN(ind.atr(h, low, close, 14))).toBe(2 + 14);
  });

  it("a NaN inside the series follows TA-Lib's arithmetic", () => {
    const c = Float64Array.from(close);
    c[100] = N;
    // Running sums / recursive averages never recover.
    const s = ind.sma(c, 5);
    expect(s[99]).not.toBeNaN();
    for (let i = 100; i < 300; i++) expect(s[i]).toBeNaN();
    const e = ind.ema(c, 5);
    for (let i = 100; i < 300; i++) expect(e[i]).toBeNaN();
    // RSI: TA-Lib >= 0.7 treats the NaN average as zero and outputs 0 from the NaN on.
    const r = ind.rsi(c, 14);
    expect(r[99]).not.toBeNaN();
    for (let i = 100; i < 300; i++) expect(r[i]).toBe(0);
    // Window indicators without running state recover once the NaN leaves the window.
    const m = ind.mom(c, 3);
    expect(m[100]).toBeNaN();
    expect(m[103]).toBeNaN();
    expect(m[104]).not.toBeNaN();
  });

  it("all-NaN input gives all NaN", () => {
    const x = new Float64Array(50).fill(N);
    expect(nanCount(ind.sma(x, 5))).toBe(50);
    expect(nanCount(ind.rsi(x, 5))).toBe(50);
    expect(nanCount(ind.atr(x, x, x, 5))).toBe(50);
  });
});

describe("parameter errors", () => {
  const x = f([1, 2, 3, 4, 5]);

  function expectParamError(fn: () => unknown, indicator: string, param: string, got: string): void {
    let err: unknown;
    try {
      fn();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(IndicatorParamError);
    const e = err as IndicatorParamError;
    expect(e.indicator).toBe(indicator);
    expect(e.param).toBe(param);
    expect(e.message).toContain(`${indicator}: ${param}: expected`);
    expect(e.message).toContain(`got ${got}`);
  }

  it("a period below TA-Lib's minimum names the parameter, the expected range and the value", () => {
    expectParamError(() => ind.sma(x, 1), "sma", "timePeriod", "1");
    expect(() => ind.sma(x, 1)).toThrow("sma: timePeriod: expected an integer in [2, 100000], got 1");
    expectParamError(() => ind.ema(x, 0), "ema", "timePeriod", "0");
    expectParamError(() => ind.wma(x, -3), "wma", "timePeriod", "-3");
    expectParamError(() => ind.dema(x, 1), "dema", "timePeriod", "1");
    expectParamError(() => ind.tema(x, 1), "tema", "timePeriod", "1");
    expectParamError(() => ind.rsi(x, 1), "rsi", "timePeriod", "1");
    expectParamError(() => ind.macd(x, { fastPeriod: 1 }), "macd", "fastPeriod", "1");
    expectParamError(() => ind.macd(x, { slowPeriod: 1 }), "macd", "slowPeriod", "1");
    expectParamError(() => ind.macd(x, { signalPeriod: 0 }), "macd", "signalPeriod", "0");
    expectParamError(() => ind.bbands(x, { timePeriod: 1 }), "bbands", "timePeriod", "1");
    expectParamError(() => ind.adx(x, x, x, 1), "adx", "timePeriod", "1");
    expectParamError(() => ind.mfi(x, x, x, x, 1), "mfi", "timePeriod", "1");
    expectParamError(() => ind.cci(x, x, x, 1), "cci", "timePeriod", "1");
    expectParamError(() => ind.willr(x, x, x, 1), "willr", "timePeriod", "1");
    // Where TA-Lib accepts 1, 0 is the error.
    expectParamError(() => ind.atr(x, x, x, 0), "atr", "timePeriod", "0");
    expectParamError(() => ind.natr(x, x, x, 0), "natr", "timePeriod", "0");
    expectParamError(() => ind.plusDi(x, x, x, 0), "plusDi", "timePeriod", "0");
    expectParamError(() => ind.minusDi(x, x, x, 0), "minusDi", "timePeriod", "0");
    expectParamError(() => ind.roc(x, 0), "roc", "timePeriod", "0");
    expectParamError(() => ind.mom(x, 0), "mom", "timePeriod", "0");
    expectParamError(() => ind.stoch(x, x, x, { fastKPeriod: 0 }), "stoch", "fastKPeriod", "0");
    expectParamError(() => ind.stoch(x, x, x, { slowKPeriod: 0 }), "stoch", "slowKPeriod", "0");
    expectParamError(() => ind.stoch(x, x, x, { slowDPeriod: 0 }), "stoch", "slowDPeriod", "0");
    expectParamError(() => ind.stochf(x, x, x, { fastDPeriod: 0 }), "stochf", "fastDPeriod", "0");
    expectParamError(() => ind.bollingerBands(x, 0), "bollingerBands", "window", "0");
  });

  it("non-integer, non-finite and too large periods are errors", () => {
    expectParamError(() => ind.sma(x, 2.5), "sma", "timePeriod", "2.5");
    expectParamError(() => ind.sma(x, Number.NaN), "sma", "timePeriod", "NaN");
    expectParamError(() => ind.ema(x, Number.POSITIVE_INFINITY), "ema", "timePeriod", "Infinity");
    expectParamError(() => ind.rsi(x, 100_001), "rsi", "timePeriod", "100001");
  });

  it("real parameters and moving-average types", () => {
    expectParamError(() => ind.sar(x, x, { acceleration: -0.1 }), "sar", "acceleration", "-0.1");
    expectParamError(() => ind.sar(x, x, { maximum: Number.NaN }), "sar", "maximum", "NaN");
    expectParamError(() => ind.bbands(x, { nbDevUp: Number.NaN }), "bbands", "nbDevUp", "NaN");
    expectParamError(() => ind.bbands(x, { maType: 1 as ind.MaType }), "bbands", "maType", "1");
    expectParamError(() => ind.stoch(x, x, x, { slowDMaType: 2 as ind.MaType }), "stoch", "slowDMaType", "2");
    expectParamError(() => ind.bollingerBands(x, 20, Number.NaN), "bollingerBands", "stds", "NaN");
  });

  it("columns of different lengths are an error naming the lengths", () => {
    const short = f([1, 2]);
    expect(() => ind.atr(x, short, x)).toThrow(IndicatorInputError);
    expect(() => ind.atr(x, short, x)).toThrow(
      "atr: input columns must have the same length, got high=5, low=2, close=5",
    );
    expect(() => ind.crossedAbove(x, short)).toThrow(IndicatorInputError);
    expect(() => ind.obv(x, short)).toThrow(IndicatorInputError);
  });
});
