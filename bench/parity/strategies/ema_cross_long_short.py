# TradAI parity strategy (ours): EMA cross in both directions with 3x leverage on futures. Mirrors
# bench/parity/long-short-strategy.ts exactly.
import talib.abstract as ta
from pandas import DataFrame

from freqtrade.strategy import IStrategy


class EmaLongShort(IStrategy):
    INTERFACE_VERSION = 3
    timeframe = "5m"
    can_short = True
    startup_candle_count = 50
    minimal_roi = {"0": 0.2}
    stoploss = -0.1
    order_types = {"entry": "limit", "exit": "limit", "stoploss": "market", "stoploss_on_exchange": False}

    def leverage(self, pair, current_time, current_rate, proposed_leverage, max_leverage, entry_tag, side, **kwargs):
        return 3.0

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe["emaFast"] = ta.EMA(dataframe, timeperiod=12)
        dataframe["emaSlow"] = ta.EMA(dataframe, timeperiod=26)
        return dataframe

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        fast, slow = dataframe["emaFast"], dataframe["emaSlow"]
        up = (fast > slow) & (fast.shift(1) <= slow.shift(1)) & (dataframe["volume"] > 0)
        down = (fast < slow) & (fast.shift(1) >= slow.shift(1)) & (dataframe["volume"] > 0)
        dataframe.loc[up, ["enter_long", "enter_tag"]] = (1, "up")
        dataframe.loc[down, ["enter_short", "enter_tag"]] = (1, "down")
        return dataframe

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        fast, slow = dataframe["emaFast"], dataframe["emaSlow"]
        dataframe.loc[(fast < slow) & (fast.shift(1) >= slow.shift(1)), "exit_long"] = 1
        dataframe.loc[(fast > slow) & (fast.shift(1) <= slow.shift(1)), "exit_short"] = 1
        return dataframe
