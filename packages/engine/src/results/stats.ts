/**
 * Backtest statistics with Freqtrade's keys (`generate_strategy_stats`), and the export in
 * Freqtrade's backtest-result JSON layout (`{ metadata, strategy: { name: stats }, strategy_comparison }`)
 * so its tooling (backtesting-show, plotting, FreqUI) can read ours. Deterministic: the same run
 * gives byte-identical JSON.
 */
import type { BacktestRunResult, BacktestTradeResult } from "../backtest/backtest";
import type { PairLock } from "../backtest/protections";
import {
  cagr,
  calmar,
  dailyStats,
  expectancy,
  formatDuration,
  maxDrawdown,
  mean,
  median,
  pairMetrics,
  pythonRound,
  resultLine,
  sharpe,
  sortino,
  sqn,
  streaks,
  sortedByCloseDate,
  sum,
  tagMetrics,
  type ResultLine,
} from "./metrics";

const TWO_DIGITS = Array.from({ length: 60 }, (_, value) => String(value).padStart(2, "0"));
let printDay = Number.NaN;
let printDayPrefix = "";

/** "2018-01-29 18:40:00" (Freqtrade's DATETIME_PRINT_FORMAT, UTC). */
export function formatPrintDate(time: number): string {
  const day = Math.floor(time / 86_400_000);
  // Years 1970-9999 (four-digit ISO years): the day's "YYYY-MM-DD " is cached, the time computed.
  if (!(day >= 0 && day < 2_932_897)) return new Date(time).toISOString().slice(0, 19).replace("T", " ");
  if (day !== printDay) {
    printDay = day;
    printDayPrefix = `${new Date(day * 86_400_000).toISOString().slice(0, 10)} `;
  }
  const seconds = Math.floor((time - day * 86_400_000) / 1000);
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor(seconds / 60) % 60;
  return `${printDayPrefix}${TWO_DIGITS[hours]}:${TWO_DIGITS[minutes]}:${TWO_DIGITS[seconds % 60]}`;
}

/** "2018-01-29 18:40:00+00:00" (how Freqtrade's export writes trade dates). */
export function formatTradeDate(time: number): string {
  return `${formatPrintDate(time)}+00:00`;
}

/** One trade in Freqtrade's export layout (`BT_DATA_COLUMNS` + orders). */
export interface FreqtradeTrade {
  pair: string;
  stake_amount: number;
  max_stake_amount: number;
  amount: number;
  open_date: string;
  close_date: string;
  open_rate: number;
  close_rate: number;
  fee_open: number;
  fee_close: number;
  trade_duration: number;
  profit_ratio: number;
  profit_abs: number;
  exit_reason: string;
  initial_stop_loss_abs: number;
  initial_stop_loss_ratio: number | null;
  stop_loss_abs: number;
  stop_loss_ratio: number | null;
  min_rate: number;
  max_rate: number;
  is_open: boolean;
  enter_tag: string | null;
  leverage: number;
  is_short: boolean;
  open_timestamp: number;
  close_timestamp: number;
  funding_fees: number;
  orders: {
    amount: number;
    safe_price: number;
    ft_order_side: string;
    order_filled_timestamp: number | null;
    ft_is_entry: boolean;
    ft_order_tag: string | null;
    cost: number;
  }[];
}

export function toFreqtradeTrade(trade: BacktestTradeResult): FreqtradeTrade {
  return {
    pair: trade.pair,
    stake_amount: trade.stakeAmount,
    max_stake_amount: trade.maxStakeAmount,
    amount: trade.amount,
    open_date: formatTradeDate(trade.openDate),
    close_date: formatTradeDate(trade.closeDate),
    open_rate: trade.openRate,
    close_rate: trade.closeRate,
    fee_open: trade.feeOpen,
    fee_close: trade.feeClose,
    trade_duration: trade.tradeDuration,
    profit_ratio: trade.profitRatio,
    profit_abs: trade.profitAbs,
    exit_reason: trade.exitReason,
    initial_stop_loss_abs: trade.initialStopLossAbs,
    initial_stop_loss_ratio: trade.initialStopLossRatio,
    stop_loss_abs: trade.stopLossAbs,
    stop_loss_ratio: trade.stopLossRatio,
    min_rate: trade.minRate,
    max_rate: trade.maxRate,
    is_open: trade.isOpen,
    enter_tag: trade.enterTag,
    leverage: trade.leverage,
    is_short: trade.isShort,
    open_timestamp: trade.openDate,
    close_timestamp: trade.closeDate,
    funding_fees: trade.fundingFees,
    orders: trade.orders.map((order) => ({
      amount: order.amount,
      safe_price: order.safePrice,
      ft_order_side: order.side,
      order_filled_timestamp: order.orderFilledTimestamp,
      ft_is_entry: order.isEntry,
      ft_order_tag: order.tag,
      cost: order.cost,
    })),
  };
}

