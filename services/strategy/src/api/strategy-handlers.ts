/**
 * StrategyService RPCs → domain calls (transport only: protobuf in, protobuf out; errors become
 * ConnectErrors through the common interceptor).
 */
import { create, fromJson, type JsonObject } from "@bufbuild/protobuf";
import { timestampDate, timestampFromMs, ValueSchema } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import { invalidArgument } from "@tradai/common";
import type { ParameterDescription, StrategyDescription } from "@tradai/engine";
import {
  ColumnFindingSchema,
  ParameterSpecSchema,
  ParameterType,
  StrategyMetadataSchema,
  ValidationIssueSchema,
  type StrategyMetadata,
  type StrategyService as StrategyServiceDescriptor,
} from "@tradai/proto";
import type { StoredStrategyVersion } from "../core/strategy-registry-store";
import type { StrategyService } from "../core/strategy-service";
import type { ValidationIssue } from "../core/validation-issue";

const PARAMETER_TYPES: Record<ParameterDescription["type"], ParameterType> = {
  int: ParameterType.INT,
  decimal: ParameterType.DECIMAL,
  // The proto has no REAL type yet: a continuous range is sent as DECIMAL with decimals 0.
  real: ParameterType.DECIMAL,
  boolean: ParameterType.BOOLEAN,
  categorical: ParameterType.CATEGORICAL,
};

export function toStrategyMetadata(
  description: StrategyDescription,
  extra: { version: string; tags: readonly string[]; registeredAt?: string },
): StrategyMetadata {
  return create(StrategyMetadataSchema, {
    name: description.name,
    version: extra.version,
    description: description.description,
    timeframe: description.timeframe,
    startupCandleCount: description.startupCandleCount,
    minimalRoi: Object.entries(description.minimalRoi)
      .map(([minutes, ratio]) => ({ minutes: Number(minutes), ratio }))
      .sort((left, right) => left.minutes - right.minutes),
    stoploss: description.stoploss,
    trailing: {
      trailingStop: description.trailingStop,
      trailingStopPositive: description.trailingStopPositive ?? 0,
      trailingStopPositiveOffset: description.trailingStopPositiveOffset,
      trailingOnlyOffsetIsReached: description.trailingOnlyOffsetIsReached,
    },
    canShort: description.canShort,
    useExitSignal: description.useExitSignal,
    exitProfitOnly: description.exitProfitOnly,
    exitProfitOffset: description.exitProfitOffset,
    ignoreRoiIfEntrySignal: description.ignoreRoiIfEntrySignal,
    maxOpenTrades: description.maxOpenTrades ?? -1,
    positionAdjustmentEnable: description.positionAdjustmentEnable,
    parameters: description.parameters.map((parameter) =>
      create(ParameterSpecSchema, {
        name: parameter.name,
        type: PARAMETER_TYPES[parameter.type],
        defaultValue: fromJson(ValueSchema, parameter.default),
        min: parameter.low ?? 0,
        max: parameter.high ?? 0,
        decimals: parameter.decimals ?? 0,
        choices: (parameter.choices ?? []).map((choice) => fromJson(ValueSchema, choice)),
        space: parameter.space,
        optimize: parameter.optimize,
        description: parameter.description ?? "",
      }),
    ),
    informative: description.informative.map((entry) => ({
      pair: entry.pair ?? "",
      timeframe: entry.timeframe,
    })),
    tags: [...extra.tags],
    ...(extra.registeredAt === undefined
      ? {}
      : { registeredAt: timestampFromMs(Date.parse(extra.registeredAt)) }),
    callbacks: [...description.callbacks],
  });
}

const metadataOf = (record: StoredStrategyVersion) =>
  toStrategyMetadata(record.description, {
    version: record.version,
    tags: record.tags,
    registeredAt: record.registeredAt,
  });

function toIssue(issue: ValidationIssue) {
  return create(ValidationIssueSchema, {
    field: issue.field,
    message: issue.message,
    expected: issue.expected ?? "",
    found: issue.found ?? "",
    file: issue.file ?? "",
    line: issue.line ?? 0,
    column: issue.column ?? 0,
  });
}

