/**
 * A simulated trade and its orders: Freqtrade's LocalTrade/Order (persistence/trade_model.py)
 * reduced to what backtesting needs. Trade values use exact decimal products where Freqtrade uses
 * FtPrecise; per-candle profit checks use floats rounded to 8 decimals as Freqtrade does.
 */
import type { TradeView } from "../strategy/strategy";
import {
  decimalAdd,
  decimalDiv,
  decimalMul,
  decimalSub,
  decimalToNumber,
  exactValueWithFee,
  round8,
  shortDecimalPlaces,
  smallExactProduct,
  toDecimal,
  toPrecision,
  type PrecisionMode,
} from "./precision";

export class BacktestOrder {
  readonly id: number;
  /** "buy" or "sell". */
  readonly side: "buy" | "sell";
  readonly isEntry: boolean;
  readonly orderType: "limit" | "market";
  readonly price: number;
  readonly amount: number;
  readonly orderDate: number;
  readonly tag: string | null;
  filled = 0;
  isOpen = true;
  filledDate: number | null = null;

  constructor(fields: {
    id: number;
    side: "buy" | "sell";
    isEntry: boolean;
    orderType: "limit" | "market";
    price: number;
    amount: number;
    orderDate: number;
    tag: string | null;
  }) {
    this.id = fields.id;
    this.side = fields.side;
    this.isEntry = fields.isEntry;
    this.orderType = fields.orderType;
    this.price = fields.price;
    this.amount = fields.amount;
    this.orderDate = fields.orderDate;
    this.tag = fields.tag;
  }

  get remaining(): number {
    return this.amount - this.filled;
  }
}

export interface TradePrecision {
  readonly amount: number | null;
  readonly price: number | null;
  /** Precision mode of amounts (the exchange's). */
  readonly mode: PrecisionMode;
  /** Precision mode of prices (tick size when derived from the data). */
  readonly priceMode: PrecisionMode;
}

export class BacktestTrade implements TradeView {
  readonly id: number;
  readonly pair: string;
  readonly isShort: boolean;
  readonly leverage: number;
  readonly feeOpen: number;
  readonly feeClose: number;
  readonly enterTag: string | null;
  readonly precision: TradePrecision;
  readonly orders: BacktestOrder[] = [];
  openDate: number;
  openRate: number;
  readonly openRateRequested: number;
  amount = 0;
  readonly amountRequested: number;
  stakeAmount: number;
  maxStakeAmount = 0;
  openTradeValue = 0;
  isOpen = true;
  closeDate: number | null = null;
  closeRate: number | null = null;
  closeProfit: number | null = null;
  closeProfitAbs: number | null = null;
  realizedProfit = 0;
  exitReason: string | null = null;
  stopLoss = 0;
  stopLossPct: number | null = null;
  initialStopLoss = 0;
  initialStopLossPct: number | null = null;
  isStopLossTrailing = false;
  maxRate: number;
  minRate: number;
  fundingFees = 0;
  private openValueAmount = Number.NaN;
  private openValueRate = Number.NaN;
  private openValue = 0;
  /** Entry amount and price of the last `recalcSingleEntry`, with their exact stake (null: not small). */
  private entryAmount = Number.NaN;
  private entryPrice = Number.NaN;
  private entryStake: number | null = null;

  constructor(fields: {
    id: number;
    pair: string;
    isShort: boolean;
    leverage: number;
    fee: number;
    enterTag: string | null;
    openDate: number;
    openRate: number;
    stakeAmount: number;
    amountRequested: number;
    precision: TradePrecision;
  }) {
    this.id = fields.id;
    this.pair = fields.pair;
    this.isShort = fields.isShort;
    this.leverage = fields.leverage;
    this.feeOpen = fields.fee;
    this.feeClose = fields.fee;
    this.enterTag = fields.enterTag;
    this.openDate = fields.openDate;
    this.openRate = fields.openRate;
    this.openRateRequested = fields.openRate;
    this.stakeAmount = fields.stakeAmount;
    this.amountRequested = fields.amountRequested;
    this.precision = fields.precision;
    this.maxRate = Number.NaN;
    this.minRate = Number.NaN;
  }

