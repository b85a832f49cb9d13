/**
 * Run configurations: validation (every problem at once, each naming its field) and preparation
 * (strategy defaults < config file < request overrides, as Freqtrade resolves them), with an export
 * to Freqtrade's config JSON. Keys are Freqtrade's, in snake_case (proto `RunConfig`).
 */
import {
  isValidTimeframe,
  validateParameterValues,
  type ParameterDefinition,
  type ParameterDescription,
  type ParameterSchema,
  type StrategyDescription,
} from "@tradai/engine";
import type { ExchangeSnapshot } from "./exchange-catalog";
import { fieldIssue, type ValidationIssue } from "./validation-issue";

export type ConfigValues = Record<string, unknown>;

/** Where a prepared key came from (proto `PrepareConfigResponse.sources`). */
export type ConfigLayer = "default" | "strategy" | "config_file" | "overrides";

/**
 * Values used when neither the strategy, the config file nor the request sets them. Freqtrade's own
 * defaults where it has them (dry_run_wallet 1000, tradable_balance_ratio 0.99, spot); exchange,
 * stake currency and max_open_trades are ours (Freqtrade requires them in the config).
 */
export const RUN_CONFIG_DEFAULTS: Readonly<ConfigValues> = Object.freeze({
  exchange: "binance",
  stake_currency: "USDT",
  stake_amount: "unlimited",
  tradable_balance_ratio: 0.99,
  dry_run: true,
  dry_run_wallet: 1000,
  max_open_trades: 3,
  trading_mode: "spot",
  margin_mode: "",
});

const PAIR = /^[A-Z0-9]{1,20}\/[A-Z0-9]{1,20}(:[A-Z0-9]{1,20})?$/;
const EARLIEST = Date.UTC(2009, 0, 3);

function describe(value: unknown): string {
  if (value === undefined) return "undefined";
  if (value === null) return "null";
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  return "an object";
}

const isNumber = (value: unknown): value is number => typeof value === "number" && Number.isFinite(value);
const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

function parseDay(text: string): number | undefined {
  if (/^\d{8}$/.test(text)) {
    const year = Number(text.slice(0, 4));
    const month = Number(text.slice(4, 6));
    const day = Number(text.slice(6, 8));
    const time = Date.UTC(year, month - 1, day);
    const date = new Date(time);
    if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) {
      return undefined;
    }
    return time;
  }
  if (/^\d{10}$/.test(text)) return Number(text) * 1000;
  if (/^\d{13}$/.test(text)) return Number(text);
  return undefined;
}

export interface ParsedTimerange {
  /** Epoch ms, inclusive; undefined = open start. */
  readonly start?: number;
  /** Epoch ms, exclusive; undefined = open end. */
  readonly end?: number;
}

/**
 * Freqtrade's --timerange syntax: "YYYYMMDD-YYYYMMDD", "YYYYMMDD-", "-YYYYMMDD", or epoch seconds
 * (10 digits) / milliseconds (13 digits) on either side. Returns the range or the issue.
 */
export function parseTimerange(
  value: unknown,
  now?: number,
  field = "timerange",
): { range?: ParsedTimerange; issue?: ValidationIssue } {
  const expected = 'a Freqtrade timerange "YYYYMMDD-YYYYMMDD" (either side may be open)';
  if (typeof value !== "string") return { issue: fieldIssue(field, expected, describe(value)) };
  const match = /^(\d*)-(\d*)$/.exec(value);
  if (match === null || (match[1] === "" && match[2] === "")) {
    return { issue: fieldIssue(field, expected, JSON.stringify(value)) };
  }
  const start = match[1] === "" ? undefined : parseDay(match[1] as string);
  const end = match[2] === "" ? undefined : parseDay(match[2] as string);
  if ((match[1] !== "" && start === undefined) || (match[2] !== "" && end === undefined)) {
    return { issue: fieldIssue(field, `${expected} with real calendar dates`, JSON.stringify(value)) };
  }
  if (start !== undefined && end !== undefined && start >= end) {
    return { issue: fieldIssue(field, "a start before the end", JSON.stringify(value)) };
  }
  if ((start ?? end ?? EARLIEST) < EARLIEST) {
    return {
      issue: fieldIssue(field, "dates from 20090103 on (no crypto candles before)", JSON.stringify(value)),
    };
  }
  if (now !== undefined && start !== undefined && start > now) {
    return { issue: fieldIssue(field, "a start that is not in the future", JSON.stringify(value)) };
  }
  return { range: { ...(start === undefined ? {} : { start }), ...(end === undefined ? {} : { end }) } };
}

