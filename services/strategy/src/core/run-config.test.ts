import { describe, expect, it } from "vitest";
import { parseTimerange, validateRunConfig } from "./run-config";

describe("parseTimerange (Freqtrade's --timerange syntax)", () => {
  it.each([
    ["20240101-20240201", { start: 1704067200000, end: 1706745600000 }],
    ["20240101-", { start: 1704067200000 }],
    ["-20240201", { end: 1706745600000 }],
    ["1704067200-1706745600", { start: 1704067200000, end: 1706745600000 }],
  ])("parses %s", (text, range) => {
    expect(parseTimerange(text)).toEqual({ range });
  });

  it.each([
    [
      "2024-01-01",
      'timerange: expected a Freqtrade timerange "YYYYMMDD-YYYYMMDD" (either side may be open), got "2024-01-01"',
    ],
    ["-", 'timerange: expected a Freqtrade timerange "YYYYMMDD-YYYYMMDD" (either side may be open), got "-"'],
    [
      "20240231-20240301",
      'timerange: expected a Freqtrade timerange "YYYYMMDD-YYYYMMDD" (either side may be open) with real calendar dates, got "20240231-20240301"',
    ],
    ["20240201-20240101", 'timerange: expected a start before the end, got "20240201-20240101"'],
    ["20240101-20240101", 'timerange: expected a start before the end, got "20240101-20240101"'],
    [
      "19990101-20000101",
      'timerange: expected dates from 20090103 on (no crypto candles before), got "19990101-20000101"',
    ],
  ])("rejects %s", (text, message) => {
    expect(parseTimerange(text).issue?.message).toBe(message);
  });

  it("rejects a start in the future when the clock is given", () => {
    expect(parseTimerange("20300101-", Date.UTC(2026, 0, 1)).issue?.message).toBe(
      'timerange: expected a start that is not in the future, got "20300101-"',
    );
  });
});

describe("validateRunConfig", () => {
  const snapshot = { timeframes: ["1m", "5m"], symbols: ["BTC/USDT"] };

  it("checks timeframes and symbols against a markets snapshot when one is given", () => {
    const issues = validateRunConfig(
      { strategy: "S", exchange: "binance", pairs: ["BTC/USDT", "DOGE/USDT"], timeframe: "1h" },
      { snapshot },
    );
    expect(issues.map((issue) => issue.message)).toEqual([
      'pairs[1]: expected a symbol listed on binance, got "DOGE/USDT"',
      'timeframe: expected one of binance\'s timeframes (1m, 5m), got "1h"',
    ]);
  });

  it("reads Freqtrade's exchange.pair_whitelist and names it", () => {
    const issues = validateRunConfig({
      strategy: "S",
      exchange: { name: "binance", pair_whitelist: ["BTCUSDT"] },
    });
    expect(issues.map((issue) => issue.field)).toEqual(["exchange.pair_whitelist[0]"]);
  });

  it("requires a strategy and pairs", () => {
    expect(validateRunConfig({}).map((issue) => issue.field)).toEqual(["strategy", "pairs"]);
  });

  it("checks futures symbols and margin mode", () => {
    const issues = validateRunConfig({ strategy: "S", trading_mode: "futures", pairs: ["BTC/USDT"] });
    expect(issues.map((issue) => issue.message)).toEqual([
      'margin_mode: expected "isolated" or "cross" for trading_mode futures, got ""',
      'pairs[0]: expected a futures pair such as "BTC/USDT:USDT", got "BTC/USDT"',
    ]);
  });
});
