/**
 * The strategy interface: what a TradAI strategy declares and implements. It mirrors Freqtrade's
 * `IStrategy` (INTERFACE_VERSION 3) so strategies port over one to one; see docs/strategy-authoring.md
 * for the attribute/callback mapping. The same strategy object runs in backtest, dry-run and live:
 * hooks are synchronous, pure functions of their arguments.
 */
import { StrategyValidationError, describeValue, strategyProblem, type StrategyProblem } from "../errors";
import { isValidTimeframe, timeframeToSeconds } from "../timeframe";
import type { StrategyFrame } from "./frame";
import {
  mergeParameterValues,
  validateParameterDefinition,
  validateParameterValues,
  type ParameterDefinition,
  type ParameterSchema,
  type ParameterValues,
} from "./parameters";

/** Where a strategy runs. */
export type RunMode = "backtest" | "dry-run" | "live" | "hyperopt";

/** Long or short. */
export type TradeSide = "long" | "short";

export type OrderType = "limit" | "market";

// ---------------------------------------------------------------------------------------------
// Protections (Freqtrade's plugins/protections). Durations: give either minutes or candles.
// ---------------------------------------------------------------------------------------------

interface ProtectionDurations {
  /** Lock duration in minutes (`stop_duration`); default 60. */
  readonly stopDuration?: number;
  /** Lock duration in candles of the strategy timeframe (`stop_duration_candles`); wins over minutes. */
  readonly stopDurationCandles?: number;
}

interface ProtectionLookback {
  /** Window of closed trades looked at, in minutes (`lookback_period`); default 60. */
  readonly lookbackPeriod?: number;
  /** Same in candles (`lookback_period_candles`); wins over minutes. */
  readonly lookbackPeriodCandles?: number;
}

/** Locks a pair for a while after each of its trades closes. */
export interface CooldownPeriodProtection extends ProtectionDurations {
  readonly method: "CooldownPeriod";
}

/** Locks after `tradeLimit` stop-loss exits (losing ones) within the lookback. */
export interface StoplossGuardProtection extends ProtectionDurations, ProtectionLookback {
  readonly method: "StoplossGuard";
  /** Default 10. */
  readonly tradeLimit?: number;
  /** Lock only the pair that triggered it; default false (global lock). */
  readonly onlyPerPair?: boolean;
  /** Lock only the side that triggered it; default false. */
  readonly onlyPerSide?: boolean;
  /** Stop exits with a profit ratio above this do not count; default 0. */
  readonly requiredProfit?: number;
}

/** Locks everything when the drawdown of trades closed within the lookback exceeds the limit. */
export interface MaxDrawdownProtection extends ProtectionDurations, ProtectionLookback {
  readonly method: "MaxDrawdown";
  /** Default 1. */
  readonly tradeLimit?: number;
  /** Default 0.2 (ratio). */
  readonly maxAllowedDrawdown?: number;
}

/** Locks a pair whose trades within the lookback made less than `requiredProfit` in total. */
export interface LowProfitPairsProtection extends ProtectionDurations, ProtectionLookback {
  readonly method: "LowProfitPairs";
  /** Default 1. */
  readonly tradeLimit?: number;
  /** Default 0. */
  readonly requiredProfit?: number;
  /** Default false. */
  readonly onlyPerSide?: boolean;
}

export type ProtectionConfig =
  CooldownPeriodProtection | StoplossGuardProtection | MaxDrawdownProtection | LowProfitPairsProtection;

// ---------------------------------------------------------------------------------------------
// Contexts and callbacks
// ---------------------------------------------------------------------------------------------

/** Passed to populate hooks. */
export interface PopulateContext<S extends ParameterSchema = ParameterSchema> {
  /** Parameter values in force (defaults overlaid with the run's values). */
  readonly params: ParameterValues<S>;
  readonly pair: string;
  readonly timeframe: string;
  readonly mode: RunMode;
}