function requireText(field: string, value: string) {
  if (value === "")
    throw invalidArgument(`${field}: expected a non-empty string, got ""`, [
      { field, message: `${field}: expected a non-empty string, got ""` },
    ]);
}

export function createStrategyHandlers(
  service: StrategyService,
): ServiceImpl<typeof StrategyServiceDescriptor> {
  return {
    async listStrategies(request) {
      const page = await service.list({
        tag: request.tag,
        ...(request.page === undefined
          ? {}
          : {
              pageSize: request.page.pageSize === 0 ? 50 : request.page.pageSize,
              pageToken: request.page.pageToken,
            }),
      });
      return {
        strategies: page.strategies.map(metadataOf),
        page: { nextPageToken: page.nextPageToken, totalSize: BigInt(page.total) },
      };
    },
    async getStrategy(request) {
      requireText("name", request.name);
      const { record, versions } = await service.get(request.name, request.version);
      return {
        strategy: metadataOf(record),
        versions,
        source: request.includeSource ? (record.sources[record.fileName] ?? "") : "",
        fileName: record.fileName,
        sourceFiles: request.includeSource ? { ...record.sources } : {},
      };
    },
    async registerStrategy(request) {
      requireText("file_name", request.fileName);
      requireText("source", request.source);
      const { record, created } = await service.register(request.fileName, request.source, request.files);
      return { strategy: metadataOf(record), created };
    },
    async validateStrategy(request) {
      requireText("file_name", request.fileName);
      const result = await service.validateSource(request.fileName, request.source, request.files);
      return {
        valid: result.valid,
        issues: result.issues.map(toIssue),
        ...(result.strategy === undefined
          ? {}
          : {
              strategy: toStrategyMetadata(result.strategy.description, {
                version: result.strategy.version,
                tags: result.strategy.tags,
              }),
            }),
      };
    },
    async validateConfig(request) {
      const values = (request.config?.values ?? {}) as Record<string, unknown>;
      const issues = await service.validateConfig(values);
      const name = typeof values["strategy"] === "string" ? values["strategy"] : "";
      const unknownStrategy = issues.some(
        (issue) => issue.field === "strategy" || issue.field === "strategy_version",
      );
      let strategy;
      if (name !== "" && !unknownStrategy) {
        const version = typeof values["strategy_version"] === "string" ? values["strategy_version"] : "";
        strategy = metadataOf((await service.get(name, version)).record);
      }
      return {
        valid: issues.length === 0,
        issues: issues.map(toIssue),
        ...(strategy === undefined ? {} : { strategy }),
      };
    },
    async prepareConfig(request) {
      requireText("strategy", request.strategy);
      const prepared = await service.prepareConfig({
        strategy: request.strategy,
        version: request.strategyVersion,
        ...(request.configFile === undefined
          ? {}
          : { configFile: request.configFile as Record<string, unknown> }),
        ...(request.overrides === undefined
          ? {}
          : { overrides: request.overrides as Record<string, unknown> }),
      });
      return {
        config: { values: prepared.config as JsonObject },
        freqtradeConfigJson: prepared.freqtradeConfigJson,
        sources: prepared.sources,
      };
    },
    async analyzeLookahead(request) {
      requireText("strategy", request.strategy);
      const report = await service.analyzeLookahead({
        strategy: request.strategy,
        version: request.strategyVersion,
        exchange: request.series?.exchange ?? "",
        symbol: request.series?.symbol ?? "",
        timeframe: request.series?.timeframe ?? "",
        ...(request.range?.start === undefined
          ? {}
          : { start: timestampDate(request.range.start).getTime() }),
        ...(request.range?.end === undefined ? {} : { end: timestampDate(request.range.end).getTime() }),
        samples: request.samples,
        recursive: request.recursive,
      });
      return {
        hasBias: report.hasBias,
        samplesTested: report.samplesTested,
        findings: report.findings.map((finding) =>
          create(ColumnFindingSchema, {
            column: finding.column,
            kind: finding.kind,
            affectedCandles: BigInt(finding.affectedCandles),
            maxRelativeDifference: finding.maxRelativeDifference,
            firstAffected: timestampFromMs(finding.firstAffected),
          }),
        ),
      };
    },
  };
}
