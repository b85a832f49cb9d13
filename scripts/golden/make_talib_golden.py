#!/usr/bin/env python3
"""Write TA-Lib golden vectors for packages/engine's indicators.

Run through scripts/golden/make-golden.sh, which makes the virtualenv with the pinned PyPI `ta-lib`
wheel, numpy and pandas. This script reads fixed slices of real candles from ../shared/data/ohlcv,
runs the real TA-Lib (through its Python wrapper, exactly as a Freqtrade strategy calls it) and the
qtpylib helpers (re-implemented below from qtpylib's own source), and writes one gzip-compressed
JSON file per slice into packages/engine/test/golden/.

Only the outputs are stored: the tests re-read the same rows from shared/ and check the first and
last candle time stored here. Every double is written with Python's repr (shortest string that
round-trips), so JavaScript's JSON.parse gets the very same double back; NaN is written as null.

Usage: python make_talib_golden.py --data-dir ../shared/data/ohlcv --out packages/engine/test/golden
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import math
import os
import sys
from typing import Any, Callable

import numpy as np
import pandas as pd
import talib

# ---------------------------------------------------------------------------------------------------
# Slices of real data. Rows are 0-based data rows (the CSV header is not a row). Chosen by hand, fixed:
#  - btc_1h: contains the zero-volume, high == low candle of row 48961 (a Binance outage hour);
#  - eth_5m: contains the 14 flat zero-volume candles of rows 67818..67831 (outage of 2023-03-24),
#    which exercise the zero-range branches of STOCH, WILLR, MFI, CCI, ADX;
#  - doge_5m: prices around 0.1-0.4, where TA-Lib's fixed zero-epsilons would matter.
# ---------------------------------------------------------------------------------------------------
DATASETS = [
    {"id": "btc_usdt_1h", "file": "binance_BTC_USDT-1h.csv.gz", "start": 48000, "rows": 3000, "full": True},
    {"id": "eth_usdt_5m", "file": "binance_ETH_USDT-5m.csv.gz", "start": 66500, "rows": 3000, "full": False},
    {"id": "doge_usdt_5m", "file": "binance_DOGE_USDT-5m.csv.gz", "start": 60000, "rows": 1500, "full": False},
]

NAN_PREFIX = 25  # input variant "close_nanprefix": close with its first 25 values set to NaN
NAN_HOLE_AT = 1000  # input variant "close_nanhole": close with the value at row 1000 set to NaN

# Every output is computed over the whole slice, but to keep the committed files small (< 2 MB in
# all) only these rows of it are stored: every row below DENSE_UNTIL (the NaN prefix, the seeding
# and the first hundreds of values), then every STRIDE-th row: i >= DENSE_UNTIL and
# (i - DENSE_UNTIL) % STRIDE == 0. A wrong recursion state shows at the sampled rows just the same.
DENSE_UNTIL = 600
STRIDE = 3


def stored_rows(n: int) -> list[int]:
    return [i for i in range(n) if i < DENSE_UNTIL or (i - DENSE_UNTIL) % STRIDE == 0]


def read_slice(path: str, start: int, rows: int) -> dict[str, np.ndarray]:
    cols: dict[str, list[float]] = {k: [] for k in ("timestamp", "open", "high", "low", "close", "volume")}
    with gzip.open(path, "rt", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        if header != ["timestamp", "open", "high", "low", "close", "volume"]:
            raise SystemExit(f"{path}: unexpected header {header}")
        for i, row in enumerate(reader):
            if i < start:
                continue
            if i >= start + rows:
                break
            for k, v in zip(header, row):
                # float() is correctly rounded, like JavaScript's Number(); pandas' default CSV
                # parser is not always, so the CSV is parsed here by hand.
                cols[k].append(float(v))
    if len(cols["close"]) != rows:
        raise SystemExit(f"{path}: wanted rows {start}..{start + rows - 1}, file is shorter")
    return {k: np.array(v, dtype=np.float64) for k, v in cols.items()}


def with_variants(d: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    out = dict(d)
    pre = d["close"].copy()
    pre[:NAN_PREFIX] = np.nan
    out["close_nanprefix"] = pre
    hole = d["close"].copy()
    hole[NAN_HOLE_AT] = np.nan
    out["close_nanhole"] = hole
    return out


# ---------------------------------------------------------------------------------------------------
# qtpylib (freqtrade/vendor/qtpylib/indicators.py), re-implemented from its source:
#   typical_price(bars) = (high + low + close) / 3.0
#   bollinger_bands(series, window=20, stds=2):
#       ma  = rolling_mean(series, window=window, min_periods=1)
#       std = rolling_std(series, window=window, min_periods=1)
#       upper = ma + std * stds ; lower = ma - std * stds
# and since min_periods (1) != window, qtpylib's rolling_mean / rolling_std take the pandas branch:
#   series.rolling(window=window, min_periods=1).mean() / .std()   (std: ddof=1)
# ---------------------------------------------------------------------------------------------------
def qtpylib_typical_price(high: np.ndarray, low: np.ndarray, close: np.ndarray) -> np.ndarray:
    return ((pd.Series(high) + pd.Series(low) + pd.Series(close)) / 3.0).to_numpy()


def qtpylib_bollinger_bands(series: np.ndarray, window: int, stds: float) -> tuple[np.ndarray, ...]:
    s = pd.Series(series)
    ma = s.rolling(window=window, min_periods=1).mean()
    std = s.rolling(window=window, min_periods=1).std()
    upper = ma + std * stds
    lower = ma - std * stds
    return upper.to_numpy(), ma.to_numpy(), lower.to_numpy()


def qtpylib_bb_typical(high, low, close, window=20, stds=2):  # type: ignore[no-untyped-def]
    return qtpylib_bollinger_bands(qtpylib_typical_price(high, low, close), window, stds)


# qtpylib.crossed(series1, series2, direction), from its source:
#   if series2 is a number: series2 = pd.Series(index=series1.index, data=series2)
#   above = (series1 > series2) & (series1.shift(1) <= series2.shift(1))
#   below = (series1 < series2) & (series1.shift(1) >= series2.shift(1))
# Here series2 is talib.SMA(close, 20) (a series with a NaN prefix) or the RSI level 30 (a number).
def qtpylib_crossed(series1: np.ndarray, series2: Any, direction: str) -> np.ndarray:
    s1 = pd.Series(series1)
    s2 = pd.Series(index=s1.index, data=series2) if np.isscalar(series2) else pd.Series(series2)
    if direction == "above":
        res = (s1 > s2) & (s1.shift(1) <= s2.shift(1))
    else:
        res = (s1 < s2) & (s1.shift(1) >= s2.shift(1))
    return res.to_numpy(dtype=np.float64)


def qtpylib_cross_cases(close):  # type: ignore[no-untyped-def]
    sma20 = talib.SMA(close, timeperiod=20)
    rsi14 = talib.RSI(close, timeperiod=14)
    return (
        qtpylib_crossed(close, sma20, "above"),
        qtpylib_crossed(close, sma20, "below"),
        qtpylib_crossed(rsi14, 30.0, "above"),
        qtpylib_crossed(rsi14, 30.0, "below"),
    )


# ---------------------------------------------------------------------------------------------------
# Cases: (function name, params, input column names, output names). "full" cases run on every
# dataset; the others only on datasets with "full": True (keeps the files small).
# ---------------------------------------------------------------------------------------------------
Case = tuple[str, dict[str, Any], list[str], list[str], bool]
C = ["close"]
HLC = ["high", "low", "close"]

CASES: list[Case] = [
    ("SMA", {"timeperiod": 30}, C, ["real"], True),
    ("SMA", {"timeperiod": 2}, C, ["real"], False),
    ("SMA", {"timeperiod": 200}, C, ["real"], False),
    ("SMA", {"timeperiod": 5}, ["close_nanprefix"], ["real"], False),
    ("SMA", {"timeperiod": 5}, ["close_nanhole"], ["real"], False),
    ("EMA", {"timeperiod": 30}, C, ["real"], True),
    ("EMA", {"timeperiod": 2}, C, ["real"], False),
    ("EMA", {"timeperiod": 200}, C, ["real"], False),
    ("EMA", {"timeperiod": 10}, ["close_nanprefix"], ["real"], False),
    ("WMA", {"timeperiod": 30}, C, ["real"], True),
    ("WMA", {"timeperiod": 9}, C, ["real"], False),
    ("DEMA", {"timeperiod": 30}, C, ["real"], True),
    ("DEMA", {"timeperiod": 9}, C, ["real"], False),
    ("TEMA", {"timeperiod": 30}, C, ["real"], True),
    ("TEMA", {"timeperiod": 9}, C, ["real"], False),
    ("RSI", {"timeperiod": 14}, C, ["real"], True),
    ("RSI", {"timeperiod": 2}, C, ["real"], False),
    ("RSI", {"timeperiod": 14}, ["close_nanprefix"], ["real"], False),
    ("RSI", {"timeperiod": 14}, ["close_nanhole"], ["real"], False),
    ("MACD", {"fastperiod": 12, "slowperiod": 26, "signalperiod": 9}, C, ["macd", "macdsignal", "macdhist"], True),
    ("MACD", {"fastperiod": 5, "slowperiod": 35, "signalperiod": 5}, C, ["macd", "macdsignal", "macdhist"], False),
    (
        "BBANDS",
        {"timeperiod": 5, "nbdevup": 2.0, "nbdevdn": 2.0, "matype": 0},
        C,
        ["upperband", "middleband", "lowerband"],
        True,
    ),
    (
        "BBANDS",
        {"timeperiod": 20, "nbdevup": 1.5, "nbdevdn": 2.5, "matype": 0},
        C,
        ["upperband", "middleband", "lowerband"],
        False,
    ),
    ("ATR", {"timeperiod": 14}, HLC, ["real"], True),
    ("ATR", {"timeperiod": 1}, HLC, ["real"], False),
    ("NATR", {"timeperiod": 14}, HLC, ["real"], True),
    ("NATR", {"timeperiod": 1}, HLC, ["real"], False),
    ("TRANGE", {}, HLC, ["real"], True),
    ("ADX", {"timeperiod": 14}, HLC, ["real"], True),
    ("ADX", {"timeperiod": 5}, HLC, ["real"], False),
    ("PLUS_DI", {"timeperiod": 14}, HLC, ["real"], True),
    ("PLUS_DI", {"timeperiod": 1}, HLC, ["real"], False),
    ("MINUS_DI", {"timeperiod": 14}, HLC, ["real"], True),
    ("MINUS_DI", {"timeperiod": 1}, HLC, ["real"], False),
    (
        "STOCH",
        {"fastk_period": 5, "slowk_period": 3, "slowk_matype": 0, "slowd_period": 3, "slowd_matype": 0},
        HLC,
        ["slowk", "slowd"],
        True,
    ),
    (
        "STOCH",
        {"fastk_period": 14, "slowk_period": 1, "slowk_matype": 0, "slowd_period": 5, "slowd_matype": 0},
        HLC,
        ["slowk", "slowd"],
        False,
    ),
    ("STOCHF", {"fastk_period": 5, "fastd_period": 3, "fastd_matype": 0}, HLC, ["fastk", "fastd"], True),
    ("STOCHF", {"fastk_period": 14, "fastd_period": 1, "fastd_matype": 0}, HLC, ["fastk", "fastd"], False),
    ("MFI", {"timeperiod": 14}, ["high", "low", "close", "volume"], ["real"], True),
    ("SAR", {"acceleration": 0.02, "maximum": 0.2}, ["high", "low"], ["real"], True),
    ("SAR", {"acceleration": 0.01, "maximum": 0.1}, ["high", "low"], ["real"], False),
    ("CCI", {"timeperiod": 14}, HLC, ["real"], True),
    ("CCI", {"timeperiod": 20}, HLC, ["real"], False),
    ("OBV", {}, ["close", "volume"], ["real"], True),
    ("ROC", {"timeperiod": 10}, C, ["real"], True),
    ("ROC", {"timeperiod": 1}, C, ["real"], False),
    ("MOM", {"timeperiod": 10}, C, ["real"], True),
    ("MOM", {"timeperiod": 1}, C, ["real"], False),
    ("WILLR", {"timeperiod": 14}, HLC, ["real"], True),
    ("HT_SINE", {}, C, ["sine", "leadsine"], True),
    # A NaN inside the series (row NAN_HOLE_AT of close): what TA-Lib's arithmetic makes of it.
    ("EMA", {"timeperiod": 10}, ["close_nanhole"], ["real"], False),
    ("WMA", {"timeperiod": 10}, ["close_nanhole"], ["real"], False),
    ("TEMA", {"timeperiod": 5}, ["close_nanhole"], ["real"], False),
    ("MACD", {"fastperiod": 12, "slowperiod": 26, "signalperiod": 9}, ["close_nanhole"], ["macd", "macdsignal", "macdhist"], False),
    ("BBANDS", {"timeperiod": 5, "nbdevup": 2.0, "nbdevdn": 2.0, "matype": 0}, ["close_nanhole"], ["upperband", "middleband", "lowerband"], False),
    ("ROC", {"timeperiod": 10}, ["close_nanhole"], ["real"], False),
    ("HT_SINE", {}, ["close_nanhole"], ["sine", "leadsine"], False),
    ("OBV", {}, ["close_nanhole", "volume"], ["real"], False),
    ("ATR", {"timeperiod": 14}, ["high", "low", "close_nanhole"], ["real"], False),
    ("NATR", {"timeperiod": 14}, ["high", "low", "close_nanhole"], ["real"], False),
    ("TRANGE", {}, ["high", "low", "close_nanhole"], ["real"], False),
    ("ADX", {"timeperiod": 14}, ["high", "low", "close_nanhole"], ["real"], False),
    ("PLUS_DI", {"timeperiod": 14}, ["high", "low", "close_nanhole"], ["real"], False),
    ("MINUS_DI", {"timeperiod": 14}, ["high", "low", "close_nanhole"], ["real"], False),
    (
        "STOCH",
        {"fastk_period": 5, "slowk_period": 3, "slowk_matype": 0, "slowd_period": 3, "slowd_matype": 0},
        ["high", "low", "close_nanhole"],
        ["slowk", "slowd"],
        False,
    ),
    ("WILLR", {"timeperiod": 14}, ["high", "low", "close_nanhole"], ["real"], False),
    ("MFI", {"timeperiod": 14}, ["high", "low", "close_nanhole", "volume"], ["real"], False),
    ("CCI", {"timeperiod": 14}, ["high", "low", "close_nanhole"], ["real"], False),
    ("qtpylib.typical_price", {}, HLC, ["real"], True),
    ("qtpylib.bollinger_bands", {"window": 20, "stds": 2}, HLC, ["upper", "mid", "lower"], True),
    ("qtpylib.bollinger_bands(series)", {"window": 5, "stds": 1.5}, ["close_nanhole"], ["upper", "mid", "lower"], False),
    (
        "qtpylib.crossed",
        {},
        C,
        ["close_above_sma20", "close_below_sma20", "rsi14_above_30", "rsi14_below_30"],
        False,
    ),
]

QTPYLIB: dict[str, Callable[..., Any]] = {
    "qtpylib.typical_price": qtpylib_typical_price,
    "qtpylib.bollinger_bands": qtpylib_bb_typical,
    "qtpylib.bollinger_bands(series)": qtpylib_bollinger_bands,
    "qtpylib.crossed": qtpylib_cross_cases,
}


def run_case(fn: str, params: dict[str, Any], inputs: list[np.ndarray]) -> list[np.ndarray]:
    f = QTPYLIB.get(fn) or getattr(talib, fn)
    if fn == "qtpylib.bollinger_bands(series)":
        res = f(inputs[0], params["window"], params["stds"])
    else:
        res = f(*inputs, **params)
    if isinstance(res, tuple):
        return [np.asarray(r, dtype=np.float64) for r in res]
    return [np.asarray(res, dtype=np.float64)]


def encode(values: np.ndarray) -> list[float | None]:
    out: list[float | None] = []
    all_values = values.tolist()
    for i in stored_rows(len(all_values)):
        v = all_values[i]
        if math.isnan(v):
            out.append(None)
        elif math.isinf(v):
            raise SystemExit("infinite value in an output: not representable in JSON")
        else:
            out.append(v)
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-dir", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)

    versions = {
        "ta-lib (PyPI)": talib.__version__,
        "TA-Lib C library": talib.__ta_version__.decode() if isinstance(talib.__ta_version__, bytes) else str(talib.__ta_version__),
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "python": sys.version.split()[0],
    }
    total = 0
    for ds in DATASETS:
        raw = read_slice(os.path.join(args.data_dir, ds["file"]), ds["start"], ds["rows"])
        cols = with_variants(raw)
        cases_out = []
        for fn, params, in_names, out_names, in_all in CASES:
            if not in_all and not ds["full"]:
                continue
            outs = run_case(fn, params, [cols[n] for n in in_names])
            if len(outs) != len(out_names):
                raise SystemExit(f"{fn}: {len(outs)} outputs, expected {len(out_names)}")
            cases_out.append(
                {
                    "fn": fn,
                    "params": params,
                    "inputs": in_names,
                    "outputs": {name: encode(o) for name, o in zip(out_names, outs)},
                }
            )
        doc = {
            "generator": "scripts/golden/make_talib_golden.py",
            "versions": versions,
            "dataset": {
                "id": ds["id"],
                "file": ds["file"],
                "startRow": ds["start"],
                "rows": ds["rows"],
                "firstTimestamp": int(raw["timestamp"][0]),
                "lastTimestamp": int(raw["timestamp"][-1]),
                "nanPrefix": NAN_PREFIX,
                "nanHoleAt": NAN_HOLE_AT,
                "storedRows": {"denseUntil": DENSE_UNTIL, "stride": STRIDE},
            },
            "cases": cases_out,
        }
        text = json.dumps(doc, separators=(",", ":"), allow_nan=False)
        buf = io.BytesIO()
        # mtime=0 and no file name: the same inputs give byte-identical files.
        with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as gz:
            gz.write(text.encode("utf-8"))
        path = os.path.join(args.out, f"{ds['id']}.json.gz")
        with open(path, "wb") as fh:
            fh.write(buf.getvalue())
        total += len(buf.getvalue())
        print(f"{path}: {len(cases_out)} cases, {len(text)} bytes JSON, {len(buf.getvalue())} bytes gzip")
    print(f"total {total} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