/** A read-only view of an open trade, as callbacks see it. */
export interface TradeView {
  readonly id: number;
  readonly pair: string;
  readonly isShort: boolean;
  /** Open time (epoch ms): the open time of the candle the entry filled in. */
  readonly openDate: number;
  /** Average entry price. */
  readonly openRate: number;
  /** Position size in base currency. */
  readonly amount: number;
  /** Stake (margin) in quote currency. */
  readonly stakeAmount: number;
  readonly leverage: number;
  readonly enterTag: string | null;
  /** Current stop price (absolute). */
  readonly stopLoss: number;
  readonly initialStopLoss: number;
  readonly maxRate: number;
  readonly minRate: number;
  readonly feeOpen: number;
  readonly feeClose: number;
  readonly nrOfSuccessfulEntries: number;
  readonly nrOfSuccessfulExits: number;
  /** Profit ratio if closed at `rate` now (fees included), as Freqtrade's `calc_profit_ratio`. */
  calcProfitRatio(rate: number): number;
  /** Absolute profit if closed at `rate` now (fees included). */
  calcProfit(rate: number): number;
}

/** Fields shared by every callback's argument. */
export interface CallbackBase<S extends ParameterSchema = ParameterSchema> {
  readonly params: ParameterValues<S>;
  readonly pair: string;
  readonly mode: RunMode;
  /** Time of the decision (epoch ms): in backtests the open time of the current candle. */
  readonly currentTime: number;
  /** The analysed frame of the pair (indicators and signals). */
  readonly frame: StrategyFrame;
  /** Index in `frame` of the last closed candle; never look past it. */
  readonly candleIndex: number;
}

export interface CustomStoplossArgs<S extends ParameterSchema = ParameterSchema> extends CallbackBase<S> {
  readonly trade: TradeView;
  readonly currentRate: number;
  readonly currentProfit: number;
  readonly afterFill: boolean;
}

export interface CustomExitArgs<S extends ParameterSchema = ParameterSchema> extends CallbackBase<S> {
  readonly trade: TradeView;
  readonly currentRate: number;
  readonly currentProfit: number;
}

export interface CustomStakeAmountArgs<S extends ParameterSchema = ParameterSchema> extends CallbackBase<S> {
  readonly currentRate: number;
  readonly proposedStake: number;
  readonly minStake: number | null;
  readonly maxStake: number;
  readonly leverage: number;
  readonly entryTag: string | null;
  readonly side: TradeSide;
}

export interface CustomEntryPriceArgs<S extends ParameterSchema = ParameterSchema> extends CallbackBase<S> {
  readonly trade: TradeView | null;
  readonly proposedRate: number;
  readonly entryTag: string | null;
  readonly side: TradeSide;
}

export interface CustomExitPriceArgs<S extends ParameterSchema = ParameterSchema> extends CallbackBase<S> {
  readonly trade: TradeView;
  readonly proposedRate: number;
  readonly currentProfit: number;
  readonly exitTag: string | null;
}

export interface ConfirmTradeEntryArgs<S extends ParameterSchema = ParameterSchema> extends CallbackBase<S> {
  readonly orderType: OrderType;
  readonly amount: number;
  readonly rate: number;
  readonly entryTag: string | null;
  readonly side: TradeSide;
}

export interface ConfirmTradeExitArgs<S extends ParameterSchema = ParameterSchema> extends CallbackBase<S> {
  readonly trade: TradeView;
  readonly orderType: OrderType;
  readonly amount: number;
  readonly rate: number;
  readonly exitReason: string;
}

export interface AdjustTradePositionArgs<
  S extends ParameterSchema = ParameterSchema,
> extends CallbackBase<S> {
  readonly trade: TradeView;
  readonly currentRate: number;
  readonly currentProfit: number;
  readonly minStake: number | null;
  readonly maxStake: number;
  readonly currentEntryRate: number;
  readonly currentExitRate: number;
  readonly currentEntryProfit: number;
  readonly currentExitProfit: number;
}

/** Positive stake: buy more; negative: partial exit of that stake; null/undefined/0: nothing. */
export type AdjustTradePositionResult =
  number | { readonly stake: number; readonly tag?: string | null } | null | undefined;

export interface AdjustOrderPriceArgs<S extends ParameterSchema = ParameterSchema> extends CallbackBase<S> {
  readonly trade: TradeView;
  /** The open (unfilled) order. */
  readonly order: {
    readonly isEntry: boolean;
    readonly price: number;
    readonly amount: number;
    readonly orderDate: number;
  };
  /** The candle open. */
  readonly proposedRate: number;
  readonly currentOrderRate: number;
  readonly entryTag: string | null;
  readonly side: TradeSide;
  readonly isEntry: boolean;
}

