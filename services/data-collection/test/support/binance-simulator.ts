// A local HTTP server speaking the Binance spot REST endpoints that ccxt's `binance` class uses for
// markets, klines and server time, serving the real candles of ../shared/data/ohlcv. Formats follow
// Binance's REST API documentation (GET /api/v3/ping, /time, /exchangeInfo, /klines): the kline row
// [openTime, "open", "high", "low", "close", "volume", closeTime, "quoteVolume", trades,
// "takerBuyBase", "takerBuyQuote", "0"], startTime/endTime/limit semantics (limit default 500,
// max 1000), error bodies {"code": -1121, "msg": "Invalid symbol."}, the x-mbx-used-weight headers,
// 429 with Retry-After once the 1-minute weight limit is exceeded and 418 after repeated 429s.
// Tests inject 5xx, 429/418 and slow responses.
import ccxt from "ccxt";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { existsSync } from "node:fs";
import { candleCount, candlesInRange, createCandles, lowerBound, type Candles } from "../../src/core/candles";
import { parseTimeframe } from "../../src/core/timeframe";
import { loadSharedCandles, sharedOhlcvPath } from "./shared-data";

/** Spot markets the simulator lists, with tick/step sizes and min notional as Binance had them. */
const SIMULATED_MARKETS: { base: string; tickSize: string; stepSize: string; minQty: string }[] = [
  { base: "BTC", tickSize: "0.01000000", stepSize: "0.00001000", minQty: "0.00001000" },
  { base: "ETH", tickSize: "0.01000000", stepSize: "0.00010000", minQty: "0.00010000" },
  { base: "SOL", tickSize: "0.01000000", stepSize: "0.00100000", minQty: "0.00100000" },
  { base: "XRP", tickSize: "0.00010000", stepSize: "0.10000000", minQty: "0.10000000" },
  { base: "BNB", tickSize: "0.01000000", stepSize: "0.00100000", minQty: "0.00100000" },
  { base: "DOGE", tickSize: "0.00001000", stepSize: "1.00000000", minQty: "1.00000000" },
  { base: "ADA", tickSize: "0.00010000", stepSize: "0.10000000", minQty: "0.10000000" },
];

const INTERVALS = [
  "1s",
  "1m",
  "3m",
  "5m",
  "15m",
  "30m",
  "1h",
  "2h",
  "4h",
  "6h",
  "8h",
  "12h",
  "1d",
  "3d",
  "1w",
  "1M",
];

const ENDPOINT_WEIGHT: Record<string, number> = {
  "/api/v3/ping": 1,
  "/api/v3/time": 1,
  "/api/v3/exchangeInfo": 20,
  "/api/v3/klines": 2,
};

export interface InjectedFault {
  /** Path the fault applies to (default: any). */
  path?: string;
  /** HTTP status to answer with (429, 418, 500, 502, 503, 504); omit for a slow but normal answer. */
  status?: number;
  /** Delay before answering. */
  delayMs?: number;
  /** How many requests the fault hits (default 1). */
  times?: number;
  /** Retry-After seconds on 429/418. */
  retryAfterSeconds?: number;
}

export interface SimulatorRequest {
  path: string;
  query: Record<string, string>;
  status: number;
  /** When the request arrived (wall clock). */
  atMs: number;
  /** The Retry-After header (seconds) of a 429/418 answer. */
  retryAfterSeconds?: number;
}

export interface BinanceSimulatorOptions {
  /** Server clock; default Date.now. Candles opening after it are not served. */
  nowMs?: () => number;
  /** 1-minute request-weight limit (Binance: 6000). */
  weightLimitPerMinute?: number;
  /**
   * Length of the weight window (Binance: one minute, 60 000 ms). Tests shorten it so that
   * honouring Retry-After (the seconds until the window rolls over) takes seconds, not a minute.
   */
  weightWindowMs?: number;
  /**
   * Delisted markets: Binance symbol id (e.g. "ETHUSDT") → open time of its last candle. They stay
   * in exchangeInfo with status "BREAK" (ccxt: active false) and serve no candle after that one.
   */
  delisted?: Record<string, number>;
}

export interface BinanceSimulator {
  /** e.g. http://127.0.0.1:PORT */
  readonly baseUrl: string;
  readonly requests: SimulatorRequest[];
  inject(fault: InjectedFault): void;
  /** ccxt `binance` constructor config pointing every spot endpoint at this server. */
  ccxtConfig(): Record<string, unknown>;
  close(): Promise<void>;
}

