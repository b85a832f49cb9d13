// The run config most tests submit: one pair, January 2025 on 5m, fixed stake. Tests override what
// they are about (strategy, version, pairs, fee, …).
import type { BacktestConfig } from "../../src/core/backtest-job";

export function testBacktestConfig(overrides: Partial<BacktestConfig> = {}): BacktestConfig {
  return {
    strategy: "noop",
    strategy_version: "",
    exchange: "binance",
    pairs: ["BTC/USDT"],
    timeframe: "5m",
    timerange: "20250101-20250201",
    stake_amount: 100,
    dry_run_wallet: 1000,
    max_open_trades: 1,
    params: {},
    stake_currency: "USDT",
    timeframe_detail: "",
    ...overrides,
  };
}