  get entrySide(): "buy" | "sell" {
    return this.isShort ? "sell" : "buy";
  }

  get exitSide(): "buy" | "sell" {
    return this.isShort ? "buy" : "sell";
  }

  get nrOfSuccessfulEntries(): number {
    let count = 0;
    for (const order of this.orders) if (order.isEntry && !order.isOpen && order.filled > 0) count++;
    return count;
  }

  get nrOfSuccessfulExits(): number {
    let count = 0;
    for (const order of this.orders) if (!order.isEntry && !order.isOpen && order.filled > 0) count++;
    return count;
  }

  get hasOpenOrders(): boolean {
    for (const order of this.orders) if (order.isOpen) return true;
    return false;
  }

  get hasOpenPosition(): boolean {
    return this.amount > 0;
  }

  /** The open order of one side, or undefined. */
  openOrder(isEntry: boolean): BacktestOrder | undefined {
    for (const order of this.orders) if (order.isOpen && order.isEntry === isEntry) return order;
    return undefined;
  }

  /** Freqtrade `_calc_open_trade_value`: amount × rate ± fee, exact decimal. */
  calcOpenTradeValue(amount: number, openRate: number): number {
    // A trade asks for the same value several times (entry fill, open value, exit): keep the last.
    if (amount === this.openValueAmount && openRate === this.openValueRate) return this.openValue;
    const value = exactValueWithFee(amount, openRate, this.feeOpen, this.isShort ? -1 : 1);
    this.openValueAmount = amount;
    this.openValueRate = openRate;
    this.openValue = value;
    return value;
  }

  /** Close value of `amount` at `rate` after the close fee (float; spot and margin without interest). */
  calcCloseTradeValue(rate: number, amount = this.amount): number {
    const value = amount * rate;
    const fees = value * this.feeClose;
    const base = this.isShort ? value + fees : value - fees;
    return this.isShort ? base - this.fundingFees : base + this.fundingFees;
  }

  /** Close value with exact decimal products, as Freqtrade's FtPrecise (used for realised profit). */
  calcCloseTradeValueExact(rate: number, amount: number): number {
    const base = exactValueWithFee(amount, rate, this.feeClose, this.isShort ? 1 : -1);
    return this.isShort ? base - this.fundingFees : base + this.fundingFees;
  }

  calcProfitRatio(rate: number, amount?: number, openRate?: number): number {
    const closeValue = this.calcCloseTradeValue(rate, amount ?? this.amount);
    const openValue =
      amount === undefined && openRate === undefined
        ? this.openTradeValue
        : this.calcOpenTradeValue(amount ?? this.amount, openRate ?? this.openRate);
    if (openValue === 0) return 0;
    const ratio = this.isShort ? 1 - closeValue / openValue : closeValue / openValue - 1;
    return round8(ratio * this.leverage);
  }

  /** Freqtrade `calculate_profit(...).profit_abs`, rounded to 8 decimals. */
  calcProfit(rate: number, amount?: number, openRate?: number): number {
    const closeValue = this.calcCloseTradeValue(rate, amount ?? this.amount);
    const openValue =
      amount === undefined && openRate === undefined
        ? this.openTradeValue
        : this.calcOpenTradeValue(amount ?? this.amount, openRate ?? this.openRate);
    return round8(this.isShort ? openValue - closeValue : closeValue - openValue);
  }

  adjustMinMaxRates(high: number, low: number): void {
    this.maxRate = Math.max(high, Number.isNaN(this.maxRate) ? this.openRate : this.maxRate);
    this.minRate = Math.min(low, Number.isNaN(this.minRate) ? this.openRate : this.minRate);
  }

