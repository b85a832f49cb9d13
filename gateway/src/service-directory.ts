// The services the gateway fronts, with their Connect clients (one place, so routes and the
// health aggregation use the same clients and deadlines).
import { createServiceClient } from "@tradai/common";
import {
  BacktestService,
  DataCollectionService,
  Health,
  StrategyService,
  TradingService,
} from "@tradai/proto";
import type { Client } from "@connectrpc/connect";

export interface ServiceUrls {
  backtest: string;
  dataCollection: string;
  strategy: string;
  liveTrading: string;
  dryRunTrading: string;
}

export interface ServiceDirectory {
  urls: ServiceUrls;
  backtest: Client<typeof BacktestService>;
  dataCollection: Client<typeof DataCollectionService>;
  strategy: Client<typeof StrategyService>;
  liveTrading: Client<typeof TradingService>;
  dryRunTrading: Client<typeof TradingService>;
  health: Record<keyof ServiceUrls, Client<typeof Health>>;
}

/** Display names used in the health document (the spec's service names). */
export const SERVICE_NAMES: Record<keyof ServiceUrls, string> = {
  backtest: "backtest",
  dataCollection: "data-collection",
  strategy: "strategy",
  liveTrading: "live-trading",
  dryRunTrading: "dry-run-trading",
};

export function createServiceDirectory(urls: ServiceUrls, timeoutMs: number): ServiceDirectory {
  const options = { timeoutMs };
  const health = Object.fromEntries(
    (Object.keys(urls) as (keyof ServiceUrls)[]).map((key) => [
      key,
      createServiceClient(Health, urls[key], { timeoutMs: 2_000 }),
    ]),
  ) as Record<keyof ServiceUrls, Client<typeof Health>>;
  return {
    urls,
    backtest: createServiceClient(BacktestService, urls.backtest, options),
    dataCollection: createServiceClient(DataCollectionService, urls.dataCollection, options),
    strategy: createServiceClient(StrategyService, urls.strategy, options),
    liveTrading: createServiceClient(TradingService, urls.liveTrading, options),
    dryRunTrading: createServiceClient(TradingService, urls.dryRunTrading, options),
    health,
  };
}
