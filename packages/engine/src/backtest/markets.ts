/**
 * The part of a ccxt `markets` snapshot the engine uses: precision, limits, fees, leverage.
 * Mirrors Freqtrade's `Exchange.get_min_pair_stake_amount`, `get_max_pair_stake_amount`,
 * `get_max_leverage` and `get_fee` (worst of maker/taker).
 */
import type { PrecisionMode } from "./precision";

interface MinMax {
  readonly min?: number | null;
  readonly max?: number | null;
}

/** One market from ccxt's `exchange.markets` (extra keys are ignored). */
export interface MarketInfo {
  readonly symbol?: string;
  readonly base?: string;
  readonly quote?: string;
  readonly precision?: { readonly amount?: number | null; readonly price?: number | null };
  readonly limits?: {
    readonly amount?: MinMax;
    readonly cost?: MinMax;
    readonly price?: MinMax;
    readonly leverage?: MinMax;
  };
  readonly taker?: number | null;
  readonly maker?: number | null;
  readonly contractSize?: number | null;
}

/** Symbol → market, as ccxt's `exchange.markets`. */
export type MarketsSnapshot = Readonly<Record<string, MarketInfo>>;

/** Freqtrade's DEFAULT_AMOUNT_RESERVE_PERCENT. */
export const DEFAULT_AMOUNT_RESERVE_PERCENT = 0.05;

export interface MarketRules {
  readonly precisionMode: PrecisionMode;
  readonly amountReservePercent: number;
  readonly markets: MarketsSnapshot;
  readonly spot: boolean;
}

export function amountPrecision(rules: MarketRules, pair: string): number | null {
  return rules.markets[pair]?.precision?.amount ?? null;
}

export function pricePrecision(rules: MarketRules, pair: string): number | null {
  return rules.markets[pair]?.precision?.price ?? null;
}

function contractsToAmount(rules: MarketRules, pair: string, value: number): number {
  const size = rules.markets[pair]?.contractSize;
  return rules.spot || size === null || size === undefined ? value : value * size;
}

/** Freqtrade `_get_stake_amount_limit(..., "min")`; null when the market has no limits. */
export function minPairStakeAmount(
  rules: MarketRules,
  pair: string,
  price: number,
  stoploss: number,
  leverage = 1,
): number | null {
  const limits = rules.markets[pair]?.limits;
  if (limits === undefined) return null;
  const marginReserve = 1 + rules.amountReservePercent;
  let stoplossReserve = Math.abs(stoploss) !== 1 ? marginReserve / (1 - Math.abs(stoploss)) : 1.5;
  stoplossReserve = Math.max(Math.min(stoplossReserve, 1.5), 1);
  let result = Number.NEGATIVE_INFINITY;
  const costMin = limits.cost?.min;
  if (costMin !== null && costMin !== undefined)
    result = Math.max(result, contractsToAmount(rules, pair, costMin) * stoplossReserve);
  const amountMin = limits.amount?.min;
  if (amountMin !== null && amountMin !== undefined) {
    result = Math.max(result, contractsToAmount(rules, pair, amountMin) * price * marginReserve);
  }
  if (result === Number.NEGATIVE_INFINITY) return null;
  return result / (leverage === 0 ? 1 : leverage);
}

/** Freqtrade `_get_stake_amount_limit(..., "max")`; Infinity when unlimited. */
export function maxPairStakeAmount(rules: MarketRules, pair: string, price: number, leverage = 1): number {
  const limits = rules.markets[pair]?.limits;
  if (limits === undefined) return Number.POSITIVE_INFINITY;
  let result = Number.POSITIVE_INFINITY;
  let any = false;
  const costMax = limits.cost?.max;
  if (costMax !== null && costMax !== undefined) {
    result = Math.min(result, contractsToAmount(rules, pair, costMax));
    any = true;
  }
  const amountMax = limits.amount?.max;
  if (amountMax !== null && amountMax !== undefined) {
    result = Math.min(result, contractsToAmount(rules, pair, amountMax) * price);
    any = true;
  }
  if (!any) return Number.POSITIVE_INFINITY;
  return result / (leverage === 0 ? 1 : leverage);
}

/** 1 in spot; otherwise the market's leverage limit (1 when unknown). */
export function maxLeverage(rules: MarketRules, pair: string): number {
  if (rules.spot) return 1;
  return rules.markets[pair]?.limits?.leverage?.max ?? 1;
}

/** Worst case of maker and taker fee for the pair (Freqtrade's backtest default); null if unknown. */
export function worstCaseFee(rules: MarketRules, pair: string): number | null {
  const market = rules.markets[pair];
  if (market === undefined) return null;
  const fees = [market.maker, market.taker].filter((fee): fee is number => typeof fee === "number");
  return fees.length === 0 ? null : Math.max(...fees);
}