/** Freqtrade's strategy stats (keys as in its backtest-result JSON). */
export interface BacktestStats {
  trades: FreqtradeTrade[];
  locks: {
    id: number;
    pair: string;
    lock_time: string;
    lock_timestamp: number;
    lock_end_time: string;
    lock_end_timestamp: number;
    reason: string;
    side: string;
    active: boolean;
  }[];
  best_pair: ResultLine | null;
  worst_pair: ResultLine | null;
  results_per_pair: ResultLine[];
  results_per_enter_tag: ResultLine[];
  exit_reason_summary: ResultLine[];
  mix_tag_stats: ResultLine[];
  left_open_trades: ResultLine[];
  total_trades: number;
  trade_count_long: number;
  trade_count_short: number;
  total_volume: number;
  avg_stake_amount: number;
  profit_mean: number;
  profit_median: number;
  profit_total: number;
  profit_total_long: number;
  profit_total_short: number;
  profit_total_abs: number;
  profit_total_long_abs: number;
  profit_total_short_abs: number;
  cagr: number;
  expectancy: number;
  expectancy_ratio: number;
  sortino: number;
  sharpe: number;
  calmar: number;
  sqn: number;
  profit_factor: number;
  backtest_start: string;
  backtest_start_ts: number;
  backtest_end: string;
  backtest_end_ts: number;
  backtest_days: number;
  backtest_run_start_ts: number;
  backtest_run_end_ts: number;
  trades_per_day: number;
  market_change: number;
  pairlist: string[];
  stake_amount: number | "unlimited";
  stake_currency: string;
  starting_balance: number;
  dry_run_wallet: number;
  final_balance: number;
  rejected_signals: number;
  timedout_entry_orders: number;
  timedout_exit_orders: number;
  canceled_trade_entries: number;
  canceled_entry_orders: number;
  replaced_entry_orders: number;
  max_open_trades: number;
  max_open_trades_setting: number;
  timeframe: string;
  timeframe_detail: string;
  enable_protections: boolean;
  strategy_name: string;
  stoploss: number;
  trailing_stop: boolean;
  trailing_stop_positive: number | null;
  trailing_stop_positive_offset: number;
  trailing_only_offset_is_reached: boolean;
  use_custom_stoploss: boolean;
  minimal_roi: Record<string, number>;
  use_exit_signal: boolean;
  exit_profit_only: boolean;
  exit_profit_offset: number;
  ignore_roi_if_entry_signal: boolean;
  trading_mode: string;
  fee: number;
  backtest_best_day: number;
  backtest_worst_day: number;
  backtest_best_day_abs: number;
  backtest_worst_day_abs: number;
  winning_days: number;
  draw_days: number;
  losing_days: number;
  daily_profit: [string, number][];
  wins: number;
  losses: number;
  draws: number;
  winrate: number;
  holding_avg: string;
  holding_avg_s: number;
  winner_holding_avg: string;
  winner_holding_avg_s: number;
  loser_holding_avg: string;
  loser_holding_avg_s: number;
  max_consecutive_wins: number;
  max_consecutive_losses: number;
  max_drawdown: number;
  max_drawdown_account: number;
  max_relative_drawdown: number;
  max_drawdown_abs: number;
  drawdown_start: string;
  drawdown_start_ts: number;
  drawdown_end: string;
  drawdown_end_ts: number;
  max_drawdown_low: number;
  max_drawdown_high: number;
  csum_min: number;
  csum_max: number;
  /** Ours (not Freqtrade's): balance after each closed trade, by close date. */
  equity_curve: { date: string; timestamp: number; balance: number }[];
}