export interface LeverageArgs<S extends ParameterSchema = ParameterSchema> extends CallbackBase<S> {
  readonly currentRate: number;
  readonly proposedLeverage: number;
  readonly maxLeverage: number;
  readonly entryTag: string | null;
  readonly side: TradeSide;
}

/** Optional callbacks (Freqtrade's names in snake_case). All synchronous. */
export interface StrategyCallbacks<S extends ParameterSchema = ParameterSchema> {
  /** Return a new stop as a (negative) ratio below `currentRate`; null/undefined keeps the stop. */
  customStoploss?(args: CustomStoplossArgs<S>): number | null | undefined;
  /** Return a reason string (or true for "custom_exit") to exit at the candle open. */
  customExit?(args: CustomExitArgs<S>): string | boolean | null | undefined;
  customStakeAmount?(args: CustomStakeAmountArgs<S>): number;
  /** Limit entries only: a different entry price. */
  customEntryPrice?(args: CustomEntryPriceArgs<S>): number;
  /** Limit exits only: a different exit price for signal/custom exits. */
  customExitPrice?(args: CustomExitPriceArgs<S>): number;
  confirmTradeEntry?(args: ConfirmTradeEntryArgs<S>): boolean;
  confirmTradeExit?(args: ConfirmTradeExitArgs<S>): boolean;
  adjustTradePosition?(args: AdjustTradePositionArgs<S>): AdjustTradePositionResult;
  /**
   * Called on each new candle for an unfilled limit order (Freqtrade's `adjust_order_price`):
   * return `currentOrderRate` (or undefined) to keep it, another price to replace it, null to cancel it.
   */
  adjustOrderPrice?(args: AdjustOrderPriceArgs<S>): number | null | undefined;
  /** Futures/margin only; the result is capped to [1, exchange max]. Default 1. */
  leverage?(args: LeverageArgs<S>): number;
}

export const CALLBACK_NAMES = [
  "customStoploss",
  "customExit",
  "customStakeAmount",
  "customEntryPrice",
  "customExitPrice",
  "confirmTradeEntry",
  "confirmTradeExit",
  "adjustTradePosition",
  "adjustOrderPrice",
  "leverage",
] as const satisfies readonly (keyof StrategyCallbacks)[];

// ---------------------------------------------------------------------------------------------
// Informative timeframes / pairs
// ---------------------------------------------------------------------------------------------

/**
 * Another timeframe (and optionally pair) merged into the main frame before `populateIndicators`,
 * like Freqtrade's `@informative` decorator + `merge_informative_pair`: only closed informative
 * candles are visible (no look-ahead), values forward-filled.
 */
export interface InformativeDefinition<S extends ParameterSchema = ParameterSchema> {
  /** Informative timeframe; must be at least the strategy timeframe. */
  readonly timeframe: string;
  /** Pair to merge; default the pair being analysed. "{base}" and "{quote}" are replaced from that pair. */
  readonly pair?: string;
  /** Compute indicators on the informative frame before merging. */
  populate?(frame: StrategyFrame, context: PopulateContext<S>): void;
  /**
   * Merged column names; placeholders {column}, {timeframe}, {base}, {quote} (lower case).
   * Default "{column}_{timeframe}" for the same pair, "{base}_{quote}_{column}_{timeframe}" for another.
   */
  readonly format?: string;
  /** Forward-fill merged values; default true. */
  readonly ffill?: boolean;
}

// ---------------------------------------------------------------------------------------------
// Settings, definition, strategy
// ---------------------------------------------------------------------------------------------

export interface OrderTypes {
  /** Default "limit". */
  readonly entry: OrderType;
  /** Default "limit". */
  readonly exit: OrderType;
  /** Default "market". */
  readonly stoploss: OrderType;
}

export interface UnfilledTimeout {
  /** Entry orders are cancelled after this long; default 10. */
  readonly entry: number;
  /** Exit orders are re-placed after this long; default 10. */
  readonly exit: number;
  /** Default "minutes". */
  readonly unit: "minutes" | "seconds";
}