// Descriptions are immutable once loaded (one per strategy version): build each schema once.
const schemas = new WeakMap<StrategyDescription, ParameterSchema>();

/** The parameter schema back from a strategy description (as stored in the registry). */
export function parameterSchemaOf(description: StrategyDescription): ParameterSchema {
  const cached = schemas.get(description);
  if (cached !== undefined) return cached;
  const schema: Record<string, ParameterDefinition> = {};
  for (const parameter of description.parameters) schema[parameter.name] = definitionOf(parameter);
  schemas.set(description, schema);
  return schema;
}

function definitionOf(parameter: ParameterDescription): ParameterDefinition {
  const base = { space: parameter.space, optimize: parameter.optimize };
  switch (parameter.type) {
    case "int":
    case "real":
      return {
        ...base,
        type: parameter.type,
        default: parameter.default as number,
        low: parameter.low ?? 0,
        high: parameter.high ?? 0,
      };
    case "decimal":
      return {
        ...base,
        type: "decimal",
        default: parameter.default as number,
        low: parameter.low ?? 0,
        high: parameter.high ?? 0,
        decimals: parameter.decimals ?? 3,
      };
    case "boolean":
      return { ...base, type: "boolean", default: parameter.default as boolean };
    case "categorical":
      return { ...base, type: "categorical", default: parameter.default, choices: parameter.choices ?? [] };
  }
}

/** The exchange id a config names (a string, or Freqtrade's `exchange.name`), if any. */
export function exchangeNameOf(config: ConfigValues): string | undefined {
  const exchange = config["exchange"];
  if (typeof exchange === "string") return exchange;
  if (isRecord(exchange) && typeof exchange["name"] === "string") return exchange["name"];
  return undefined;
}

export interface ValidateRunConfigContext {
  /** The strategy the config names, when it is registered (parameters and canShort are checked). */
  readonly strategy?: StrategyDescription;
  /** What the config's exchange supports (timeframes, and symbols when known); see `exchangeNameOf`. */
  readonly snapshot?: ExchangeSnapshot;
  /** Current time (epoch ms) for "not in the future" checks. */
  readonly now?: number;
}