function klineValue(value: number): string {
  return value.toFixed(8);
}

function seriesFile(base: string, interval: string): string {
  return `binance_${base}_USDT-${interval}.csv.gz`;
}

const DAY = 86_400_000;

/**
 * Binance's weekly (Monday 00:00 UTC) and monthly (1st 00:00 UTC) klines built from daily ones:
 * open of the first day, highest high, lowest low, close of the last day, summed volume.
 */
export function aggregateDaily(daily: Candles, interval: "1w" | "1M"): Candles {
  const bucketOf = (time: number): number => {
    const date = new Date(time);
    if (interval === "1M") return Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1);
    return time - ((date.getUTCDay() + 6) % 7) * DAY; // days since Monday
  };
  const rows: number[][] = [];
  for (let index = 0; index < candleCount(daily); index++) {
    const time = daily.timestamps[index] ?? 0;
    const bucket = bucketOf(time);
    const last = rows[rows.length - 1];
    if (last !== undefined && last[0] === bucket) {
      last[2] = Math.max(last[2] ?? 0, daily.high[index] ?? 0);
      last[3] = Math.min(last[3] ?? 0, daily.low[index] ?? 0);
      last[4] = daily.close[index] ?? 0;
      last[5] = (last[5] ?? 0) + (daily.volume[index] ?? 0);
    } else {
      rows.push([
        bucket,
        daily.open[index] ?? 0,
        daily.high[index] ?? 0,
        daily.low[index] ?? 0,
        daily.close[index] ?? 0,
        daily.volume[index] ?? 0,
      ]);
    }
  }
  const result = createCandles(rows.length);
  rows.forEach((row, index) => {
    result.timestamps[index] = row[0] ?? 0;
    result.open[index] = row[1] ?? 0;
    result.high[index] = row[2] ?? 0;
    result.low[index] = row[3] ?? 0;
    result.close[index] = row[4] ?? 0;
    result.volume[index] = row[5] ?? 0;
  });
  return result;
}

