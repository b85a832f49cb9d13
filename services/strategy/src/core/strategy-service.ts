/**
 * The strategy service's domain logic (spec §3.3): compile and check strategy sources, keep every
 * version in the registry, validate and prepare run configurations, and run the look-ahead analysis.
 * Transport-free: api/ translates protobuf to these calls; infrastructure/ supplies the ports.
 */
import { Code } from "@connectrpc/connect";
import { DomainError, invalidArgument, notFound, type FieldViolation } from "@tradai/common";
import { timeframeToMilliseconds, type CandleSeries, type StrategyDescription } from "@tradai/engine";
import type { CandleSource } from "./candle-source";
import type { ExchangeCatalog } from "./exchange-catalog";
import type { ColumnFinding } from "./lookahead-analysis";
import {
  exchangeNameOf,
  prepareRunConfig,
  toFreqtradeConfig,
  validateRunConfig,
  type ConfigLayer,
  type ConfigValues,
} from "./run-config";
import type { CompiledStrategy, StrategyCompiler, StrategySandbox } from "./strategy-sandbox";
import type { StoredStrategyVersion, StrategyRegistryStore } from "./strategy-registry-store";
import type { StrategySourceFiles, StrategySourceRepository } from "./strategy-source";
import { checkUpload, type UploadedFile, type UploadLimits } from "./strategy-upload";
import type { ValidationIssue } from "./validation-issue";

export interface StrategyServiceDependencies {
  readonly compiler: StrategyCompiler;
  readonly sandbox: StrategySandbox;
  readonly store: StrategyRegistryStore;
  readonly catalog: ExchangeCatalog;
  /** Candles for the look-ahead analysis; without it AnalyzeLookahead answers FAILED_PRECONDITION. */
  readonly candles?: CandleSource;
  /** Epoch ms; default Date.now. */
  readonly clock?: () => number;
  /** Most candles one analysis may load (startup history included); default 20 000. */
  readonly maxAnalysisCandles?: number;
  /** Size and count limits of uploads; default DEFAULT_UPLOAD_LIMITS (64 files, 512 KiB, 2 MiB). */
  readonly uploadLimits?: UploadLimits;
}

export interface ValidateSourceResult {
  readonly valid: boolean;
  readonly issues: ValidationIssue[];
  /** Description, tags and version when valid. */
  readonly strategy?: {
    readonly description: StrategyDescription;
    readonly tags: readonly string[];
    readonly version: string;
  };
}

export interface ListStrategiesQuery {
  readonly tag?: string;
  /** Default 50, at most 500. */
  readonly pageSize?: number;
  readonly pageToken?: string;
}

export interface AnalyzeLookaheadQuery {
  readonly strategy: string;
  readonly version?: string;
  readonly exchange: string;
  readonly symbol: string;
  /** Empty = the strategy's timeframe (the only one allowed). */
  readonly timeframe?: string;
  /** Epoch ms; start undefined = `defaultCandles` before the end. */
  readonly start?: number;
  readonly end?: number;
  readonly samples?: number;
  readonly recursive?: boolean;
  readonly params?: Readonly<Record<string, unknown>>;
}

export interface LookaheadReport {
  readonly hasBias: boolean;
  readonly findings: ColumnFinding[];
  readonly samplesTested: number;
}

export interface LoadReport {
  readonly registered: { entry: string; name: string; version: string; created: boolean }[];
  readonly failed: { entry: string; issues: ValidationIssue[] }[];
}

const FILE_NAME = /^[A-Za-z0-9_.-]+\.ts$/;

function toViolations(issues: readonly ValidationIssue[]): FieldViolation[] {
  return issues.map((issue) => ({
    field: issue.field,
    message:
      issue.file !== undefined && issue.line !== undefined
        ? `${issue.file}:${issue.line}${issue.column === undefined ? "" : `:${issue.column}`}: ${issue.message}`
        : issue.message,
    ...(issue.expected === undefined ? {} : { expected: issue.expected }),
    ...(issue.found === undefined ? {} : { found: issue.found }),
  }));
}

export type StrategyService = ReturnType<typeof createStrategyService>;

