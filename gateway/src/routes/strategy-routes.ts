// /api/v1/strategies…: REST over StrategyService (issue #5). Bodies and answers are snake_case
// JSON; errors from the service arrive as ConnectErrors and leave as problem+json (app.ts).
import type { FastifyInstance } from "fastify";
import type { ColumnFinding, ParameterSpec, StrategyMetadata, ValidationIssue } from "@tradai/proto";
import type { ServiceDirectory } from "../service-directory";

type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
type JsonObject = { [key: string]: JsonValue };

const validationIssueSchema = {
  type: "object",
  properties: {
    field: { type: "string" },
    message: { type: "string" },
    expected: { type: "string" },
    found: { type: "string" },
    file: { type: "string" },
    line: { type: "integer" },
    column: { type: "integer" },
  },
} as const;

const parameterSchema = {
  type: "object",
  properties: {
    name: { type: "string" },
    type: { type: "string", enum: ["int", "decimal", "boolean", "categorical", "unspecified"] },
    default: {},
    min: { type: "number" },
    max: { type: "number" },
    decimals: { type: "integer" },
    choices: { type: "array", items: {} },
    space: { type: "string" },
    optimize: { type: "boolean" },
    description: { type: "string" },
  },
} as const;

const strategySchema = {
  type: "object",
  properties: {
    name: { type: "string" },
    version: { type: "string", description: "sha256 of the source and its local imports" },
    description: { type: "string" },
    timeframe: { type: "string" },
    startup_candle_count: { type: "integer" },
    minimal_roi: { type: "object", additionalProperties: { type: "number" }, description: "minutes → ratio" },
    stoploss: { type: "number" },
    trailing_stop: { type: "boolean" },
    trailing_stop_positive: { type: ["number", "null"] },
    trailing_stop_positive_offset: { type: "number" },
    trailing_only_offset_is_reached: { type: "boolean" },
    can_short: { type: "boolean" },
    use_exit_signal: { type: "boolean" },
    exit_profit_only: { type: "boolean" },
    exit_profit_offset: { type: "number" },
    ignore_roi_if_entry_signal: { type: "boolean" },
    max_open_trades: { type: "integer", description: "-1 = unlimited" },
    position_adjustment_enable: { type: "boolean" },
    parameters: { type: "array", items: parameterSchema },
    informative: {
      type: "array",
      items: { type: "object", properties: { pair: { type: "string" }, timeframe: { type: "string" } } },
    },
    tags: { type: "array", items: { type: "string" } },
    callbacks: { type: "array", items: { type: "string" } },
    registered_at: { type: ["string", "null"], format: "date-time" },
  },
} as const;

const nameParams = {
  type: "object",
  required: ["name"],
  properties: { name: { type: "string", pattern: "^[A-Za-z_][A-Za-z0-9_.-]*$" } },
} as const;

const fileNameProperty = {
  type: "string",
  minLength: 1,
  pattern: "^[A-Za-z0-9_.-]+\\.ts$",
  description: "e.g. ema_cross.ts",
} as const;

const filesProperty = {
  type: "array",
  maxItems: 64,
  description:
    'local files the strategy imports ("./lib/series"), paths relative to the strategy file; the ones it imports are hashed into the version and stored with it',
  items: {
    type: "object",
    additionalProperties: false,
    required: ["path", "source"],
    properties: {
      path: { type: "string", minLength: 1, maxLength: 512, description: "e.g. lib/series.ts" },
      source: { type: "string", description: "TypeScript source" },
    },
  },
} as const;

type UploadBody = { file_name: string; source: string; files?: { path: string; source: string }[] };

function timestampIso(timestamp: { seconds: bigint; nanos: number } | undefined): string | null {
  if (timestamp === undefined) return null;
  return new Date(Number(timestamp.seconds) * 1000 + Math.floor(timestamp.nanos / 1e6)).toISOString();
}

