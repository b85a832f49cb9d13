"""Validates a Freqtrade config (JSON on stdin) with Freqtrade's own checks:
validate_config_schema (its JSON schema, Draft 4) and validate_config_consistency.
argv[1]: run mode ("backtest", "dry_run", "live"). Prints "ok" or the error, exit 0 / 1."""
import importlib
import json
import os
import sys
import types

import freqtrade

# Load freqtrade.configuration's submodules without its __init__ (which needs ccxt, pandas, ...).
package = types.ModuleType("freqtrade.configuration")
package.__path__ = [os.path.join(os.path.dirname(freqtrade.__file__), "configuration")]
sys.modules["freqtrade.configuration"] = package
validation = importlib.import_module("freqtrade.configuration.config_validation")
from freqtrade.enums import RunMode  # noqa: E402

config = json.load(sys.stdin)
config.pop("$schema", None)
config["runmode"] = RunMode(sys.argv[1] if len(sys.argv) > 1 else "backtest")
try:
    validation.validate_config_schema(config, preliminary=False)
    validation.validate_config_consistency(config, preliminary=False)
except Exception as error:  # noqa: BLE001 - report any rejection as text
    print(f"{type(error).__name__}: {error}")
    sys.exit(1)
print("ok")
