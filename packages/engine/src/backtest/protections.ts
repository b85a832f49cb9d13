/**
 * Pair locks and protections (Freqtrade's persistence/pairlock_middleware.py and
 * plugins/protections/*): CooldownPeriod, StoplossGuard, MaxDrawdown, LowProfitPairs.
 * Lock ends are rounded up to the next candle open (`timeframe_to_next_date`).
 */
import type { ProtectionConfig, TradeSide } from "../strategy/strategy";
import { timeframeToMilliseconds, timeframeToMinutes } from "../timeframe";
import type { BacktestTrade } from "./trade";

export interface PairLock {
  readonly id: number;
  /** "*" for a global lock. */
  readonly pair: string;
  readonly lockTime: number;
  readonly lockEndTime: number;
  readonly reason: string;
  /** "long", "short" or "*". */
  readonly side: TradeSide | "*";
}

export class PairLocks {
  readonly locks: PairLock[] = [];
  private readonly step: number;

  constructor(timeframe: string) {
    this.step = timeframeToMilliseconds(timeframe);
  }

  lock(pair: string, until: number, reason: string, now: number, side: TradeSide | "*"): void {
    // ccxt round_timeframe(ROUND_UP) always moves to the next boundary.
    const lockEndTime = until - (((until % this.step) + this.step) % this.step) + this.step;
    this.locks.push({ id: this.locks.length + 1, pair, lockTime: now, lockEndTime, reason, side });
  }

  /** Whether `pair` (or everything) is locked at `now` for `side`. */
  isLocked(pair: string, now: number, side: TradeSide | "*"): boolean {
    for (const lock of this.locks) {
      if (lock.lockEndTime < now) continue; // Freqtrade: lock_end_time >= now is still locked
      if (lock.pair !== pair && lock.pair !== "*") continue;
      // Freqtrade's get_pair_locks: a side query matches that side and "*"; a "*" query only "*".
      if (lock.side === "*" || lock.side === side) return true;
    }
    return false;
  }
}

const STOP_REASONS = new Set(["stop_loss", "stoploss_on_exchange", "trailing_stop_loss", "liquidation"]);

interface Durations {
  stopMinutes: number;
  lookbackMinutes: number;
}

function durations(protection: ProtectionConfig, timeframe: string): Durations {
  const minutes = timeframeToMinutes(timeframe);
  const stopMinutes =
    protection.stopDurationCandles !== undefined
      ? protection.stopDurationCandles * minutes
      : (protection.stopDuration ?? 60);
  const lookback =
    "lookbackPeriod" in protection || "lookbackPeriodCandles" in protection ? protection : undefined;
  const lookbackMinutes =
    lookback?.lookbackPeriodCandles !== undefined
      ? lookback.lookbackPeriodCandles * minutes
      : (lookback?.lookbackPeriod ?? 60);
  return { stopMinutes, lookbackMinutes };
}

function lockEnd(trades: readonly BacktestTrade[], stopMinutes: number): number {
  let maximum = Number.NEGATIVE_INFINITY;
  for (const trade of trades) maximum = Math.max(maximum, trade.closeDate ?? Number.NEGATIVE_INFINITY);
  return maximum + stopMinutes * 60_000;
}

/** Freqtrade's drawdown on summed close_profit ratios (peak starts at 0); null when there is none. */
function ratioDrawdown(trades: readonly BacktestTrade[]): number | null {
  const sorted = [...trades].sort((left, right) => (left.closeDate ?? 0) - (right.closeDate ?? 0));
  let cumulative = 0;
  let high = 0;
  let worst = 0;
  for (const trade of sorted) {
    cumulative += trade.closeProfit ?? 0;
    high = Math.max(high, cumulative);
    worst = Math.max(worst, high - cumulative);
  }
  return worst === 0 ? null : worst;
}

export class ProtectionManager {
  constructor(
    private readonly protections: readonly ProtectionConfig[],
    private readonly timeframe: string,
    private readonly locks: PairLocks,
  ) {}

  /** Run after each closed trade (Freqtrade `run_protections`: every local stop, then every global stop). */
  run(pair: string, now: number, side: TradeSide, closedTrades: readonly BacktestTrade[]): void {
    this.evaluate(pair, now, side, closedTrades, "local");
    this.evaluate(pair, now, side, closedTrades, "global");
  }