/** Plain settings of a strategy (everything except hooks). Config values override them per run. */
export interface StrategySettings {
  readonly name: string;
  /** Free-form version label; default "1". */
  readonly version: string;
  readonly description: string;
  /** Strategy timeframe, e.g. "5m". */
  readonly timeframe: string;
  /** Candles needed before indicators are valid (`startup_candle_count`); default 0. */
  readonly startupCandleCount: number;
  /** Minutes since open → minimum profit ratio (`minimal_roi`); default {} (no ROI exits). */
  readonly minimalRoi: Readonly<Record<string, number>>;
  /** Stop ratio, negative (`stoploss`), e.g. -0.10. */
  readonly stoploss: number;
  /** Default false. */
  readonly trailingStop: boolean;
  /** Default null (trail at `stoploss` distance). */
  readonly trailingStopPositive: number | null;
  /** Default 0. */
  readonly trailingStopPositiveOffset: number;
  /** Default false. */
  readonly trailingOnlyOffsetIsReached: boolean;
  /** Whether `customStoploss` is called; default true when the callback exists. */
  readonly useCustomStoploss: boolean;
  /**
   * Also call `customStoploss` right after each entry fill (with `afterFill: true`), allowing the stop
   * to move either way then. Freqtrade does this when the callback declares `after_fill`; default false.
   */
  readonly customStoplossAfterFill: boolean;
  /** Default false. */
  readonly canShort: boolean;
  /** Default true. */
  readonly useExitSignal: boolean;
  /** Default false. */
  readonly exitProfitOnly: boolean;
  /** Default 0. */
  readonly exitProfitOffset: number;
  /** Default false. */
  readonly ignoreRoiIfEntrySignal: boolean;
  /** Default null: the run configuration decides; -1 means unlimited. */
  readonly maxOpenTrades: number | null;
  /** Default false. */
  readonly positionAdjustmentEnable: boolean;
  /** Extra entries allowed per trade; -1 = unlimited (default). */
  readonly maxEntryPositionAdjustment: number;
  /** Default []. Applied in backtests only when the run enables protections. */
  readonly protections: readonly ProtectionConfig[];
  readonly orderTypes: OrderTypes;
  readonly unfilledTimeout: UnfilledTimeout;
}

/** The required hooks. */
export interface StrategyHooks<S extends ParameterSchema = ParameterSchema> {
  /** Add indicator columns with `frame.set(name, values)`. Runs once over the whole history in backtests. */
  populateIndicators(frame: StrategyFrame, context: PopulateContext<S>): void;
  /** Set `frame.enterLong[i] = 1` (and/or `enterShort`, `enterTag[i]`). */
  populateEntryTrend(frame: StrategyFrame, context: PopulateContext<S>): void;
  /** Set `frame.exitLong[i] = 1` (and/or `exitShort`, `exitTag[i]`). */
  populateExitTrend(frame: StrategyFrame, context: PopulateContext<S>): void;
}

/** A normalised strategy, as returned by `defineStrategy`. */
export interface Strategy<S extends ParameterSchema = ParameterSchema>
  extends StrategySettings, StrategyHooks<S>, StrategyCallbacks<S> {
  readonly parameters: S;
  readonly informative: readonly InformativeDefinition<S>[];
}

type Mutable<T> = { -readonly [K in keyof T]?: T[K] };

/** What an author writes: name, timeframe, stoploss and the three hooks are required. */
export type StrategyDefinition<S extends ParameterSchema = ParameterSchema> = Omit<
  Mutable<StrategySettings>,
  "orderTypes" | "unfilledTimeout" | "minimalRoi" | "protections"
> &
  StrategyHooks<S> &
  StrategyCallbacks<S> & {
    name: string;
    timeframe: string;
    stoploss: number;
    minimalRoi?: Readonly<Record<string | number, number>>;
    protections?: readonly ProtectionConfig[];
    orderTypes?: Partial<OrderTypes>;
    unfilledTimeout?: Partial<UnfilledTimeout>;
    parameters?: S;
    informative?: readonly InformativeDefinition<S>[];
  };

