#!/usr/bin/env python3
"""vectorbt baseline for bench/engine (driven by bench/engine/vectorbt.ts; never part of the product).

Reads candles written by vectorbt.ts (one raw little-endian float64 file per pair: date, open, high,
low, close, volume columns one after the other, `length` values each) and a manifest.json, then runs
the same strategy as TradAI's bench several times in this process (the first is cold):

  * indicators + signals with the TA-Lib wheel and numpy/pandas, the same indicator set as
    packages/engine/src/strategy/examples/{sample,ema-cross}-strategy.ts (Freqtrade's sample strategy
    and our EMA cross);
  * `vbt.Portfolio.from_signals` on all pairs as columns of one group with a shared wallet
    (group_by=True, cash_sharing=True), signals shifted one candle and filled at the next open
    (Freqtrade: a signal on candle i acts at the open of i + 1), the startup candles dropped after the
    indicators (Freqtrade's timerange), a fixed stake value that is rejected rather than reduced when
    the wallet cannot pay it (allow_partial=False, as Freqtrade does for a fixed stake), fee on both
    sides, and Freqtrade's max_open_trades through a signal function (max_open_trades_signal_nb).

Stops, `--stops` / manifest "stops":
  * "freqtrade" (default): the ROI table through `adjust_tp_func_nb` (the step for the trade's age,
    fee-exact exit price as Freqtrade computes it), the stoploss from the fill price, and Freqtrade's
    trailing stop with `trailing_only_offset_is_reached` through `adjust_sl_func_nb`;
  * "plain": what a vectorbt user would write first: tp_stop = the first ROI step, sl_stop =
    |stoploss|, sl_trail = trailing_stop (trailing from the entry on).

Not equivalent (so trade lists differ somewhat; on Freqtrade's 2025-Q1 7 x 5m goldens in
bench/parity/golden, 160 of Freqtrade's 169 sample-strategy trades and 1633 of its 1802 EMA-cross
trades come out identical in pair, open and close candle):
  * vectorbt checks stops from the candle after the entry candle, Freqtrade already on it;
  * vectorbt moves a trailing stop with a candle's high after checking that candle's low,
    Freqtrade before (so vectorbt's trailing exits come a candle or more later);
  * one order per pair and candle: a stop and an exit signal on the same candle exit at the stop
    price (Freqtrade: at the open, signal first), and no re-entry on the exit candle;
  * max_open_trades sees a stop exit of a later column one candle late (see the signal function);
  * no amount/price precision, min stake or tradable_balance_ratio; open trades stay open at the
    end (Freqtrade force-exits them; they are counted as trades either way).

The first run in the process is "cold" (numba compiles the simulation for these callbacks, or
loads its on-disk cache for the rest), the later ones "warm". Times exclude Python start-up,
imports and file loading (both reported separately). Prints one JSON object on stdout.
"""

import argparse
import json
import os
import sys
import time
import warnings

started_process = time.perf_counter()

import numba  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import talib  # noqa: E402
import vectorbt as vbt  # noqa: E402
from numba import njit  # noqa: E402
from vectorbt.portfolio.enums import StopEntryPrice, StopExitPrice  # noqa: E402

imported_seconds = time.perf_counter() - started_process
warnings.filterwarnings("ignore")


class InputError(Exception):
    pass


# --- input -----------------------------------------------------------------------------------------


