/**
 * Run configuration of a backtest (Freqtrade's config keys that matter to backtesting), with
 * defaults and validation. Strategy settings can be overridden per run (config > strategy).
 */
import { EngineInputError, describeValue } from "../errors";
import { isValidTimeframe, timeframeToSeconds } from "../timeframe";
import type { StrategySettings } from "../strategy/strategy";
import type { MarketsSnapshot } from "./markets";
import type { PrecisionMode } from "./precision";

export type TradingMode = "spot" | "margin" | "futures";

export interface BacktestConfig {
  /** Stake per trade in quote currency, or "unlimited" (split the wallet over `maxOpenTrades`). Required. */
  readonly stakeAmount: number | "unlimited";
  /** Starting balance (`dry_run_wallet`); default 1000. */
  readonly dryRunWallet?: number;
  /** Quote currency name for the export; default "USDT". */
  readonly stakeCurrency?: string;
  /** Share of the balance that may be staked (`tradable_balance_ratio`); default 0.99. */
  readonly tradableBalanceRatio?: number;
  /** Fixed capital instead of the wallet ratio (`available_capital`); default unset. */
  readonly availableCapital?: number;
  /** Overrides the strategy's `maxOpenTrades`; -1 = unlimited. Default: strategy value, else -1. */
  readonly maxOpenTrades?: number;
  /** Fee ratio charged on entry and exit. Default: worst of maker/taker of the first pair's market, else 0. */
  readonly fee?: number;
  /** ccxt markets snapshot for precision, limits, fees and leverage; default {} (no rounding, no limits). */
  readonly markets?: MarketsSnapshot;
  /**
   * Where trade price precision comes from: "data" = Freqtrade's backtest rule (tick size derived
   * per month from the candles' decimals, `get_tick_size_over_time`, falling back to the market);
   * "markets" = the markets snapshot. Default "data".
   */
  readonly pricePrecision?: "data" | "markets";
  /** How `precision` values in `markets` count; default "tickSize" (ccxt TICK_SIZE, e.g. Binance). */
  readonly precisionMode?: PrecisionMode;
  /** Default "spot". Shorts need "margin" or "futures" and `canShort`. */
  readonly tradingMode?: TradingMode;
  /** Apply the strategy's protections (`--enable-protections`); default false. */
  readonly enableProtections?: boolean;
  /** Lower timeframe for intra-candle resolution (`--timeframe-detail`); default none. */
  readonly timeframeDetail?: string;
  /** Backtest window in epoch ms (start inclusive, end inclusive); default: all candles. */
  readonly timerange?: { readonly start?: number; readonly end?: number };
  /** Use the remaining balance when it is below the stake (`amend_last_stake_amount`); default false. */
  readonly amendLastStakeAmount?: boolean;
  /** Default 0.5. */
  readonly lastStakeAmountMinRatio?: number;
  /** Reserve added to the minimum stake (`amount_reserve_percent`); default 0.05. */
  readonly amountReservePercent?: number;
  /** Fill gaps with the previous close and zero volume, as Freqtrade's loader does; default true. */
  readonly fillMissingCandles?: boolean;
  /** Per-run overrides of strategy settings (config > strategy, as Freqtrade's StrategyResolver). */
  readonly strategyOverrides?: Partial<
    Pick<
      StrategySettings,
      | "minimalRoi"
      | "stoploss"
      | "trailingStop"
      | "trailingStopPositive"
      | "trailingStopPositiveOffset"
      | "trailingOnlyOffsetIsReached"
      | "useExitSignal"
      | "exitProfitOnly"
      | "exitProfitOffset"
      | "ignoreRoiIfEntrySignal"
      | "positionAdjustmentEnable"
      | "maxEntryPositionAdjustment"
      | "orderTypes"
      | "unfilledTimeout"
      | "protections"
      | "canShort"
      | "useCustomStoploss"
    >
  >;
}

export interface ResolvedBacktestConfig {
  readonly stakeAmount: number | "unlimited";
  readonly dryRunWallet: number;
  readonly stakeCurrency: string;
  readonly tradableBalanceRatio: number;
  readonly availableCapital: number | null;
  readonly maxOpenTrades: number;
  readonly fee: number | null;
  readonly markets: MarketsSnapshot;
  readonly precisionMode: PrecisionMode;
  readonly pricePrecision: "data" | "markets";
  readonly tradingMode: TradingMode;
  readonly enableProtections: boolean;
  readonly timeframeDetail: string | null;
  readonly timerangeStart: number | null;
  readonly timerangeEnd: number | null;
  readonly amendLastStakeAmount: boolean;
  readonly lastStakeAmountMinRatio: number;
  readonly amountReservePercent: number;
  readonly fillMissingCandles: boolean;
}

