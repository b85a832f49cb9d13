"""Runs a pinned Freqtrade backtest offline on the shared real candles and prints its result JSON.

Exchange markets come from a snapshot file (no network): Exchange.reload_markets is patched to load
it. Usage (inside ~/.cache/tradai/venv-freqtrade):
  python freqtrade_runner.py --case case.json --out result.json
case.json: {strategy, strategy_path, pairs, timeframe, start, end, fee, stake_amount, dry_run_wallet,
            max_open_trades, markets, shared_dir, exchange_files: {pair: "binance_BTC_USDT-5m.csv.gz"}}
"""
import argparse
import csv
import gzip
import io
import json
import os
import sys
import tempfile
import time
import zipfile
from datetime import datetime, timezone
from unittest.mock import patch


def write_frame(rows, path):
    import pandas as pd

    frame = pd.DataFrame(rows, columns=["date", "open", "high", "low", "close", "volume"])
    frame["date"] = pd.to_datetime(frame["date"], unit="ms", utc=True)
    frame.reset_index(drop=True).to_feather(path, compression_level=9, compression="lz4")


def write_data(case, datadir, timeframe, files):
    main_tf = case["timeframe"]
    tf_minutes = {"m": 1, "h": 60, "d": 1440}[main_tf[-1]] * int(main_tf[:-1])
    start_ms = case["start"] - case["startup_candles"] * tf_minutes * 60_000
    os.makedirs(datadir, exist_ok=True)
    for pair, filename in files.items():
        rows = []
        with gzip.open(os.path.join(case["shared_dir"], "data", "ohlcv", filename), "rt") as handle:
            for record in csv.DictReader(handle):
                ts = int(record["timestamp"])
                if start_ms <= ts < case["end"]:
                    rows.append([ts, float(record["open"]), float(record["high"]), float(record["low"]),
                                 float(record["close"]), float(record["volume"])])
        # Feather (Freqtrade's default format) keeps the floats exact; its json reader parses
        # floats imprecisely (pandas read_json precise_float=False), e.g. 3.28 → 3.2800000000000002.
        safe = pair.replace("/", "_").replace(":", "_")
        if case.get("trading_mode") == "futures":
            os.makedirs(os.path.join(datadir, "futures"), exist_ok=True)
            write_frame(rows, os.path.join(datadir, "futures", f"{safe}-{timeframe}-futures.feather"))
            # Zero funding rates and a mark series every 8 h: funding fees are exactly 0.
            eight = [r for r in rows if r[0] % (8 * 3_600_000) == 0]
            write_frame([[r[0], 0.0, 0.0, 0.0, 0.0, 0.0] for r in eight],
                        os.path.join(datadir, "futures", f"{safe}-8h-funding_rate.feather"))
            write_frame(eight, os.path.join(datadir, "futures", f"{safe}-8h-mark.feather"))
        else:
            write_frame(rows, os.path.join(datadir, f"{safe}-{timeframe}.feather"))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--case", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    case = json.load(open(args.case))
    markets_raw = json.load(open(case["markets"]))
    markets = {}
    for symbol, market in markets_raw.items():
        if symbol.startswith("_"):
            continue
        base, rest = symbol.split("/")
        quote = rest.split(":")[0]
        swap = market.get("type") == "swap"
        markets[symbol] = {
            "id": base + quote, "symbol": symbol, "base": base, "quote": quote, "baseId": base, "quoteId": quote,
            "active": True, "type": "spot", "spot": not swap, "margin": False, "swap": swap, "future": False,
            "option": False, "contract": swap, "linear": True if swap else None, "inverse": False if swap else None,
            "contractSize": None, "settle": quote if swap else None, "settleId": quote if swap else None,
            "info": {}, "percentage": True, "tierBased": False,
            **market,
        }

    work = tempfile.mkdtemp(prefix="tradai-ft-")
    datadir = os.path.join(work, "data", "binance")
    write_data(case, datadir, case["timeframe"], case["exchange_files"])
    if case.get("timeframe_detail"):
        write_data(case, datadir, case["timeframe_detail"], case["detail_files"])
    futures = case.get("trading_mode") == "futures"
    config = {
        "max_open_trades": case["max_open_trades"],
        "stake_currency": "USDT",
        "stake_amount": case["stake_amount"],
        "tradable_balance_ratio": 0.99,
        "dry_run": True,
        "dry_run_wallet": case["dry_run_wallet"],
        "trading_mode": case.get("trading_mode", "spot"),
        **({"margin_mode": "isolated"} if case.get("trading_mode") == "futures" else {}),
        "timeframe": case["timeframe"],
        "dataformat_ohlcv": "feather",
        "exchange": {"name": "binance", "key": "", "secret": "", "pair_whitelist": case["pairs"],
                     "pair_blacklist": []},
        "pairlists": [{"method": "StaticPairList"}],
        # Binance futures tickers carry no prices: Freqtrade insists on order-book pricing (unused in backtests).
        "entry_pricing": {"price_side": "same", "use_order_book": futures, "order_book_top": 1},
        "exit_pricing": {"price_side": "same", "use_order_book": futures, "order_book_top": 1},
        "user_data_dir": os.path.join(work, "user_data"),
        "datadir": datadir,
        "unfilledtimeout": {"entry": 10, "exit": 10, "unit": "minutes"},
        "internals": {},
    }
    os.makedirs(os.path.join(work, "user_data", "backtest_results"), exist_ok=True)
    cfg_path = os.path.join(work, "config.json")
    json.dump(config, open(cfg_path, "w"))

    from freqtrade.exchange.exchange import Exchange

    def reload_markets(self, force=False, *, load_leverage_tiers=True):
        self._markets = markets
        self._api.set_markets(list(markets.values()))
        self._api_async.set_markets(list(markets.values()))
        self._last_markets_refresh = int(time.time() * 1000)

    timerange = (datetime.fromtimestamp(case["start"] / 1000, tz=timezone.utc).strftime("%Y%m%d") + "-")
    argv = ["backtesting", "-c", cfg_path, "--strategy", case["strategy"], "--strategy-path",
            case["strategy_path"], "--datadir", datadir, "--timerange", timerange, "--fee", str(case["fee"]),
            "--export", "trades", "--cache", "none"]
    if case.get("timeframe_detail"):
        argv += ["--timeframe-detail", case["timeframe_detail"]]
    if case.get("enable_protections"):
        argv += ["--enable-protections"]
    from freqtrade.main import main as ft_main
    from freqtrade.optimize.backtesting import Backtesting

    timings = {"backtest_seconds": 0.0, "strategy_seconds": 0.0}
    original_backtest = Backtesting.backtest
    original_one = Backtesting.backtest_one_strategy

    def timed_backtest(self, *args, **kwargs):
        begin = time.perf_counter()
        try:
            return original_backtest(self, *args, **kwargs)
        finally:
            timings["backtest_seconds"] += time.perf_counter() - begin

    def timed_one(self, *args, **kwargs):
        begin = time.perf_counter()
        try:
            return original_one(self, *args, **kwargs)
        finally:
            timings["strategy_seconds"] += time.perf_counter() - begin

    started = time.perf_counter()
    with patch.object(Backtesting, "backtest", timed_backtest), \
         patch.object(Backtesting, "backtest_one_strategy", timed_one), \
         patch.object(Exchange, "reload_markets", reload_markets), \
         patch.object(Exchange, "get_fee", lambda self, *a, **k: case["fee"]):
        try:
            ft_main(argv)
        except SystemExit as exit_:
            if exit_.code not in (0, None):
                raise
    elapsed = time.perf_counter() - started
    results_dir = os.path.join(work, "user_data", "backtest_results")
    last = json.load(open(os.path.join(results_dir, ".last_result.json")))["latest_backtest"]
    with zipfile.ZipFile(os.path.join(results_dir, last)) as archive:
        name = [n for n in archive.namelist() if n.endswith(".json") and "_config" not in n and "meta" not in n][0]
        result = json.loads(archive.read(name))
    # strategy_seconds = indicators + signals + simulation (backtest_one_strategy);
    # backtest_seconds = signal shift + simulation loop (Backtesting.backtest).
    result["_tradai"] = {"freqtrade_wall_seconds": elapsed, **timings}
    json.dump(result, open(args.out, "w"))
    print(f"freqtrade backtest: {elapsed:.2f} s wall (whole command)", file=sys.stderr)


if __name__ == "__main__":
    main()