function normaliseRoi(roi: Readonly<Record<string | number, number>> | undefined): Record<string, number> {
  const entries = Object.entries(roi ?? {}).map(([key, value]) => [String(key), value] as const);
  entries.sort((left, right) => Number(left[0]) - Number(right[0]));
  return Object.fromEntries(entries);
}

/**
 * Build a strategy: fills defaults (documented on `StrategySettings`), validates everything and
 * throws `StrategyValidationError` listing every problem. The result is frozen.
 */
export function defineStrategy<const S extends ParameterSchema = Record<never, ParameterDefinition>>(
  definition: StrategyDefinition<S>,
): Strategy<S> {
  const strategy: Strategy<S> = {
    ...definition,
    name: definition.name,
    version: definition.version ?? "1",
    description: definition.description ?? "",
    timeframe: definition.timeframe,
    startupCandleCount: definition.startupCandleCount ?? 0,
    minimalRoi: Object.freeze(normaliseRoi(definition.minimalRoi)),
    stoploss: definition.stoploss,
    trailingStop: definition.trailingStop ?? false,
    trailingStopPositive: definition.trailingStopPositive ?? null,
    trailingStopPositiveOffset: definition.trailingStopPositiveOffset ?? 0,
    trailingOnlyOffsetIsReached: definition.trailingOnlyOffsetIsReached ?? false,
    useCustomStoploss: definition.useCustomStoploss ?? definition.customStoploss !== undefined,
    customStoplossAfterFill: definition.customStoplossAfterFill ?? false,
    canShort: definition.canShort ?? false,
    useExitSignal: definition.useExitSignal ?? true,
    exitProfitOnly: definition.exitProfitOnly ?? false,
    exitProfitOffset: definition.exitProfitOffset ?? 0,
    ignoreRoiIfEntrySignal: definition.ignoreRoiIfEntrySignal ?? false,
    maxOpenTrades: definition.maxOpenTrades ?? null,
    positionAdjustmentEnable: definition.positionAdjustmentEnable ?? false,
    maxEntryPositionAdjustment: definition.maxEntryPositionAdjustment ?? -1,
    protections: Object.freeze([...(definition.protections ?? [])]),
    orderTypes: Object.freeze({
      entry: definition.orderTypes?.entry ?? "limit",
      exit: definition.orderTypes?.exit ?? "limit",
      stoploss: definition.orderTypes?.stoploss ?? "market",
    }),
    unfilledTimeout: Object.freeze({
      entry: definition.unfilledTimeout?.entry ?? 10,
      exit: definition.unfilledTimeout?.exit ?? 10,
      unit: definition.unfilledTimeout?.unit ?? "minutes",
    }),
    parameters: Object.freeze({ ...(definition.parameters ?? ({} as S)) }),
    informative: Object.freeze([...(definition.informative ?? [])]),
  };
  const problems = validateStrategy(strategy);
  if (problems.length > 0) throw new StrategyValidationError(String(definition.name), problems);
  return Object.freeze(strategy);
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value);
}

function checkNumber(
  problems: StrategyProblem[],
  field: string,
  value: unknown,
  rule: { min?: number; max?: number; minExclusive?: boolean; maxExclusive?: boolean; integer?: boolean },
  expected: string,
): void {
  const bad =
    !isFiniteNumber(value) ||
    (rule.integer === true && !Number.isInteger(value)) ||
    (rule.min !== undefined && (rule.minExclusive === true ? value <= rule.min : value < rule.min)) ||
    (rule.max !== undefined && (rule.maxExclusive === true ? value >= rule.max : value > rule.max));
  if (bad) problems.push(strategyProblem(field, expected, describeValue(value)));
}

function checkBoolean(problems: StrategyProblem[], field: string, value: unknown): void {
  if (typeof value !== "boolean") problems.push(strategyProblem(field, "a boolean", describeValue(value)));
}