/** Every problem in a run configuration, each naming its field. Empty when valid. */
export function validateRunConfig(
  config: ConfigValues,
  context: ValidateRunConfigContext = {},
): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const add = (field: string, expected: string, found: unknown) =>
    issues.push(fieldIssue(field, expected, describe(found)));
  const { strategy } = context;

  if (typeof config["strategy"] !== "string" || config["strategy"] === "") {
    add("strategy", "a registered strategy name", config["strategy"]);
  }

  // exchange: a ccxt id, or Freqtrade's {name, pair_whitelist} object.
  let exchangeName: string | undefined;
  const exchange = config["exchange"];
  if (typeof exchange === "string") exchangeName = exchange;
  else if (isRecord(exchange)) {
    if (typeof exchange["name"] === "string") exchangeName = exchange["name"];
    else add("exchange.name", 'a ccxt exchange id such as "binance"', exchange["name"]);
  } else if (exchange !== undefined) add("exchange", 'a ccxt exchange id such as "binance"', exchange);
  if (exchangeName !== undefined && !/^[a-z][a-z0-9]*$/.test(exchangeName)) {
    add("exchange", 'a ccxt exchange id such as "binance" (lower case)', exchangeName);
    exchangeName = undefined;
  }
  const snapshot = exchangeName === undefined ? undefined : context.snapshot;

  const tradingMode = config["trading_mode"] ?? "spot";
  if (!["spot", "futures", "margin"].includes(tradingMode as string)) {
    add("trading_mode", '"spot", "futures" or "margin"', tradingMode);
  }
  const marginMode = config["margin_mode"] ?? "";
  if (!["", "isolated", "cross"].includes(marginMode as string)) {
    add("margin_mode", '"isolated", "cross" or ""', marginMode);
  } else if (
    tradingMode !== "spot" &&
    marginMode === "" &&
    ["futures", "margin"].includes(tradingMode as string)
  ) {
    add("margin_mode", `"isolated" or "cross" for trading_mode ${String(tradingMode)}`, marginMode);
  }
  if (strategy?.canShort === true && tradingMode === "spot") {
    // Freqtrade: "Short strategies cannot run in spot markets."
    add("trading_mode", `"futures" or "margin" (strategy ${strategy.name} can short)`, tradingMode);
  }

  const stakeCurrency = config["stake_currency"];
  if (
    stakeCurrency !== undefined &&
    (typeof stakeCurrency !== "string" || !/^[A-Z0-9]{2,12}$/.test(stakeCurrency))
  ) {
    add("stake_currency", 'a currency code such as "USDT"', stakeCurrency);
  }

  // pairs, or Freqtrade's exchange.pair_whitelist.
  const whitelist = isRecord(exchange) ? exchange["pair_whitelist"] : undefined;
  const pairsField =
    config["pairs"] !== undefined || whitelist === undefined ? "pairs" : "exchange.pair_whitelist";
  const pairs = config["pairs"] ?? whitelist;
  if (!Array.isArray(pairs) || pairs.length === 0) {
    add(pairsField, 'a non-empty list of pairs such as ["BTC/USDT"]', pairs);
  } else {
    const seen = new Set<string>();
    pairs.forEach((pair: unknown, index) => {
      const field = `${pairsField}[${index}]`;
      if (typeof pair !== "string" || !PAIR.test(pair)) {
        add(field, 'a pair BASE/QUOTE in upper case such as "BTC/USDT" (futures: "BTC/USDT:USDT")', pair);
        return;
      }
      if (seen.has(pair)) add(field, "no duplicate pairs", pair);
      seen.add(pair);
      const quote = (pair.split(":")[0] as string).split("/")[1];
      if (typeof stakeCurrency === "string" && quote !== stakeCurrency) {
        add(field, `a pair quoted in the stake currency ${stakeCurrency}`, pair);
      }
      if (pair.includes(":") && tradingMode === "spot")
        add(field, "a spot pair (no settle currency) for trading_mode spot", pair);
      if (!pair.includes(":") && tradingMode === "futures")
        add(field, `a futures pair such as "${pair}:${quote ?? "USDT"}"`, pair);
      if (snapshot?.symbols !== undefined && !snapshot.symbols.includes(pair)) {
        add(field, `a symbol listed on ${exchangeName ?? "the exchange"}`, pair);
      }
    });
  }

  const timeframe = config["timeframe"];
  if (timeframe !== undefined) {
    if (typeof timeframe !== "string" || !isValidTimeframe(timeframe)) {
      add("timeframe", 'a timeframe such as "1m", "5m", "1h", "1d"', timeframe);
    } else if (snapshot !== undefined && !snapshot.timeframes.includes(timeframe)) {
      add(
        "timeframe",
        `one of ${exchangeName ?? ""}'s timeframes (${snapshot.timeframes.join(", ")})`,
        timeframe,
      );
    }
  }

  if (config["timerange"] !== undefined) {
    const { issue } = parseTimerange(config["timerange"], context.now);
    if (issue !== undefined) issues.push(issue);
  }

  const stakeAmount = config["stake_amount"];
  if (
    stakeAmount !== undefined &&
    stakeAmount !== "unlimited" &&
    !(isNumber(stakeAmount) && stakeAmount > 0)
  ) {
    add("stake_amount", 'a positive number or "unlimited"', stakeAmount);
  }
  const maxOpenTrades = config["max_open_trades"];
  if (maxOpenTrades !== undefined && !(Number.isInteger(maxOpenTrades) && (maxOpenTrades as number) >= -1)) {
    add("max_open_trades", "an integer of at least -1 (-1 = unlimited)", maxOpenTrades);
  } else if (maxOpenTrades === -1 && stakeAmount === "unlimited") {
    // Freqtrade: max_open_trades and stake_amount cannot both be unlimited.
    add("max_open_trades", 'a limit when stake_amount is "unlimited"', maxOpenTrades);
  } else if (maxOpenTrades === 0) {
    add("max_open_trades", "at least 1 (0 would never trade) or -1", maxOpenTrades);
  }
  const wallet = config["dry_run_wallet"];
  if (wallet !== undefined && !(isNumber(wallet) && wallet > 0))
    add("dry_run_wallet", "a positive number", wallet);
  const ratio = config["tradable_balance_ratio"];
  if (ratio !== undefined && !(isNumber(ratio) && ratio > 0 && ratio <= 1)) {
    add("tradable_balance_ratio", "a ratio above 0 and at most 1", ratio);
  }
  if (isNumber(stakeAmount) && isNumber(wallet) && stakeAmount > wallet * (isNumber(ratio) ? ratio : 0.99)) {
    add(
      "stake_amount",
      `at most the tradable balance ${wallet * (isNumber(ratio) ? ratio : 0.99)} (dry_run_wallet x tradable_balance_ratio)`,
      stakeAmount,
    );
  }
  const fee = config["fee"];
  if (fee !== undefined && !(isNumber(fee) && fee >= 0 && fee < 0.1)) {
    add("fee", "a fee ratio from 0 to below 0.1 (0.001 = 0.1 %)", fee);
  }

  const roi = config["minimal_roi"];
  if (roi !== undefined) {
    if (!isRecord(roi)) add("minimal_roi", 'an object of minutes → ratio such as {"0": 0.04}', roi);
    else {
      for (const [minutes, value] of Object.entries(roi)) {
        if (!/^\d+(\.\d+)?$/.test(minutes))
          issues.push(
            fieldIssue(`minimal_roi.${minutes}`, "a key of non-negative minutes", JSON.stringify(minutes)),
          );
        if (!(isNumber(value) && value >= -1)) add(`minimal_roi.${minutes}`, "a ratio of at least -1", value);
      }
    }
  }
  const stoploss = config["stoploss"];
  if (stoploss !== undefined && !(isNumber(stoploss) && stoploss >= -1 && stoploss < 0)) {
    add("stoploss", "a negative ratio from -1 to below 0", stoploss);
  }
  for (const key of [
    "trailing_stop",
    "trailing_only_offset_is_reached",
    "use_exit_signal",
    "exit_profit_only",
    "ignore_roi_if_entry_signal",
    "position_adjustment_enable",
    "dry_run",
  ]) {
    if (config[key] !== undefined && typeof config[key] !== "boolean") add(key, "a boolean", config[key]);
  }
  const positive = config["trailing_stop_positive"];
  if (positive !== undefined && positive !== null && !(isNumber(positive) && positive > 0 && positive <= 1)) {
    add("trailing_stop_positive", "a ratio above 0 and at most 1", positive);
  }
  const offset = config["trailing_stop_positive_offset"];
  if (offset !== undefined && !(isNumber(offset) && offset >= 0 && offset <= 1)) {
    add("trailing_stop_positive_offset", "a ratio from 0 to 1", offset);
  }
  if (
    config["trailing_only_offset_is_reached"] === true &&
    isNumber(positive) &&
    isNumber(offset) &&
    offset <= positive
  ) {
    // Freqtrade's _validate_trailing_stoploss.
    add(
      "trailing_stop_positive_offset",
      `greater than trailing_stop_positive (${positive}) when trailing_only_offset_is_reached is set`,
      offset,
    );
  }

  const params = config["params"];
  if (params !== undefined) {
    if (!isRecord(params)) add("params", "an object of parameter values", params);
    else if (strategy !== undefined) {
      for (const problem of validateParameterValues(parameterSchemaOf(strategy), params)) {
        const field = problem.field.replace(/^parameters\./, "params.");
        issues.push({ ...fieldIssue(field, problem.expected, problem.found) });
      }
    }
  }
  return issues;
}