  /** Freqtrade `adjust_stop_loss`: stops only move in the trade's favour (unless `allowRefresh`). */
  adjustStopLoss(currentPrice: number, stoploss: number | null, initial = false, allowRefresh = false): void {
    if (stoploss === null || (initial && this.stopLoss !== 0)) return;
    const leverage = this.leverage === 0 ? 1 : this.leverage;
    const newLoss = this.isShort
      ? currentPrice * (1 + Math.abs(stoploss / leverage))
      : currentPrice * (1 - Math.abs(stoploss / leverage));
    // Rounding cannot lift a candidate that is not beyond the current (on-grid) stop: skip it.
    if (
      this.initialStopLossPct !== null &&
      !allowRefresh &&
      (this.isShort ? newLoss >= this.stopLoss : newLoss <= this.stopLoss)
    ) {
      return;
    }
    const normalised = toPrecision(
      newLoss,
      this.precision.price,
      this.precision.priceMode,
      this.isShort ? "roundDown" : "roundUp",
    );
    if (this.initialStopLossPct === null) {
      this.setStopLoss(normalised, stoploss);
      this.initialStopLoss = normalised;
      this.initialStopLossPct = -Math.abs(stoploss);
      return;
    }
    const higher = normalised > this.stopLoss;
    const lower = normalised < this.stopLoss;
    if (allowRefresh || (higher && !this.isShort) || (lower && this.isShort)) {
      if (!allowRefresh) this.isStopLossTrailing = true;
      this.setStopLoss(normalised, stoploss);
    }
  }

  private setStopLoss(stopLoss: number, percent: number): void {
    if (this.stopLoss === 0) this.initialStopLoss = stopLoss;
    this.stopLoss = stopLoss;
    this.stopLossPct = -Math.abs(percent);
  }

  recalcOpenTradeValue(): void {
    this.openTradeValue = this.calcOpenTradeValue(this.amount, this.openRate);
  }

  /** Fill an order at `date` (Freqtrade `Order.close_bt_order`). */
  fillOrder(order: BacktestOrder, date: number): void {
    order.filledDate = date;
    order.filled = order.amount;
    order.isOpen = false;
    if (order.isEntry && order.price !== 0) {
      this.openRate = order.price;
      this.recalcFromOrders();
      if (this.nrOfSuccessfulEntries === 1) {
        this.initialStopLossPct = null;
        this.isStopLossTrailing = false;
      }
      this.adjustStopLoss(this.openRate, this.stopLossPct);
    }
  }

  /** Freqtrade `recalc_trade_from_orders`: average price, amount, stake and realised profit. */
  recalcFromOrders(isClosing = false): void {
    if (this.recalcSingleEntry(isClosing)) return;
    let currentAmount = toDecimal(0);
    let currentStake = toDecimal(0);
    let maxStake = toDecimal(0);
    let averagePrice = toDecimal(0);
    let totalStake = 0;
    let closeProfit = 0;
    let closeProfitAbs = 0;
    let lastProfitAbs = 0;
    for (const order of this.orders) {
      if (order.isOpen || order.filled === 0) continue;
      const amount = toDecimal(order.filled);
      const price = toDecimal(order.price);
      const isExit = !order.isEntry;
      if (order.filled > 0) {
        const used = isExit ? averagePrice : price;
        const product = decimalMul(used, amount);
        if (isExit) {
          currentAmount = decimalSub(currentAmount, amount);
          currentStake = decimalSub(currentStake, product);
        } else {
          currentAmount = decimalAdd(currentAmount, amount);
          currentStake = decimalAdd(currentStake, product);
          if (currentAmount.digits > 0n) averagePrice = decimalDiv(currentStake, currentAmount);
        }
      }
      if (isExit) {
        const closeValue = this.calcCloseTradeValueExact(order.price, order.filled);
        const openValue = this.calcOpenTradeValue(order.filled, decimalToNumber(averagePrice));
        const profit = round8(this.isShort ? openValue - closeValue : closeValue - openValue);
        lastProfitAbs = profit;
        closeProfitAbs += profit;
        if (totalStake > 0) closeProfit = (closeProfitAbs / totalStake) * this.leverage;
      } else {
        totalStake += this.calcOpenTradeValue(order.filled, order.price);
        maxStake = decimalAdd(maxStake, decimalMul(amount, price));
      }
    }
    this.maxStakeAmount = decimalToNumber(maxStake) / (this.leverage === 0 ? 1 : this.leverage);
    if (closeProfit !== 0) {
      this.closeProfit = closeProfit;
      this.realizedProfit = closeProfitAbs;
      this.closeProfitAbs = lastProfitAbs;
    }
    const amountNow = toPrecision(
      decimalToNumber(currentAmount),
      this.precision.amount,
      this.precision.mode,
      "truncate",
    );
    if (amountNow > 0) {
      this.openRate = decimalToNumber(decimalDiv(currentStake, currentAmount));
      this.amount = amountNow;
      this.stakeAmount = decimalToNumber(currentStake) / (this.leverage === 0 ? 1 : this.leverage);
      this.recalcOpenTradeValue();
      if (this.stopLossPct !== null && this.openRate !== 0)
        this.adjustStopLoss(this.openRate, this.stopLossPct);
    } else if (isClosing && totalStake > 0) {
      this.closeProfit = (closeProfitAbs / totalStake) * this.leverage;
      this.closeProfitAbs = closeProfitAbs;
    }
  }