export interface GenerateStatsOptions {
  /** Wall-clock start/end of the run in epoch seconds (the engine reads no clock); default 0. */
  readonly runStartTime?: number;
  readonly runEndTime?: number;
}

function lockJson(lock: PairLock): BacktestStats["locks"][number] {
  return {
    id: lock.id,
    pair: lock.pair,
    lock_time: formatPrintDate(lock.lockTime),
    lock_timestamp: lock.lockTime,
    lock_end_time: formatPrintDate(lock.lockEndTime),
    lock_end_timestamp: lock.lockEndTime,
    reason: lock.reason,
    side: lock.side,
    active: true,
  };
}

function holding(minutes: number[]): [string, number] {
  if (minutes.length === 0) return ["0:00:00", 0];
  const rounded = pythonRound(mean(minutes));
  return [formatDuration(rounded), rounded * 60];
}

/** Freqtrade's `generate_strategy_stats` for one run. */
export function generateBacktestStats(
  run: BacktestRunResult,
  options: GenerateStatsOptions = {},
): BacktestStats {
  const trades = run.trades;
  const balance = run.startingBalance;
  const settings = run.settings;
  const profits = trades.map((trade) => trade.profitAbs);
  const pairResults = pairMetrics(run.pairs, trades, balance);
  const pairsOnly = pairResults.filter((line) => line.key !== "TOTAL");
  const best =
    pairResults.length > 1
      ? pairsOnly.reduce((a, b) => (b.profit_total_abs > a.profit_total_abs ? b : a))
      : null;
  const worst =
    pairResults.length > 1
      ? pairsOnly.reduce((a, b) => (b.profit_total_abs < a.profit_total_abs ? b : a))
      : null;
  const winning = sum(profits.filter((profit) => profit > 0));
  const losing = sum(profits.filter((profit) => profit < 0));
  const [expectancyValue, expectancyRatio] = expectancy(trades);
  // Freqtrade: `(max_date - min_date).days or 1`.
  const wholeDays = Math.floor((run.endDate - run.startDate) / 86_400_000);
  const backtestDays = wholeDays === 0 ? 1 : wholeDays;
  const longs = trades.filter((trade) => !trade.isShort);
  const shorts = trades.filter((trade) => trade.isShort);
  const wins = trades.filter((trade) => trade.profitRatio > 0);
  const losses = trades.filter((trade) => trade.profitRatio < 0);
  const [holdingAvg, holdingAvgSeconds] = holding(trades.map((trade) => trade.tradeDuration));
  const [winnerAvg, winnerAvgSeconds] = holding(wins.map((trade) => trade.tradeDuration));
  const [loserAvg, loserAvgSeconds] = holding(losses.map((trade) => trade.tradeDuration));
  const [consecutiveWins, consecutiveLosses] = streaks(trades);
  const marketChanges = Object.values(run.pairCloses).map(
    (closes) => (closes.last - closes.first) / closes.first,
  );
  const legacy = maxDrawdown(trades, { value: "profitRatio" });
  const drawdown =
    legacy === null ? null : maxDrawdown(trades, { value: "profitAbs", startingBalance: balance });
  const underwater = maxDrawdown(trades, { value: "profitAbs", startingBalance: balance, relative: true });
  let cumulative = 0;
  let csumMin = Number.POSITIVE_INFINITY;
  let csumMax = Number.NEGATIVE_INFINITY;
  for (const profit of profits) {
    cumulative += profit;
    csumMin = Math.min(csumMin, cumulative);
    csumMax = Math.max(csumMax, cumulative);
  }
  let equity = balance;
  const equityCurve = sortedByCloseDate(trades).map((trade) => {
    equity += trade.profitAbs;
    return { date: formatTradeDate(trade.closeDate), timestamp: trade.closeDate, balance: equity };
  });
  const drawdownValid = legacy !== null && drawdown !== null && underwater !== null;
  return {
    trades: trades.map(toFreqtradeTrade),
    locks: run.locks.map(lockJson),
    best_pair: best,
    worst_pair: worst,
    results_per_pair: pairResults,
    results_per_enter_tag: tagMetrics((trade) => trade.enterTag, trades, balance),
    exit_reason_summary: tagMetrics((trade) => trade.exitReason, trades, balance),
    mix_tag_stats: tagMetrics(
      (trade) => (trade.enterTag === null ? null : [trade.enterTag, trade.exitReason]),
      trades,
      balance,
    ),
    left_open_trades: pairMetrics(
      run.pairs,
      trades.filter((trade) => trade.exitReason === "force_exit"),
      balance,
      true,
    ),
    total_trades: trades.length,
    trade_count_long: longs.length,
    trade_count_short: shorts.length,
    total_volume: sum(trades.map((trade) => trade.stakeAmount)),
    avg_stake_amount: trades.length > 0 ? mean(trades.map((trade) => trade.stakeAmount)) : 0,
    profit_mean: trades.length > 0 ? mean(trades.map((trade) => trade.profitRatio)) : 0,
    profit_median: trades.length > 0 ? median(trades.map((trade) => trade.profitRatio)) : 0,
    profit_total: sum(profits) / balance,
    profit_total_long: sum(longs.map((trade) => trade.profitAbs)) / balance,
    profit_total_short: sum(shorts.map((trade) => trade.profitAbs)) / balance,
    profit_total_abs: sum(profits),
    profit_total_long_abs: sum(longs.map((trade) => trade.profitAbs)),
    profit_total_short_abs: sum(shorts.map((trade) => trade.profitAbs)),
    cagr: cagr(backtestDays, balance, run.finalBalance),
    expectancy: expectancyValue,
    expectancy_ratio: expectancyRatio,
    sortino: sortino(trades, run.startDate, run.endDate, balance),
    sharpe: sharpe(trades, run.startDate, run.endDate, balance),
    calmar: calmar(trades, run.startDate, run.endDate, balance),
    sqn: sqn(trades, balance),
    profit_factor: losing ? winning / Math.abs(losing) : 0,
    backtest_start: formatPrintDate(run.startDate),
    backtest_start_ts: run.startDate,
    backtest_end: formatPrintDate(run.endDate),
    backtest_end_ts: run.endDate,
    backtest_days: backtestDays,
    backtest_run_start_ts: options.runStartTime ?? 0,
    backtest_run_end_ts: options.runEndTime ?? 0,
    trades_per_day: pythonRound(trades.length / backtestDays, 2),
    market_change: marketChanges.length === 0 ? 0 : mean(marketChanges),
    pairlist: [...run.pairs],
    stake_amount: run.config.stakeAmount,
    stake_currency: run.config.stakeCurrency,
    starting_balance: balance,
    dry_run_wallet: balance,
    final_balance: run.finalBalance,
    rejected_signals: run.rejectedSignals,
    timedout_entry_orders: run.timedoutEntryOrders,
    timedout_exit_orders: run.timedoutExitOrders,
    canceled_trade_entries: run.canceledTradeEntries,
    canceled_entry_orders: run.canceledEntryOrders,
    replaced_entry_orders: run.replacedEntryOrders,
    max_open_trades:
      run.config.maxOpenTrades === -1
        ? run.pairs.length
        : Math.min(run.config.maxOpenTrades, run.pairs.length),
    max_open_trades_setting: run.config.maxOpenTrades,
    timeframe: run.timeframe,
    timeframe_detail: run.timeframeDetail ?? "",
    enable_protections: run.config.enableProtections,
    strategy_name: run.strategy,
    stoploss: settings.stoploss,
    trailing_stop: settings.trailingStop,
    trailing_stop_positive: settings.trailingStopPositive,
    trailing_stop_positive_offset: settings.trailingStopPositiveOffset,
    trailing_only_offset_is_reached: settings.trailingOnlyOffsetIsReached,
    use_custom_stoploss: settings.useCustomStoploss,
    minimal_roi: { ...settings.minimalRoi },
    use_exit_signal: settings.useExitSignal,
    exit_profit_only: settings.exitProfitOnly,
    exit_profit_offset: settings.exitProfitOffset,
    ignore_roi_if_entry_signal: settings.ignoreRoiIfEntrySignal,
    trading_mode: run.config.tradingMode,
    fee: run.fee,
    ...dailyStats(trades),
    wins: wins.length,
    losses: losses.length,
    draws: trades.length - wins.length - losses.length,
    winrate: trades.length > 0 ? wins.length / trades.length : 0,
    holding_avg: holdingAvg,
    holding_avg_s: holdingAvgSeconds,
    winner_holding_avg: winnerAvg,
    winner_holding_avg_s: winnerAvgSeconds,
    loser_holding_avg: loserAvg,
    loser_holding_avg_s: loserAvgSeconds,
    max_consecutive_wins: consecutiveWins,
    max_consecutive_losses: consecutiveLosses,
    max_drawdown: drawdownValid ? legacy.drawdownAbs : 0,
    max_drawdown_account: drawdownValid ? drawdown.relativeAccountDrawdown : 0,
    max_relative_drawdown: drawdownValid ? underwater.relativeAccountDrawdown : 0,
    max_drawdown_abs: drawdownValid ? drawdown.drawdownAbs : 0,
    drawdown_start: drawdownValid ? formatPrintDate(drawdown.highDate) : "1970-01-01 00:00:00",
    drawdown_start_ts: drawdownValid ? drawdown.highDate : 0,
    drawdown_end: drawdownValid ? formatPrintDate(drawdown.lowDate) : "1970-01-01 00:00:00",
    drawdown_end_ts: drawdownValid ? drawdown.lowDate : 0,
    max_drawdown_low: drawdownValid ? drawdown.lowValue : 0,
    max_drawdown_high: drawdownValid ? drawdown.highValue : 0,
    csum_min: drawdownValid ? csumMin + balance : 0,
    csum_max: drawdownValid ? csumMax + balance : 0,
    equity_curve: equityCurve,
  };
}