function timestampOf(iso: string): { seconds: bigint; nanos: number } {
  const ms = Date.parse(iso);
  return { seconds: BigInt(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1e6 };
}

/** google.protobuf.Value (as protobuf-es represents it) → plain JSON. */
function valueJson(value: { kind: { case: string | undefined; value?: unknown } } | undefined): JsonValue {
  const kind = value?.kind;
  switch (kind?.case) {
    case "numberValue":
    case "stringValue":
    case "boolValue":
      return kind.value as JsonValue;
    case "listValue":
      return (
        (kind.value as { values: { kind: { case: string | undefined; value?: unknown } }[] }).values ?? []
      ).map(valueJson);
    case "structValue":
      return Object.fromEntries(
        Object.entries(
          (kind.value as { fields: Record<string, { kind: { case: string | undefined; value?: unknown } }> })
            .fields,
        ).map(([key, field]) => [key, valueJson(field)]),
      );
    default:
      return null;
  }
}

const PARAMETER_TYPES = ["unspecified", "int", "decimal", "boolean", "categorical"];

function parameterJson(parameter: ParameterSpec) {
  return {
    name: parameter.name,
    type: PARAMETER_TYPES[parameter.type] ?? "unspecified",
    default: valueJson(parameter.defaultValue),
    min: parameter.min,
    max: parameter.max,
    decimals: parameter.decimals,
    choices: parameter.choices.map(valueJson),
    space: parameter.space,
    optimize: parameter.optimize,
    description: parameter.description,
  };
}

export function strategyJson(strategy: StrategyMetadata | undefined) {
  if (strategy === undefined) return null;
  const trailing = strategy.trailing;
  return {
    name: strategy.name,
    version: strategy.version,
    description: strategy.description,
    timeframe: strategy.timeframe,
    startup_candle_count: strategy.startupCandleCount,
    minimal_roi: Object.fromEntries(strategy.minimalRoi.map((step) => [String(step.minutes), step.ratio])),
    stoploss: strategy.stoploss,
    trailing_stop: trailing?.trailingStop ?? false,
    trailing_stop_positive:
      trailing === undefined || trailing.trailingStopPositive === 0 ? null : trailing.trailingStopPositive,
    trailing_stop_positive_offset: trailing?.trailingStopPositiveOffset ?? 0,
    trailing_only_offset_is_reached: trailing?.trailingOnlyOffsetIsReached ?? false,
    can_short: strategy.canShort,
    use_exit_signal: strategy.useExitSignal,
    exit_profit_only: strategy.exitProfitOnly,
    exit_profit_offset: strategy.exitProfitOffset,
    ignore_roi_if_entry_signal: strategy.ignoreRoiIfEntrySignal,
    max_open_trades: strategy.maxOpenTrades,
    position_adjustment_enable: strategy.positionAdjustmentEnable,
    parameters: strategy.parameters.map(parameterJson),
    informative: strategy.informative.map((entry) => ({ pair: entry.pair, timeframe: entry.timeframe })),
    tags: strategy.tags,
    callbacks: strategy.callbacks,
    registered_at: timestampIso(strategy.registeredAt),
  };
}

const issueJson = (issue: ValidationIssue) => ({
  field: issue.field,
  message: issue.message,
  expected: issue.expected,
  found: issue.found,
  file: issue.file,
  line: issue.line,
  column: issue.column,
});

const findingJson = (finding: ColumnFinding) => ({
  column: finding.column,
  kind: finding.kind,
  affected_candles: Number(finding.affectedCandles),
  max_relative_difference: finding.maxRelativeDifference,
  first_affected: timestampIso(finding.firstAffected),
});

export function registerStrategyRoutes(app: FastifyInstance, services: ServiceDirectory): void {
  app.get(
    "/api/v1/strategies",
    {
      schema: {
        summary: "List registered strategies (latest version of each)",
        tags: ["strategies"],
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: {
            tag: { type: "string" },
            page_size: { type: "integer", minimum: 1, maximum: 500, default: 50 },
            page_token: { type: "string" },
          },
        },
        response: {
          200: {
            type: "object",
            properties: {
              strategies: { type: "array", items: strategySchema },
              next_page_token: { type: "string" },
              total_size: { type: "integer" },
            },
          },
        },
      },
    },
    async (request) => {
      const query = request.query as { tag?: string; page_size?: number; page_token?: string };
      const response = await services.strategy.listStrategies({
        tag: query.tag ?? "",
        page: { pageSize: query.page_size ?? 50, pageToken: query.page_token ?? "" },
      });
      return {
        strategies: response.strategies.map(strategyJson),
        next_page_token: response.page?.nextPageToken ?? "",
        total_size: Number(response.page?.totalSize ?? 0n),
      };
    },
  );

  app.get(
    "/api/v1/strategies/:name",
    {
      schema: {
        summary: "Metadata, version and parameter schema of one strategy",
        tags: ["strategies"],
        params: nameParams,
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: {
            version: { type: "string", pattern: "^[0-9a-f]{64}$", description: "default: the latest" },
            include_source: { type: "boolean", default: false },
          },
        },
        response: {
          200: {
            type: "object",
            properties: {
              strategy: strategySchema,
              versions: { type: "array", items: { type: "string" }, description: "newest first" },
              source: { type: "string", description: "with include_source: the strategy file" },
              file_name: { type: "string", description: "with include_source" },
              files: {
                ...filesProperty,
                description: "with include_source: the local files this version imports",
              },
            },
          },
        },
      },
    },
    async (request) => {
      const { name } = request.params as { name: string };
      const query = request.query as { version?: string; include_source?: boolean };
      const response = await services.strategy.getStrategy({
        name,
        version: query.version ?? "",
        includeSource: query.include_source ?? false,
      });
      return {
        strategy: strategyJson(response.strategy),
        versions: response.versions,
        ...(query.include_source === true
          ? {
              source: response.source,
              file_name: response.fileName,
              files: Object.entries(response.sourceFiles)
                .filter(([file]) => file !== response.fileName)
                .sort(([left], [right]) => left.localeCompare(right))
                .map(([file, source]) => ({ path: file, source })),
            }
          : {}),
      };
    },
  );

  app.post(
    "/api/v1/strategies",
    {
      schema: {
        summary: "Register a strategy source; a changed source becomes a new version",
        tags: ["strategies"],
        body: {
          type: "object",
          additionalProperties: false,
          required: ["file_name", "source"],
          properties: {
            file_name: fileNameProperty,
            source: { type: "string", minLength: 1, description: "TypeScript source" },
            files: filesProperty,
          },
        },
        response: {
          200: {
            description: "this exact source was already registered",
            type: "object",
            properties: { strategy: strategySchema, created: { type: "boolean" } },
          },
          201: {
            description: "a new version was registered",
            type: "object",
            properties: { strategy: strategySchema, created: { type: "boolean" } },
          },
        },
      },
    },
    async (request, reply) => {
      const body = request.body as UploadBody;
      const response = await services.strategy.registerStrategy({
        fileName: body.file_name,
        source: body.source,
        files: body.files ?? [],
      });
      void reply.code(response.created ? 201 : 200);
      return { strategy: strategyJson(response.strategy), created: response.created };
    },
  );

  app.post(
    "/api/v1/strategies/validate",
    {
      schema: {
        summary: "Compile and check a strategy source against the interface without registering it",
        tags: ["strategies"],
        body: {
          type: "object",
          additionalProperties: false,
          required: ["file_name", "source"],
          properties: {
            file_name: fileNameProperty,
            source: { type: "string", minLength: 1, description: "TypeScript source" },
            files: filesProperty,
          },
        },
        response: {
          200: {
            type: "object",
            properties: {
              valid: { type: "boolean" },
              issues: { type: "array", items: validationIssueSchema },
              strategy: { ...strategySchema, type: ["object", "null"] },
            },
          },
        },
      },
    },
    async (request) => {
      const body = request.body as UploadBody;
      const response = await services.strategy.validateStrategy({
        fileName: body.file_name,
        source: body.source,
        files: body.files ?? [],
      });
      return {
        valid: response.valid,
        issues: response.issues.map(issueJson),
        strategy: strategyJson(response.strategy),
      };
    },
  );

  app.post(
    "/api/v1/strategies/validate-config",
    {
      schema: {
        summary: "Check a run configuration; every problem is reported, each naming its field",
        tags: ["strategies"],
        body: {
          type: "object",
          additionalProperties: false,
          required: ["config"],
          properties: {
            config: {
              type: "object",
              description:
                "Freqtrade-style keys: strategy, exchange, pairs, timeframe, timerange, stake_currency, stake_amount, max_open_trades, fee, params, ...",
            },
          },
        },
        response: {
          200: {
            type: "object",
            properties: {
              valid: { type: "boolean" },
              issues: { type: "array", items: validationIssueSchema },
            },
          },
        },
      },
    },
    async (request) => {
      const body = request.body as { config: JsonObject };
      const response = await services.strategy.validateConfig({ config: { values: body.config } });
      return { valid: response.valid, issues: response.issues.map(issueJson) };
    },
  );

  app.post(
    "/api/v1/strategies/:name/prepare-config",
    {
      schema: {
        summary:
          "Resolve the run configuration (strategy < config file < overrides) and export it for Freqtrade",
        tags: ["strategies"],
        params: nameParams,
        body: {
          type: "object",
          additionalProperties: false,
          properties: {
            version: { type: "string", pattern: "^[0-9a-f]{64}$" },
            config_file: { type: "object", description: "a Freqtrade-style config file's content" },
            overrides: { type: "object", description: "applied last" },
          },
        },
        response: {
          200: {
            type: "object",
            properties: {
              config: { type: "object", additionalProperties: true },
              sources: {
                type: "object",
                additionalProperties: {
                  type: "string",
                  enum: ["default", "strategy", "config_file", "overrides"],
                },
              },
              freqtrade_config: { type: "object", additionalProperties: true },
            },
          },
        },
      },
    },
    async (request) => {
      const { name } = request.params as { name: string };
      const body = (request.body ?? {}) as {
        version?: string;
        config_file?: JsonObject;
        overrides?: JsonObject;
      };
      const response = await services.strategy.prepareConfig({
        strategy: name,
        strategyVersion: body.version ?? "",
        ...(body.config_file === undefined ? {} : { configFile: body.config_file }),
        ...(body.overrides === undefined ? {} : { overrides: body.overrides }),
      });
      return {
        config: response.config?.values ?? {},
        sources: response.sources,
        freqtrade_config: JSON.parse(response.freqtradeConfigJson) as JsonObject,
      };
    },
  );

  app.post(
    "/api/v1/strategies/:name/lookahead-analysis",
    {
      schema: {
        summary: "Freqtrade-style look-ahead (and recursive) analysis on stored candles",
        tags: ["strategies"],
        params: nameParams,
        body: {
          type: "object",
          additionalProperties: false,
          required: ["exchange", "symbol"],
          properties: {
            version: { type: "string", pattern: "^[0-9a-f]{64}$" },
            exchange: { type: "string", minLength: 1, description: 'ccxt id, e.g. "binance"' },
            symbol: { type: "string", minLength: 3, description: 'e.g. "BTC/USDT"' },
            timeframe: { type: "string", description: "default: the strategy's" },
            start: { type: "string", format: "date-time" },
            end: { type: "string", format: "date-time" },
            samples: { type: "integer", minimum: 1, maximum: 200, default: 20 },
            recursive: { type: "boolean", default: false },
          },
        },
        response: {
          200: {
            type: "object",
            properties: {
              has_bias: { type: "boolean" },
              samples_tested: { type: "integer" },
              findings: {
                type: "array",
                items: {
                  type: "object",
                  properties: {
                    column: { type: "string" },
                    kind: { type: "string", enum: ["lookahead", "recursive"] },
                    affected_candles: { type: "integer" },
                    max_relative_difference: { type: "number" },
                    first_affected: { type: ["string", "null"], format: "date-time" },
                  },
                },
              },
            },
          },
        },
      },
    },
    async (request) => {
      const { name } = request.params as { name: string };
      const body = request.body as {
        version?: string;
        exchange: string;
        symbol: string;
        timeframe?: string;
        start?: string;
        end?: string;
        samples?: number;
        recursive?: boolean;
      };
      const response = await services.strategy.analyzeLookahead(
        {
          strategy: name,
          strategyVersion: body.version ?? "",
          series: { exchange: body.exchange, symbol: body.symbol, timeframe: body.timeframe ?? "" },
          ...(body.start === undefined && body.end === undefined
            ? {}
            : {
                range: {
                  ...(body.start === undefined ? {} : { start: timestampOf(body.start) }),
                  ...(body.end === undefined ? {} : { end: timestampOf(body.end) }),
                },
              }),
          samples: body.samples ?? 20,
          recursive: body.recursive ?? false,
        },
        // The analysis may take up to the strategy service's 60 s limit.
        { timeoutMs: 90_000 },
      );
      return {
        has_bias: response.hasBias,
        samples_tested: response.samplesTested,
        findings: response.findings.map(findingJson),
      };
    },
  );
}