function fail(field: string, expected: string, found: unknown): never {
  throw new EngineInputError({ field: `config.${field}`, expected, found: describeValue(found) });
}

function finite(field: string, value: unknown, check: (value: number) => boolean, expected: string): number {
  if (typeof value !== "number" || !Number.isFinite(value) || !check(value)) fail(field, expected, value);
  return value;
}

/** Defaults applied and every value checked; throws EngineInputError naming `config.<field>`. */
export function resolveBacktestConfig(
  config: BacktestConfig,
  strategy: Pick<StrategySettings, "maxOpenTrades" | "timeframe">,
): ResolvedBacktestConfig {
  if (typeof config !== "object" || config === null) fail("", "a configuration object", config);
  const stakeAmount =
    config.stakeAmount === "unlimited"
      ? "unlimited"
      : finite("stakeAmount", config.stakeAmount, (value) => value > 0, 'a positive number or "unlimited"');
  const maxOpenTrades = finite(
    "maxOpenTrades",
    config.maxOpenTrades ?? strategy.maxOpenTrades ?? -1,
    (value) => Number.isInteger(value) && value >= -1,
    "an integer of at least -1 (-1 = unlimited)",
  );
  if (stakeAmount === "unlimited" && maxOpenTrades <= 0) {
    fail("maxOpenTrades", 'a positive limit when stakeAmount is "unlimited"', maxOpenTrades);
  }
  const tradingMode = config.tradingMode ?? "spot";
  if (!["spot", "margin", "futures"].includes(tradingMode))
    fail("tradingMode", "spot, margin or futures", tradingMode);
  const precisionMode = config.precisionMode ?? "tickSize";
  if (!["tickSize", "decimalPlaces", "significantDigits"].includes(precisionMode)) {
    fail("precisionMode", "tickSize, decimalPlaces or significantDigits", precisionMode);
  }
  const timeframeDetail = config.timeframeDetail ?? null;
  if (timeframeDetail !== null) {
    if (!isValidTimeframe(timeframeDetail))
      fail("timeframeDetail", 'a timeframe such as "1m"', timeframeDetail);
    const main = timeframeToSeconds(strategy.timeframe);
    const detail = timeframeToSeconds(timeframeDetail);
    if (detail >= main || main % detail !== 0) {
      fail(
        "timeframeDetail",
        `a timeframe that divides the strategy timeframe ${strategy.timeframe}`,
        timeframeDetail,
      );
    }
  }
  const start = config.timerange?.start ?? null;
  const end = config.timerange?.end ?? null;
  if (start !== null) finite("timerange.start", start, () => true, "epoch milliseconds");
  if (end !== null) finite("timerange.end", end, () => true, "epoch milliseconds");
  if (start !== null && end !== null && end < start)
    fail("timerange.end", `at least timerange.start (${start})`, end);
  return {
    stakeAmount,
    dryRunWallet: finite(
      "dryRunWallet",
      config.dryRunWallet ?? 1000,
      (value) => value > 0,
      "a positive number",
    ),
    stakeCurrency: config.stakeCurrency ?? "USDT",
    tradableBalanceRatio: finite(
      "tradableBalanceRatio",
      config.tradableBalanceRatio ?? 0.99,
      (value) => value > 0 && value <= 1,
      "a ratio above 0 and at most 1",
    ),
    availableCapital:
      config.availableCapital === undefined
        ? null
        : finite("availableCapital", config.availableCapital, (value) => value > 0, "a positive number"),
    maxOpenTrades,
    fee:
      config.fee === undefined
        ? null
        : finite("fee", config.fee, (value) => value >= 0 && value < 1, "a ratio from 0 to below 1"),
    markets: config.markets ?? {},
    precisionMode,
    pricePrecision: config.pricePrecision === "markets" ? "markets" : "data",
    tradingMode,
    enableProtections: config.enableProtections ?? false,
    timeframeDetail,
    timerangeStart: start,
    timerangeEnd: end,
    amendLastStakeAmount: config.amendLastStakeAmount ?? false,
    lastStakeAmountMinRatio: config.lastStakeAmountMinRatio ?? 0.5,
    amountReservePercent: config.amountReservePercent ?? 0.05,
    fillMissingCandles: config.fillMissingCandles ?? true,
  };
}
