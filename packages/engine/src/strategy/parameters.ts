/**
 * Strategy parameters declared with a schema (Freqtrade's `IntParameter`, `DecimalParameter`,
 * `RealParameter`, `BooleanParameter`, `CategoricalParameter` from `strategy/parameters.py`).
 * The schema gives the default, the sweep range and the space a sweep optimises it in.
 */
import { describeValue, strategyProblem, type StrategyProblem } from "../errors";

/** The sweep space a parameter belongs to (Freqtrade: buy, sell, protection). */
export type ParameterSpace = "buy" | "sell" | "protection";

interface ParameterBase {
  /** Sweep space; default "buy". */
  readonly space: ParameterSpace;
  /** Whether sweeps (hyperopt) vary this parameter; default true. */
  readonly optimize: boolean;
  /** Free text shown in the strategy description. */
  readonly description?: string;
}

/** Integer in [low, high] (both inclusive). */
export interface IntParameter extends ParameterBase {
  readonly type: "int";
  readonly default: number;
  readonly low: number;
  readonly high: number;
}

/** Decimal in [low, high] on a grid of `decimals` decimal places. */
export interface DecimalParameter extends ParameterBase {
  readonly type: "decimal";
  readonly default: number;
  readonly low: number;
  readonly high: number;
  /** Decimal places; default 3 (Freqtrade's default). */
  readonly decimals: number;
}

/** Continuous real in [low, high]. */
export interface RealParameter extends ParameterBase {
  readonly type: "real";
  readonly default: number;
  readonly low: number;
  readonly high: number;
}

export interface BooleanParameter extends ParameterBase {
  readonly type: "boolean";
  readonly default: boolean;
}

export type CategoricalValue = string | number | boolean;

export interface CategoricalParameter<T extends CategoricalValue = CategoricalValue> extends ParameterBase {
  readonly type: "categorical";
  readonly default: T;
  readonly choices: readonly T[];
}

export type ParameterDefinition =
  IntParameter | DecimalParameter | RealParameter | BooleanParameter | CategoricalParameter;

/** Parameter name → definition. */
export type ParameterSchema = Readonly<Record<string, ParameterDefinition>>;

/** The resolved values a strategy sees, typed from its schema. */
export type ParameterValues<S extends ParameterSchema> = {
  readonly [K in keyof S]: S[K] extends BooleanParameter
    ? boolean
    : S[K] extends CategoricalParameter<infer T>
      ? T
      : number;
};

type RangeOptions = {
  default: number;
  low: number;
  high: number;
  space?: ParameterSpace;
  optimize?: boolean;
  description?: string;
};

function base(options: { space?: ParameterSpace; optimize?: boolean; description?: string }): ParameterBase {
  return {
    space: options.space ?? "buy",
    optimize: options.optimize ?? true,
    ...(options.description === undefined ? {} : { description: options.description }),
  };
}

/** `intParameter({ default: 30, low: 1, high: 50, space: "buy" })` — Freqtrade's IntParameter. */
export function intParameter(options: RangeOptions): IntParameter {
  return Object.freeze({
    type: "int",
    default: options.default,
    low: options.low,
    high: options.high,
    ...base(options),
  });
}

/** Freqtrade's DecimalParameter; `decimals` defaults to 3. */
export function decimalParameter(options: RangeOptions & { decimals?: number }): DecimalParameter {
  return Object.freeze({
    type: "decimal",
    default: options.default,
    low: options.low,
    high: options.high,
    decimals: options.decimals ?? 3,
    ...base(options),
  });
}

/** Freqtrade's RealParameter (continuous range). */
export function realParameter(options: RangeOptions): RealParameter {
  return Object.freeze({
    type: "real",
    default: options.default,
    low: options.low,
    high: options.high,
    ...base(options),
  });
}

export function booleanParameter(options: {
  default: boolean;
  space?: ParameterSpace;
  optimize?: boolean;
  description?: string;
}): BooleanParameter {
  return Object.freeze({ type: "boolean", default: options.default, ...base(options) });
}

export function categoricalParameter<const T extends CategoricalValue>(options: {
  default: T;
  choices: readonly T[];
  space?: ParameterSpace;
  optimize?: boolean;
  description?: string;
}): CategoricalParameter<T> {
  return Object.freeze({
    type: "categorical",
    default: options.default,
    choices: Object.freeze([...options.choices]),
    ...base(options),
  });
}

const SPACES: readonly string[] = ["buy", "sell", "protection"];

function isFiniteNumber(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value);
}

function hasAtMostDecimals(value: number, decimals: number): boolean {
  const scaled = value * 10 ** decimals;
  return Math.abs(scaled - Math.round(scaled)) <= 1e-9 * Math.max(1, Math.abs(scaled));
}

