// The strategy and data-collection services, as the backtest core's StrategyCatalog and
// MarketData ports, over Connect clients with deadlines.
import type { JsonObject } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { createServiceClient, type FieldViolation } from "@tradai/common";
import { DataCollectionService, StrategyService } from "@tradai/proto";
import type { BacktestConfig } from "../core/backtest-job";
import type { MarketData, StrategyCatalog } from "../core/backtest-service";

export function createStrategyCatalogClient(baseUrl: string, timeoutMs = 10_000): StrategyCatalog {
  const client = createServiceClient(StrategyService, baseUrl, { timeoutMs });
  return {
    async validate(config: BacktestConfig) {
      // One call: ValidateConfig checks everything and names the resolved strategy version.
      const response = await client.validateConfig({ config: { values: config as unknown as JsonObject } });
      const violations: FieldViolation[] = response.issues.map((issue) => ({
        field: issue.field,
        message: issue.message,
        ...(issue.expected === "" ? {} : { expected: issue.expected }),
        ...(issue.found === "" ? {} : { found: issue.found }),
      }));
      return {
        violations,
        version: response.strategy?.version ?? "",
        startupCandles: response.strategy?.startupCandleCount ?? 0,
      };
    },
  };
}

export function createMarketDataClient(baseUrl: string, timeoutMs = 300_000): MarketData {
  const client = createServiceClient(DataCollectionService, baseUrl, { timeoutMs });
  return {
    async ensure(request) {
      await client.ensureData({
        exchange: request.exchange,
        symbols: request.pairs,
        timeframe: request.timeframe,
        range: {
          ...(request.range.startMs === undefined ? {} : { start: timestampFromMs(request.range.startMs) }),
          ...(request.range.endMs === undefined ? {} : { end: timestampFromMs(request.range.endMs) }),
        },
        startupCandles: request.startupCandles,
      });
    },
    async unlistedPairs(exchange, pairs) {
      const listed = new Set((await client.listMarkets({ exchange })).markets.map((market) => market.symbol));
      return pairs.filter((pair) => !listed.has(pair));
    },
  };
}
