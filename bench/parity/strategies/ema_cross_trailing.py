# TradAI parity strategy (ours, not Freqtrade's): EMA cross with a trailing stop. Mirrors
# packages/engine/src/strategy/examples/ema-cross-strategy.ts exactly (EMA 12/26 on close,
# crossed_above entry with volume > 0, crossed_below exit).
import talib.abstract as ta
from pandas import DataFrame

from freqtrade.strategy import IStrategy


class EmaCross(IStrategy):
    INTERFACE_VERSION = 3
    timeframe = "5m"
    startup_candle_count = 50
    minimal_roi = {"0": 0.1}
    stoploss = -0.05
    trailing_stop = True
    trailing_stop_positive = 0.01
    trailing_stop_positive_offset = 0.02
    trailing_only_offset_is_reached = True
    order_types = {"entry": "limit", "exit": "limit", "stoploss": "market", "stoploss_on_exchange": False}

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe["emaFast"] = ta.EMA(dataframe, timeperiod=12)
        dataframe["emaSlow"] = ta.EMA(dataframe, timeperiod=26)
        return dataframe

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        fast, slow = dataframe["emaFast"], dataframe["emaSlow"]
        cross = (fast > slow) & (fast.shift(1) <= slow.shift(1))
        dataframe.loc[cross & (dataframe["volume"] > 0), ["enter_long", "enter_tag"]] = (1, "ema_cross")
        return dataframe

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        fast, slow = dataframe["emaFast"], dataframe["emaSlow"]
        cross = (fast < slow) & (fast.shift(1) >= slow.shift(1))
        dataframe.loc[cross, ["exit_long", "exit_tag"]] = (1, "ema_cross_down")
        return dataframe


class EmaCrossProtected(EmaCross):
    """EmaCross with all four protections (run with --enable-protections)."""

    @property
    def protections(self):
        return [
            {"method": "CooldownPeriod", "stop_duration_candles": 2},
            {"method": "StoplossGuard", "lookback_period_candles": 24, "trade_limit": 2,
             "stop_duration_candles": 12, "only_per_pair": False},
            {"method": "MaxDrawdown", "lookback_period_candles": 48, "trade_limit": 10,
             "stop_duration_candles": 12, "max_allowed_drawdown": 0.05},
            {"method": "LowProfitPairs", "lookback_period_candles": 60, "trade_limit": 2,
             "stop_duration": 60, "required_profit": 0.0},
        ]