export interface PrepareRunConfigInput {
  readonly strategy: StrategyDescription;
  readonly strategyVersion: string;
  readonly configFile?: ConfigValues;
  readonly overrides?: ConfigValues;
}

export interface PreparedRunConfig {
  readonly config: ConfigValues;
  /** Key (and "params.<name>") → the layer it came from. */
  readonly sources: Record<string, ConfigLayer>;
}

/** The strategy's attributes as Freqtrade config keys (what `IStrategy` attributes map to). */
export function strategyLayer(strategy: StrategyDescription, version: string): ConfigValues {
  const layer: ConfigValues = {
    strategy: strategy.name,
    strategy_version: version,
    timeframe: strategy.timeframe,
    startup_candle_count: strategy.startupCandleCount,
    minimal_roi: { ...strategy.minimalRoi },
    stoploss: strategy.stoploss,
    trailing_stop: strategy.trailingStop,
    trailing_stop_positive_offset: strategy.trailingStopPositiveOffset,
    trailing_only_offset_is_reached: strategy.trailingOnlyOffsetIsReached,
    use_custom_stoploss: strategy.useCustomStoploss,
    use_exit_signal: strategy.useExitSignal,
    exit_profit_only: strategy.exitProfitOnly,
    exit_profit_offset: strategy.exitProfitOffset,
    ignore_roi_if_entry_signal: strategy.ignoreRoiIfEntrySignal,
    position_adjustment_enable: strategy.positionAdjustmentEnable,
    max_entry_position_adjustment: strategy.maxEntryPositionAdjustment,
    order_types: { ...strategy.orderTypes, stoploss_on_exchange: false },
    unfilledtimeout: { ...strategy.unfilledTimeout, exit_timeout_count: 0 },
  };
  if (strategy.trailingStopPositive !== null) layer["trailing_stop_positive"] = strategy.trailingStopPositive;
  if (strategy.maxOpenTrades !== null) layer["max_open_trades"] = strategy.maxOpenTrades;
  return layer;
}