function validateProtection(field: string, protection: unknown): StrategyProblem[] {
  const problems: StrategyProblem[] = [];
  if (typeof protection !== "object" || protection === null) {
    return [strategyProblem(field, "a protection object", describeValue(protection))];
  }
  const record = protection as Record<string, unknown>;
  const methods = ["CooldownPeriod", "StoplossGuard", "MaxDrawdown", "LowProfitPairs"];
  if (!methods.includes(record["method"] as string)) {
    problems.push(
      strategyProblem(`${field}.method`, `one of ${methods.join(", ")}`, describeValue(record["method"])),
    );
  }
  for (const key of [
    "stopDuration",
    "stopDurationCandles",
    "lookbackPeriod",
    "lookbackPeriodCandles",
    "tradeLimit",
  ]) {
    if (record[key] !== undefined) {
      checkNumber(
        problems,
        `${field}.${key}`,
        record[key],
        { min: 0, integer: key !== "stopDuration" && key !== "lookbackPeriod" },
        "a non-negative number",
      );
    }
  }
  if (record["maxAllowedDrawdown"] !== undefined) {
    checkNumber(
      problems,
      `${field}.maxAllowedDrawdown`,
      record["maxAllowedDrawdown"],
      { min: 0, max: 1 },
      "a ratio from 0 to 1",
    );
  }
  if (record["requiredProfit"] !== undefined) {
    checkNumber(problems, `${field}.requiredProfit`, record["requiredProfit"], {}, "a finite number");
  }
  for (const key of ["onlyPerPair", "onlyPerSide"]) {
    if (record[key] !== undefined) checkBoolean(problems, `${field}.${key}`, record[key]);
  }
  return problems;
}

