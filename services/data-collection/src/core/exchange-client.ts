import type { Candles } from "./candles";

export type MarketKind = "spot" | "swap" | "future" | "option" | "other";

/** One exchange market with what the engine needs for exact parity (tradai.common.v1.Market). */
export interface MarketInfo {
  symbol: string;
  base: string;
  quote: string;
  type: MarketKind;
  active: boolean;
  /** Tick size of prices (ccxt TICK_SIZE precision mode). */
  pricePrecision: number;
  /** Step of amounts. */
  amountPrecision: number;
  minAmount: number;
  maxAmount: number;
  /** Minimum order cost in the quote currency. */
  minCost: number;
  makerFee: number;
  takerFee: number;
  /** 1 for spot. */
  contractSize: number;
  /** Settlement currency for derivatives; "" for spot. */
  settle: string;
}

export interface MarketsSnapshot {
  exchange: string;
  markets: MarketInfo[];
  /** Timeframes the exchange supports, ccxt notation. */
  timeframes: string[];
  fetchedAtMs: number;
}

/**
 * One exchange as the core sees it. Implementations validate symbols and timeframes against the
 * exchange's markets, respect its rate limit and retry transient failures; errors are
 * DataCollectionErrors ("not-found" for an unknown symbol, "invalid-argument" for an unsupported
 * timeframe, "unavailable" once retries are exhausted).
 */
export interface ExchangeClient {
  readonly exchange: string;
  /** Most candles one fetchOhlcv call returns (Binance: 1000). */
  readonly maxCandlesPerRequest: number;
  /** Markets and timeframes (cached after the first call; `reload` forces a fetch). */
  loadMarkets(reload?: boolean): Promise<MarketsSnapshot>;
  /** Throws unless the exchange lists `symbol` and supports `timeframe`. */
  validateSeries(symbol: string, timeframe: string): Promise<void>;
  /**
   * Up to `limit` candles opening at or after `sinceMs`, oldest first, as the exchange returns
   * them (the last one may still be open: the caller drops it).
   */
  fetchOhlcv(symbol: string, timeframe: string, sinceMs: number, limit: number): Promise<Candles>;
  /**
   * The exchange's clock (Binance: GET /api/v3/time), which decides which candle is still open;
   * the local clock when the exchange has no time endpoint.
   */
  serverTimeMs(): Promise<number>;
}

/** Resolves an exchange id to its client; throws a "not-found" error for unknown exchanges. */
export interface ExchangeClientProvider {
  get(exchange: string): ExchangeClient;
}
