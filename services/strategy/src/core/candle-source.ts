/**
 * Where the analysis gets candles. A CSV.gz directory today (infrastructure/csv-candle-source.ts);
 * the data-collection client plugs in here later with the same shape.
 */
import type { CandleSeries } from "@tradai/engine";

export interface CandleRequest {
  /** ccxt exchange id, e.g. "binance". */
  readonly exchange: string;
  /** Unified symbol, e.g. "BTC/USDT". */
  readonly symbol: string;
  readonly timeframe: string;
  /** Inclusive start, epoch ms; undefined = from the first stored candle. */
  readonly start?: number;
  /** Exclusive end, epoch ms; undefined = to the last stored candle. */
  readonly end?: number;
}

export interface CandleSource {
  /** Candles in [start, end), ascending; undefined when the series is not available at all. */
  load(request: CandleRequest): Promise<CandleSeries | undefined>;
}
