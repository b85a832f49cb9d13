// The worker's view of the strategy and data-collection services: strategies by name and version
// (source from the registry, compiled the way the strategy service compiles them, run only in
// their own sandbox), candles as streamed columnar batches, and the exchange's markets snapshot.
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { createServiceClient, decodeOhlcvColumns } from "@tradai/common";
import type * as engine from "@tradai/engine";
import { DataCollectionService, MarketType, OhlcvEncoding, StrategyService } from "@tradai/proto";
import {
  createEsbuildStrategyCompiler,
  createSandboxedBacktestRunner,
  type CompiledStrategy,
  type SandboxedBacktestRunner,
  type ValidationIssue,
} from "@tradai/strategy";
import type { CandleLoader, CandleRequest, SandboxedStrategy, StrategyLoader } from "../core/backtest-work";

/** "populateIndicators: the hook threw: boom (sample.ts:12:7)" for each issue. */
function describeIssues(issues: readonly ValidationIssue[]): string {
  return issues
    .map((issue) => {
      const at =
        issue.file === undefined
          ? ""
          : ` (${issue.file}${issue.line === undefined ? "" : `:${issue.line}`}${issue.column === undefined ? "" : `:${issue.column}`})`;
      const message = issue.message.startsWith(`${issue.field}`)
        ? issue.message
        : `${issue.field}: ${issue.message}`;
      return `${message}${at}`;
    })
    .join("; ");
}

/**
 * A compiled strategy as the backtest work sees it: described by its sandbox, and run only there
 * (backtest-harness.ts in @tradai/strategy). No object or function of the strategy reaches the
 * worker, and no object of the worker reaches the strategy (issue #5).
 */
export async function loadSandboxedStrategy(
  compiled: CompiledStrategy,
  runner: SandboxedBacktestRunner,
  label: string = compiled.entry,
): Promise<SandboxedStrategy> {
  const described = await runner.describe(compiled);
  if (!described.ok) throw new Error(`strategy ${label} does not load: ${describeIssues(described.issues)}`);
  const { name, startupCandleCount } = described.description;
  return {
    sandboxed: true,
    name,
    startupCandleCount,
    async runBacktest(options, signal) {
      const result = await runner.backtest(
        compiled,
        {
          pairs: options.pairs ?? Object.keys(options.candles ?? {}),
          candles: options.candles ?? {},
          ...(options.params === undefined ? {} : { params: options.params }),
          config: options.config,
        },
        signal,
      );
      if (result.ok) return result.run;
      if (result.cancelled === true && signal.aborted) throw signal.reason ?? new Error("cancelled");
      throw new Error(`strategy ${label} failed in its backtest: ${describeIssues(result.issues)}`);
    },
  };
}

export interface StrategyServiceLoaderOptions {
  /** The sandbox strategies run in; default one with createSandboxedBacktestRunner's defaults. */
  runner?: SandboxedBacktestRunner;
}

export function createStrategyServiceLoader(
  baseUrl: string,
  options: StrategyServiceLoaderOptions = {},
): StrategyLoader {
  const client = createServiceClient(StrategyService, baseUrl, { timeoutMs: 30_000 });
  const compiler = createEsbuildStrategyCompiler();
  const runner = options.runner ?? createSandboxedBacktestRunner();
  const cache = new Map<string, Promise<SandboxedStrategy>>();
  return {
    load(name, version) {
      const key = `${name}@${version}`;
      let loaded = cache.get(key);
      if (loaded === undefined) {
        loaded = (async () => {
          const response = await client.getStrategy({ name, version, includeSource: true });
          const entry = response.fileName === "" ? `${name}.ts` : response.fileName;
          const files =
            Object.keys(response.sourceFiles).length > 0
              ? response.sourceFiles
              : { [entry]: response.source };
          const compiled = await compiler.compile({ entry, files });
          if (!compiled.ok) {
            throw new Error(
              `strategy ${key} does not compile: ${compiled.issues.map((issue) => `${issue.file ?? entry}:${issue.line ?? 0} ${issue.message}`).join("; ")}`,
            );
          }
          return loadSandboxedStrategy(compiled.compiled, runner, key);
        })();
        cache.set(key, loaded);
        loaded.catch(() => cache.delete(key));
      }
      return loaded;
    },
  };
}