def load_pair(directory, entry, timeframe_ms):
    """Reads one pair and fills gaps as Freqtrade does (missing candle: open = high = low = close =
    previous close, volume 0)."""
    name = entry.get("pair")
    length = entry.get("length")
    if not isinstance(length, int) or length < 2:
        raise InputError(f"pair {name}: expected length an integer >= 2, got {length!r}")
    path = os.path.join(directory, entry["file"])
    raw = np.fromfile(path, dtype="<f8")
    if raw.size != 6 * length:
        raise InputError(f"pair {name}: expected {6 * length} float64 values in {path}, got {raw.size}")
    date, open_, high, low, close, volume = raw.reshape(6, length)
    for field, values in (
        ("open", open_),
        ("high", high),
        ("low", low),
        ("close", close),
        ("volume", volume),
    ):
        if not np.all(np.isfinite(values)):
            bad = int(np.argmax(~np.isfinite(values)))
            raise InputError(f"pair {name}: expected finite {field}, got {values[bad]} at {date[bad]:.0f}")
    steps = np.diff(date)
    if np.any(steps <= 0):
        bad = int(np.argmax(steps <= 0)) + 1
        raise InputError(
            f"pair {name}: expected increasing dates, got {date[bad]:.0f} after {date[bad - 1]:.0f}"
        )
    if np.any(steps % timeframe_ms != 0):
        bad = int(np.argmax(steps % timeframe_ms != 0)) + 1
        raise InputError(f"pair {name}: expected dates on the {timeframe_ms} ms grid, got {date[bad]:.0f}")
    slots = ((date - date[0]) // timeframe_ms).astype(np.int64)
    filled = int(slots[-1]) + 1
    if filled == length:
        return {"date": date, "open": open_, "high": high, "low": low, "close": close, "volume": volume}
    index = np.full(filled, -1, dtype=np.int64)
    index[slots] = np.arange(length)
    source = np.maximum.accumulate(index)  # last real candle at or before each slot
    out_close = close[source]
    missing = index < 0
    return {
        "date": date[0] + np.arange(filled, dtype=np.float64) * timeframe_ms,
        "open": np.where(missing, out_close, open_[source]),
        "high": np.where(missing, out_close, high[source]),
        "low": np.where(missing, out_close, low[source]),
        "close": out_close,
        "volume": np.where(missing, 0.0, volume[source]),
    }


# --- strategies: indicators and signals (numpy, per pair) ------------------------------------------


def previous(values):
    shifted = np.empty_like(values)
    shifted[0] = np.nan
    shifted[1:] = values[:-1]
    return shifted


def crossed_above(values, threshold):
    """qtpylib.crossed_above(series, value): above now, at or below on the previous row."""
    return (values > threshold) & (previous(values) <= threshold)


def sample_signals(candle):
    """Freqtrade's sample strategy (freqtrade/templates/sample_strategy.py): its full indicator set,
    signals from RSI crossing 30 / 70, TEMA(9) against the qtpylib Bollinger middle band, TEMA
    direction and volume."""
    open_, high, low, close, volume = (candle[k] for k in ("open", "high", "low", "close", "volume"))
    columns = {}
    columns["adx"] = talib.ADX(high, low, close, timeperiod=14)
    columns["rsi"] = talib.RSI(close, timeperiod=14)
    columns["fastk"], columns["fastd"] = talib.STOCHF(high, low, close)
    columns["macd"], columns["macdsignal"], columns["macdhist"] = talib.MACD(close)
    columns["mfi"] = talib.MFI(high, low, close, volume, timeperiod=14)
    # qtpylib.bollinger_bands(typical_price, window=20, stds=2): pandas rolling, min_periods=1, ddof 1.
    typical = pd.Series((high + low + close) / 3.0)
    rolling = typical.rolling(window=20, min_periods=1)
    middle = rolling.mean().to_numpy()
    deviation = rolling.std().to_numpy()
    upper = middle + 2.0 * deviation
    lower = middle - 2.0 * deviation
    columns["bb_lowerband"], columns["bb_middleband"], columns["bb_upperband"] = lower, middle, upper
    columns["bb_percent"] = (close - lower) / (upper - lower)
    columns["bb_width"] = (upper - lower) / middle
    columns["sar"] = talib.SAR(high, low)
    columns["tema"] = talib.TEMA(close, timeperiod=9)
    columns["htsine"], columns["htleadsine"] = talib.HT_SINE(close)

    rsi, tema = columns["rsi"], columns["tema"]
    tema_previous = previous(tema)
    with np.errstate(invalid="ignore"):
        entries = crossed_above(rsi, 30) & (tema <= middle) & (tema > tema_previous) & (volume > 0)
        exits = crossed_above(rsi, 70) & (tema > middle) & (tema < tema_previous) & (volume > 0)
    return entries, exits


def ema_cross_signals(candle):
    """packages/engine/src/strategy/examples/ema-cross-strategy.ts: EMA 12 / 26 on close (TA-Lib
    seeding), long on the cross up with volume > 0, exit on the cross down."""
    close, volume = candle["close"], candle["volume"]
    fast = talib.EMA(close, timeperiod=12)
    slow = talib.EMA(close, timeperiod=26)
    fast_previous, slow_previous = previous(fast), previous(slow)
    with np.errstate(invalid="ignore"):
        entries = (fast > slow) & (fast_previous <= slow_previous) & (volume > 0)
        exits = (fast < slow) & (fast_previous >= slow_previous)
    return entries, exits


STRATEGIES = {"sample": sample_signals, "ema-cross": ema_cross_signals}


# --- Freqtrade's stop rules as vectorbt callbacks ---------------------------------------------------


@njit
def roi_table_tp_nb(c, roi_minutes, roi_take_profit, timeframe_minutes):
    """Take profit for the trade's age: the ROI step with the largest minute key <= age (Freqtrade's
    min_roi_reached_entry); roi_take_profit holds fee-exact ratios over the fill price."""
    if c.position_now == 0 or c.init_i < 0:
        return c.curr_stop
    age = (c.i - c.init_i) * timeframe_minutes
    take_profit = np.nan
    for step in range(roi_minutes.shape[0]):
        if roi_minutes[step] <= age:
            take_profit = roi_take_profit[step]
    return take_profit


@njit
def trailing_offset_sl_nb(c, stop_ratio, trailing_positive, offset_price_ratio, only_offset):
    """Freqtrade's trailing stop with trailing_stop_positive / _offset / trailing_only_offset_is_reached.

    The stop trails from entry in vectorbt's terms (sl_trail=True) so that curr_price is the highest
    high since entry; this returns the stop as a ratio below that high: trailing_positive once the
    high reached the offset; before that the fixed stoploss (fill price * stop_ratio) when only the
    offset may start trailing, else the stoploss distance below the high."""
    if c.position_now == 0 or np.isnan(c.init_price):
        return c.curr_stop, c.curr_trail
    if c.curr_price >= c.init_price * offset_price_ratio:
        return trailing_positive, True
    if only_offset:
        return 1.0 - c.init_price * stop_ratio / c.curr_price, True
    return 1.0 - stop_ratio, True


@njit
def max_open_trades_signal_nb(c, entries, exits, max_open_trades, is_open, open_count):
    """Long entries / exits with a global limit of open trades (Freqtrade's max_open_trades).

    vectorbt shows a signal function only its own column's position, so the open trades of the
    other columns are this function's own bookkeeping: set when it grants an entry or an exit,
    corrected from position_now on the column's next call (a stop or take-profit exit is therefore
    seen by the columns before it one candle late). Columns are called in pair order, like
    Freqtrade's slot order."""
    now_open = c.position_now > 0
    if is_open[c.col] != now_open:
        is_open[c.col] = now_open
        open_count[0] += 1 if now_open else -1
    entry = entries[c.i, c.col]
    exit_ = exits[c.i, c.col]
    if now_open:
        if exit_:
            is_open[c.col] = False
            open_count[0] -= 1
            return False, True, False, False
        return False, False, False, False
    # Freqtrade enters only when the candle has no exit signal as well.
    if entry and not exit_ and open_count[0] < max_open_trades:
        is_open[c.col] = True
        open_count[0] += 1
        return True, False, False, False
    return False, False, False, False


def stop_arguments(settings, fee, timeframe_minutes, stops):
    """vectorbt stop keyword arguments for the strategy's stoploss / ROI / trailing settings."""
    roi = sorted((int(minute), float(ratio)) for minute, ratio in settings["minimal_roi"].items())
    stoploss = float(settings["stoploss"])
    trailing = bool(settings.get("trailing_stop", False))
    if stops == "plain":
        return {
            "sl_stop": abs(stoploss),
            "sl_trail": trailing,
            "tp_stop": roi[0][1] if roi else np.nan,
        }
    # Freqtrade's ROI exit rate: open_rate * (1 + roi + fee) / (1 - fee) (fee-exact).
    fee_exact = [(1.0 + ratio + fee) / (1.0 - fee) - 1.0 for _, ratio in roi]
    arguments = {
        "sl_stop": abs(stoploss),
        "sl_trail": False,
        "tp_stop": fee_exact[0] if roi else np.nan,
    }
    if len(roi) > 1:
        arguments["adjust_tp_func_nb"] = roi_table_tp_nb
        arguments["adjust_tp_args"] = (
            np.array([minute for minute, _ in roi], dtype=np.float64),
            np.array(fee_exact, dtype=np.float64),
            float(timeframe_minutes),
        )
    if trailing:
        positive = settings.get("trailing_stop_positive")
        arguments["sl_trail"] = True
        if positive is None:
            # Freqtrade trails at the stoploss distance from the entry on: vectorbt's own trailing.
            return arguments
        offset = float(settings.get("trailing_stop_positive_offset") or 0.0)
        only_offset = bool(settings.get("trailing_only_offset_is_reached", False))
        # Profit ratio at the high (fees on both sides) >= offset  <=>  high >= fill * this ratio.
        offset_ratio = (1.0 + offset) * (1.0 + fee) / (1.0 - fee)
        arguments["adjust_sl_func_nb"] = trailing_offset_sl_nb
        arguments["adjust_sl_args"] = (1.0 + stoploss, float(positive), offset_ratio, only_offset)
    return arguments


# --- one run ---------------------------------------------------------------------------------------


def run_once(frame, manifest):
    """Indicators + signals per pair, then one grouped portfolio. Returns times and trade counts."""
    pairs = frame["pairs"]
    first = frame["first"]
    rows = frame["close"].shape[0] - first
    signal_function = STRATEGIES[manifest["strategy"]]

    started = time.perf_counter()
    entries = np.zeros((rows, len(pairs)), dtype=np.bool_)
    exits = np.zeros((rows, len(pairs)), dtype=np.bool_)
    for column, candle in enumerate(frame["candles"]):
        pair_entries, pair_exits = signal_function(candle)
        # Drop the startup candles (as Freqtrade trims to the timerange after the indicators), then
        # shift by one: a signal on candle i acts at the open of i + 1.
        offset = candle["offset"]  # row of this pair's first candle in the aligned timeline
        begin = max(first - offset, 0)
        target = max(offset - first, 0)
        pair_entries = pair_entries[begin:]
        pair_exits = pair_exits[begin:]
        entries[target + 1 : target + pair_entries.shape[0], column] = pair_entries[:-1]
        exits[target + 1 : target + pair_exits.shape[0], column] = pair_exits[:-1]
    indicator_seconds = time.perf_counter() - started

    started = time.perf_counter()
    max_open_trades = frame["max_open_trades"]
    if max_open_trades is not None and max_open_trades < len(pairs):
        signals = {
            "signal_func_nb": max_open_trades_signal_nb,
            "signal_args": (
                entries,
                exits,
                max_open_trades,
                np.zeros(len(pairs), dtype=np.bool_),
                np.zeros(1, dtype=np.int64),
            ),
        }
    else:
        signals = {"entries": entries, "exits": exits}
    portfolio = vbt.Portfolio.from_signals(
        close=frame["close"][first:],
        **signals,
        price=frame["open"][first:],
        open=frame["open"][first:],
        high=frame["high"][first:],
        low=frame["low"][first:],
        direction="longonly",
        size=float(manifest["stake_amount"]),
        size_type="value",
        # Freqtrade rejects a fixed stake the wallet cannot pay (no partial stake).
        allow_partial=False,
        fees=float(manifest["fee"]),
        init_cash=float(manifest["dry_run_wallet"]),
        cash_sharing=True,
        group_by=True,
        stop_entry_price=StopEntryPrice.FillPrice,
        stop_exit_price=StopExitPrice.StopLimit,
        freq=f"{frame['timeframe_minutes']}min",
        **frame["stop_arguments"],
    )
    records = portfolio.trades.values  # structured array (records_readable would build a DataFrame)
    portfolio_seconds = time.perf_counter() - started
    return portfolio, records, indicator_seconds, portfolio_seconds


def prepare(directory, manifest):
    timeframe_minutes = manifest.get("timeframe_minutes")
    if not isinstance(timeframe_minutes, int) or timeframe_minutes < 1:
        raise InputError(
            f"manifest: expected timeframe_minutes a positive integer, got {timeframe_minutes!r}"
        )
    if manifest.get("strategy") not in STRATEGIES:
        raise InputError(
            f"manifest: expected strategy one of {sorted(STRATEGIES)}, got {manifest.get('strategy')!r}"
        )
    stops = manifest.get("stops", "freqtrade")
    if stops not in ("freqtrade", "plain"):
        raise InputError(f"manifest: expected stops 'freqtrade' or 'plain', got {stops!r}")
    max_open_trades = manifest.get("max_open_trades")
    if max_open_trades is not None and (not isinstance(max_open_trades, int) or max_open_trades < 1):
        raise InputError(
            f"manifest: expected max_open_trades a positive integer or null, got {max_open_trades!r}"
        )
    entries = manifest.get("pairs")
    if not isinstance(entries, list) or not entries:
        raise InputError(f"manifest: expected pairs a non-empty list, got {entries!r}")
    timeframe_ms = timeframe_minutes * 60_000
    candles = [load_pair(directory, entry, timeframe_ms) for entry in entries]
    # One timeline for all pairs (the union of their gap-filled ranges); a pair is NaN outside its range.
    begin = min(candle["date"][0] for candle in candles)
    end = max(candle["date"][-1] for candle in candles)
    rows = int((end - begin) // timeframe_ms) + 1
    aligned = {key: np.full((rows, len(candles)), np.nan) for key in ("open", "high", "low", "close")}
    for column, candle in enumerate(candles):
        offset = int((candle["date"][0] - begin) // timeframe_ms)
        candle["offset"] = offset
        for key in aligned:
            aligned[key][offset : offset + candle[key].shape[0], column] = candle[key]
    start = manifest.get("start")
    dates = begin + np.arange(rows, dtype=np.float64) * timeframe_ms
    first = 0 if start is None else int(np.searchsorted(dates, float(start)))
    if first >= rows - 1:
        raise InputError(f"manifest: expected start before the last candle {dates[-1]:.0f}, got {start!r}")
    return {
        "pairs": [entry["pair"] for entry in entries],
        "candles": candles,
        "first": first,
        "dates": dates,
        "max_open_trades": max_open_trades,
        "timeframe_minutes": timeframe_minutes,
        "stop_arguments": stop_arguments(
            manifest["settings"], float(manifest["fee"]), timeframe_minutes, stops
        ),
        "stops": stops,
        **aligned,
    }


def trade_list(frame, records):
    dates = frame["dates"][frame["first"] :]
    return [
        [int(col), int(dates[entry]), int(dates[exit_]) if status == 1 else None]
        for col, entry, exit_, status in zip(
            records["col"], records["entry_idx"], records["exit_idx"], records["status"], strict=True
        )
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", required=True, help="directory with manifest.json and the pair files")
    parser.add_argument("--runs", type=int, default=2, help="runs in this process (first = cold)")
    arguments = parser.parse_args()
    with open(os.path.join(arguments.input, "manifest.json"), encoding="utf8") as handle:
        manifest = json.load(handle)

    started = time.perf_counter()
    frame = prepare(arguments.input, manifest)
    load_seconds = time.perf_counter() - started

    runs = []
    portfolio = records = None
    for _ in range(max(arguments.runs, 1)):
        portfolio, records, indicator_seconds, portfolio_seconds = run_once(frame, manifest)
        runs.append(
            {
                "indicatorSeconds": indicator_seconds,
                "portfolioSeconds": portfolio_seconds,
                "totalSeconds": indicator_seconds + portfolio_seconds,
            }
        )
    per_pair = np.bincount(records["col"], minlength=len(frame["pairs"]))
    result = {
        "versions": {
            "vectorbt": vbt.__version__,
            "numba": numba.__version__,
            "talib": talib.__version__,
            "numpy": np.__version__,
            "pandas": pd.__version__,
            "python": sys.version.split()[0],
        },
        "strategy": manifest["strategy"],
        "stops": frame["stops"],
        "maxOpenTrades": frame["max_open_trades"],
        "candles": int(sum(int(entry["length"]) for entry in manifest["pairs"])),
        "simulatedCandles": int((frame["close"].shape[0] - frame["first"]) * len(frame["pairs"])),
        "runs": runs,
        "trades": int(records.shape[0]),
        "openTrades": int(np.count_nonzero(records["status"] == 0)),
        "tradesPerPair": {pair: int(count) for pair, count in zip(frame["pairs"], per_pair, strict=True)},
        "finalValue": float(np.asarray(portfolio.final_value()).reshape(-1)[0]),
        # [pair index, open candle time, close candle time or null while open], when asked for.
        "tradeList": trade_list(frame, records) if manifest.get("trade_list") else None,
        "importSeconds": imported_seconds,
        "loadSeconds": load_seconds,
    }
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    try:
        main()
    except InputError as error:
        print(f"vectorbt_runner: {error}", file=sys.stderr)
        sys.exit(2)
