import { invalidArgument } from "./errors";
import { parseTimeframe } from "./timeframe";

/** Identifies one OHLCV series (same fields as tradai.common.v1.SeriesKey). */
export interface SeriesKey {
  /** ccxt exchange id, e.g. "binance". */
  exchange: string;
  /** Unified ccxt symbol, e.g. "BTC/USDT" or "BTC/USDT:USDT". */
  symbol: string;
  /** ccxt timeframe, e.g. "1m". */
  timeframe: string;
}

const EXCHANGE_PATTERN = /^[a-z][a-z0-9]{1,39}$/;
const SYMBOL_PATTERN =
  /^[A-Za-z0-9._-]{1,40}\/[A-Za-z0-9._-]{1,40}(:[A-Za-z0-9._-]{1,40}(-[A-Za-z0-9._-]+)*)?$/;

/** A stable text form used for maps, locks and logs: "binance|BTC/USDT|1m". */
export function seriesKeyToString(key: SeriesKey): string {
  return `${key.exchange}|${key.symbol}|${key.timeframe}`;
}

/** Checks the shape of a key (not whether the exchange lists it); `field` prefixes error names. */
export function validateSeriesKey(key: SeriesKey, field = "series"): SeriesKey {
  validateExchangeId(key.exchange, `${field}.exchange`);
  validateSymbol(key.symbol, `${field}.symbol`);
  parseTimeframe(key.timeframe, `${field}.timeframe`);
  return key;
}

export function validateExchangeId(exchange: string, field = "exchange"): string {
  if (!EXCHANGE_PATTERN.test(exchange)) {
    throw invalidArgument(
      field,
      `expected a ccxt exchange id such as "binance", got ${JSON.stringify(exchange)}`,
    );
  }
  return exchange;
}

export function validateSymbol(symbol: string, field = "symbol"): string {
  if (!SYMBOL_PATTERN.test(symbol)) {
    throw invalidArgument(
      field,
      `expected a unified ccxt symbol such as "BTC/USDT" or "BTC/USDT:USDT", got ${JSON.stringify(symbol)}`,
    );
  }
  return symbol;
}