function concat(parts: Float64Array[], total: number): Float64Array {
  if (parts.length === 1 && parts[0]?.length === total) return parts[0];
  const out = new Float64Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

export function createDataServiceCandleLoader(baseUrl: string, now: () => number = Date.now): CandleLoader {
  const client = createServiceClient(DataCollectionService, baseUrl, { timeoutMs: 120_000 });
  // Exchanges whose markets could not be had recently (offline laptop): not asked again for 5 min.
  const unreachable = new Map<string, number>();
  return {
    async load(request: CandleRequest) {
      const columns = {
        date: [] as Float64Array[],
        open: [] as Float64Array[],
        high: [] as Float64Array[],
        low: [] as Float64Array[],
        close: [] as Float64Array[],
        volume: [] as Float64Array[],
      };
      let total = 0;
      const stream = client.getOhlcv({
        series: { exchange: request.exchange, symbol: request.pair, timeframe: request.timeframe },
        range: {
          ...(request.startMs === undefined ? {} : { start: timestampFromMs(request.startMs) }),
          ...(request.endMs === undefined ? {} : { end: timestampFromMs(request.endMs) }),
        },
        // Raw little-endian columns: a copy per column instead of a protobuf value per candle field.
        encoding: OhlcvEncoding.F64LE,
      });
      for await (const { batch } of stream) {
        if (!batch) continue;
        if (batch.columnsF64le.byteLength > 0) {
          const decoded = decodeOhlcvColumns(batch.columnsF64le, batch.count);
          columns.date.push(decoded.timestamps);
          columns.open.push(decoded.open);
          columns.high.push(decoded.high);
          columns.low.push(decoded.low);
          columns.close.push(decoded.close);
          columns.volume.push(decoded.volume);
          total += batch.count;
          continue;
        }
        // A data service that predates the F64LE encoding answers with repeated fields.
        columns.date.push(Float64Array.from(batch.timestampsMs, (value) => Number(value)));
        columns.open.push(Float64Array.from(batch.open));
        columns.high.push(Float64Array.from(batch.high));
        columns.low.push(Float64Array.from(batch.low));
        columns.close.push(Float64Array.from(batch.close));
        columns.volume.push(Float64Array.from(batch.volume));
        total += batch.timestampsMs.length;
      }
      if (total === 0) {
        throw new Error(
          `no candles stored for ${request.exchange} ${request.pair} ${request.timeframe} in the requested range`,
        );
      }
      return {
        date: concat(columns.date, total),
        open: concat(columns.open, total),
        high: concat(columns.high, total),
        low: concat(columns.low, total),
        close: concat(columns.close, total),
        volume: concat(columns.volume, total),
      };
    },
    async markets(exchange: string) {
      if ((unreachable.get(exchange) ?? 0) > now()) return undefined;
      try {
        // Bounded: an exchange that cannot be reached (offline laptop) must not hold the backtest up.
        const response = await client.listMarkets({ exchange }, { timeoutMs: 2_000 });
        const snapshot: Record<string, engine.MarketInfo> = {};
        for (const market of response.markets) {
          // Proto zeros mean "not reported" (proto3 has no null for doubles).
          const known = (value: number) => (value === 0 ? null : value);
          snapshot[market.symbol] = {
            symbol: market.symbol,
            base: market.base,
            quote: market.quote,
            precision: { price: known(market.pricePrecision), amount: known(market.amountPrecision) },
            limits: {
              amount: { min: known(market.minAmount), max: known(market.maxAmount) },
              cost: { min: known(market.minCost), max: null },
            },
            maker: market.makerFee,
            taker: market.takerFee,
            contractSize: market.type === MarketType.SPOT ? null : known(market.contractSize),
          };
        }
        return Object.keys(snapshot).length === 0 ? undefined : snapshot;
      } catch {
        // No markets (offline exchange): the engine runs without precision rounding and limits.
        unreachable.set(exchange, now() + 5 * 60_000);
        return undefined;
      }
    },
  };
}
