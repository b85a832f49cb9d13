/** The parity cases: same strategy, data window, fee, stake and markets for Freqtrade and TradAI. */
export interface ParityCase {
  readonly name: string;
  /** Freqtrade strategy class name (template SampleStrategy, or ours in bench/parity/strategies). */
  readonly freqtradeStrategy: string;
  /** "template" = Freqtrade's bundled templates folder; "ours" = bench/parity/strategies. */
  readonly strategyPath: "template" | "ours";
  readonly pairs: readonly string[];
  readonly timeframe: string;
  readonly start: number;
  readonly end: number;
  readonly startupCandles: number;
  readonly fee: number;
  readonly stakeAmount: number;
  readonly dryRunWallet: number;
  readonly maxOpenTrades: number;
  /** Lower timeframe for intra-candle resolution (`--timeframe-detail`). */
  readonly timeframeDetail?: string;
  /** Default spot. Futures pairs read the spot candles of the same coin (no funding: rates 0). */
  readonly tradingMode?: "spot" | "futures";
  /** Run with the strategy's protections enabled. */
  readonly enableProtections?: boolean;
}

const SEVEN = ["BTC/USDT", "ETH/USDT", "SOL/USDT", "XRP/USDT", "BNB/USDT", "DOGE/USDT", "ADA/USDT"];

export const PARITY_CASES: readonly ParityCase[] = [
  {
    name: "sample-strategy-7x5m-2025q1",
    freqtradeStrategy: "SampleStrategy",
    strategyPath: "template",
    pairs: SEVEN,
    timeframe: "5m",
    start: Date.UTC(2025, 0, 1),
    end: Date.UTC(2025, 3, 1),
    startupCandles: 200,
    fee: 0.001,
    stakeAmount: 100,
    dryRunWallet: 1000,
    maxOpenTrades: 3,
  },
  {
    name: "ema-cross-trailing-7x5m-2025q1",
    freqtradeStrategy: "EmaCross",
    strategyPath: "ours",
    pairs: SEVEN,
    timeframe: "5m",
    start: Date.UTC(2025, 0, 1),
    end: Date.UTC(2025, 3, 1),
    startupCandles: 50,
    fee: 0.001,
    stakeAmount: 100,
    dryRunWallet: 1000,
    maxOpenTrades: 3,
  },
  {
    name: "ema-cross-trailing-2x5m-detail-1m-2025",
    freqtradeStrategy: "EmaCross",
    strategyPath: "ours",
    pairs: ["BTC/USDT", "ETH/USDT"],
    timeframe: "5m",
    timeframeDetail: "1m",
    start: Date.UTC(2025, 5, 1),
    end: Date.UTC(2025, 7, 1),
    startupCandles: 50,
    fee: 0.001,
    stakeAmount: 100,
    dryRunWallet: 1000,
    maxOpenTrades: 1,
  },
  {
    name: "ema-long-short-3x-futures-2x5m-2025q1",
    freqtradeStrategy: "EmaLongShort",
    strategyPath: "ours",
    tradingMode: "futures",
    pairs: ["BTC/USDT:USDT", "ETH/USDT:USDT"],
    timeframe: "5m",
    start: Date.UTC(2025, 0, 1),
    end: Date.UTC(2025, 3, 1),
    startupCandles: 50,
    fee: 0.0005,
    stakeAmount: 100,
    dryRunWallet: 1000,
    maxOpenTrades: 2,
  },
  {
    name: "ema-cross-protections-7x5m-2025q1",
    freqtradeStrategy: "EmaCrossProtected",
    strategyPath: "ours",
    enableProtections: true,
    pairs: SEVEN,
    timeframe: "5m",
    start: Date.UTC(2025, 0, 1),
    end: Date.UTC(2025, 3, 1),
    startupCandles: 50,
    fee: 0.001,
    stakeAmount: 100,
    dryRunWallet: 1000,
    maxOpenTrades: 3,
  },
];