/** Problems in one parameter definition (the schema itself), each naming `parameters.<name>.<key>`. */
export function validateParameterDefinition(name: string, definition: unknown): StrategyProblem[] {
  const field = `parameters.${name}`;
  if (typeof definition !== "object" || definition === null) {
    return [strategyProblem(field, "a parameter definition object", describeValue(definition))];
  }
  const problems: StrategyProblem[] = [];
  const record = definition as Record<string, unknown>;
  const type = record["type"];
  if (!SPACES.includes(record["space"] as string)) {
    problems.push(
      strategyProblem(`${field}.space`, `one of ${SPACES.join(", ")}`, describeValue(record["space"])),
    );
  }
  if (typeof record["optimize"] !== "boolean") {
    problems.push(strategyProblem(`${field}.optimize`, "a boolean", describeValue(record["optimize"])));
  }
  switch (type) {
    case "int":
    case "decimal":
    case "real": {
      const low = record["low"];
      const high = record["high"];
      if (!isFiniteNumber(low))
        problems.push(strategyProblem(`${field}.low`, "a finite number", describeValue(low)));
      if (!isFiniteNumber(high))
        problems.push(strategyProblem(`${field}.high`, "a finite number", describeValue(high)));
      if (type === "int") {
        if (isFiniteNumber(low) && !Number.isInteger(low))
          problems.push(strategyProblem(`${field}.low`, "an integer", String(low)));
        if (isFiniteNumber(high) && !Number.isInteger(high))
          problems.push(strategyProblem(`${field}.high`, "an integer", String(high)));
      }
      if (type === "decimal") {
        const decimals = record["decimals"];
        if (!Number.isInteger(decimals) || (decimals as number) < 0 || (decimals as number) > 12) {
          problems.push(
            strategyProblem(`${field}.decimals`, "an integer from 0 to 12", describeValue(decimals)),
          );
        }
      }
      if (isFiniteNumber(low) && isFiniteNumber(high) && low > high) {
        problems.push(strategyProblem(`${field}.low`, `at most high (${high})`, String(low)));
      }
      problems.push(...checkValue(`${field}.default`, definition as ParameterDefinition, record["default"]));
      break;
    }
    case "boolean":
      if (typeof record["default"] !== "boolean") {
        problems.push(strategyProblem(`${field}.default`, "a boolean", describeValue(record["default"])));
      }
      break;
    case "categorical": {
      const choices = record["choices"];
      if (!Array.isArray(choices) || choices.length === 0) {
        problems.push(strategyProblem(`${field}.choices`, "a non-empty array", describeValue(choices)));
      } else {
        if (new Set(choices).size !== choices.length) {
          problems.push(strategyProblem(`${field}.choices`, "distinct values", JSON.stringify(choices)));
        }
        problems.push(
          ...checkValue(`${field}.default`, definition as ParameterDefinition, record["default"]),
        );
      }
      break;
    }
    default:
      problems.push(
        strategyProblem(
          `${field}.type`,
          "one of int, decimal, real, boolean, categorical",
          describeValue(type),
        ),
      );
  }
  return problems;
}

/** Problems with one value for a parameter definition (empty when valid). */
function checkValue(field: string, definition: ParameterDefinition, value: unknown): StrategyProblem[] {
  switch (definition.type) {
    case "int":
      if (!isFiniteNumber(value) || !Number.isInteger(value)) {
        return [
          strategyProblem(
            field,
            `an integer from ${definition.low} to ${definition.high}`,
            describeValue(value),
          ),
        ];
      }
      if (value < definition.low || value > definition.high) {
        return [
          strategyProblem(field, `an integer from ${definition.low} to ${definition.high}`, String(value)),
        ];
      }
      return [];
    case "decimal":
    case "real": {
      const expected = `a number from ${definition.low} to ${definition.high}`;
      if (!isFiniteNumber(value)) return [strategyProblem(field, expected, describeValue(value))];
      if (value < definition.low || value > definition.high)
        return [strategyProblem(field, expected, String(value))];
      if (definition.type === "decimal" && !hasAtMostDecimals(value, definition.decimals)) {
        return [
          strategyProblem(field, `a number with at most ${definition.decimals} decimals`, String(value)),
        ];
      }
      return [];
    }
    case "boolean":
      return typeof value === "boolean" ? [] : [strategyProblem(field, "a boolean", describeValue(value))];
    case "categorical":
      return definition.choices.includes(value as CategoricalValue)
        ? []
        : [
            strategyProblem(
              field,
              `one of ${definition.choices.map((choice) => JSON.stringify(choice)).join(", ")}`,
              describeValue(value),
            ),
          ];
  }
}

/**
 * Every problem with a set of parameter values against a schema: unknown names, wrong types,
 * out-of-range values. Missing names are fine (their defaults apply). Fields read `parameters.<name>`.
 */
export function validateParameterValues(
  schema: ParameterSchema,
  values: Readonly<Record<string, unknown>>,
): StrategyProblem[] {
  const problems: StrategyProblem[] = [];
  const known = Object.keys(schema);
  for (const name of Object.keys(values).sort()) {
    const definition = schema[name];
    if (definition === undefined) {
      problems.push(
        strategyProblem(
          `parameters.${name}`,
          known.length === 0 ? "no parameters (the strategy declares none)" : `one of ${known.join(", ")}`,
          "an unknown parameter",
        ),
      );
      continue;
    }
    problems.push(...checkValue(`parameters.${name}`, definition, values[name]));
  }
  return problems;
}

/** Defaults overlaid with `values`. Call only after validation passed. */
export function mergeParameterValues<S extends ParameterSchema>(
  schema: S,
  values: Readonly<Record<string, unknown>> = {},
): ParameterValues<S> {
  const resolved: Record<string, unknown> = {};
  for (const name of Object.keys(schema)) {
    const definition = schema[name] as ParameterDefinition;
    resolved[name] = Object.hasOwn(values, name) ? values[name] : definition.default;
  }
  return Object.freeze(resolved) as ParameterValues<S>;
}
