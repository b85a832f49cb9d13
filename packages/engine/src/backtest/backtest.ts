/**
 * The backtest loop with Freqtrade's semantics (optimize/backtesting.py, strategy/interface.py,
 * wallets.py): see reference/freqtrade-semantics.md §1. Signals of candle i act at the open of
 * candle i + 1; pairs with open trades are visited first at each timestamp; `max_open_trades` is
 * global; exits are collected in the order signal, stop, ROI, trailing.
 */
import { EngineInputError, StrategyRuntimeError } from "../errors";
import { analyzePair, type CandleSource } from "../strategy/analyze";
import type { CandleSeries, StrategyFrame } from "../strategy/frame";
import type { ParameterSchema } from "../strategy/parameters";
import {
  CALLBACK_NAMES,
  resolveParameters,
  type CallbackBase,
  type RunMode,
  type Strategy,
  type StrategySettings,
  type TradeSide,
} from "../strategy/strategy";
import { timeframeToMilliseconds, timeframeToMinutes } from "../timeframe";
import { prepareCandles } from "./candles";
import { resolveBacktestConfig, type BacktestConfig, type ResolvedBacktestConfig } from "./config";
import {
  amountPrecision,
  maxLeverage,
  maxPairStakeAmount,
  minPairStakeAmount,
  pricePrecision,
  worstCaseFee,
  type MarketRules,
} from "./markets";
import { cachedTickSizeOverTime, toPrecision, type PrecisionMode } from "./precision";
import { PairLocks, ProtectionManager, type PairLock } from "./protections";
import { nextExitCandidate, type ExitScan } from "./exit-scan";
import { MinHeap, NumberMinHeap } from "./min-heap";
import { BacktestOrder, BacktestTrade } from "./trade";

export interface BacktestOptions<S extends ParameterSchema = ParameterSchema> {
  readonly strategy: Strategy<S>;
  /** Parameter values (defaults fill the rest); validated. */
  readonly params?: Readonly<Record<string, unknown>>;
  readonly config: BacktestConfig;
  /** Candles at the strategy timeframe, per pair, including the startup candles. */
  readonly candles?: Readonly<Record<string, CandleSeries>>;
  /**
   * Loads a pair's candles when `candles` has none for it. Called once per pair, in `pairs` order,
   * just before that pair is analysed, so a caller need not hold every pair's input at once.
   */
  readonly loadCandles?: (pair: string) => CandleSeries;
  /** Whitelist order (decides who gets a free slot first); default the key order of `candles`. */
  readonly pairs?: readonly string[];
  /** Other pairs/timeframes: informative data, and the detail timeframe when `timeframeDetail` is set. */
  readonly candleSource?: CandleSource;
  /** Default "backtest". */
  readonly mode?: RunMode;
  /**
   * "auto" (default) picks the event-driven simulation when nothing in the run needs per-candle
   * state (see `eventDrivenEligible`), else the general candle-by-candle loop; "general" forces the
   * latter (both give the same results; tests compare them).
   */
  readonly simulation?: "auto" | "general";
  /**
   * Called as each phase starts — "analysis" (candle checks, indicators, signals per pair),
   * "simulation" (the trade loop and result assembly) — and with "done" at the end; lets a caller
   * time the phases (the engine reads no clock).
   */
  readonly onPhase?: (phase: "analysis" | "simulation" | "done") => void;
}

/** A closed trade, with Freqtrade's trade fields (camelCase; see `toFreqtradeTrade` for the export). */
export interface BacktestTradeResult {
  readonly tradeId: number;
  readonly pair: string;
  readonly stakeAmount: number;
  readonly maxStakeAmount: number;
  readonly amount: number;
  readonly openDate: number;
  readonly closeDate: number;
  readonly openRate: number;
  readonly closeRate: number;
  readonly feeOpen: number;
  readonly feeClose: number;
  /** Minutes. */
  readonly tradeDuration: number;
  readonly profitRatio: number;
  readonly profitAbs: number;
  readonly exitReason: string;
  readonly initialStopLossAbs: number;
  readonly initialStopLossRatio: number | null;
  readonly stopLossAbs: number;
  readonly stopLossRatio: number | null;
  readonly minRate: number;
  readonly maxRate: number;
  readonly isOpen: boolean;
  readonly enterTag: string | null;
  readonly leverage: number;
  readonly isShort: boolean;
  readonly fundingFees: number;
  readonly orders: readonly BacktestOrderResult[];
}

export interface BacktestOrderResult {
  readonly amount: number;
  readonly safePrice: number;
  readonly side: "buy" | "sell";
  readonly isEntry: boolean;
  readonly orderFilledTimestamp: number | null;
  readonly tag: string | null;
  readonly cost: number;
}

export interface BacktestRunResult {
  readonly strategy: string;
  readonly timeframe: string;
  readonly timeframeDetail: string | null;
  /** Closed trades in close order. */
  readonly trades: readonly BacktestTradeResult[];
  readonly pairs: readonly string[];
  /** First and last candle of the backtest window (after startup candles), epoch ms. */
  readonly startDate: number;
  readonly endDate: number;
  readonly startingBalance: number;
  readonly finalBalance: number;
  readonly rejectedSignals: number;
  readonly timedoutEntryOrders: number;
  readonly timedoutExitOrders: number;
  readonly canceledTradeEntries: number;
  readonly canceledEntryOrders: number;
  readonly replacedEntryOrders: number;
  readonly canceledExitOrders: number;
  readonly replacedExitOrders: number;
  readonly locks: readonly PairLock[];
  /** Per pair: first and last close of the window (for market change). */
  readonly pairCloses: Readonly<Record<string, { readonly first: number; readonly last: number }>>;
  readonly config: ResolvedBacktestConfig;
  /** Strategy settings in force (config overrides applied). */
  readonly settings: StrategySettings;
  readonly fee: number;
  /** Which simulation ran: the event-driven fast path or the general candle-by-candle loop. */
  readonly simulation: "event-driven" | "general";
}

type ExitType =
  | "exit_signal"
  | "custom_exit"
  | "partial_exit"
  | "stop_loss"
  | "trailing_stop_loss"
  | "liquidation"
  | "roi"
  | "force_exit";

interface ExitCheck {
  readonly type: ExitType;
  readonly reason: string;
}

const EXIT_SIGNAL: ExitCheck = { type: "exit_signal", reason: "exit_signal" };
const STOP_LOSS: ExitCheck = { type: "stop_loss", reason: "stop_loss" };
const ROI: ExitCheck = { type: "roi", reason: "roi" };
const TRAILING_STOP_LOSS: ExitCheck = { type: "trailing_stop_loss", reason: "trailing_stop_loss" };

/** One candle of a pair with the signals of the previous candle (Freqtrade's shifted row). */
interface Row {
  readonly pair: PairState;
  /** Frame index of the signal candle (the last closed main candle). */
  readonly signal: number;
  readonly date: number;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
}

/** What the simulation reads of an analysed pair (a StrategyFrame, or its trimmed copy). */
interface SimulationFrame {
  readonly date: Float64Array;
  readonly open: Float64Array;
  readonly high: Float64Array;
  readonly low: Float64Array;
  readonly close: Float64Array;
  readonly enterLong: Uint8Array;
  readonly exitLong: Uint8Array;
  readonly enterShort: Uint8Array;
  readonly exitShort: Uint8Array;
  tagAt(kind: "enter" | "exit", index: number): string | null;
}

/** Non-null tags of a tag column as sorted indexes and values. */
interface SparseTags {
  readonly indexes: Int32Array;
  readonly values: readonly string[];
}

/**
 * The tags of a trimmed frame: without callbacks the loop reads an entry tag only on a candle with
 * an entry signal and an exit tag only on one with an exit signal, so only those are kept.
 */
