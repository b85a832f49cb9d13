"""ArcticDB baseline for bench/data/bench.ts (run by it; not part of the product).

Usage: python arcticdb_bench.py <columns.bin> <count> <work-dir> [drop|keep] [idle seconds] [ranges.json]
<columns.bin> holds the six float64 columns (timestamps ms, open, high, low, close, volume) back to
back, little-endian, exactly the candles the TypeScript side wrote. Prints one JSON line with
seconds per phase. Same phases as the TS side:
- write_cold: DataFrame (DatetimeIndex) → lib.write into an empty LMDB library
- write_warm: lib.update with every candle changed (close + 1), like the TS side's upsert
- read_cold:  a new Arctic instance → lib.read(...).data → the six columns as numpy float64 arrays
- read_warm:  the same, repeated on the same instance (best of 3)
- read_idle:  the same, each read after <idle seconds> without reads (median of 3), as a service
              answering requests now and then sees it
- read_ranges_cold / read_ranges: lib.read(..., date_range=(start, end - 1 ms)) for each
              [startMs, endMs) range of <ranges.json> (the TS side's 30-day ranges) into the same six
              arrays, first on a new Arctic instance, then again; total seconds, candles and the sum of
              each range's first and last close (both must equal the TS side's)
"""
import json
import os
import statistics
import sys
import time

import numpy as np
import pandas as pd
import arcticdb as adb

path, count, work = sys.argv[1], int(sys.argv[2]), sys.argv[3]
raw = np.fromfile(path, dtype="<f8", count=count * 6).reshape(6, count)
index = pd.to_datetime(raw[0].astype("int64"), unit="ms", utc=True)
frame = pd.DataFrame({"open": raw[1], "high": raw[2], "low": raw[3], "close": raw[4], "volume": raw[5]}, index=index)
uri = f"lmdb://{work}?map_size=8GB"


def to_columns(df: pd.DataFrame):
    # What the engine needs: contiguous float64 arrays, timestamps as epoch ms.
    ts = df.index.asi8 // 1_000_000 if df.index.dtype.kind == "M" else df.index.values
    return [np.ascontiguousarray(ts, dtype="float64")] + [np.ascontiguousarray(df[c].to_numpy(dtype="float64")) for c in ("open", "high", "low", "close", "volume")]


arctic = adb.Arctic(uri)
lib = arctic.get_library("bench", create_if_missing=True)
start = time.perf_counter()
lib.write("BTC_USDT_1m", frame)
write_cold = time.perf_counter() - start
changed = frame.copy()
changed["close"] = changed["close"] + 1
start = time.perf_counter()
lib.update("BTC_USDT_1m", changed)
write_warm = time.perf_counter() - start
raw[4] = raw[4] + 1  # what the store holds now (checked after the cold read)
del lib, arctic
if len(sys.argv) > 4 and sys.argv[4] == "drop":
    os.system("sync && echo 1 > /proc/sys/vm/drop_caches")

arctic = adb.Arctic(uri)
lib = arctic.get_library("bench")
start = time.perf_counter()
columns = to_columns(lib.read("BTC_USDT_1m").data)
read_cold = time.perf_counter() - start
assert len(columns[0]) == count and columns[4][-1] == raw[4][-1] and columns[0][123] == raw[0][123]
warm = []
for _ in range(3):
    del columns  # the previous result is released before the read, as the TS side does (GC)
    start = time.perf_counter()
    columns = to_columns(lib.read("BTC_USDT_1m").data)
    warm.append(time.perf_counter() - start)
idle_seconds = float(sys.argv[5]) if len(sys.argv) > 5 else 2.5
idle = []
for _ in range(3):
    del columns
    time.sleep(idle_seconds)
    start = time.perf_counter()
    columns = to_columns(lib.read("BTC_USDT_1m").data)
    idle.append(time.perf_counter() - start)
result = {"arcticdb": adb.__version__, "write_cold": write_cold, "write_warm": write_warm, "read_cold": read_cold, "read_warm": min(warm), "read_idle": statistics.median(idle)}
if len(sys.argv) > 6:
    ranges = json.load(open(sys.argv[6]))
    del columns

    def read_ranges(library):
        candles, check = 0, 0.0
        start = time.perf_counter()
        for item in ranges:
            window = (pd.Timestamp(item["startMs"], unit="ms", tz="UTC"), pd.Timestamp(item["endMs"] - 1, unit="ms", tz="UTC"))
            got = to_columns(library.read("BTC_USDT_1m", date_range=window).data)
            candles += len(got[0])
            check += got[4][0] + got[4][-1]  # first and last close of each range
        return time.perf_counter() - start, candles, check

    del lib, arctic
    arctic = adb.Arctic(uri)
    lib = arctic.get_library("bench")
    result["read_ranges_cold"], _, _ = read_ranges(lib)
    result["read_ranges"], result["range_candles"], result["range_check"] = read_ranges(lib)
print(json.dumps(result))
