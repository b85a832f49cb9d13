// Workloads (i) and (ii) of issue 3's engine benchmark, shared by bench.ts and vectorbt.ts.
export interface Workload {
  readonly name: string;
  readonly exchange: string;
  readonly pairs: readonly string[];
  readonly timeframe: string;
  readonly start: number;
  readonly end: number;
}

export const WORKLOADS: Record<string, Workload> = {
  i: {
    name: "(i) FIL/USDT 1m",
    exchange: "binanceusdm",
    pairs: ["FIL/USDT"],
    timeframe: "1m",
    start: Date.UTC(2023, 1, 2),
    end: Date.UTC(2023, 11, 1),
  },
  ii: {
    name: "(ii) 7 pairs 5m, 2025",
    exchange: "binance",
    pairs: ["BTC/USDT", "ETH/USDT", "SOL/USDT", "XRP/USDT", "BNB/USDT", "DOGE/USDT", "ADA/USDT"],
    timeframe: "5m",
    start: Date.UTC(2025, 0, 1),
    end: Date.UTC(2026, 0, 1),
  },
};