function sparseTags(frame: StrategyFrame, kind: "enter" | "exit"): SparseTags | null {
  if (!frame.hasTags(kind)) return null;
  const tags = kind === "enter" ? frame.enterTag : frame.exitTag;
  const long = kind === "enter" ? frame.enterLong : frame.exitLong;
  const short = kind === "enter" ? frame.enterShort : frame.exitShort;
  const indexes: number[] = [];
  const values: string[] = [];
  const length = long.length;
  for (let index = 0; index < length; index++) {
    if ((long[index] as number) + (short[index] as number) === 0) continue;
    const tag = tags[index];
    if (tag !== null && tag !== undefined) {
      indexes.push(index);
      values.push(tag);
    }
  }
  return { indexes: Int32Array.from(indexes), values };
}

function sparseTagAt(tags: SparseTags | null, index: number): string | null {
  if (tags === null) return null;
  const indexes = tags.indexes;
  let low = 0;
  let high = indexes.length - 1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    const value = indexes[middle] as number;
    if (value === index) return tags.values[middle] ?? null;
    if (value < index) low = middle + 1;
    else high = middle - 1;
  }
  return null;
}

/**
 * The columns the simulation needs (OHLC, dates, signals, tags), without the indicator columns and
 * volume, so those can be released after each pair's analysis (Freqtrade also trims the analysed
 * dataframe to these columns before its loop).
 */
function trimFrame(frame: StrategyFrame): SimulationFrame {
  const enterTags = sparseTags(frame, "enter");
  const exitTags = sparseTags(frame, "exit");
  return {
    date: frame.date,
    open: frame.open,
    high: frame.high,
    low: frame.low,
    close: frame.close,
    enterLong: frame.enterLong,
    exitLong: frame.exitLong,
    enterShort: frame.enterShort,
    exitShort: frame.exitShort,
    tagAt: (kind, index) => sparseTagAt(kind === "enter" ? enterTags : exitTags, index),
  };
}

interface PairState {
  readonly pair: string;
  readonly frame: SimulationFrame;
  /** The full analysed frame, kept only when strategy callbacks may read it. */
  readonly strategyFrame: StrategyFrame | null;
  /** First frame index visited by the loop (trimmed start + 1). */
  readonly firstRow: number;
  /** One past the last frame index. */
  readonly endRow: number;
  cursor: number;
  /** Month start → price tick derived from the candles (Freqtrade's get_tick_size_over_time). */
  readonly ticks: Map<number, number> | null;
  /** Lower-timeframe candles for `timeframeDetail`, with a cursor. */
  readonly detail: CandleSeries | null;
  detailCursor: number;
  /** The calendar month [start, end) of the last tick looked up in `ticks`, and that tick. */
  tickMonthStart: number;
  tickMonthEnd: number;
  tickOfMonth: number | undefined;
}

/** The price tick of the month of `date` (Freqtrade: per month start), cached per pair. */
function monthTick(state: PairState, date: number): number | undefined {
  if (!(date >= state.tickMonthStart && date < state.tickMonthEnd)) {
    const day = new Date(date);
    const year = day.getUTCFullYear();
    const month = day.getUTCMonth();
    state.tickMonthStart = Date.UTC(year, month, 1);
    state.tickMonthEnd = Date.UTC(year, month + 1, 1);
    state.tickOfMonth = state.ticks?.get(state.tickMonthStart);
  }
  return state.tickOfMonth;
}

const UNLIMITED = Number.POSITIVE_INFINITY;

interface SimulationCounters {
  rejectedSignals: number;
  timedoutEntryOrders: number;
  timedoutExitOrders: number;
  canceledTradeEntries: number;
  canceledEntryOrders: number;
  replacedEntryOrders: number;
  canceledExitOrders: number;
  replacedExitOrders: number;
}

interface SimulationOutcome {
  readonly closedTrades: readonly BacktestTrade[];
  readonly closedProfit: number;
  readonly counters: SimulationCounters;
  readonly locks: PairLocks;
}

/** A trade whose exit order was placed (and fills) at candle `index` of pair `pairIndex`. */
interface PendingExit {
  readonly time: number;
  readonly trade: BacktestTrade;
  readonly pairIndex: number;
  readonly index: number;
}

/** The event-driven run met something only the general loop handles (an order that does not fill). */
class EventDrivenFallback extends Error {
  constructor() {
    super("internal: the event-driven simulation does not apply to this run");
  }
}

/** Callbacks the event-driven path supports: called only when a trade opens, in the same order. */
const ENTRY_CALLBACKS: ReadonlySet<string> = new Set(["leverage", "customStakeAmount", "confirmTradeEntry"]);

/**
 * Whether the event-driven simulation gives the same results as the general loop for this run:
 * no callback acting on open trades, no protections, no detail timeframe, no position adjustment
 * callback, and contiguous candles on one time grid for every pair.
 */
function eventDrivenEligible(
  strategy: Strategy,
  settings: StrategySettings,
  config: ResolvedBacktestConfig,
  states: readonly PairState[],
  startDate: number,
  step: number,
): boolean {
  if (config.timeframeDetail !== null) return false;
  if (config.enableProtections && settings.protections.length > 0) return false;
  if (/[My]$/.test(strategy.timeframe)) return false;
  for (const name of CALLBACK_NAMES) {
    if (strategy[name] !== undefined && !ENTRY_CALLBACKS.has(name)) return false;
  }
  for (const state of states) {
    const first = state.frame.date[state.firstRow - 1] as number;
    const last = state.frame.date[state.endRow - 1] as number;
    if (last - first !== (state.endRow - state.firstRow) * step) return false;
    if ((first - startDate) % step !== 0) return false;
  }
  return true;
}

function applyOverrides(strategy: Strategy, config: BacktestConfig): StrategySettings {
  return { ...strategy, ...(config.strategyOverrides ?? {}) };
}