/** Every problem in a strategy's settings, parameter schema, informative list and hooks. */
export function validateStrategy(strategy: Strategy): StrategyProblem[] {
  const problems: StrategyProblem[] = [];
  if (typeof strategy.name !== "string" || !/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(strategy.name)) {
    problems.push(
      strategyProblem(
        "name",
        "a name of letters, digits, _ . - (not starting with a digit)",
        describeValue(strategy.name),
      ),
    );
  }
  const timeframeValid = typeof strategy.timeframe === "string" && isValidTimeframe(strategy.timeframe);
  if (!timeframeValid) {
    problems.push(
      strategyProblem(
        "timeframe",
        'a timeframe such as "1m", "5m", "1h", "1d"',
        describeValue(strategy.timeframe),
      ),
    );
  }
  checkNumber(
    problems,
    "startupCandleCount",
    strategy.startupCandleCount,
    { min: 0, integer: true },
    "a non-negative integer",
  );
  checkNumber(
    problems,
    "stoploss",
    strategy.stoploss,
    { min: -1, max: 0, maxExclusive: true },
    "a negative ratio from -1 to below 0",
  );
  for (const [minutes, roi] of Object.entries(strategy.minimalRoi)) {
    if (!/^[0-9]+(\.[0-9]+)?$/.test(minutes)) {
      problems.push(
        strategyProblem(`minimalRoi.${minutes}`, "a key of non-negative minutes", JSON.stringify(minutes)),
      );
    }
    checkNumber(problems, `minimalRoi.${minutes}`, roi, { min: -1 }, "a ratio of at least -1");
  }
  checkBoolean(problems, "trailingStop", strategy.trailingStop);
  if (strategy.trailingStopPositive !== null) {
    checkNumber(
      problems,
      "trailingStopPositive",
      strategy.trailingStopPositive,
      { min: 0, max: 1, minExclusive: true },
      "a ratio above 0 and at most 1, or null",
    );
  }
  checkNumber(
    problems,
    "trailingStopPositiveOffset",
    strategy.trailingStopPositiveOffset,
    { min: 0, max: 1 },
    "a ratio from 0 to 1",
  );
  checkBoolean(problems, "trailingOnlyOffsetIsReached", strategy.trailingOnlyOffsetIsReached);
  if (
    strategy.trailingOnlyOffsetIsReached &&
    strategy.trailingStopPositive !== null &&
    isFiniteNumber(strategy.trailingStopPositiveOffset) &&
    strategy.trailingStopPositiveOffset <= strategy.trailingStopPositive
  ) {
    // Freqtrade's config validation (_validate_trailing_stoploss) rejects this combination.
    problems.push(
      strategyProblem(
        "trailingStopPositiveOffset",
        `greater than trailingStopPositive (${strategy.trailingStopPositive}) when trailingOnlyOffsetIsReached is set`,
        String(strategy.trailingStopPositiveOffset),
      ),
    );
  }
  for (const key of [
    "useCustomStoploss",
    "canShort",
    "useExitSignal",
    "exitProfitOnly",
    "ignoreRoiIfEntrySignal",
    "positionAdjustmentEnable",
  ] as const) {
    checkBoolean(problems, key, strategy[key]);
  }
  checkNumber(problems, "exitProfitOffset", strategy.exitProfitOffset, {}, "a finite number");
  if (strategy.maxOpenTrades !== null) {
    checkNumber(
      problems,
      "maxOpenTrades",
      strategy.maxOpenTrades,
      { min: -1, integer: true },
      "an integer of at least -1 (-1 = unlimited), or null",
    );
  }
  checkNumber(
    problems,
    "maxEntryPositionAdjustment",
    strategy.maxEntryPositionAdjustment,
    { min: -1, integer: true },
    "an integer of at least -1 (-1 = unlimited)",
  );
  if (!Array.isArray(strategy.protections)) {
    problems.push(strategyProblem("protections", "an array", describeValue(strategy.protections)));
  } else {
    strategy.protections.forEach((protection, index) =>
      problems.push(...validateProtection(`protections.${index}`, protection)),
    );
  }
  for (const key of ["entry", "exit", "stoploss"] as const) {
    const value = strategy.orderTypes[key];
    if (value !== "limit" && value !== "market") {
      problems.push(strategyProblem(`orderTypes.${key}`, '"limit" or "market"', describeValue(value)));
    }
  }
  checkNumber(
    problems,
    "unfilledTimeout.entry",
    strategy.unfilledTimeout.entry,
    { min: 0 },
    "a non-negative number",
  );
  checkNumber(
    problems,
    "unfilledTimeout.exit",
    strategy.unfilledTimeout.exit,
    { min: 0 },
    "a non-negative number",
  );
  if (strategy.unfilledTimeout.unit !== "minutes" && strategy.unfilledTimeout.unit !== "seconds") {
    problems.push(
      strategyProblem(
        "unfilledTimeout.unit",
        '"minutes" or "seconds"',
        describeValue(strategy.unfilledTimeout.unit),
      ),
    );
  }
  for (const [name, definition] of Object.entries(strategy.parameters)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      problems.push(strategyProblem(`parameters.${name}`, "an identifier name", JSON.stringify(name)));
    }
    problems.push(...validateParameterDefinition(name, definition));
  }
  strategy.informative.forEach((informative, index) => {
    const field = `informative.${index}`;
    if (typeof informative.timeframe !== "string" || !isValidTimeframe(informative.timeframe)) {
      problems.push(
        strategyProblem(
          `${field}.timeframe`,
          'a timeframe such as "1h"',
          describeValue(informative.timeframe),
        ),
      );
    } else if (
      timeframeValid &&
      timeframeToSeconds(informative.timeframe) < timeframeToSeconds(strategy.timeframe)
    ) {
      problems.push(
        strategyProblem(
          `${field}.timeframe`,
          `a timeframe of at least the strategy timeframe ${strategy.timeframe}`,
          JSON.stringify(informative.timeframe),
        ),
      );
    }
    if (
      informative.pair !== undefined &&
      (typeof informative.pair !== "string" || !informative.pair.includes("/"))
    ) {
      problems.push(
        strategyProblem(
          `${field}.pair`,
          'a pair such as "BTC/USDT" or "{base}/BTC"',
          describeValue(informative.pair),
        ),
      );
    }
    if (informative.populate !== undefined && typeof informative.populate !== "function") {
      problems.push(strategyProblem(`${field}.populate`, "a function", describeValue(informative.populate)));
    }
  });
  for (const hook of ["populateIndicators", "populateEntryTrend", "populateExitTrend"] as const) {
    if (typeof strategy[hook] !== "function")
      problems.push(strategyProblem(hook, "a function", describeValue(strategy[hook])));
  }
  for (const callback of CALLBACK_NAMES) {
    const value: unknown = strategy[callback];
    if (value !== undefined && typeof value !== "function") {
      problems.push(strategyProblem(callback, "a function or undefined", describeValue(value)));
    }
  }
  return problems;
}

