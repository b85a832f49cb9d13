/**
 * What an exchange supports, for config validation. The static snapshot below covers timeframes
 * only; a markets snapshot (symbols) can come from the data-collection service through the same port.
 */
export interface ExchangeSnapshot {
  /** Timeframes the exchange serves candles for (ccxt `exchange.timeframes`). */
  readonly timeframes: readonly string[];
  /** Tradable unified symbols, when a markets snapshot is available. */
  readonly symbols?: readonly string[];
}

export interface ExchangeCatalog {
  /**
   * Undefined when nothing is known about `exchange` (its checks are then skipped). Async so a
   * markets snapshot can come from the data-collection service (ListMarkets).
   */
  describe(exchange: string): Promise<ExchangeSnapshot | undefined>;
}

/** `exchange.timeframes` of ccxt 4.5.84 (new ccxt[id]().timeframes, no network), taken 2026-11-25. */
export const CCXT_TIMEFRAMES: Readonly<Record<string, readonly string[]>> = {
  binance: [
    "1s",
    "1m",
    "3m",
    "5m",
    "15m",
    "30m",
    "1h",
    "2h",
    "4h",
    "6h",
    "8h",
    "12h",
    "1d",
    "3d",
    "1w",
    "1M",
  ],
  binanceusdm: [
    "1s",
    "1m",
    "3m",
    "5m",
    "15m",
    "30m",
    "1h",
    "2h",
    "4h",
    "6h",
    "8h",
    "12h",
    "1d",
    "3d",
    "1w",
    "1M",
  ],
  bybit: ["1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "12h", "1d", "1w", "1M"],
  okx: ["1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "12h", "1d", "1w", "1M", "3M"],
  kraken: ["1m", "5m", "15m", "30m", "1h", "4h", "1d", "1w", "2w"],
  kucoin: ["1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d", "1w", "1M"],
  gate: ["10s", "1m", "5m", "15m", "30m", "1h", "2h", "4h", "8h", "1d", "7d", "1w"],
  bitget: ["1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "12h", "1d", "3d", "1w", "1M"],
  coinbase: ["1m", "5m", "15m", "30m", "1h", "2h", "6h", "1d"],
  hyperliquid: ["1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "8h", "12h", "1d", "3d", "1w", "1M"],
};

/** A catalog over fixed snapshots; default: the ccxt timeframes above. */
export function createStaticExchangeCatalog(
  snapshots: Readonly<Record<string, ExchangeSnapshot>> = Object.fromEntries(
    Object.entries(CCXT_TIMEFRAMES).map(([exchange, timeframes]) => [exchange, { timeframes }]),
  ),
): ExchangeCatalog {
  return { describe: (exchange) => Promise.resolve(snapshots[exchange]) };
}