/** Run one backtest. Deterministic: identical inputs give identical results. */
export function runBacktest<S extends ParameterSchema>(options: BacktestOptions<S>): BacktestRunResult {
  const strategy = options.strategy as unknown as Strategy;
  const params = resolveParameters(strategy, options.params ?? {});
  const config = resolveBacktestConfig(options.config, strategy);
  const settings = applyOverrides(strategy, options.config);
  const pairs = options.pairs ?? Object.keys(options.candles ?? {});
  if (pairs.length === 0) {
    throw new EngineInputError({ field: "pairs", expected: "at least one pair", found: "none" });
  }
  if (new Set(pairs).size !== pairs.length) {
    throw new EngineInputError({ field: "pairs", expected: "distinct pairs", found: JSON.stringify(pairs) });
  }
  const mode = options.mode ?? "backtest";
  const timeframe = strategy.timeframe;
  const step = timeframeToMilliseconds(timeframe);
  const canShort = config.tradingMode !== "spot" && settings.canShort;
  const rules: MarketRules = {
    precisionMode: config.precisionMode,
    amountReservePercent: config.amountReservePercent,
    markets: config.markets,
    spot: config.tradingMode === "spot",
  };
  const fee = config.fee ?? worstCaseFee(rules, pairs[0] as string) ?? 0;
  const maxOpenTrades = config.maxOpenTrades === -1 ? UNLIMITED : config.maxOpenTrades;
  const roiTable = Object.entries(settings.minimalRoi)
    .map(([minutes, roi]) => [Number(minutes), roi] as const)
    .sort((left, right) => left[0] - right[0]);
  const timeframeMinutes = timeframeToMinutes(timeframe);
  const timeoutUnit = settings.unfilledTimeout.unit === "seconds" ? 1000 : 60_000;
  const entryTimeout = settings.unfilledTimeout.entry * timeoutUnit;
  const exitTimeout = settings.unfilledTimeout.exit * timeoutUnit;

  options.onPhase?.("analysis");
  // --- analyse each pair, trim startup candles -------------------------------------------------
  const states: PairState[] = [];
  const pairCloses: Record<string, { first: number; last: number }> = {};
  const hasCallbacks = CALLBACK_NAMES.some((name) => strategy[name] !== undefined);
  for (const pair of pairs) {
    const raw = options.candles?.[pair] ?? options.loadCandles?.(pair);
    if (raw === undefined) {
      throw new EngineInputError({
        pair,
        field: "candles",
        expected: "candles for every pair in pairs",
        found: "none",
      });
    }
    const candles = prepareCandles(pair, timeframe, raw, { fillMissing: config.fillMissingCandles });
    const analysed = analyzePair({
      strategy,
      params,
      pair,
      candles,
      mode,
      ...(options.candleSource === undefined ? {} : { candleSource: options.candleSource }),
    });
    // Callbacks receive the full frame (indicators included); without them only what the loop reads stays.
    const frame: SimulationFrame = hasCallbacks ? analysed : trimFrame(analysed);
    let start = 0;
    if (strategy.startupCandleCount > 0) start = strategy.startupCandleCount;
    else if (config.timerangeStart !== null) {
      while (start < frame.date.length && (frame.date[start] as number) < config.timerangeStart) start++;
    }
    let end = frame.date.length;
    if (config.timerangeEnd !== null) {
      while (end > start && (frame.date[end - 1] as number) > config.timerangeEnd) end--;
    }
    if (end - start <= 0) continue;
    const ticks =
      config.pricePrecision === "data"
        ? cachedTickSizeOverTime(frame.date, [frame.open, frame.high, frame.low, frame.close])
        : null;
    let detail: CandleSeries | null = null;
    if (config.timeframeDetail !== null) {
      const detailCandles = options.candleSource?.(pair, config.timeframeDetail);
      if (detailCandles !== undefined) {
        // Freqtrade loads detail candles without filling gaps.
        detail = prepareCandles(pair, config.timeframeDetail, detailCandles, { fillMissing: false });
      }
    }
    states.push({
      pair,
      frame,
      strategyFrame: hasCallbacks ? analysed : null,
      firstRow: start + 1,
      endRow: end,
      cursor: start + 1,
      ticks,
      detail,
      detailCursor: 0,
      tickMonthStart: Number.NaN,
      tickMonthEnd: Number.NaN,
      tickOfMonth: undefined,
    });
    pairCloses[pair] = { first: frame.close[start] as number, last: frame.close[end - 1] as number };
  }
  if (states.length === 0) {
    throw new EngineInputError({
      field: "candles",
      expected: `more candles than the ${strategy.startupCandleCount} startup candles in the timerange`,
      found: "no data left after removing startup candles",
    });
  }
  let startDate = Number.POSITIVE_INFINITY;
  let endDate = Number.NEGATIVE_INFINITY;
  for (const state of states) {
    startDate = Math.min(startDate, state.frame.date[state.firstRow - 1] as number);
    endDate = Math.max(endDate, state.frame.date[state.endRow - 1] as number);
  }

  options.onPhase?.("simulation");
  const eventDriven =
    options.simulation !== "general" &&
    eventDrivenEligible(strategy, settings, config, states, startDate, step);
  let simulation: "event-driven" | "general" = eventDriven ? "event-driven" : "general";
  let outcome: SimulationOutcome;
  try {
    outcome = simulate(eventDriven);
  } catch (error) {
    if (!(error instanceof EventDrivenFallback)) throw error;
    simulation = "general";
    outcome = simulate(false);
  }
  const { closedTrades, closedProfit, counters, locks } = outcome;
  const trades = closedTrades.map(toTradeResult);
  options.onPhase?.("done");
  return {
    strategy: strategy.name,
    timeframe,
    timeframeDetail: config.timeframeDetail,
    trades,
    pairs: states.map((state) => state.pair),
    startDate,
    endDate,
    startingBalance: config.dryRunWallet,
    finalBalance: config.dryRunWallet + closedProfit,
    ...counters,
    locks: locks.locks,
    pairCloses,
    config,
    settings,
    fee,
    simulation,
  };

  /** One run of the simulation over the analysed pairs, event-driven or candle by candle. */
  function simulate(useEventDriven: boolean): SimulationOutcome {
    for (const state of states) {
      state.cursor = state.firstRow;
      state.detailCursor = 0;
    }
    // --- state ------------------------------------------------------------------------------------
    const openTrades: BacktestTrade[] = [];
    const openByPair = new Map<string, BacktestTrade>();
    const closedTrades: BacktestTrade[] = [];
    let closedProfit = 0;
    let tradeIdCounter = 0;
    let orderIdCounter = 0;
    const counters = {
      rejectedSignals: 0,
      timedoutEntryOrders: 0,
      timedoutExitOrders: 0,
      canceledTradeEntries: 0,
      canceledEntryOrders: 0,
      replacedEntryOrders: 0,
      canceledExitOrders: 0,
      replacedExitOrders: 0,
    };
    const locks = new PairLocks(timeframe);
    const protections =
      config.enableProtections && settings.protections.length > 0
        ? new ProtectionManager(settings.protections, timeframe, locks)
        : null;

    // --- helpers ------------------------------------------------------------------------------------
    const callback = <T>(hook: string, row: Row, run: () => T): T => {
      try {
        return run();
      } catch (error) {
        throw new StrategyRuntimeError(
          { strategy: strategy.name, hook, pair: row.pair.pair, candleTime: row.date },
          error,
        );
      }
    };
    const base = (row: Row): CallbackBase => {
      const frame = row.pair.strategyFrame;
      // Frames are kept whenever the strategy has a callback, and only callbacks call this.
      if (frame === null) throw new Error(`internal: no analysed frame kept for ${row.pair.pair}`);
      return { params, pair: row.pair.pair, mode, currentTime: row.date, frame, candleIndex: row.signal };
    };

    // Wallet (wallets.py, backtest branch).
    const openStakes = (): number => {
      let total = 0;
      for (const trade of openTrades) total += trade.stakeAmount;
      return total;
    };
    const freeBalance = (): number => {
      let realized = 0;
      for (const trade of openTrades) realized += trade.realizedProfit;
      return config.dryRunWallet + closedProfit + realized - openStakes();
    };
    const availableStake = (): number => {
      const tied = openStakes();
      const free = freeBalance();
      const total =
        config.availableCapital !== null
          ? config.availableCapital + closedProfit
          : (tied + free) * config.tradableBalanceRatio;
      return Math.min(total - tied, free);
    };
    const tradeStakeAmount = (): number => {
      const available = availableStake();
      let stake: number;
      if (config.stakeAmount === "unlimited") {
        const possible = (available + openStakes()) / maxOpenTrades;
        stake = Math.min(possible, available);
      } else stake = config.stakeAmount;
      if (config.amendLastStakeAmount) {
        stake = available > stake * config.lastStakeAmountMinRatio ? Math.min(stake, available) : 0;
      }
      if (available < stake) return Number.NaN; // DependencyException: not enough balance
      return Math.max(stake, 0);
    };
    const validateStakeAmount = (
      stake: number,
      minStake: number | null,
      maxStake: number,
      tradeStake: number | null,
    ): number => {
      if (!stake) return 0;
      let maxAllowed = Math.min(maxStake, availableStake());
      if (tradeStake) maxAllowed = Math.min(maxAllowed, maxStake - tradeStake);
      if (minStake !== null && minStake > maxAllowed) return 0;
      let result = stake;
      if (minStake !== null && result < minStake) {
        if (result * 1.3 < minStake) return 0;
        result = minStake;
      }
      if (result > maxAllowed) result = maxAllowed;
      return result;
    };

    let openTradesVersion = 0;
    const removeOpenTrade = (trade: BacktestTrade): void => {
      openTradesVersion++;
      const index = openTrades.indexOf(trade);
      if (index >= 0) openTrades.splice(index, 1);
      if (openByPair.get(trade.pair) === trade) openByPair.delete(trade.pair);
    };

    const cancelOpenOrders = (trade: BacktestTrade): void => {
      for (let index = trade.orders.length - 1; index >= 0; index--) {
        const order = trade.orders[index] as BacktestOrder;
        if (!order.isOpen) continue;
        if (order.isEntry) counters.canceledEntryOrders++;
        else counters.canceledExitOrders++;
        trade.orders.splice(index, 1);
      }
    };

    const handleSimilarOrder = (
      trade: BacktestTrade,
      price: number,
      amount: number,
      isEntry: boolean,
    ): boolean => {
      if (trade.hasOpenOrders) {
        const existing = trade.openOrder(isEntry);
        if (existing !== undefined && existing.price === price && existing.amount === amount) return true;
        cancelOpenOrders(trade);
      }
      return false;
    };

    // ft_stoploss_adjust
    const stoplossAdjust = (
      trade: BacktestTrade,
      row: Row,
      currentRate: number,
      currentProfit: number,
      low: number | null,
      high: number | null,
      afterFill: boolean,
      knownBoundProfit?: number,
    ): void => {
      if (afterFill && !(settings.useCustomStoploss && strategy.customStoplossAfterFill)) return;
      let stopLossValue = settings.stoploss;
      trade.adjustStopLoss(trade.openRate, stopLossValue, true);
      const directionCorrect = trade.isShort
        ? trade.stopLoss > (high || currentRate)
        : trade.stopLoss < (low || currentRate);
      if (!directionCorrect) return;
      const bound = trade.isShort ? low : high;
      const boundProfit = !bound ? currentProfit : (knownBoundProfit ?? trade.calcProfitRatio(bound));
      if (settings.useCustomStoploss && directionCorrect && strategy.customStoploss !== undefined) {
        const customStoploss = strategy.customStoploss;
        const value = callback("customStoploss", row, () =>
          customStoploss({
            ...base(row),
            trade,
            currentRate: bound || currentRate,
            currentProfit: boundProfit,
            afterFill,
          }),
        );
        if (typeof value === "number" && value !== 0 && Number.isFinite(value)) {
          stopLossValue = value;
          trade.adjustStopLoss(bound || currentRate, stopLossValue, false, afterFill);
        }
      }
      if (settings.trailingStop && directionCorrect) {
        const offset = settings.trailingStopPositiveOffset;
        if (!(settings.trailingOnlyOffsetIsReached && boundProfit < offset)) {
          if (settings.trailingStopPositive !== null && boundProfit > offset) {
            stopLossValue = settings.trailingStopPositive;
          }
          trade.adjustStopLoss(bound || currentRate, stopLossValue);
        }
      }
    };

    const roiEntry = (tradeDuration: number): readonly [number, number] | null => {
      let found: readonly [number, number] | null = null;
      for (const entry of roiTable) {
        if (entry[0] <= tradeDuration) found = entry;
        else break;
      }
      return found;
    };

    // should_exit
    // The returned array is reused: consume it before the next call.
    const exitScratch: ExitCheck[] = [];
    const shouldExit = (trade: BacktestTrade, row: Row, enter: boolean, exitSignal: boolean): ExitCheck[] => {
      const exits = exitScratch;
      exits.length = 0;
      const currentRate = row.open;
      const currentProfit = trade.calcProfitRatio(currentRate);
      const bestRate = (trade.isShort ? row.low : row.high) || currentRate;
      const bestProfit = trade.calcProfitRatio(bestRate);
      trade.adjustMinMaxRates(row.high || currentRate, row.low || currentRate);

      // ft_stoploss_reached
      stoplossAdjust(
        trade,
        row,
        currentRate,
        currentProfit,
        row.low,
        row.high,
        false,
        bestRate === (trade.isShort ? row.low : row.high) ? bestProfit : undefined,
      );
      let stopType: ExitType | null = null;
      const stopHit = trade.isShort
        ? trade.stopLoss <= (row.high || currentRate)
        : trade.stopLoss >= (row.low || currentRate);
      if (stopHit) stopType = trade.isStopLossTrailing ? "trailing_stop_loss" : "stop_loss";

      let roiReached = false;
      if (!(enter && settings.ignoreRoiIfEntrySignal)) {
        const duration = Math.floor((row.date - trade.openDate) / 60_000);
        const entry = roiEntry(duration);
        roiReached = entry !== null && bestProfit > entry[1];
      }

      if (settings.useExitSignal) {
        let type: ExitType | null = null;
        let reason = "";
        if (exitSignal && !enter) type = "exit_signal";
        else if (strategy.customExit !== undefined) {
          const customExit = strategy.customExit;
          const custom = callback("customExit", row, () =>
            customExit({ ...base(row), trade, currentRate, currentProfit }),
          );
          if (custom) {
            type = "custom_exit";
            reason = typeof custom === "string" ? custom.slice(0, 255) : "";
          }
        }
        if (
          type === "custom_exit" ||
          (type === "exit_signal" && (!settings.exitProfitOnly || currentProfit > settings.exitProfitOffset))
        ) {
          exits.push(
            type === "exit_signal" && reason === ""
              ? EXIT_SIGNAL
              : { type, reason: reason === "" ? type : reason },
          );
        }
      }
      if (stopType === "stop_loss") exits.push(STOP_LOSS);
      if (roiReached) exits.push(ROI);
      if (stopType === "trailing_stop_loss") exits.push(TRAILING_STOP_LOSS);
      return exits;
    };

    const closeRateForStoploss = (
      row: Row,
      trade: BacktestTrade,
      type: ExitType,
      duration: number,
    ): number => {
      const side = trade.isShort ? -1 : 1;
      const leverage = trade.leverage === 0 ? 1 : trade.leverage;
      const stop = trade.stopLoss;
      if (trade.isShort ? stop < row.low : stop > row.high) return row.open;
      if (type === "trailing_stop_loss" && duration === 0) {
        let stopRate: number;
        if (
          !settings.useCustomStoploss &&
          settings.trailingStop &&
          settings.trailingOnlyOffsetIsReached &&
          settings.trailingStopPositive
        ) {
          stopRate =
            row.open *
            (1 +
              side * Math.abs(settings.trailingStopPositiveOffset) -
              side * Math.abs(settings.trailingStopPositive / leverage));
        } else {
          stopRate = row.open * (1 - side * Math.abs((trade.stopLossPct ?? 0) / leverage));
        }
        return trade.isShort ? Math.min(row.high, stopRate) : Math.max(row.low, stopRate);
      }
      return stop;
    };

    /** null = Freqtrade's ValueError ("Opening candle ROI on red candles"). */
    const closeRateForRoi = (row: Row, trade: BacktestTrade, duration: number): number | null => {
      const isShort = trade.isShort;
      const leverage = trade.leverage === 0 ? 1 : trade.leverage;
      const side = isShort ? -1 : 1;
      const entry = roiEntry(duration);
      if (entry === null) return row.open;
      const [minutes, roi] = entry;
      if (roi === -1 && minutes % timeframeMinutes === 0) return row.open;
      const roiRate = (trade.openRate * roi) / leverage;
      const openFeeRate = side * trade.openRate * (1 + side * trade.feeOpen);
      const closeRate = -(roiRate + openFeeRate) / (trade.feeClose - side * 1);
      const isNewRoi = isShort ? row.open < closeRate : row.open > closeRate;
      if (duration > 0 && duration === minutes && minutes % timeframeMinutes === 0 && isNewRoi)
        return row.open;
      if (
        duration === 0 &&
        ((isShort && row.open < row.close && trade.openRate > row.open && closeRate < row.close) ||
          (!isShort && row.open > row.close && trade.openRate < row.open && closeRate > row.close))
      ) {
        return null;
      }
      return Math.min(Math.max(closeRate, row.low), row.high);
    };

    const exitTrade = (
      trade: BacktestTrade,
      row: Row,
      closeRate: number,
      amount: number,
      reason: string,
    ): BacktestTrade | null => {
      orderIdCounter++;
      const rounded = toPrecision(
        amount || trade.amount,
        trade.precision.amount,
        trade.precision.mode,
        "truncate",
      );
      if (handleSimilarOrder(trade, closeRate, rounded, false)) return null;
      trade.orders.push(
        new BacktestOrder({
          id: orderIdCounter,
          side: trade.exitSide,
          isEntry: false,
          orderType: settings.orderTypes.exit,
          price: closeRate,
          amount: rounded,
          orderDate: row.date,
          tag: reason,
        }),
      );
      return trade;
    };

    const exitForSignal = (
      trade: BacktestTrade,
      row: Row,
      exit: ExitCheck,
      amount?: number,
    ): BacktestTrade | null => {
      const duration = Math.floor((row.date - trade.openDate) / 60_000);
      let reason = exit.reason;
      const exitAmount = amount ?? trade.amount;
      let closeRate: number;
      if (exit.type === "stop_loss" || exit.type === "trailing_stop_loss" || exit.type === "liquidation") {
        closeRate = closeRateForStoploss(row, trade, exit.type, duration);
      } else if (exit.type === "roi") {
        const rate = closeRateForRoi(row, trade, duration);
        if (rate === null) return null;
        closeRate = rate;
      } else closeRate = row.open;
      const currentProfit = trade.calcProfitRatio(closeRate);
      const orderType = settings.orderTypes.exit;
      if (exit.type === "exit_signal" || exit.type === "custom_exit" || exit.type === "partial_exit") {
        const tag = row.pair.frame.tagAt("exit", row.signal);
        if (exit.type === "exit_signal" && tag !== null && tag.length > 0) reason = tag;
        if (orderType === "limit") {
          if (strategy.customExitPrice !== undefined) {
            const customExitPrice = strategy.customExitPrice;
            const proposed = closeRate;
            const rate = callback("customExitPrice", row, () =>
              customExitPrice({
                ...base(row),
                trade,
                proposedRate: proposed,
                currentProfit,
                exitTag: reason,
              }),
            );
            if (typeof rate === "number" && Number.isFinite(rate) && rate !== closeRate) {
              closeRate = toPrecision(rate, trade.precision.price, trade.precision.priceMode, "round");
            }
          }
          closeRate = trade.isShort ? Math.min(closeRate, row.high) : Math.max(closeRate, row.low);
        }
      }
      if (
        exit.type !== "liquidation" &&
        exit.type !== "partial_exit" &&
        strategy.confirmTradeExit !== undefined
      ) {
        const confirmTradeExit = strategy.confirmTradeExit;
        const rate = closeRate;
        const confirmed = callback("confirmTradeExit", row, () =>
          confirmTradeExit({ ...base(row), trade, orderType, amount: exitAmount, rate, exitReason: reason }),
        );
        if (!confirmed) return null;
      }
      trade.exitReason = reason;
      return exitTrade(trade, row, closeRate, exitAmount, reason);
    };

    const closeTrade = (trade: BacktestTrade): void => {
      removeOpenTrade(trade);
      closedTrades.push(trade);
      closedProfit += trade.closeProfitAbs ?? 0;
    };

    const tryCloseOpenOrder = (order: BacktestOrder | undefined, trade: BacktestTrade, row: Row): boolean => {
      if (order === undefined || !(row.low <= order.price && order.price <= row.high)) return false;
      trade.fillOrder(order, row.date);
      if (!(!order.isEntry && order.amount === trade.amount)) {
        stoplossAdjust(trade, row, order.price, trade.calcProfitRatio(order.price), null, null, true);
      }
      return true;
    };

    const processExitOrder = (order: BacktestOrder, trade: BacktestTrade, row: Row): void => {
      if (!tryCloseOpenOrder(order, trade, row)) return;
      if (order.filled !== trade.amount) trade.recalcFromOrders();
      else {
        trade.close(order.price, row.date);
        closeTrade(trade);
      }
      protections?.run(trade.pair, row.date, trade.isShort ? "short" : "long", closedTrades);
    };

    const enterTrade = (
      row: Row,
      direction: TradeSide,
      stakeAmount?: number,
      trade?: BacktestTrade,
      requestedRate?: number,
      requestedStake?: number,
      entryTagOverride?: string | null,
    ): BacktestTrade | null => {
      const pair = row.pair.pair;
      const entryTag = entryTagOverride || row.pair.frame.tagAt("enter", row.signal);
      const orderType = settings.orderTypes.entry;
      const positionAdjust = trade !== undefined && requestedRate === undefined;
      let stake = stakeAmount || (trade?.stakeAmount ?? 0);
      let precisionPrice = pricePrecision(rules, pair);
      let precisionModePrice: PrecisionMode = config.precisionMode;
      if (row.pair.ticks !== null) {
        const tick = monthTick(row.pair, row.date);
        if (tick !== undefined) {
          precisionPrice = tick;
          precisionModePrice = "tickSize";
        }
      }
      let rate = row.open;
      // get_valid_entry_price_and_stake
      if (orderType === "limit") {
        if (strategy.customEntryPrice !== undefined) {
          const customEntryPrice = strategy.customEntryPrice;
          const proposed = rate;
          const newRate = callback("customEntryPrice", row, () =>
            customEntryPrice({
              ...base(row),
              trade: trade ?? null,
              proposedRate: proposed,
              entryTag,
              side: direction,
            }),
          );
          if (typeof newRate === "number" && Number.isFinite(newRate) && newRate !== rate) {
            rate = toPrecision(newRate, precisionPrice, precisionModePrice, "round");
          }
        }
        rate = direction === "short" ? Math.max(rate, row.low) : Math.min(rate, row.high);
      }
      let leverage = trade?.leverage ?? 1;
      if (trade === undefined) {
        stake = tradeStakeAmount();
        if (Number.isNaN(stake)) return null;
        const maximumLeverage = maxLeverage(rules, pair);
        if (config.tradingMode !== "spot" && strategy.leverage !== undefined) {
          const leverageCallback = strategy.leverage;
          leverage = callback("leverage", row, () =>
            leverageCallback({
              ...base(row),
              currentRate: row.open,
              proposedLeverage: 1,
              maxLeverage: maximumLeverage,
              entryTag,
              side: direction,
            }),
          );
        } else leverage = 1;
        leverage = Math.min(Math.max(Number.isFinite(leverage) ? leverage : 1, 1), maximumLeverage);
      }
      const minStake = minPairStakeAmount(rules, pair, rate, trade === undefined ? -0.05 : 0, leverage) ?? 0;
      const maxStake = maxPairStakeAmount(rules, pair, rate, leverage);
      if (trade === undefined && strategy.customStakeAmount !== undefined) {
        const customStakeAmount = strategy.customStakeAmount;
        const proposed = stake;
        const available = availableStake();
        const entryRate = rate;
        stake = callback("customStakeAmount", row, () =>
          customStakeAmount({
            ...base(row),
            currentRate: entryRate,
            proposedStake: proposed,
            minStake: minStake === 0 ? null : minStake,
            maxStake: Math.min(available, maxStake),
            leverage,
            entryTag,
            side: direction,
          }),
        );
        if (typeof stake !== "number" || !Number.isFinite(stake)) stake = proposed;
      }
      stake = validateStakeAmount(
        stake,
        minStake === 0 ? null : minStake,
        maxStake,
        trade?.stakeAmount ?? null,
      );
      if (requestedRate) rate = requestedRate;
      if (requestedStake) stake = requestedStake;
      if (!stake) return trade ?? null;
      if (!(stake && (!minStake || stake >= minStake))) return trade ?? null;
      orderIdCounter++;
      const precisionAmount = amountPrecision(rules, pair);
      const amount = toPrecision(
        (stake / rate) * leverage,
        precisionAmount,
        config.precisionMode,
        "truncate",
      );
      if (!amount) return trade ?? null;
      stake = (amount * rate) / leverage;
      if (!positionAdjust && strategy.confirmTradeEntry !== undefined) {
        const confirmTradeEntry = strategy.confirmTradeEntry;
        const entryRate = rate;
        const confirmed = callback("confirmTradeEntry", row, () =>
          confirmTradeEntry({ ...base(row), orderType, amount, rate: entryRate, entryTag, side: direction }),
        );
        if (!confirmed) return trade ?? null;
      }
      let target = trade;
      if (target === undefined) {
        tradeIdCounter++;
        target = new BacktestTrade({
          id: tradeIdCounter,
          pair,
          isShort: direction === "short",
          leverage,
          fee,
          enterTag: entryTag,
          openDate: row.date,
          openRate: rate,
          stakeAmount: stake,
          amountRequested: amount,
          precision: {
            amount: precisionAmount,
            price: precisionPrice,
            mode: config.precisionMode,
            priceMode: precisionModePrice,
          },
        });
        openTrades.push(target);
        openTradesVersion++;
        openByPair.set(pair, target);
      } else if (handleSimilarOrder(target, rate, amount, true)) {
        return null;
      }
      target.adjustStopLoss(target.openRate, settings.stoploss, true);
      const order = new BacktestOrder({
        id: orderIdCounter,
        side: target.entrySide,
        isEntry: true,
        orderType,
        price: rate,
        amount,
        orderDate: row.date,
        tag: entryTag,
      });
      target.orders.push(order);
      // A fill already recalculated the trade (Freqtrade recalculates again; the result is the same).
      if (!tryCloseOpenOrder(order, target, row)) target.recalcFromOrders();
      return target;
    };

    const checkAdjustTrade = (trade: BacktestTrade, row: Row): BacktestTrade => {
      const adjust = strategy.adjustTradePosition;
      if (adjust === undefined) return trade;
      const currentRate = row.open;
      const currentProfit = trade.calcProfitRatio(currentRate);
      const minStake = minPairStakeAmount(rules, trade.pair, currentRate, -0.1);
      const maxStake = maxPairStakeAmount(rules, trade.pair, currentRate);
      const available = availableStake();
      const response = callback("adjustTradePosition", row, () =>
        adjust({
          ...base(row),
          trade,
          currentRate,
          currentProfit,
          minStake,
          maxStake: Math.min(maxStake, available),
          currentEntryRate: currentRate,
          currentExitRate: currentRate,
          currentEntryProfit: currentProfit,
          currentExitProfit: currentProfit,
        }),
      );
      let stake: number | null = null;
      let tag: string | null = null;
      if (typeof response === "number") stake = response;
      else if (response !== null && response !== undefined) {
        stake = response.stake;
        tag = response.tag ?? null;
      }
      if (stake !== null && stake > 0) {
        let allowed = true;
        if (settings.maxEntryPositionAdjustment > -1) {
          allowed = trade.nrOfSuccessfulEntries <= settings.maxEntryPositionAdjustment;
        }
        if (allowed) {
          const adjusted = enterTrade(
            row,
            trade.isShort ? "short" : "long",
            stake,
            trade,
            undefined,
            undefined,
            tag,
          );
          if (adjusted !== null) return adjusted;
        }
      }
      if (stake !== null && stake < 0) {
        const amount = toPrecision(
          Math.abs((stake * trade.amount) / trade.stakeAmount),
          trade.precision.amount,
          trade.precision.mode,
          "truncate",
        );
        if (amount === 0) return trade;
        const remaining = (trade.amount - amount) * currentRate;
        if (minStake !== null && minStake !== 0 && remaining !== 0 && remaining < minStake) return trade;
        const exited = exitForSignal(
          trade,
          row,
          { type: "partial_exit", reason: tag ?? "partial_exit" },
          amount,
        );
        if (exited !== null) {
          const order = exited.orders[exited.orders.length - 1] as BacktestOrder;
          processExitOrder(order, exited, row);
          return exited;
        }
      }
      return trade;
    };

    const checkTradeExit = (trade: BacktestTrade, row: Row): void => {
      let current = trade;
      if (settings.positionAdjustmentEnable) current = checkAdjustTrade(current, row);
      if (!current.isOpen) return;
      const frame = row.pair.frame;
      const signal = row.signal;
      const enter = (current.isShort ? frame.enterShort[signal] : frame.enterLong[signal]) === 1;
      const exitSignal = (current.isShort ? frame.exitShort[signal] : frame.exitLong[signal]) === 1;
      const exits = shouldExit(current, row, enter, exitSignal);
      for (const exit of exits) {
        if (exitForSignal(current, row, exit) !== null) return;
      }
    };

    const checkOrderCancel = (trade: BacktestTrade, order: BacktestOrder, now: number): boolean | null => {
      const timeout = order.isEntry ? entryTimeout : exitTimeout;
      const timedOut = order.isOpen && order.orderDate < now - timeout;
      if (!timedOut) return null;
      if (order.isEntry) {
        counters.timedoutEntryOrders++;
        if (trade.nrOfSuccessfulEntries === 0) return true;
      } else counters.timedoutExitOrders++;
      trade.orders.splice(trade.orders.indexOf(order), 1);
      return false;
    };

    const checkOrderReplace = (trade: BacktestTrade, order: BacktestOrder, row: Row): boolean => {
      if (!(row.date > order.orderDate)) return false;
      const isEntry = order.isEntry;
      let requested: number | null = order.price;
      if (strategy.adjustOrderPrice !== undefined) {
        const adjustOrderPrice = strategy.adjustOrderPrice;
        const result = callback("adjustOrderPrice", row, () =>
          adjustOrderPrice({
            ...base(row),
            trade,
            order: { isEntry, price: order.price, amount: order.amount, orderDate: order.orderDate },
            proposedRate: row.open,
            currentOrderRate: order.price,
            entryTag: trade.enterTag,
            side: trade.isShort ? "short" : "long",
            isEntry,
          }),
        );
        requested = result === undefined ? order.price : result;
      }
      if (requested === order.price) return false;
      trade.orders.splice(trade.orders.indexOf(order), 1);
      if (isEntry) counters.canceledEntryOrders++;
      else counters.canceledExitOrders++;
      if (requested) {
        if (isEntry) {
          enterTrade(
            row,
            trade.isShort ? "short" : "long",
            undefined,
            trade,
            requested,
            (order.remaining * order.price) / trade.leverage,
          );
          counters.replacedEntryOrders++;
        } else {
          exitTrade(trade, row, requested, order.remaining, order.tag ?? "");
          counters.replacedExitOrders++;
        }
        return !trade.hasOpenOrders && isEntry && trade.nrOfSuccessfulEntries === 0;
      }
      return trade.nrOfSuccessfulEntries === 0;
    };

    const manageOpenOrders = (trade: BacktestTrade, row: Row): boolean => {
      if (!trade.hasOpenOrders) return false;
      for (const order of trade.orders.filter((candidate) => candidate.isOpen)) {
        const cancel = checkOrderCancel(trade, order, row.date);
        if (cancel === true) return true;
        if (cancel === null && checkOrderReplace(trade, order, row)) {
          counters.canceledTradeEntries++;
          return true;
        }
      }
      return false;
    };

    const tradeSlotAvailable = (): boolean => {
      if (maxOpenTrades <= 0 || openTrades.length < maxOpenTrades) return true;
      counters.rejectedSignals++;
      return false;
    };

    const backtestLoop = (row: Row, direction: TradeSide | null, canEnter: boolean): TradeSide | null => {
      const pair = row.pair.pair;
      const existing = openByPair.get(pair);
      const exitingDirection: TradeSide | null =
        existing === undefined ? null : existing.isShort ? "short" : "long";
      if (existing !== undefined && manageOpenOrders(existing, row)) removeOpenTrade(existing);
      if (
        canEnter &&
        direction !== null &&
        !openByPair.has(pair) &&
        !locks.isLocked(pair, row.date, direction)
      ) {
        if (tradeSlotAvailable()) enterTrade(row, direction);
      }
      const trade = openByPair.get(pair);
      if (trade !== undefined) {
        tryCloseOpenOrder(trade.openOrder(true), trade, row);
        if (trade.hasOpenPosition) checkTradeExit(trade, row);
        const exitOrder = trade.openOrder(false);
        if (exitOrder !== undefined) processExitOrder(exitOrder, trade, row);
      }
      if (exitingDirection !== null && !openByPair.has(pair)) return exitingDirection;
      return null;
    };

    const entryDirection = (frame: SimulationFrame, signal: number): TradeSide | null => {
      const enterLong = frame.enterLong[signal] === 1;
      const exitLong = frame.exitLong[signal] === 1;
      const enterShort = canShort && frame.enterShort[signal] === 1;
      const exitShort = canShort && frame.exitShort[signal] === 1;
      if (enterLong && !exitLong && !enterShort) return "long";
      if (enterShort && !exitShort && !enterLong) return "short";
      return null;
    };

    // One reusable row per pair: rows are never kept beyond the candle they describe.
    const scratchRows = new Map<PairState, { -readonly [K in keyof Row]: Row[K] }>();
    const makeRow = (state: PairState, index: number): Row => {
      let row = scratchRows.get(state);
      if (row === undefined) {
        row = { pair: state, signal: 0, date: 0, open: 0, high: 0, low: 0, close: 0 };
        scratchRows.set(state, row);
      }
      row.signal = index - 1;
      row.date = state.frame.date[index] as number;
      row.open = state.frame.open[index] as number;
      row.high = state.frame.high[index] as number;
      row.low = state.frame.low[index] as number;
      row.close = state.frame.close[index] as number;
      return row;
    };

    const detailRow = (state: PairState, index: number, signal: number): Row => {
      const detail = state.detail as CandleSeries;
      return {
        pair: state,
        signal,
        date: detail.date[index] as number,
        open: detail.open[index] as number,
        high: detail.high[index] as number,
        low: detail.low[index] as number,
        close: detail.close[index] as number,
      };
    };

    const runRow = (row: Row, direction: TradeSide | null, canEnter: boolean): void => {
      if (!canShort || direction === null) backtestLoop(row, direction, canEnter);
      else {
        // Freqtrade runs the loop a second time when a position closed and the signal is the other side.
        for (let attempt = 0; attempt < 2; attempt++) {
          const closed = backtestLoop(row, direction, canEnter);
          if (closed === null || closed === direction) break;
        }
      }
    };

    // --- event-driven timeline ---------------------------------------------------------------------------
    // Each trade's exit is found when it opens (scanning only candles where something can happen),
    // then the timeline jumps from event to event: exits due at a time first, in the order the trades
    // opened (Freqtrade visits pairs with open trades first), then entry signals of free pairs in
    // whitelist order. Only used when no callback, protection or detail timeframe needs per-candle state.
    const runEventDriven = (): void => {
      const count = states.length;
      const nextEntry = new Int32Array(count).fill(-1);
      // Free pairs by their next entry signal: key = candle slot on the common grid × pairs + pair
      // index, so time order then whitelist order is plain number order.
      const free = new NumberMinHeap();
      const keyTime = (key: number): number => startDate + Math.floor(key / count) * step;
      const pending = new MinHeap<PendingExit>(
        (left, right) => left.time - right.time || left.trade.id - right.trade.id,
      );
      // The next candle at or after `from` whose previous candle carries an entry signal.
      const findEntry = (state: PairState, from: number): number => {
        const frame = state.frame;
        const last = state.endRow - 1;
        if (!canShort) {
          const enterLong = frame.enterLong;
          const exitLong = frame.exitLong;
          for (let signal = from - 1; signal < last; signal++) {
            if (enterLong[signal] === 1 && exitLong[signal] !== 1) return signal + 1;
          }
          return -1;
        }
        for (let index = from; index <= last; index++) {
          if (entryDirection(frame, index - 1) !== null) return index;
        }
        return -1;
      };
      const schedule = (pairIndex: number, from: number): void => {
        const index = findEntry(states[pairIndex] as PairState, from);
        nextEntry[pairIndex] = index;
        if (index < 0) return;
        const time = (states[pairIndex] as PairState).frame.date[index] as number;
        free.push(((time - startDate) / step) * count + pairIndex);
      };
      const exitOrderFills = (trade: BacktestTrade, row: Row): boolean => {
        const order = trade.openOrder(false);
        if (order === undefined) return false;
        if (!(row.low <= order.price && order.price <= row.high)) throw new EventDrivenFallback();
        return true;
      };
      // The candle where the trade's exit order is placed (and fills), or -1 when it stays open.
      const findExit = (state: PairState, trade: BacktestTrade, entryIndex: number): number => {
        const row = makeRow(state, entryIndex);
        checkTradeExit(trade, row);
        if (exitOrderFills(trade, row)) return entryIndex;
        const scan = exitScan(state, trade, entryIndex);
        const end = state.endRow;
        let index = entryIndex + 1;
        while (index < end) {
          scan.stopLoss = trade.stopLoss;
          scan.maxRate = trade.maxRate;
          scan.minRate = trade.minRate;
          index = nextExitCandidate(state.frame, scan, index, end);
          trade.maxRate = scan.maxRate;
          trade.minRate = scan.minRate;
          if (index >= end) break;
          const candidate = makeRow(state, index);
          checkTradeExit(trade, candidate);
          if (exitOrderFills(trade, candidate)) return index;
          index++;
        }
        return -1;
      };
      const finishExit = (state: PairState, trade: BacktestTrade, index: number): void => {
        processExitOrder(trade.openOrder(false) as BacktestOrder, trade, makeRow(state, index));
        if (trade.isOpen) throw new EventDrivenFallback();
      };
      const enter = (pairIndex: number, index: number, direction: TradeSide): void => {
        const state = states[pairIndex] as PairState;
        const date = state.frame.date[index] as number;
        if (locks.isLocked(state.pair, date, direction) || !tradeSlotAvailable()) return;
        enterTrade(makeRow(state, index), direction);
        const trade = openByPair.get(state.pair);
        if (trade === undefined) return;
        if (trade.hasOpenOrders || !trade.hasOpenPosition) throw new EventDrivenFallback();
        const exitIndex = findExit(state, trade, index);
        if (exitIndex === index) finishExit(state, trade, index);
        else if (exitIndex > index) {
          pending.push({ time: state.frame.date[exitIndex] as number, trade, pairIndex, index: exitIndex });
        }
      };
      for (let pairIndex = 0; pairIndex < count; pairIndex++) {
        schedule(pairIndex, (states[pairIndex] as PairState).firstRow);
      }
      for (;;) {
        const nextExit = pending.peek();
        const now = Math.min(
          nextExit === undefined ? Number.POSITIVE_INFINITY : nextExit.time,
          free.size === 0 ? Number.POSITIVE_INFINITY : keyTime(free.peek()),
        );
        if (now === Number.POSITIVE_INFINITY) break;
        const canEnter = now !== endDate;
        // Pairs with open trades: exits due now, in the order the trades opened.
        while ((pending.peek()?.time ?? Number.POSITIVE_INFINITY) === now) {
          const event = pending.pop() as PendingExit;
          const state = states[event.pairIndex] as PairState;
          finishExit(state, event.trade, event.index);
          if (canShort && canEnter) {
            // Freqtrade runs the loop a second time when the signal is for the other side.
            const direction = entryDirection(state.frame, event.index - 1);
            if (direction !== null && direction !== (event.trade.isShort ? "short" : "long")) {
              enter(event.pairIndex, event.index, direction);
            }
          }
          if (!openByPair.has(state.pair)) schedule(event.pairIndex, event.index + 1);
        }
        // Then the other pairs in whitelist order.
        while (free.size > 0 && keyTime(free.peek()) === now) {
          const pairIndex = free.pop() % count;
          const state = states[pairIndex] as PairState;
          const index = nextEntry[pairIndex] as number;
          if (canEnter) enter(pairIndex, index, entryDirection(state.frame, index - 1) as TradeSide);
          if (!openByPair.has(state.pair)) schedule(pairIndex, index + 1);
        }
      }
    };

    /** Scan constants of a trade that just opened (see exit-scan.ts). */
    const exitScan = (state: PairState, trade: BacktestTrade, entryIndex: number): ExitScan => {
      const isShort = trade.isShort;
      const leverage = trade.leverage === 0 ? 1 : trade.leverage;
      const never = isShort ? Number.POSITIVE_INFINITY : 0;
      const always = isShort ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
      // A rate the best price must pass (long: exceed, short: undercut) for the profit ratio (rounded
      // to 8 decimals, as calcProfitRatio) to exceed `ratio`; 2e-8 margin over rounding and float error.
      const rateFor = (ratio: number): number => {
        const target = ratio - 2e-8;
        const rate = isShort
          ? (trade.openTradeValue * (1 - target / trade.leverage)) / (trade.amount * (1 + trade.feeClose))
          : (trade.openTradeValue * (1 + target / trade.leverage)) / (trade.amount * (1 - trade.feeClose));
        return Number.isNaN(rate) || !(trade.leverage > 0) ? always : rate;
      };
      const stopFactor = (ratio: number): number =>
        isShort ? 1 + Math.abs(ratio / leverage) : 1 - Math.abs(ratio / leverage);
      let trailFactor = never;
      let baseTrailFactor = never;
      let trailThreshold = always;
      if (settings.trailingStop) {
        // stoplossAdjust: below the offset the stop trails at `stoploss` (or not at all when only the
        // offset allows it); above it, at `trailingStopPositive` when set.
        baseTrailFactor = settings.trailingOnlyOffsetIsReached ? never : stopFactor(settings.stoploss);
        trailFactor = stopFactor(settings.stoploss);
        if (settings.trailingStopPositive !== null) {
          const positive = stopFactor(settings.trailingStopPositive);
          trailFactor = isShort ? Math.min(trailFactor, positive) : Math.max(trailFactor, positive);
        }
        trailThreshold = rateFor(settings.trailingStopPositiveOffset);
      }
      const roiStarts: number[] = [];
      const roiThresholds: number[] = [];
      for (const [minutes, roi] of roiTable) {
        // roiEntry(duration) applies this step from duration >= minutes, duration = floor(elapsed minutes).
        const wholeMinutes = Math.ceil(minutes);
        roiStarts.push(entryIndex + Math.max(Math.ceil((wholeMinutes * 60_000) / step), 0));
        roiThresholds.push(rateFor(roi));
      }
      const exitSignal = settings.useExitSignal
        ? isShort
          ? state.frame.exitShort
          : state.frame.exitLong
        : null;
      return {
        isShort,
        stopLoss: trade.stopLoss,
        trailFactor,
        baseTrailFactor,
        trailThreshold,
        roiStarts,
        roiThresholds,
        exitSignal,
        maxRate: trade.maxRate,
        minRate: trade.minRate,
      };
    };

    // --- timeline -------------------------------------------------------------------------------------
    const stateByPair = new Map(states.map((state) => [state.pair, state] as const));
    const detailStep = config.timeframeDetail === null ? 0 : timeframeToMilliseconds(config.timeframeDetail);
    const detailCount = detailStep === 0 ? 0 : step / detailStep;
    let visit: readonly PairState[] = states;
    let visitVersion = openTradesVersion;
    const visitOrder = (): readonly PairState[] => {
      if (openTrades.length === 0) return states;
      const ordered: PairState[] = [];
      const seen = new Set<string>();
      for (const trade of openTrades) {
        if (seen.has(trade.pair)) continue;
        seen.add(trade.pair);
        const state = stateByPair.get(trade.pair);
        if (state !== undefined) ordered.push(state);
      }
      for (const state of states) if (!seen.has(state.pair)) ordered.push(state);
      return ordered;
    };
    const runGeneral = (): void => {
      for (let now = startDate + step; now <= endDate; now += step) {
        if (visitVersion !== openTradesVersion) {
          // Pairs with open trades first (in the order the trades opened), then the whitelist.
          visitVersion = openTradesVersion;
          visit = visitOrder();
        }
        const isLastRow = now === endDate;
        if (detailStep === 0) {
          for (const state of visit) {
            const index = state.cursor;
            if (index >= state.endRow) continue;
            const date = state.frame.date[index] as number;
            if (date > now) continue;
            state.cursor = index + 1;
            const direction = entryDirection(state.frame, index - 1);
            if (direction === null && !openByPair.has(state.pair)) continue; // nothing can happen
            runRow(makeRow(state, index), direction, !isLastRow);
          }
          continue;
        }
        // timeframe-detail (Freqtrade's linear detail timeline): main candles with a signal or an open
        // trade are split into detail candles carrying the main signals; pairs are re-ordered (open
        // trades first) at every detail step; a pair whose trade closed inside the main candle waits
        // for the next main candle.
        const withOpenTrades = new Set(openTrades.map((trade) => trade.pair));
        const cache = new Map<
          PairState,
          { first: number; count: number; signal: number; direction: TradeSide | null }
        >();
        for (let detailIndex = 0; detailIndex < detailCount; detailIndex++) {
          const order = detailIndex === 0 ? visit : visitOrder();
          const detailTime = now + detailIndex * detailStep;
          for (const state of order) {
            let row: Row | null = null;
            let direction: TradeSide | null = null;
            if (detailIndex === 0) {
              const index = state.cursor;
              if (index >= state.endRow) continue;
              if ((state.frame.date[index] as number) > now) continue;
              state.cursor = index + 1;
              direction = entryDirection(state.frame, index - 1);
              row = makeRow(state, index);
              if ((direction !== null || openByPair.has(state.pair)) && state.detail !== null) {
                const detail = state.detail;
                const end = row.date + step;
                while (
                  state.detailCursor < detail.date.length &&
                  (detail.date[state.detailCursor] as number) < row.date
                ) {
                  state.detailCursor++;
                }
                let count = 0;
                while (
                  state.detailCursor + count < detail.date.length &&
                  (detail.date[state.detailCursor + count] as number) < end
                ) {
                  count++;
                }
                if (count > 0) {
                  cache.set(state, { first: state.detailCursor, count, signal: index - 1, direction });
                  row = detailRow(state, state.detailCursor, index - 1);
                }
              }
            } else {
              const cached = cache.get(state);
              if (cached === undefined || cached.count <= detailIndex) continue;
              row = detailRow(state, cached.first + detailIndex, cached.signal);
              direction = cached.direction;
            }
            const hasOpen = openByPair.has(state.pair);
            if (withOpenTrades.has(state.pair) && !hasOpen) continue;
            if (hasOpen) withOpenTrades.add(state.pair);
            if (direction === null && !hasOpen) continue;
            runRow(row, direction, detailTime !== endDate);
          }
        }
      }
    };

    if (useEventDriven) runEventDriven();
    else runGeneral();

    // --- force-exit what is left open --------------------------------------------------------------------
    // Freqtrade closes what is left pair by pair in whitelist order.
    for (const state of states) {
      const pair = state.pair;
      for (const trade of openTrades.filter((candidate) => candidate.pair === pair)) {
        if ((trade.hasOpenOrders && trade.nrOfSuccessfulEntries === 0) || !trade.hasOpenPosition) {
          removeOpenTrade(trade);
          continue;
        }
        const row = makeRow(state, state.endRow - 1);
        exitTrade(trade, row, row.open, trade.amount, "force_exit");
        trade.exitReason = "force_exit";
        processExitOrder(trade.orders[trade.orders.length - 1] as BacktestOrder, trade, row);
      }
    }
    return { closedTrades, closedProfit, counters, locks };
  }
}