export function createStrategyService(deps: StrategyServiceDependencies) {
  const clock = deps.clock ?? Date.now;
  const maxAnalysisCandles = deps.maxAnalysisCandles ?? 20_000;
  const compiledByVersion = new Map<string, CompiledStrategy>();
  const snapshotOf = async (config: ConfigValues) => {
    const exchange = exchangeNameOf(config);
    const snapshot = exchange === undefined ? undefined : await deps.catalog.describe(exchange);
    return snapshot === undefined ? {} : { snapshot };
  };

  const remember = (compiled: CompiledStrategy) => {
    compiledByVersion.set(compiled.version, compiled);
    while (compiledByVersion.size > 64)
      compiledByVersion.delete(compiledByVersion.keys().next().value as string);
  };

  async function check(
    files: StrategySourceFiles,
  ): Promise<ValidateSourceResult & { compiled?: CompiledStrategy }> {
    if (!FILE_NAME.test(files.entry.split("/").pop() ?? "")) {
      return {
        valid: false,
        issues: [
          {
            field: "file_name",
            message: `file_name: expected a TypeScript file name such as "ema_cross.ts", got ${JSON.stringify(files.entry)}`,
            expected: 'a TypeScript file name such as "ema_cross.ts"',
            found: JSON.stringify(files.entry),
          },
        ],
      };
    }
    const compiled = await deps.compiler.compile(files);
    if (!compiled.ok) return { valid: false, issues: compiled.issues };
    const inspected = await deps.sandbox.inspect(compiled.compiled);
    if (!inspected.ok) return { valid: false, issues: inspected.issues };
    remember(compiled.compiled);
    return {
      valid: true,
      issues: [],
      compiled: compiled.compiled,
      strategy: { ...inspected.inspection, version: compiled.compiled.version },
    };
  }

  type Registration =
    { ok: true; record: StoredStrategyVersion; created: boolean } | { ok: false; issues: ValidationIssue[] };

  async function tryRegister(files: StrategySourceFiles): Promise<Registration> {
    const result = await check(files);
    if (!result.valid || result.compiled === undefined || result.strategy === undefined) {
      return { ok: false, issues: result.issues };
    }
    const { description, tags, version } = result.strategy;
    const existing = await deps.store.get(description.name, version);
    if (existing !== undefined) return { ok: true, record: existing, created: false };
    const record: StoredStrategyVersion = {
      name: description.name,
      version,
      fileName: files.entry,
      registeredAt: new Date(clock()).toISOString(),
      sources: result.compiled.sources,
      description,
      tags,
    };
    const created = await deps.store.put(record);
    versionsCache.delete(record.name);
    return {
      ok: true,
      record: created ? record : ((await deps.store.get(record.name, version)) ?? record),
      created,
    };
  }

  async function registerFiles(
    files: StrategySourceFiles,
  ): Promise<{ record: StoredStrategyVersion; created: boolean }> {
    const registration = await tryRegister(files);
    if (!registration.ok) {
      throw invalidArgument(`strategy ${files.entry} is invalid`, toViolations(registration.issues));
    }
    return { record: registration.record, created: registration.created };
  }

  const newestFirst = (left: StoredStrategyVersion, right: StoredStrategyVersion) =>
    right.registeredAt.localeCompare(left.registeredAt) || left.version.localeCompare(right.version);

  // Version lists are read on every backtest submission (GetStrategy, ValidateConfig): keep them
  // for a moment instead of listing the registry each time (bench/queue: 13-23 % of the service's
  // CPU was readdir). This process's own registrations invalidate at once; another replica's show
  // up within the TTL.
  const VERSIONS_TTL_MS = 2_000;
  const versionsCache = new Map<string, { at: number; versions: StoredStrategyVersion[] }>();
  async function listVersions(name: string): Promise<StoredStrategyVersion[]> {
    const cached = versionsCache.get(name);
    if (cached !== undefined && clock() - cached.at < VERSIONS_TTL_MS) return cached.versions;
    const versions = (await deps.store.listVersions(name)).sort(newestFirst);
    versionsCache.set(name, { at: clock(), versions });
    return versions;
  }

  async function find(
    name: string,
    version?: string,
  ): Promise<{ record: StoredStrategyVersion; versions: StoredStrategyVersion[] }> {
    const versions = await listVersions(name);
    if (versions.length === 0) throw notFound(`strategy ${JSON.stringify(name)} is not registered`);
    if (version === undefined || version === "")
      return { record: versions[0] as StoredStrategyVersion, versions };
    const record = versions.find((candidate) => candidate.version === version);
    if (record === undefined) {
      throw notFound(
        `strategy ${name} has no version ${version} (known: ${versions.map((entry) => entry.version.slice(0, 12)).join(", ")})`,
      );
    }
    return { record, versions };
  }

  async function compiledOf(record: StoredStrategyVersion): Promise<CompiledStrategy> {
    const cached = compiledByVersion.get(record.version);
    if (cached !== undefined) return cached;
    const compiled = await deps.compiler.compile({ entry: record.fileName, files: record.sources });
    if (!compiled.ok) {
      throw new DomainError(
        Code.FailedPrecondition,
        `stored strategy ${record.name} ${record.version} no longer compiles`,
        toViolations(compiled.issues),
      );
    }
    remember(compiled.compiled);
    return compiled.compiled;
  }

  return {
    /** Compile and check without registering; `files` are local files the strategy imports. */
    async validateSource(
      fileName: string,
      source: string,
      files: readonly UploadedFile[] = [],
    ): Promise<ValidateSourceResult> {
      const upload = checkUpload(fileName, source, files, deps.uploadLimits);
      if (!upload.ok) return { valid: false, issues: upload.issues };
      const { valid, issues, strategy } = await check({ entry: fileName, files: upload.files });
      return { valid, issues, ...(strategy === undefined ? {} : { strategy }) };
    },

    /**
     * Register one uploaded source and the local files it imports: those it imports are bundled,
     * hashed into the version and stored with it; files it does not import are ignored.
     */
    async register(fileName: string, source: string, files: readonly UploadedFile[] = []) {
      const upload = checkUpload(fileName, source, files, deps.uploadLimits);
      if (!upload.ok) {
        throw invalidArgument(
          `upload of ${fileName} is invalid: ${upload.issues.map((issue) => issue.message).join("; ")}`,
          toViolations(upload.issues),
        );
      }
      return registerFiles({ entry: fileName, files: upload.files });
    },

    /** Load every strategy of a repository into the registry; failures are reported, never thrown. */
    async loadRepository(repository: StrategySourceRepository): Promise<LoadReport> {
      const report: LoadReport = { registered: [], failed: [] };
      for (const files of await repository.loadAll()) {
        try {
          const registration = await tryRegister(files);
          if (registration.ok) {
            const { record, created } = registration;
            report.registered.push({
              entry: files.entry,
              name: record.name,
              version: record.version,
              created,
            });
          } else {
            report.failed.push({ entry: files.entry, issues: registration.issues });
          }
        } catch (error) {
          // A store failure for one file must not stop the others from loading.
          const message = error instanceof Error ? error.message : String(error);
          report.failed.push({
            entry: files.entry,
            issues: [{ field: "registry", message, file: files.entry }],
          });
        }
      }
      return report;
    },

    async list(query: ListStrategiesQuery = {}) {
      const pageSize = Math.min(Math.max(query.pageSize ?? 50, 1), 500);
      const offset = query.pageToken === undefined || query.pageToken === "" ? 0 : Number(query.pageToken);
      if (!Number.isInteger(offset) || offset < 0) {
        throw invalidArgument(
          `page.page_token: expected a token from a previous response, got ${JSON.stringify(query.pageToken)}`,
        );
      }
      const latest: StoredStrategyVersion[] = [];
      for (const name of await deps.store.listNames()) {
        const versions = (await deps.store.listVersions(name)).sort(newestFirst);
        const newest = versions[0];
        if (newest === undefined) continue;
        if (query.tag !== undefined && query.tag !== "" && !newest.tags.includes(query.tag)) continue;
        latest.push(newest);
      }
      const page = latest.slice(offset, offset + pageSize);
      const nextOffset = offset + page.length;
      return {
        strategies: page,
        total: latest.length,
        nextPageToken: nextOffset < latest.length ? String(nextOffset) : "",
      };
    },

    async get(name: string, version?: string) {
      const { record, versions } = await find(name, version);
      return { record, versions: versions.map((entry) => entry.version) };
    },

    async validateConfig(values: ConfigValues): Promise<ValidationIssue[]> {
      let strategy: StrategyDescription | undefined;
      const issues: ValidationIssue[] = [];
      if (typeof values["strategy"] === "string" && values["strategy"] !== "") {
        try {
          const version =
            typeof values["strategy_version"] === "string" ? values["strategy_version"] : undefined;
          strategy = (await find(values["strategy"], version)).record.description;
        } catch (error) {
          if (!(error instanceof DomainError) || error.code !== Code.NotFound) throw error;
          const field =
            typeof values["strategy_version"] === "string" && values["strategy_version"] !== ""
              ? "strategy_version"
              : "strategy";
          issues.push({
            field,
            message: `${field}: expected a registered strategy (version), got ${JSON.stringify(values[field])}`,
            expected: "a registered strategy",
            found: JSON.stringify(values[field]),
          });
        }
      }
      return [
        ...issues,
        ...validateRunConfig(values, {
          ...(strategy === undefined ? {} : { strategy }),
          ...(await snapshotOf(values)),
          now: clock(),
        }),
      ];
    },

    async prepareConfig(input: {
      strategy: string;
      version?: string;
      configFile?: ConfigValues;
      overrides?: ConfigValues;
    }) {
      const { record } = await find(input.strategy, input.version);
      const prepared = prepareRunConfig({
        strategy: record.description,
        strategyVersion: record.version,
        ...(input.configFile === undefined ? {} : { configFile: input.configFile }),
        ...(input.overrides === undefined ? {} : { overrides: input.overrides }),
      });
      const issues = validateRunConfig(prepared.config, {
        strategy: record.description,
        ...(await snapshotOf(prepared.config)),
        now: clock(),
      });
      if (issues.length > 0) {
        throw invalidArgument(
          `the prepared configuration is invalid: ${issues.map((issue) => issue.message).join("; ")}`,
          toViolations(issues),
        );
      }
      return {
        config: prepared.config,
        sources: prepared.sources as Record<string, ConfigLayer>,
        freqtradeConfigJson: `${JSON.stringify(toFreqtradeConfig(prepared.config), null, 2)}\n`,
      };
    },

    async analyzeLookahead(query: AnalyzeLookaheadQuery): Promise<LookaheadReport> {
      if (deps.candles === undefined) {
        throw new DomainError(
          Code.FailedPrecondition,
          "no candle source is configured (set STRATEGY_SERVICE_DATA_DIR)",
        );
      }
      const { record } = await find(query.strategy, query.version);
      const strategy = record.description;
      const violations: FieldViolation[] = [];
      const timeframe =
        query.timeframe === undefined || query.timeframe === "" ? strategy.timeframe : query.timeframe;
      if (timeframe !== strategy.timeframe) {
        violations.push({
          field: "series.timeframe",
          message: `series.timeframe: expected the strategy timeframe ${strategy.timeframe}, got ${JSON.stringify(timeframe)}`,
          expected: strategy.timeframe,
          found: timeframe,
        });
      }
      if (query.exchange === "" || query.symbol === "") {
        violations.push({
          field: "series",
          message: "series: expected an exchange and a symbol, got an empty value",
        });
      }
      const samples = query.samples === undefined || query.samples === 0 ? 20 : query.samples;
      if (!Number.isInteger(samples) || samples < 1 || samples > 200) {
        violations.push({
          field: "samples",
          message: `samples: expected an integer from 1 to 200, got ${samples}`,
          expected: "1..200",
          found: String(samples),
        });
      }
      if (query.start !== undefined && query.end !== undefined && query.start >= query.end) {
        violations.push({ field: "range", message: "range: expected start before end, got start >= end" });
      }
      if (violations.length > 0) throw invalidArgument("invalid look-ahead analysis request", violations);
      const step = timeframeToMilliseconds(strategy.timeframe);
      const end = query.end;
      const start = query.start ?? (end === undefined ? undefined : end - 1_000 * step);
      const historyStart = start === undefined ? undefined : start - strategy.startupCandleCount * step;
      const load = async (
        symbol: string,
        tf: string,
        from: number | undefined,
      ): Promise<CandleSeries | undefined> =>
        deps.candles?.load({
          exchange: query.exchange,
          symbol,
          timeframe: tf,
          ...(from === undefined ? {} : { start: from }),
          ...(end === undefined ? {} : { end }),
        });
      let candles = await load(query.symbol, strategy.timeframe, historyStart);
      if (candles === undefined || candles.date.length === 0) {
        throw new DomainError(
          Code.FailedPrecondition,
          `no candles for ${query.exchange} ${query.symbol} ${strategy.timeframe} in the requested range`,
        );
      }
      if (start === undefined) {
        // No range: the last 1000 candles after the startup history.
        const from = Math.max(0, candles.date.length - 1_000 - strategy.startupCandleCount);
        candles = sliceSeries(candles, from, candles.date.length);
      }
      if (candles.date.length > maxAnalysisCandles) {
        throw invalidArgument("range too long", [
          {
            field: "range",
            message: `range: expected at most ${maxAnalysisCandles} candles (startup included), got ${candles.date.length}`,
            expected: `at most ${maxAnalysisCandles} candles`,
            found: String(candles.date.length),
          },
        ]);
      }
      const firstAnalysed =
        start ?? (candles.date[Math.min(strategy.startupCandleCount, candles.date.length - 1)] as number);
      let rangeStartIndex = 0;
      while (
        rangeStartIndex < candles.date.length &&
        (candles.date[rangeStartIndex] as number) < firstAnalysed
      )
        rangeStartIndex += 1;
      const [base = "", quoteWithSettle = ""] = query.symbol.split("/");
      const quote = quoteWithSettle.split(":")[0] ?? "";
      const informative: Record<string, CandleSeries> = {};
      for (const entry of strategy.informative) {
        const pair = (entry.pair ?? query.symbol).replaceAll("{base}", base).replaceAll("{quote}", quote);
        const series = await load(pair, entry.timeframe, candles.date[0]);
        if (series === undefined) {
          throw new DomainError(
            Code.FailedPrecondition,
            `no informative candles for ${query.exchange} ${pair} ${entry.timeframe}`,
          );
        }
        informative[`${pair}|${entry.timeframe}`] = series;
      }
      const result = await deps.sandbox.analyze(await compiledOf(record), {
        pair: query.symbol,
        candles,
        informative,
        rangeStartIndex,
        params: query.params ?? {},
        samples,
        recursive: query.recursive ?? false,
      });
      if (!result.ok && result.timedOut === true) {
        throw new DomainError(
          Code.DeadlineExceeded,
          `look-ahead analysis of ${record.name} on ${query.exchange} ${query.symbol} (${candles.date.length} candles, ${samples} samples${query.recursive === true ? ", recursive" : ""}) was stopped: ${result.issues.map((issue) => issue.message).join("; ")}; analyse a shorter range or fewer samples`,
          toViolations(result.issues),
        );
      }
      if (!result.ok) {
        throw new DomainError(
          Code.FailedPrecondition,
          `strategy ${record.name} failed during the analysis: ${result.issues.map((issue) => issue.message).join("; ")}`,
          toViolations(result.issues),
        );
      }
      return { hasBias: result.hasBias, findings: result.findings, samplesTested: result.samplesTested };
    },
  };
}

function sliceSeries(candles: CandleSeries, start: number, end: number): CandleSeries {
  return {
    date: candles.date.slice(start, end),
    open: candles.open.slice(start, end),
    high: candles.high.slice(start, end),
    low: candles.low.slice(start, end),
    close: candles.close.slice(start, end),
    volume: candles.volume.slice(start, end),
  };
}