/**
 * Resolves the run configuration the way Freqtrade does: a key set in the request overrides wins
 * over the config file, which wins over the strategy's attribute, which wins over the defaults.
 * Values replace whole (a config `minimal_roi` replaces the strategy's table, not merged), except
 * `params`, resolved per parameter. Freqtrade's `exchange.pair_whitelist` feeds `pairs`.
 */
export function prepareRunConfig(input: PrepareRunConfigInput): PreparedRunConfig {
  const normalise = (values: ConfigValues | undefined): ConfigValues => {
    const copy: ConfigValues = { ...(values ?? {}) };
    const exchange = copy["exchange"];
    if (isRecord(exchange)) {
      if (copy["pairs"] === undefined && exchange["pair_whitelist"] !== undefined)
        copy["pairs"] = exchange["pair_whitelist"];
      if (typeof exchange["name"] === "string") copy["exchange"] = exchange["name"];
    }
    return copy;
  };
  const layers: [ConfigLayer, ConfigValues][] = [
    ["default", { ...RUN_CONFIG_DEFAULTS }],
    ["strategy", strategyLayer(input.strategy, input.strategyVersion)],
    ["config_file", normalise(input.configFile)],
    ["overrides", normalise(input.overrides)],
  ];
  const config: ConfigValues = {};
  const sources: Record<string, ConfigLayer> = {};
  const params: Record<string, unknown> = {};
  for (const parameter of input.strategy.parameters) {
    params[parameter.name] = parameter.default;
    sources[`params.${parameter.name}`] = "strategy";
  }
  for (const [layer, values] of layers) {
    for (const [key, value] of Object.entries(values)) {
      if (value === undefined) continue;
      if (key === "params" && isRecord(value)) {
        for (const [name, parameterValue] of Object.entries(value)) {
          params[name] = parameterValue;
          sources[`params.${name}`] = layer;
        }
        continue;
      }
      config[key] = value;
      sources[key] = layer;
    }
  }
  // The strategy is the one prepared, whatever a config file said.
  config["strategy"] = input.strategy.name;
  config["strategy_version"] = input.strategyVersion;
  sources["strategy"] = "strategy";
  sources["strategy_version"] = "strategy";
  config["params"] = params;
  sources["params"] = "strategy";
  return { config, sources };
}