export async function startBinanceSimulator(
  options: BinanceSimulatorOptions = {},
): Promise<BinanceSimulator> {
  const nowMs = options.nowMs ?? (() => Date.now());
  const weightLimit = options.weightLimitPerMinute ?? 6000;
  const weightWindowMs = options.weightWindowMs ?? 60_000;
  const faults: (InjectedFault & { remaining: number })[] = [];
  const requests: SimulatorRequest[] = [];
  let weightMinute = 0;
  let usedWeight = 0;
  let consecutive429 = 0;

  const listedCandlesOf = (symbol: string, interval: string): Candles | undefined => {
    const market = SIMULATED_MARKETS.find((entry) => `${entry.base}USDT` === symbol);
    if (market === undefined) return undefined;
    const file = seriesFile(market.base, interval);
    if (existsSync(sharedOhlcvPath(file))) return loadSharedCandles(file);
    const daily = seriesFile(market.base, "1d");
    if ((interval === "1w" || interval === "1M") && existsSync(sharedOhlcvPath(daily))) {
      return aggregateDaily(loadSharedCandles(daily), interval);
    }
    return createCandles(0);
  };
  // A delisted market serves nothing after its last candle.
  const candlesOf = (symbol: string, interval: string): Candles | undefined => {
    const candles = listedCandlesOf(symbol, interval);
    const lastOpenMs = options.delisted?.[symbol];
    return candles === undefined || lastOpenMs === undefined
      ? candles
      : candlesInRange(candles, Number.NEGATIVE_INFINITY, lastOpenMs + 1);
  };

  const exchangeInfo = () => ({
    timezone: "UTC",
    serverTime: nowMs(),
    rateLimits: [
      { rateLimitType: "REQUEST_WEIGHT", interval: "MINUTE", intervalNum: 1, limit: weightLimit },
      { rateLimitType: "ORDERS", interval: "SECOND", intervalNum: 10, limit: 100 },
      { rateLimitType: "ORDERS", interval: "DAY", intervalNum: 1, limit: 200000 },
      { rateLimitType: "RAW_REQUESTS", interval: "MINUTE", intervalNum: 5, limit: 61000 },
    ],
    exchangeFilters: [],
    symbols: SIMULATED_MARKETS.map((market) => ({
      symbol: `${market.base}USDT`,
      status: options.delisted?.[`${market.base}USDT`] === undefined ? "TRADING" : "BREAK",
      baseAsset: market.base,
      baseAssetPrecision: 8,
      quoteAsset: "USDT",
      quotePrecision: 8,
      quoteAssetPrecision: 8,
      baseCommissionPrecision: 8,
      quoteCommissionPrecision: 8,
      orderTypes: [
        "LIMIT",
        "LIMIT_MAKER",
        "MARKET",
        "STOP_LOSS",
        "STOP_LOSS_LIMIT",
        "TAKE_PROFIT",
        "TAKE_PROFIT_LIMIT",
      ],
      icebergAllowed: true,
      ocoAllowed: true,
      otoAllowed: true,
      quoteOrderQtyMarketAllowed: true,
      allowTrailingStop: true,
      cancelReplaceAllowed: true,
      amendAllowed: true,
      isSpotTradingAllowed: true,
      isMarginTradingAllowed: true,
      filters: [
        {
          filterType: "PRICE_FILTER",
          minPrice: market.tickSize,
          maxPrice: "1000000.00000000",
          tickSize: market.tickSize,
        },
        { filterType: "LOT_SIZE", minQty: market.minQty, maxQty: "9000.00000000", stepSize: market.stepSize },
        { filterType: "ICEBERG_PARTS", limit: 10 },
        {
          filterType: "MARKET_LOT_SIZE",
          minQty: "0.00000000",
          maxQty: "100.00000000",
          stepSize: "0.00000000",
        },
        {
          filterType: "TRAILING_DELTA",
          minTrailingAboveDelta: 10,
          maxTrailingAboveDelta: 2000,
          minTrailingBelowDelta: 10,
          maxTrailingBelowDelta: 2000,
        },
        {
          filterType: "PERCENT_PRICE_BY_SIDE",
          bidMultiplierUp: "5",
          bidMultiplierDown: "0.2",
          askMultiplierUp: "5",
          askMultiplierDown: "0.2",
          avgPriceMins: 5,
        },
        {
          filterType: "NOTIONAL",
          minNotional: "5.00000000",
          applyMinToMarket: true,
          maxNotional: "9000000.00000000",
          applyMaxToMarket: false,
          avgPriceMins: 5,
        },
        { filterType: "MAX_NUM_ORDERS", maxNumOrders: 200 },
        { filterType: "MAX_NUM_ALGO_ORDERS", maxNumAlgoOrders: 5 },
      ],
      permissions: [],
      permissionSets: [["SPOT", "MARGIN"]],
      defaultSelfTradePreventionMode: "EXPIRE_MAKER",
      allowedSelfTradePreventionModes: ["EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"],
    })),
  });

  const klines = (query: Record<string, string>): { status: number; body: unknown } => {
    const symbol = query.symbol ?? "";
    const interval = query.interval ?? "";
    if (symbol === "")
      return {
        status: 400,
        body: {
          code: -1102,
          msg: "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.",
        },
      };
    if (!INTERVALS.includes(interval))
      return { status: 400, body: { code: -1120, msg: "Invalid interval." } };
    const candles = candlesOf(symbol, interval);
    if (candles === undefined) return { status: 400, body: { code: -1121, msg: "Invalid symbol." } };
    const limit = query.limit === undefined ? 500 : Number(query.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
      return { status: 400, body: { code: -1130, msg: "Data sent for parameter 'limit' is not valid." } };
    }
    const intervalMs = parseTimeframe(interval);
    const now = nowMs();
    // Candles that have not opened yet do not exist.
    const visibleEnd = lowerBound(candles.timestamps, now + 1);
    const endTime = query.endTime === undefined ? undefined : Number(query.endTime);
    const last =
      endTime === undefined ? visibleEnd : Math.min(visibleEnd, lowerBound(candles.timestamps, endTime + 1));
    let first: number;
    if (query.startTime !== undefined) first = lowerBound(candles.timestamps, Number(query.startTime));
    else first = Math.max(0, last - limit);
    const end = Math.min(last, first + limit);
    const rows: unknown[] = [];
    for (let index = first; index < end; index++) {
      const openTime = candles.timestamps[index] ?? 0;
      const close = candles.close[index] ?? 0;
      const volume = candles.volume[index] ?? 0;
      rows.push([
        openTime,
        klineValue(candles.open[index] ?? 0),
        klineValue(candles.high[index] ?? 0),
        klineValue(candles.low[index] ?? 0),
        klineValue(close),
        klineValue(volume),
        (interval === "1M"
          ? Date.UTC(new Date(openTime).getUTCFullYear(), new Date(openTime).getUTCMonth() + 1, 1)
          : openTime + intervalMs) - 1,
        klineValue(volume * close),
        1000,
        klineValue(volume / 2),
        klineValue((volume / 2) * close),
        "0",
      ]);
    }
    return { status: 200, body: rows };
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const url = new URL(request.url ?? "/", "http://localhost");
    const path = url.pathname;
    const query = Object.fromEntries(url.searchParams.entries());
    const arrivedAtMs = Date.now();
    const send = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      const retryAfter = headers["retry-after"];
      requests.push({
        path,
        query,
        status,
        atMs: arrivedAtMs,
        ...(retryAfter === undefined ? {} : { retryAfterSeconds: Number(retryAfter) }),
      });
      response.writeHead(status, {
        "content-type": "application/json;charset=UTF-8",
        "x-mbx-used-weight": String(usedWeight),
        "x-mbx-used-weight-1m": String(usedWeight),
        ...headers,
      });
      response.end(JSON.stringify(body));
    };

    const minute = Math.floor(Date.now() / weightWindowMs);
    if (minute !== weightMinute) {
      weightMinute = minute;
      usedWeight = 0;
    }
    usedWeight += ENDPOINT_WEIGHT[path] ?? 1;

    const fault = faults.find(
      (entry) => entry.remaining > 0 && (entry.path === undefined || entry.path === path),
    );
    if (fault !== undefined) {
      fault.remaining--;
      if (fault.delayMs !== undefined) await new Promise((resolve) => setTimeout(resolve, fault.delayMs));
      if (fault.status === 429 || fault.status === 418) {
        consecutive429++;
        const retryAfter = String(fault.retryAfterSeconds ?? 1);
        send(
          fault.status,
          fault.status === 429
            ? {
                code: -1003,
                msg: `Too much request weight used; current limit is ${weightLimit} request weight per 1 MINUTE. Please use WebSocket Streams for live updates to avoid polling the API.`,
              }
            : {
                code: -1003,
                msg: "Way too much request weight used; IP banned until later. Please use WebSocket Streams for live updates to avoid bans.",
              },
          { "retry-after": retryAfter },
        );
        return;
      }
      if (fault.status !== undefined) {
        send(fault.status, {
          code: -1001,
          msg: "Internal error; unable to process your request. Please try again.",
        });
        return;
      }
    }
    if (usedWeight > weightLimit) {
      // Binance answers 429 past the limit and bans (418) clients that keep sending after 429s.
      consecutive429++;
      const status = consecutive429 > 5 ? 418 : 429;
      send(
        status,
        {
          code: -1003,
          msg: `Too much request weight used; current limit is ${weightLimit} request weight per 1 MINUTE.`,
        },
        {
          // Whole seconds until the weight window rolls over.
          "retry-after": String(Math.max(1, Math.ceil(((minute + 1) * weightWindowMs - Date.now()) / 1000))),
        },
      );
      return;
    }
    consecutive429 = 0;
    if (request.method !== "GET") return send(405, { code: -1000, msg: "Method not allowed." });
    switch (path) {
      case "/api/v3/ping":
        return send(200, {});
      case "/api/v3/time":
        return send(200, { serverTime: nowMs() });
      case "/api/v3/exchangeInfo":
        return send(200, exchangeInfo());
      case "/api/v3/klines": {
        const result = klines(query);
        return send(result.status, result.body);
      }
      default:
        return send(404, { code: -1000, msg: `Unknown path ${path}` });
    }
  };

  const server: Server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      response.writeHead(500);
      response.end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    baseUrl,
    requests,
    inject(fault) {
      faults.push({ ...fault, remaining: fault.times ?? 1 });
    },
    ccxtConfig() {
      const api = `${baseUrl}/api/v3`;
      // Every other Binance API (sapi, fapi, dapi, ...) points here too, under a path the simulator
      // answers with 404: a test can never reach the real exchange by accident.
      const others = Object.fromEntries(
        Object.keys((new ccxt.binance().urls as { api: Record<string, string> }).api).map((name) => [
          name,
          `${baseUrl}/unsupported/${name}`,
        ]),
      );
      return {
        urls: { api: { ...others, public: api, private: api, v1: `${baseUrl}/api/v1` } },
        options: {
          fetchMarkets: { types: ["spot"] },
          fetchCurrencies: false,
          adjustForTimeDifference: false,
        },
        timeout: 2_000,
      };
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export function simulatedCandleCount(base: string, interval: string): number {
  return candleCount(loadSharedCandles(seriesFile(base, interval)));
}