/** Freqtrade's backtest-result file content for one or more runs. */
export interface FreqtradeBacktestExport {
  metadata: Record<
    string,
    {
      run_id: string;
      backtest_start_time: number;
      timeframe: string;
      timeframe_detail: string;
      backtest_start_ts: number;
      backtest_end_ts: number;
    }
  >;
  strategy: Record<string, BacktestStats>;
  strategy_comparison: (ResultLine & { max_drawdown_account: number; max_drawdown_abs: string })[];
}

const COIN_DECIMALS: Readonly<Record<string, number>> = { BTC: 8, ETH: 5 };

/** Build the export object; `runId` is an optional cache key the caller computed (e.g. a content hash). */
export function toFreqtradeExport(
  runs: readonly { readonly stats: BacktestStats; readonly runId?: string }[],
): FreqtradeBacktestExport {
  const result: FreqtradeBacktestExport = { metadata: {}, strategy: {}, strategy_comparison: [] };
  for (const { stats, runId } of runs) {
    const name = stats.strategy_name;
    result.metadata[name] = {
      run_id: runId ?? "",
      backtest_start_time: stats.backtest_run_start_ts,
      timeframe: stats.timeframe,
      timeframe_detail: stats.timeframe_detail,
      backtest_start_ts: Math.floor(stats.backtest_start_ts / 1000),
      backtest_end_ts: Math.floor(stats.backtest_end_ts / 1000),
    };
    result.strategy[name] = stats;
    const line = resultLine(
      stats.trades.map((trade) => ({
        pair: trade.pair,
        closeDate: trade.close_timestamp,
        profitRatio: trade.profit_ratio,
        profitAbs: trade.profit_abs,
        tradeDuration: trade.trade_duration,
        stakeAmount: trade.stake_amount,
        isShort: trade.is_short,
        enterTag: trade.enter_tag,
        exitReason: trade.exit_reason,
      })),
      stats.starting_balance,
      name,
    );
    result.strategy_comparison.push({
      ...line,
      max_drawdown_account: stats.max_drawdown_account,
      // Freqtrade's round_coin_value(value, currency, False): decimals per coin (BTC 8, ETH 5, else 3).
      max_drawdown_abs: stats.max_drawdown_abs.toFixed(COIN_DECIMALS[stats.stake_currency] ?? 3),
    });
  }
  return result;
}

/** Deterministic JSON (insertion-ordered keys, NaN/Infinity as null). */
export function serializeBacktestExport(value: FreqtradeBacktestExport, indent = 0): string {
  return JSON.stringify(
    value,
    (_key, item: unknown) => (typeof item === "number" && !Number.isFinite(item) ? null : item),
    indent,
  );
}