function toTradeResult(trade: BacktestTrade): BacktestTradeResult {
  const closeDate = trade.closeDate ?? trade.openDate;
  return {
    tradeId: trade.id,
    pair: trade.pair,
    stakeAmount: trade.stakeAmount,
    maxStakeAmount: trade.maxStakeAmount,
    amount: trade.amount,
    openDate: trade.openDate,
    closeDate,
    openRate: trade.openRate,
    closeRate: trade.closeRate ?? Number.NaN,
    feeOpen: trade.feeOpen,
    feeClose: trade.feeClose,
    tradeDuration: Math.floor((closeDate - trade.openDate) / 60_000),
    profitRatio: trade.closeProfit ?? 0,
    profitAbs: trade.closeProfitAbs ?? 0,
    exitReason: trade.exitReason ?? "",
    initialStopLossAbs: trade.initialStopLoss,
    initialStopLossRatio: trade.initialStopLossPct,
    stopLossAbs: trade.stopLoss,
    stopLossRatio: trade.stopLossPct,
    minRate: trade.minRate,
    maxRate: trade.maxRate,
    isOpen: false,
    enterTag: trade.enterTag,
    leverage: trade.leverage,
    isShort: trade.isShort,
    fundingFees: trade.fundingFees,
    orders: orderResults(trade),
  };
}

function orderResults(trade: BacktestTrade): BacktestOrderResult[] {
  const results: BacktestOrderResult[] = [];
  for (const order of trade.orders) {
    if (order.isOpen) continue;
    results.push({
      amount: order.filled,
      safePrice: order.price,
      side: order.side,
      isEntry: order.isEntry,
      orderFilledTimestamp: order.filledDate,
      tag: order.tag,
      cost: order.filled * order.price * (1 + trade.feeOpen),
    });
  }
  return results;
}