/** The prepared configuration as Freqtrade config JSON (what `freqtrade backtesting -c` reads). */
export function toFreqtradeConfig(config: ConfigValues): Record<string, unknown> {
  const pick = (keys: string[]) =>
    Object.fromEntries(keys.filter((key) => config[key] !== undefined).map((key) => [key, config[key]]));
  const orderTypes = isRecord(config["order_types"]) ? config["order_types"] : {};
  const unfilled = isRecord(config["unfilledtimeout"]) ? config["unfilledtimeout"] : {};
  return {
    $schema: "https://schema.freqtrade.io/schema.json",
    ...pick(["strategy", "max_open_trades", "stake_currency", "stake_amount", "tradable_balance_ratio"]),
    fiat_display_currency: "",
    ...pick(["dry_run", "dry_run_wallet"]),
    cancel_open_orders_on_exit: false,
    ...pick(["trading_mode", "margin_mode", "timeframe", "timerange", "fee", "startup_candle_count"]),
    ...pick([
      "minimal_roi",
      "stoploss",
      "trailing_stop",
      "trailing_stop_positive",
      "trailing_stop_positive_offset",
      "trailing_only_offset_is_reached",
      "use_custom_stoploss",
      "use_exit_signal",
      "exit_profit_only",
      "exit_profit_offset",
      "ignore_roi_if_entry_signal",
      "position_adjustment_enable",
      "max_entry_position_adjustment",
    ]),
    order_types: {
      entry: orderTypes["entry"] ?? "limit",
      exit: orderTypes["exit"] ?? "limit",
      stoploss: orderTypes["stoploss"] ?? "market",
      stoploss_on_exchange: orderTypes["stoploss_on_exchange"] ?? false,
    },
    unfilledtimeout: {
      entry: unfilled["entry"] ?? 10,
      exit: unfilled["exit"] ?? 10,
      exit_timeout_count: unfilled["exit_timeout_count"] ?? 0,
      unit: unfilled["unit"] ?? "minutes",
    },
    entry_pricing: {
      price_side: "same",
      use_order_book: true,
      order_book_top: 1,
      price_last_balance: 0.0,
      check_depth_of_market: { enabled: false, bids_to_ask_delta: 1 },
    },
    exit_pricing: { price_side: "same", use_order_book: true, order_book_top: 1 },
    exchange: {
      name: config["exchange"],
      key: "",
      secret: "",
      ccxt_config: {},
      ccxt_async_config: {},
      pair_whitelist: Array.isArray(config["pairs"]) ? config["pairs"] : [],
      pair_blacklist: [],
    },
    pairlists: [{ method: "StaticPairList" }],
    bot_name: "tradai",
    internals: { process_throttle_secs: 5 },
  };
}
