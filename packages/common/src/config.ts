// Config read once at start through a strict schema (CONVENTIONS.md "Errors and config").
// Each field maps to one env variable PREFIX + SNAKE_CASE(field); variables with the prefix that no
// field claims are rejected (a typo must not silently fall back to a default). Every problem is
// collected and reported at once, naming the variable, what was expected and what was found.

/** One config field: how to parse its env value, its default and what it is for. */
export interface ConfigField<T> {
  readonly description: string;
  /** Human-readable expectation used in error messages ("an integer from 1 to 65535"). */
  readonly expected: string;
  readonly defaultValue: T | undefined;
  /** False when the field may stay unset (its value is then `undefined`). */
  readonly required: boolean;
  /** Secrets are redacted by `describeConfig`. */
  readonly secret: boolean;
  /** Returns the parsed value or `undefined` when the raw value is invalid. */
  parse(raw: string): T | undefined;
}

export type ConfigSchema = Record<string, ConfigField<unknown>>;
export type ConfigOf<S extends ConfigSchema> = {
  [K in keyof S]: S[K] extends ConfigField<infer T> ? T : never;
};

export interface FieldOptions<T> {
  description: string;
  /** Default value; a field without one is required. */
  default?: T;
  secret?: boolean;
}

function field<T>(
  expected: string,
  parse: (raw: string) => T | undefined,
  options: FieldOptions<T>,
): ConfigField<T> {
  return {
    description: options.description,
    expected,
    defaultValue: options.default,
    required: options.default === undefined,
    secret: options.secret ?? false,
    parse,
  };
}

export function stringField(options: FieldOptions<string> & { allowEmpty?: boolean }): ConfigField<string> {
  const allowEmpty = options.allowEmpty ?? false;
  return field(
    allowEmpty ? "a string" : "a non-empty string",
    (raw) => (allowEmpty || raw !== "" ? raw : undefined),
    options,
  );
}

export function optionalStringField(
  options: Omit<FieldOptions<string>, "default">,
): ConfigField<string | undefined> {
  return { ...field<string | undefined>("a string", (raw) => raw, options), required: false };
}

export function integerField(
  options: FieldOptions<number> & { min?: number; max?: number },
): ConfigField<number> {
  const min = options.min ?? Number.MIN_SAFE_INTEGER;
  const max = options.max ?? Number.MAX_SAFE_INTEGER;
  const expected =
    options.min !== undefined && options.max !== undefined
      ? `an integer from ${min} to ${max}`
      : options.min !== undefined
        ? `an integer >= ${min}`
        : "an integer";
  return field(
    expected,
    (raw) => {
      if (!/^-?\d+$/.test(raw.trim())) return undefined;
      const value = Number(raw);
      return value >= min && value <= max ? value : undefined;
    },
    options,
  );
}

export function portField(options: FieldOptions<number>): ConfigField<number> {
  return integerField({ ...options, min: 0, max: 65535 });
}

export function numberField(
  options: FieldOptions<number> & { min?: number; max?: number },
): ConfigField<number> {
  const min = options.min ?? -Infinity;
  const max = options.max ?? Infinity;
  return field(
    Number.isFinite(min) || Number.isFinite(max) ? `a number from ${min} to ${max}` : "a number",
    (raw) => {
      if (raw.trim() === "") return undefined;
      const value = Number(raw);
      return Number.isFinite(value) && value >= min && value <= max ? value : undefined;
    },
    options,
  );
}

export function booleanField(options: FieldOptions<boolean>): ConfigField<boolean> {
  return field(
    "one of true, false, 1, 0",
    (raw) => {
      const value = raw.trim().toLowerCase();
      if (value === "true" || value === "1") return true;
      if (value === "false" || value === "0") return false;
      return undefined;
    },
    options,
  );
}

export function enumField<const V extends string>(
  values: readonly V[],
  options: FieldOptions<V> & { caseInsensitive?: boolean },
): ConfigField<V> {
  return field(
    `one of ${values.join(", ")}`,
    (raw) => {
      const wanted = options.caseInsensitive ? raw.trim().toLowerCase() : raw.trim();
      return values.find((value) => (options.caseInsensitive ? value.toLowerCase() : value) === wanted);
    },
    options,
  );
}

export function urlField(
  options: FieldOptions<string> & { protocols?: readonly string[] },
): ConfigField<string> {
  const protocols = options.protocols ?? ["http", "https"];
  return field(
    `an absolute ${protocols.join(" or ")} URL (${protocols[0]}://host:port)`,
    (raw) => {
      try {
        const url = new URL(raw);
        return protocols.includes(url.protocol.replace(/:$/, "")) && url.host !== ""
          ? raw.replace(/\/$/, "")
          : undefined;
      } catch {
        return undefined;
      }
    },
    options,
  );
}

export function listField(options: FieldOptions<string[]>): ConfigField<string[]> {
  return field(
    "a comma-separated list",
    (raw) =>
      raw
        .split(",")
        .map((item) => item.trim())
        .filter((item) => item !== ""),
    options,
  );
}

/** Thrown when the environment does not satisfy the schema; `problems` has one line per variable. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join("\n  - ")}`);
    this.name = "ConfigError";
  }
}

export const envName = (prefix: string, key: string): string =>
  prefix + key.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toUpperCase();

export interface LoadConfigOptions<S extends ConfigSchema> {
  /** Env prefix, e.g. "DATA_COLLECTION_" (the spec's per-service prefixes). */
  prefix: string;
  schema: S;
  /** The environment to read; callers pass `process.env` (libraries never read it themselves). */
  env: Record<string, string | undefined>;
}

export function loadConfig<S extends ConfigSchema>({
  prefix,
  schema,
  env,
}: LoadConfigOptions<S>): ConfigOf<S> {
  const problems: string[] = [];
  const result: Record<string, unknown> = {};
  const known = new Set<string>();
  for (const [key, spec] of Object.entries(schema)) {
    const name = envName(prefix, key);
    known.add(name);
    const raw = env[name];
    if (raw === undefined) {
      if (spec.required) {
        problems.push(`${name} is required: expected ${spec.expected} (${spec.description}), got nothing`);
      }
      result[key] = spec.defaultValue;
      continue;
    }
    const value = spec.parse(raw);
    if (value === undefined) {
      problems.push(
        `${name}: expected ${spec.expected}, got ${spec.secret ? "<redacted>" : JSON.stringify(raw)}`,
      );
    } else {
      result[key] = value;
    }
  }
  for (const name of Object.keys(env).sort()) {
    if (name.startsWith(prefix) && !known.has(name)) {
      problems.push(`${name} is not a known setting: expected one of ${[...known].sort().join(", ")}`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return result as ConfigOf<S>;
}

/** The resolved config as loggable key/value pairs, secrets redacted. */
export function describeConfig<S extends ConfigSchema>(
  schema: S,
  config: ConfigOf<S>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(schema)) {
    out[key] = spec.secret && config[key] !== undefined ? "<redacted>" : config[key];
  }
  return out;
}

/**
 * For process entry points: loads the config or, when it is invalid, prints every problem and
 * exits with 78 (EX_CONFIG) — a bad value stops start-up with the variable named.
 */
export function loadConfigOrExit<S extends ConfigSchema>(
  processName: string,
  options: LoadConfigOptions<S>,
): ConfigOf<S> {
  try {
    return loadConfig(options);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${processName}: ${error.message}\n`);
      process.exit(78);
    }
    throw error;
  }
}
