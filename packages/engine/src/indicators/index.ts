// Technical indicators over Float64Array columns, numerically matching TA-Lib (as called from
// Python by Freqtrade strategies) and Freqtrade's vendored qtpylib helpers.
//
// Conventions shared by every TA-Lib function here:
//  - inputs are Float64Array columns of equal length; each call returns new arrays of that length;
//  - rows before `firstValid + lookback` are NaN, `firstValid` being the first row where no input
//    is NaN (leading NaNs are skipped like TA-Lib's Python wrapper does, so indicators can be
//    chained on other indicators' outputs); TA-Lib's unstable periods are at their default 0;
//  - a NaN after `firstValid` flows through TA-Lib's own arithmetic, checked against TA-Lib on a
//    NaN close (test/golden, "close_nanhole"):
//      SMA, EMA, DEMA, TEMA, MACD, BBANDS, STOCH, STOCHF's fastD (running sums), MFI, HT_SINE: NaN
//        from that row to the end;
//      WMA: NaN until its next re-sum of the window (at most 8·timePeriod rows later);
//      RSI: 0 from that row to the end (TA-Lib >= 0.7 takes the NaN average as zero);
//      ROC, MOM, CCI: NaN only while the NaN is inside the window; WILLR, STOCHF's fastK: NaN at
//        that row only;
//      ATR, NATR, TRANGE, ADX, PLUS_DI, MINUS_DI: a NaN close is skipped by the true range
//        (the comparisons with it are false) and the values go on; OBV skips that row's volume;
//      qtpylib bollingerBands: the NaN is left out of its windows (pandas);
//  - parameters default to TA-Lib's defaults; an out-of-range parameter throws
//    IndicatorParamError naming the function, the parameter, the expected range and the value;
//    columns of different lengths throw IndicatorInputError;
//  - plain loops over typed arrays, no allocation per row, no temporary columns, O(n) per call,
//    except CCI (O(n·p): its mean absolute deviation is re-summed over the window for every row, as
//    in TA-Lib) and the highest/lowest tracking of STOCH, STOCHF, WILLR (TA-Lib's: a rescan of the
//    window, O(p), only when the extreme leaves it);
//  - each per-row loop is a small kernel run on blocks of rows with its state carried from block to
//    block (util.ts CHUNK_ROWS): V8 then keeps one optimised version of it from the first pair on,
//    instead of recompiling a long loop on every call. Operations and their order are unchanged.
//
// | TA-Lib / qtpylib                          | here                                   | lookback            |
// |-------------------------------------------|----------------------------------------|---------------------|
// | SMA(real, timeperiod=30)                  | sma(real, 30)                          | p-1                 |
// | EMA(real, timeperiod=30)                  | ema(real, 30)                          | p-1                 |
// | WMA(real, timeperiod=30)                  | wma(real, 30)                          | p-1                 |
// | DEMA(real, timeperiod=30)                 | dema(real, 30)                         | 2(p-1)              |
// | TEMA(real, timeperiod=30)                 | tema(real, 30)                         | 3(p-1)              |
// | RSI(real, timeperiod=14)                  | rsi(real, 14)                          | p                   |
// | MACD(real, 12, 26, 9)                     | macd(real, {fastPeriod, slowPeriod, signalPeriod}) -> {macd, signal, hist} | slow-1+signal-1 |
// | BBANDS(real, 5, 2, 2, matype=0)           | bbands(real, {timePeriod, nbDevUp, nbDevDn}) -> {upper, middle, lower} | p-1 |
// | ATR / NATR(high, low, close, 14)          | atr / natr(high, low, close, 14)       | p (period 1: TRANGE) |
// | TRANGE(high, low, close)                  | trange(high, low, close)               | 1                   |
// | ADX(high, low, close, 14)                 | adx(high, low, close, 14)              | 2p-1                |
// | PLUS_DI / MINUS_DI(high, low, close, 14)  | plusDi / minusDi(high, low, close, 14) | p                   |
// | STOCH(high, low, close, 5, 3, 0, 3, 0)    | stoch(high, low, close, {fastKPeriod, slowKPeriod, slowDPeriod}) -> {slowK, slowD} | fk-1+sk-1+sd-1 |
// | STOCHF(high, low, close, 5, 3, 0)         | stochf(high, low, close, {fastKPeriod, fastDPeriod}) -> {fastK, fastD} | fk-1+fd-1 |
// | MFI(high, low, close, volume, 14)         | mfi(high, low, close, volume, 14)      | p                   |
// | SAR(high, low, 0.02, 0.2)                 | sar(high, low, {acceleration, maximum}) | 1                  |
// | CCI(high, low, close, 14)                 | cci(high, low, close, 14)              | p-1                 |
// | OBV(close, volume)                        | obv(close, volume)                     | 0                   |
// | ROC(real, 10) / MOM(real, 10)             | roc(real, 10) / mom(real, 10)          | p                   |
// | WILLR(high, low, close, 14)               | willr(high, low, close, 14)            | p-1                 |
// | HT_SINE(real)                             | htSine(real) -> {sine, leadSine}       | 63                  |
// | qtpylib.typical_price(df)                 | typicalPrice(high, low, close)         | 0                   |
// | qtpylib.bollinger_bands(tp, 20, 2)        | bollingerBands(tp, 20, 2) -> {upper, mid, lower} | none (min_periods=1) |
// | qtpylib.crossed_above / crossed_below     | crossedAbove / crossedBelow(a, b | number) -> Uint8Array | - |
// | numpy.flatnonzero(mask)                   | indicesWhere(mask) -> Int32Array       | -                   |

export { sma, ema, wma, dema, tema, bbands, sar } from "./overlap.ts";
export type { BbandsOptions, BbandsResult, SarOptions } from "./overlap.ts";
export { rsi, macd, adx, plusDi, minusDi, stoch, stochf, willr, mfi, cci, roc, mom } from "./momentum.ts";
export type {
  MacdOptions,
  MacdResult,
  StochOptions,
  StochResult,
  StochfOptions,
  StochfResult,
} from "./momentum.ts";
export { atr, natr, trange } from "./volatility.ts";
export { obv } from "./volume.ts";
export { htSine } from "./cycle.ts";
export type { HtSineResult } from "./cycle.ts";
export { typicalPrice, bollingerBands, crossedAbove, crossedBelow } from "./qtpylib.ts";
export { indicesWhere } from "./indices-where.ts";
export type { BollingerBandsResult } from "./qtpylib.ts";
export { IndicatorParamError, IndicatorInputError, MaType, MAX_PERIOD } from "./util.ts";
