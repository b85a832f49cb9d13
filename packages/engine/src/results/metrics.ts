/**
 * Freqtrade's report metrics (optimize/optimize_reports/optimize_reports.py, data/metrics.py),
 * same formulas: see reference/freqtrade-semantics.md §2. Standard deviations are population
 * (ddof 0) except SQN (ddof 1), as in Freqtrade.
 */

/** The trade fields the metrics read. */
export interface MetricsTrade {
  readonly pair: string;
  readonly closeDate: number;
  readonly profitRatio: number;
  readonly profitAbs: number;
  readonly tradeDuration: number;
  readonly stakeAmount: number;
  readonly isShort: boolean;
  readonly enterTag: string | null;
  readonly exitReason: string;
}

export interface ResultLine {
  readonly key: string | readonly string[];
  readonly trades: number;
  readonly profit_mean: number;
  readonly profit_mean_pct: number;
  readonly profit_sum: number;
  readonly profit_sum_pct: number;
  readonly profit_total_abs: number;
  readonly profit_total: number;
  readonly profit_total_pct: number;
  readonly duration_avg: string;
  readonly wins: number;
  readonly draws: number;
  readonly losses: number;
  readonly winrate: number;
}

export interface DrawdownResult {
  readonly drawdownAbs: number;
  readonly highDate: number;
  readonly lowDate: number;
  readonly highValue: number;
  readonly lowValue: number;
  readonly relativeAccountDrawdown: number;
}

/** Python's round(): half to even, on the decimal representation. */
export function pythonRound(value: number, digits = 0): number {
  const factor = 10 ** digits;
  const scaled = value * factor;
  const floor = Math.floor(scaled);
  const difference = scaled - floor;
  let rounded: number;
  if (Math.abs(difference - 0.5) < 1e-9 * Math.max(1, Math.abs(scaled)))
    rounded = floor % 2 === 0 ? floor : floor + 1;
  else rounded = Math.round(scaled);
  return rounded / factor;
}

export function sum(values: readonly number[]): number {
  let total = 0;
  for (let index = 0; index < values.length; index++) total += values[index] as number;
  return total;
}