  /**
   * `recalcFromOrders` for the common trade — one filled entry, then at most one exit of the whole
   * amount, on a price with at most 18 decimals — in floats with the same results (the average
   * price is then the entry price exactly, and the only decimal product fits a safe integer).
   * Returns false, changing nothing, for any other trade.
   */
  private recalcSingleEntry(isClosing: boolean): boolean {
    let entry: BacktestOrder | undefined;
    let exit: BacktestOrder | undefined;
    for (const order of this.orders) {
      if (order.isOpen || order.filled === 0) continue;
      if (order.isEntry) {
        if (entry !== undefined || exit !== undefined) return false;
        entry = order;
      } else {
        if (entry === undefined || exit !== undefined) return false;
        exit = order;
      }
    }
    if (entry === undefined || !(entry.filled > 0)) return false;
    if (exit !== undefined && exit.filled !== entry.filled) return false;
    if (entry.filled !== this.entryAmount || entry.price !== this.entryPrice) {
      const places = shortDecimalPlaces(entry.price);
      this.entryAmount = entry.filled;
      this.entryPrice = entry.price;
      this.entryStake = places === null || places > 18 ? null : smallExactProduct(entry.filled, entry.price);
    }
    const stake = this.entryStake;
    if (stake === null) return false;
    const leverage = this.leverage === 0 ? 1 : this.leverage;
    const totalStake = this.calcOpenTradeValue(entry.filled, entry.price);
    let closeProfit = 0;
    let closeProfitAbs = 0;
    if (exit !== undefined) {
      const closeValue = this.calcCloseTradeValueExact(exit.price, exit.filled);
      const openValue = this.calcOpenTradeValue(exit.filled, entry.price);
      closeProfitAbs = 0 + round8(this.isShort ? openValue - closeValue : closeValue - openValue);
      if (totalStake > 0) closeProfit = (closeProfitAbs / totalStake) * this.leverage;
    }
    this.maxStakeAmount = stake / leverage;
    if (closeProfit !== 0) {
      this.closeProfit = closeProfit;
      this.realizedProfit = closeProfitAbs;
      this.closeProfitAbs = closeProfitAbs;
    }
    const amountNow = toPrecision(
      exit === undefined ? entry.filled : 0,
      this.precision.amount,
      this.precision.mode,
      "truncate",
    );
    if (amountNow > 0) {
      this.openRate = entry.price;
      this.amount = amountNow;
      this.stakeAmount = stake / leverage;
      this.recalcOpenTradeValue();
      if (this.stopLossPct !== null && this.openRate !== 0)
        this.adjustStopLoss(this.openRate, this.stopLossPct);
    } else if (isClosing && totalStake > 0) {
      this.closeProfit = (closeProfitAbs / totalStake) * this.leverage;
      this.closeProfitAbs = closeProfitAbs;
    }
    return true;
  }

  /** Close the trade at `rate` (the exit order has filled). */
  close(rate: number, date: number): void {
    this.closeRate = rate;
    this.closeDate = date;
    this.isOpen = false;
    this.recalcFromOrders(true);
  }
}
