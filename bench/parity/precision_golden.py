"""Writes packages/engine/test/fixtures/precision-golden.json: rounding results computed by ccxt's
decimal_to_precision and Freqtrade's amount_to_precision / price_to_precision / FtPrecise (the
pinned Freqtrade venv), for random values. Run: ~/.cache/tradai/venv-freqtrade/bin/python bench/parity/precision_golden.py
"""
import json
import os
import random

from ccxt.base.decimal_to_precision import ROUND_DOWN, ROUND_UP, TICK_SIZE

import freqtrade
from freqtrade.exchange.exchange_utils import amount_to_precision, price_to_precision
from freqtrade.util import FtPrecise

random.seed(20251125)
precision = []
for _ in range(250):
    k = random.randint(0, 8)
    v = round(random.uniform(0, 10 ** random.randint(-3, 5)), random.randint(1, 12))
    v *= random.choice([1, 1, 1.0000001, 0.9999999])
    tick = 1 / 10**k
    precision.append({
        "value": v, "places": k,
        "truncate": amount_to_precision(v, tick, TICK_SIZE),
        "round": price_to_precision(v, tick, TICK_SIZE),
        "roundUp": price_to_precision(v, tick, TICK_SIZE, rounding_mode=ROUND_UP),
        "roundDown": price_to_precision(v, tick, TICK_SIZE, rounding_mode=ROUND_DOWN),
    })
values = []
for _ in range(250):
    a = round(random.uniform(0, 1000), random.randint(0, 6))
    r = round(random.uniform(0, 100000), random.randint(0, 8))
    f = random.choice([0.001, 0.0005, 0.00075, 0.0025, 0.0])
    product = FtPrecise(a) * FtPrecise(r)
    fees = product * FtPrecise(f)
    values.append({"amount": a, "rate": r, "fee": f, "plus": float(product + fees), "minus": float(product - fees)})
out = os.path.join(os.path.dirname(__file__), "../../packages/engine/test/fixtures/precision-golden.json")
with open(out, "w") as handle:
    json.dump({"source": f"freqtrade {freqtrade.__version__} / ccxt", "precision": precision, "values": values}, handle)
print("wrote", os.path.normpath(out))