export function mean(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : sum(values) / values.length;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((left, right) => left - right);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** Population (ddof 0) or sample (ddof 1) standard deviation; NaN when undefined. */
export function standardDeviation(values: readonly number[], ddof = 0): number {
  if (values.length - ddof <= 0) return Number.NaN;
  const average = mean(values);
  let squares = 0;
  for (const value of values) squares += (value - average) ** 2;
  return Math.sqrt(squares / (values.length - ddof));
}

/** Python's str(timedelta(minutes=m)): "H:MM:SS" or "N day(s), H:MM:SS". */
export function formatDuration(minutes: number): string {
  const totalSeconds = Math.round(minutes * 60);
  const days = Math.floor(totalSeconds / 86_400);
  const rest = totalSeconds - days * 86_400;
  const hours = Math.floor(rest / 3600);
  const mins = Math.floor((rest % 3600) / 60);
  const seconds = rest % 60;
  const clock = `${hours}:${String(mins).padStart(2, "0")}:${String(seconds).padStart(2, "0")}`;
  if (days === 0) return clock;
  return `${days} day${days === 1 ? "" : "s"}, ${clock}`;
}

/** Freqtrade `_generate_result_line`. */
export function resultLine(
  trades: readonly MetricsTrade[],
  startingBalance: number,
  key: string | readonly string[],
): ResultLine {
  // One pass; sums run left to right as `sum` does, means are sum / count as `mean` does.
  let profitSum = 0;
  let profitTotalAbs = 0;
  let durationSum = 0;
  let wins = 0;
  let draws = 0;
  let losses = 0;
  for (let index = 0; index < trades.length; index++) {
    const trade = trades[index] as MetricsTrade;
    const profit = trade.profitAbs;
    profitSum += trade.profitRatio;
    profitTotalAbs += profit;
    durationSum += trade.tradeDuration;
    if (profit > 0) wins++;
    else if (profit === 0) draws++;
    else if (profit < 0) losses++;
  }
  const profitTotal = profitTotalAbs / startingBalance;
  const profitMean = profitSum / trades.length;
  return {
    key,
    trades: trades.length,
    profit_mean: trades.length > 0 ? profitMean : 0,
    profit_mean_pct: trades.length > 0 ? pythonRound(profitMean * 100, 2) : 0,
    profit_sum: profitSum,
    profit_sum_pct: pythonRound(profitSum * 100, 2),
    profit_total_abs: profitTotalAbs,
    profit_total: profitTotal,
    profit_total_pct: pythonRound(profitTotal * 100, 2),
    duration_avg: trades.length > 0 ? formatDuration(pythonRound(durationSum / trades.length)) : "0:00",
    wins,
    draws,
    losses,
    winrate: trades.length > 0 ? wins / trades.length : 0,
  };
}

function sortByProfitDescending(lines: ResultLine[]): ResultLine[] {
  // Python's sorted(reverse=True) is stable.
  return lines
    .map((line, index) => ({ line, index }))
    .sort(
      (left, right) => right.line.profit_total_abs - left.line.profit_total_abs || left.index - right.index,
    )
    .map((entry) => entry.line);
}

/** Freqtrade `generate_pair_metrics`: one line per pair (sorted by profit), then TOTAL. */
export function pairMetrics(
  pairs: readonly string[],
  trades: readonly MetricsTrade[],
  startingBalance: number,
  skipEmpty = false,
): ResultLine[] {
  const lines: ResultLine[] = [];
  for (const pair of pairs) {
    const pairTrades = trades.filter((trade) => trade.pair === pair);
    if (skipEmpty && pairTrades.length === 0) continue;
    lines.push(resultLine(pairTrades, startingBalance, pair));
  }
  return [...sortByProfitDescending(lines), resultLine(trades, startingBalance, "TOTAL")];
}

/** Trades in close-date order (stable); the input itself when already in that order (the usual case). */
export function sortedByCloseDate<T extends { readonly closeDate: number }>(
  trades: readonly T[],
): readonly T[] {
  let sorted = true;
  for (let index = 1; index < trades.length && sorted; index++) {
    if ((trades[index] as T).closeDate < (trades[index - 1] as T).closeDate) sorted = false;
  }
  if (sorted) return trades;
  return trades
    .map((trade, index) => ({ trade, index }))
    .sort((left, right) => left.trade.closeDate - right.trade.closeDate || left.index - right.index)
    .map((entry) => entry.trade);
}

/** Freqtrade `generate_tag_metrics`: grouped by tag(s) (trades without a tag are left out), then TOTAL. */
export function tagMetrics(
  keyOf: (trade: MetricsTrade) => string | readonly string[] | null,
  trades: readonly MetricsTrade[],
  startingBalance: number,
): ResultLine[] {
  const groups = new Map<string, { key: string | readonly string[]; trades: MetricsTrade[] }>();
  // Groups are sorted by the JSON of their key; the few distinct keys are encoded once.
  const ids = new Map<string, string>();
  for (const trade of trades) {
    const key = keyOf(trade);
    if (key === null) continue;
    const plain = typeof key === "string" ? key : key.join("\u0000");
    let id = ids.get(plain);
    if (id === undefined) {
      id = JSON.stringify(key);
      ids.set(plain, id);
    }
    const group = groups.get(id) ?? { key, trades: [] };
    group.trades.push(trade);
    groups.set(id, group);
  }
  const sortedKeys = [...groups.keys()].sort();
  const lines = sortedKeys.map((id) => {
    const group = groups.get(id) as { key: string | readonly string[]; trades: MetricsTrade[] };
    return resultLine(group.trades, startingBalance, group.key);
  });
  return [...sortByProfitDescending(lines), resultLine(trades, startingBalance, "TOTAL")];
}

/**
 * Freqtrade `calculate_max_drawdown` (2025.10, after its drawdown fixes): trades sorted by close
 * date; the running peak starts at 0 (the starting balance), so a loss on the first trade is a
 * drawdown; the peak row is the first maximum up to and including the trough. Null without trades.
 */
export function maxDrawdown(
  trades: readonly MetricsTrade[],
  options: { value: "profitAbs" | "profitRatio"; startingBalance?: number; relative?: boolean },
): DrawdownResult | null {
  if (trades.length === 0) return null;
  const sorted = sortedByCloseDate(trades);
  const balance = options.startingBalance ?? 0;
  const cumulative: number[] = [];
  const high: number[] = [];
  const drawdown: number[] = [];
  const relative: number[] = [];
  let running = 0;
  let peak = Number.NEGATIVE_INFINITY;
  for (const trade of sorted) {
    running += options.value === "profitAbs" ? trade.profitAbs : trade.profitRatio;
    peak = Math.max(peak, running);
    const clampedPeak = Math.max(0, peak);
    cumulative.push(running);
    high.push(clampedPeak);
    drawdown.push(running - clampedPeak);
    relative.push(
      balance
        ? (balance + clampedPeak - (balance + running)) / (balance + clampedPeak)
        : (clampedPeak - running) / clampedPeak,
    );
  }
  // pandas idxmax/idxmin: first occurrence; NaN (0/0 without a balance) is skipped.
  let target = 0;
  if (options.relative === true) {
    let best = Number.NEGATIVE_INFINITY;
    relative.forEach((value, index) => {
      if (!Number.isNaN(value) && value > best) {
        best = value;
        target = index;
      }
    });
  } else {
    for (let index = 1; index < drawdown.length; index++) {
      if ((drawdown[index] as number) < (drawdown[target] as number)) target = index;
    }
  }
  let highIndex = 0;
  for (let index = 1; index <= target; index++) {
    if ((high[index] as number) > (high[highIndex] as number)) highIndex = index;
  }
  return {
    drawdownAbs: Math.abs(drawdown[target] as number),
    highDate: (sorted[highIndex] as MetricsTrade).closeDate,
    lowDate: (sorted[target] as MetricsTrade).closeDate,
    highValue: cumulative[highIndex] as number,
    lowValue: cumulative[target] as number,
    relativeAccountDrawdown: relative[target] as number,
  };
}

function days(minDate: number, maxDate: number): number {
  return Math.floor((maxDate - minDate) / 86_400_000);
}

/** Freqtrade `calculate_cagr`. */
export function cagr(daysPassed: number, startingBalance: number, finalBalance: number): number {
  if (finalBalance < 0) return 0;
  return (finalBalance / startingBalance) ** (1 / (daysPassed / 365)) - 1;
}

/** Freqtrade `calculate_expectancy`: [expectancy, expectancy ratio]. */
export function expectancy(trades: readonly MetricsTrade[]): [number, number] {
  if (trades.length === 0) return [0, 100];
  const wins = trades.filter((trade) => trade.profitAbs > 0).map((trade) => trade.profitAbs);
  const losses = trades.filter((trade) => trade.profitAbs < 0).map((trade) => trade.profitAbs);
  const averageWin = wins.length > 0 ? sum(wins) / wins.length : 0;
  const averageLoss = losses.length > 0 ? Math.abs(sum(losses)) / losses.length : 0;
  const winrate = wins.length / trades.length;
  const lossrate = losses.length / trades.length;
  const value = winrate * averageWin - lossrate * averageLoss;
  const ratio = averageLoss > 0 ? (1 + averageWin / averageLoss) * winrate - 1 : 100;
  return [value, ratio];
}

/** Freqtrade `calculate_sharpe`. */
export function sharpe(
  trades: readonly MetricsTrade[],
  minDate: number,
  maxDate: number,
  startingBalance: number,
): number {
  if (trades.length === 0 || minDate === maxDate) return 0;
  const returns = trades.map((trade) => trade.profitAbs / startingBalance);
  const expected = sum(returns) / Math.max(1, days(minDate, maxDate));
  const deviation = standardDeviation(returns);
  return deviation !== 0 ? (expected / deviation) * Math.sqrt(365) : -100;
}

/** Freqtrade `calculate_sortino` (downside deviation over losing trades only). */
export function sortino(
  trades: readonly MetricsTrade[],
  minDate: number,
  maxDate: number,
  startingBalance: number,
): number {
  if (trades.length === 0 || minDate === maxDate) return 0;
  const returns = trades.map((trade) => trade.profitAbs / startingBalance);
  const expected = sum(returns) / Math.max(1, days(minDate, maxDate));
  const downside = standardDeviation(
    trades.filter((trade) => trade.profitAbs < 0).map((trade) => trade.profitAbs / startingBalance),
  );
  return downside !== 0 && !Number.isNaN(downside) ? (expected / downside) * Math.sqrt(365) : -100;
}

/** Freqtrade `calculate_calmar`. */
export function calmar(
  trades: readonly MetricsTrade[],
  minDate: number,
  maxDate: number,
  startingBalance: number,
): number {
  if (trades.length === 0 || minDate === maxDate) return 0;
  const totalProfit = sum(trades.map((trade) => trade.profitAbs)) / startingBalance;
  const expected = (totalProfit / Math.max(1, days(minDate, maxDate))) * 100;
  const drawdown = maxDrawdown(trades, { value: "profitAbs", startingBalance })?.relativeAccountDrawdown ?? 0;
  return drawdown !== 0 ? (expected / drawdown) * Math.sqrt(365) : -100;
}

/** Freqtrade `calculate_sqn` (System Quality Number), rounded to 4 decimals. */
export function sqn(trades: readonly MetricsTrade[], startingBalance: number): number {
  if (trades.length === 0) return 0;
  const returns = trades.map((trade) => trade.profitAbs / startingBalance);
  const deviation = standardDeviation(returns, 1);
  if (deviation === 0 || Number.isNaN(deviation)) return -100;
  return pythonRound(Math.sqrt(trades.length) * (mean(returns) / deviation), 4);
}

/** Freqtrade `calc_streak`: longest runs of wins and losses (by profit ratio sign). */
export function streaks(trades: readonly MetricsTrade[]): [number, number] {
  let wins = 0;
  let losses = 0;
  let current = 0;
  let previous = "";
  for (const trade of trades) {
    const result = trade.profitRatio > 0 ? "win" : trade.profitRatio < 0 ? "loss" : "draw";
    current = result === previous ? current + 1 : 1;
    previous = result;
    if (result === "win") wins = Math.max(wins, current);
    if (result === "loss") losses = Math.max(losses, current);
  }
  return [wins, losses];
}

/** Freqtrade `generate_daily_stats`: profits summed per UTC day of close (empty days count as draws). */
export function dailyStats(trades: readonly MetricsTrade[]): {
  backtest_best_day: number;
  backtest_worst_day: number;
  backtest_best_day_abs: number;
  backtest_worst_day_abs: number;
  winning_days: number;
  draw_days: number;
  losing_days: number;
  daily_profit: [string, number][];
} {
  if (trades.length === 0) {
    return {
      backtest_best_day: 0,
      backtest_worst_day: 0,
      backtest_best_day_abs: 0,
      backtest_worst_day_abs: 0,
      winning_days: 0,
      draw_days: 0,
      losing_days: 0,
      daily_profit: [],
    };
  }
  const dayOf = (time: number): number => Math.floor(time / 86_400_000);
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  for (const trade of trades) {
    first = Math.min(first, dayOf(trade.closeDate));
    last = Math.max(last, dayOf(trade.closeDate));
  }
  const count = last - first + 1;
  const relative = new Array<number>(count).fill(0);
  const absolute = new Array<number>(count).fill(0);
  for (const trade of trades) {
    const index = dayOf(trade.closeDate) - first;
    relative[index] = (relative[index] as number) + trade.profitRatio;
    absolute[index] = (absolute[index] as number) + trade.profitAbs;
  }
  const rounded = absolute.map((value) => pythonRound(value, 10));
  return {
    backtest_best_day: Math.max(...relative),
    backtest_worst_day: Math.min(...relative),
    backtest_best_day_abs: Math.max(...rounded),
    backtest_worst_day_abs: Math.min(...rounded),
    winning_days: rounded.filter((value) => value > 0).length,
    draw_days: rounded.filter((value) => value === 0).length,
    losing_days: rounded.filter((value) => value < 0).length,
    daily_profit: rounded.map((value, index) => [
      new Date((first + index) * 86_400_000).toISOString().slice(0, 10),
      value,
    ]),
  };
}