  private evaluate(
    pair: string,
    now: number,
    side: TradeSide,
    closedTrades: readonly BacktestTrade[],
    scope: "local" | "global",
  ): void {
    for (const protection of this.protections) {
      const { stopMinutes, lookbackMinutes } = durations(protection, this.timeframe);
      switch (protection.method) {
        case "CooldownPeriod": {
          if (scope !== "local") break;
          // Looks back `lookbackPeriod` (default 60 min), locks for `stopDuration`.
          const since = now - lookbackMinutes * 60_000;
          let latest: BacktestTrade | undefined;
          for (const trade of closedTrades) {
            if (trade.pair === pair && (trade.closeDate ?? 0) > since) {
              if (latest === undefined || (trade.closeDate ?? 0) >= (latest.closeDate ?? 0)) latest = trade;
            }
          }
          if (latest !== undefined) {
            const until = lockEnd([latest], stopMinutes);
            if (!this.locks.isLocked(pair, until, "*")) {
              this.locks.lock(pair, until, `Cooldown period for ${stopMinutes} min.`, now, "*");
            }
          }
          break;
        }
        case "StoplossGuard": {
          const tradeLimit = protection.tradeLimit ?? 10;
          const requiredProfit = protection.requiredProfit ?? 0;
          const since = now - lookbackMinutes * 60_000;
          const guard = (forPair: string | null): void => {
            const trades = closedTrades.filter(
              (trade) =>
                (forPair === null || trade.pair === forPair) &&
                (trade.closeDate ?? 0) > since &&
                STOP_REASONS.has(trade.exitReason ?? "") &&
                (trade.closeProfit ?? 0) < requiredProfit &&
                (protection.onlyPerSide !== true || (trade.isShort ? "short" : "long") === side),
            );
            if (trades.length < tradeLimit) return;
            const lockSide = protection.onlyPerSide === true ? side : "*";
            const until = lockEnd(trades, stopMinutes);
            const target = forPair ?? "*";
            if (!this.locks.isLocked(target, until, lockSide)) {
              this.locks.lock(
                target,
                until,
                `${trades.length} stoplosses in ${lookbackMinutes} min.`,
                now,
                lockSide,
              );
            }
          };
          if (scope === "local") guard(pair);
          else if (protection.onlyPerPair !== true) guard(null);
          break;
        }
        case "MaxDrawdown": {
          if (scope !== "global") break;
          const tradeLimit = protection.tradeLimit ?? 1;
          const maxAllowed = protection.maxAllowedDrawdown ?? 0;
          const since = now - lookbackMinutes * 60_000;
          const trades = closedTrades.filter((trade) => (trade.closeDate ?? 0) > since);
          if (trades.length < tradeLimit) break;
          const drawdown = ratioDrawdown(trades);
          if (drawdown !== null && drawdown > maxAllowed) {
            const until = lockEnd(trades, stopMinutes);
            if (!this.locks.isLocked("*", until, "*")) {
              this.locks.lock(
                "*",
                until,
                `${drawdown} passed ${maxAllowed} in ${lookbackMinutes} min.`,
                now,
                "*",
              );
            }
          }
          break;
        }
        case "LowProfitPairs": {
          if (scope !== "local") break;
          const tradeLimit = protection.tradeLimit ?? 1;
          const requiredProfit = protection.requiredProfit ?? 0;
          const since = now - lookbackMinutes * 60_000;
          const trades = closedTrades.filter(
            (trade) =>
              trade.pair === pair &&
              (trade.closeDate ?? 0) > since &&
              (protection.onlyPerSide !== true || (trade.isShort ? "short" : "long") === side),
          );
          if (trades.length < tradeLimit) break;
          let profit = 0;
          for (const trade of trades) profit += trade.closeProfit ?? 0;
          if (profit < requiredProfit) {
            const lockSide = protection.onlyPerSide === true ? side : "*";
            const until = lockEnd(trades, stopMinutes);
            if (!this.locks.isLocked(pair, until, lockSide)) {
              this.locks.lock(
                pair,
                until,
                `${profit} < ${requiredProfit} in ${lookbackMinutes} min.`,
                now,
                lockSide,
              );
            }
          }
          break;
        }
      }
    }
  }
}