/** Every problem with `params` for this strategy (unknown names, types, ranges); empty when valid. */
export function validateParameters(
  strategy: Strategy,
  params: Readonly<Record<string, unknown>>,
): StrategyProblem[] {
  if (typeof params !== "object" || params === null || Array.isArray(params)) {
    return [strategyProblem("parameters", "an object of parameter values", describeValue(params))];
  }
  return validateParameterValues(strategy.parameters, params);
}

/** Defaults overlaid with `params`; throws `StrategyValidationError` with every problem. */
export function resolveParameters<S extends ParameterSchema>(
  strategy: Strategy<S>,
  params: Readonly<Record<string, unknown>> = {},
): ParameterValues<S> {
  const problems = validateParameters(strategy as unknown as Strategy, params);
  if (problems.length > 0) throw new StrategyValidationError(strategy.name, problems);
  return mergeParameterValues(strategy.parameters, params);
}

/** A parameter as plain data. */
export interface ParameterDescription {
  readonly name: string;
  readonly type: ParameterDefinition["type"];
  readonly default: number | string | boolean;
  readonly low?: number;
  readonly high?: number;
  readonly decimals?: number;
  readonly choices?: readonly (number | string | boolean)[];
  readonly space: ParameterDefinition["space"];
  readonly optimize: boolean;
  readonly description?: string;
}

/** Everything about a strategy as JSON-safe data (no functions), for registries and UIs. */
export interface StrategyDescription extends StrategySettings {
  readonly parameters: readonly ParameterDescription[];
  /** Optional callbacks the strategy implements, by name. */
  readonly callbacks: readonly (typeof CALLBACK_NAMES)[number][];
  readonly informative: readonly { readonly timeframe: string; readonly pair: string | null }[];
}

export function describeParameter(name: string, definition: ParameterDefinition): ParameterDescription {
  return {
    name,
    type: definition.type,
    default: definition.default,
    ...(definition.type === "int" || definition.type === "decimal" || definition.type === "real"
      ? { low: definition.low, high: definition.high }
      : {}),
    ...(definition.type === "decimal" ? { decimals: definition.decimals } : {}),
    ...(definition.type === "categorical" ? { choices: [...definition.choices] } : {}),
    space: definition.space,
    optimize: definition.optimize,
    ...(definition.description === undefined ? {} : { description: definition.description }),
  };
}

/** Plain metadata of a strategy (settings, parameters, implemented callbacks, informative data). */
export function describeStrategy(strategy: Strategy): StrategyDescription {
  return {
    name: strategy.name,
    version: strategy.version,
    description: strategy.description,
    timeframe: strategy.timeframe,
    startupCandleCount: strategy.startupCandleCount,
    minimalRoi: { ...strategy.minimalRoi },
    stoploss: strategy.stoploss,
    trailingStop: strategy.trailingStop,
    trailingStopPositive: strategy.trailingStopPositive,
    trailingStopPositiveOffset: strategy.trailingStopPositiveOffset,
    trailingOnlyOffsetIsReached: strategy.trailingOnlyOffsetIsReached,
    useCustomStoploss: strategy.useCustomStoploss,
    customStoplossAfterFill: strategy.customStoplossAfterFill,
    canShort: strategy.canShort,
    useExitSignal: strategy.useExitSignal,
    exitProfitOnly: strategy.exitProfitOnly,
    exitProfitOffset: strategy.exitProfitOffset,
    ignoreRoiIfEntrySignal: strategy.ignoreRoiIfEntrySignal,
    maxOpenTrades: strategy.maxOpenTrades,
    positionAdjustmentEnable: strategy.positionAdjustmentEnable,
    maxEntryPositionAdjustment: strategy.maxEntryPositionAdjustment,
    protections: strategy.protections.map((protection) => ({ ...protection })),
    orderTypes: { ...strategy.orderTypes },
    unfilledTimeout: { ...strategy.unfilledTimeout },
    parameters: Object.entries(strategy.parameters).map(([name, definition]) =>
      describeParameter(name, definition),
    ),
    callbacks: CALLBACK_NAMES.filter((name) => typeof strategy[name] === "function"),
    informative: strategy.informative.map((informative) => ({
      timeframe: informative.timeframe,
      pair: informative.pair ?? null,
    })),
  };
}
