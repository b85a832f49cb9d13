import ccxt from "ccxt";
import type { Exchange, Market } from "ccxt";
import { candlesFromRows, type Candles } from "../core/candles";
import { systemClock, type Clock } from "../core/clock";
import { DataCollectionError, invalidArgument, notFound, unavailable } from "../core/errors";
import type {
  ExchangeClient,
  ExchangeClientProvider,
  MarketInfo,
  MarketKind,
  MarketsSnapshot,
} from "../core/exchange-client";

export interface RetryOptions {
  /** Attempts per call including the first. Default 6. */
  maxAttempts?: number;
  /** First backoff delay. Default 500 ms; doubles per attempt. */
  baseDelayMs?: number;
  /** Cap of one backoff delay (also of a server's Retry-After). Default 30 000 ms. */
  maxDelayMs?: number;
}

export interface CcxtExchangeClientOptions {
  /** ccxt exchange id, e.g. "binance". */
  exchange: string;
  /**
   * Extra ccxt constructor config merged over the defaults, e.g. `urls.api` pointing at a
   * simulator, `options`, `timeout` (ms). Never put secrets here from logs.
   */
  config?: Record<string, unknown>;
  retry?: RetryOptions;
  /** Default the system clock. */
  clock?: Clock;
  /** Default setTimeout-based; tests pass a recorder. */
  sleep?: (ms: number) => Promise<void>;
  /** Default Math.random; jitter source. */
  random?: () => number;
  /** Called before each retry (logging/metrics). */
  onRetry?: (event: { operation: string; attempt: number; delayMs: number; error: Error }) => void;
}

type CcxtErrorClass = abstract new (...args: never[]) => Error;
const errors = ccxt as unknown as Record<string, CcxtErrorClass>;

function isInstance(error: unknown, name: string): boolean {
  const constructor = errors[name];
  return constructor !== undefined && error instanceof constructor;
}

/**
 * Retry on ccxt's OperationFailed family: NetworkError (timeouts, 5xx as ExchangeNotAvailable,
 * 429 RateLimitExceeded, 418 DDoSProtection) and exchange codes ccxt marks "try again" (Binance
 * -1001 "Internal error" arrives as OperationFailed on a 5xx). Bad symbols, bad arguments and
 * other ExchangeErrors are not retried.
 */
export function isRetryableCcxtError(error: unknown): boolean {
  return isInstance(error, "OperationFailed") && !isInstance(error, "CancelPending");
}

function toKind(type: string | undefined): MarketKind {
  return type === "spot" || type === "swap" || type === "future" || type === "option" ? type : "other";
}

function finiteOr(value: unknown, fallback: number): number {
  return typeof value === "number" && Number.isFinite(value) ? value : fallback;
}

/** A ccxt market entry as the engine needs it (tradai.common.v1.Market). */
export function toMarketInfo(market: NonNullable<Market>): MarketInfo {
  return {
    symbol: market.symbol,
    base: market.base,
    quote: market.quote,
    type: toKind(market.type),
    active: market.active !== false,
    pricePrecision: finiteOr(market.precision.price, 0),
    amountPrecision: finiteOr(market.precision.amount, 0),
    minAmount: finiteOr(market.limits.amount?.min, 0),
    maxAmount: finiteOr(market.limits.amount?.max, 0),
    minCost: finiteOr(market.limits.cost?.min, 0),
    makerFee: finiteOr(market.maker, 0),
    takerFee: finiteOr(market.taker, 0),
    contractSize: finiteOr(market.contractSize, 1),
    settle: market.settle ?? "",
  };
}

/**
 * ExchangeClient over ccxt: markets loaded (and cached) before any download, ccxt's own rate
 * limiter enabled (`enableRateLimit`, the exchange's request weights), retries with exponential
 * backoff and full jitter on NetworkError (timeouts, 5xx, 429 RateLimitExceeded, 418
 * DDoSProtection), honouring Retry-After; bad symbols and arguments fail at once.
 */
export class CcxtExchangeClient implements ExchangeClient {
  readonly exchange: string;
  readonly maxCandlesPerRequest: number;
  readonly #ccxt: Exchange;
  readonly #clock: Clock;
  readonly #retry: Required<RetryOptions>;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #random: () => number;
  readonly #onRetry: CcxtExchangeClientOptions["onRetry"];
  #markets: Promise<MarketsSnapshot> | undefined;

  constructor(options: CcxtExchangeClientOptions) {
    const constructor = (
      ccxt as unknown as Record<string, new (config: Record<string, unknown>) => Exchange>
    )[options.exchange];
    if (!ccxt.exchanges.includes(options.exchange) || constructor === undefined) {
      throw notFound(
        "exchange",
        `expected a ccxt exchange id such as "binance", got ${JSON.stringify(options.exchange)}`,
      );
    }
    this.exchange = options.exchange;
    this.#ccxt = new constructor({ enableRateLimit: true, ...options.config });
    this.#clock = options.clock ?? systemClock;
    this.#retry = { maxAttempts: 6, baseDelayMs: 500, maxDelayMs: 30_000, ...options.retry };
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.#random = options.random ?? Math.random;
    this.#onRetry = options.onRetry;
    // ccxt's per-exchange page limit for OHLCV (Binance: 1000); 500 is a safe default elsewhere.
    const features = (this.#ccxt as unknown as { features?: { spot?: { fetchOHLCV?: { limit?: number } } } })
      .features;
    this.maxCandlesPerRequest = features?.spot?.fetchOHLCV?.limit ?? 500;
  }

  /** The underlying ccxt instance (for diagnostics and tests). */
  get ccxt(): Exchange {
    return this.#ccxt;
  }

  #retryAfterMs(): number | undefined {
    const headers = (this.#ccxt as unknown as { last_response_headers?: Record<string, string> })
      .last_response_headers;
    const value = headers?.["retry-after"] ?? headers?.["Retry-After"];
    const seconds = value === undefined ? Number.NaN : Number(value);
    return Number.isFinite(seconds) ? seconds * 1000 : undefined;
  }

  async #withRetry<T>(operation: string, action: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await action();
      } catch (error) {
        if (!isRetryableCcxtError(error)) throw this.#classify(operation, error);
        if (attempt >= this.#retry.maxAttempts) {
          throw unavailable(
            `${this.exchange} ${operation}: gave up after ${attempt} attempts: ${(error as Error).message}`,
            error,
          );
        }
        const exponential = Math.min(this.#retry.maxDelayMs, this.#retry.baseDelayMs * 2 ** (attempt - 1));
        // Full jitter spreads retries of concurrent callers; a Retry-After is a floor.
        let delayMs = Math.round(exponential * (0.5 + this.#random() * 0.5));
        const rateLimited = isInstance(error, "DDoSProtection") || isInstance(error, "RateLimitExceeded");
        if (rateLimited)
          delayMs = Math.max(delayMs, Math.min(this.#retry.maxDelayMs, this.#retryAfterMs() ?? 0));
        this.#onRetry?.({ operation, attempt, delayMs, error: error as Error });
        await this.#sleep(delayMs);
      }
    }
  }

  #classify(operation: string, error: unknown): Error {
    if (error instanceof DataCollectionError) return error;
    const message = `${this.exchange} ${operation}: ${(error as Error).message}`;
    if (isInstance(error, "BadSymbol")) return notFound("symbol", message, error);
    if (
      isInstance(error, "BadRequest") ||
      isInstance(error, "ArgumentsRequired") ||
      isInstance(error, "NotSupported")
    ) {
      return invalidArgument("request", message, error);
    }
    return new DataCollectionError("unavailable", message, { cause: error });
  }

  async loadMarkets(reload = false): Promise<MarketsSnapshot> {
    if (this.#markets === undefined || reload) {
      const loading = this.#withRetry("loadMarkets", async () => {
        const markets = await this.#ccxt.loadMarkets(reload);
        return {
          exchange: this.exchange,
          markets: Object.values(markets)
            .filter((market): market is NonNullable<Market> => market !== undefined)
            .map(toMarketInfo)
            .sort((left, right) => left.symbol.localeCompare(right.symbol)),
          timeframes: Object.keys(this.#ccxt.timeframes ?? {}),
          fetchedAtMs: this.#clock.nowMs(),
        };
      });
      this.#markets = loading;
      // A failed load must not be cached.
      loading.catch(() => {
        if (this.#markets === loading) this.#markets = undefined;
      });
    }
    return this.#markets;
  }

  async validateSeries(symbol: string, timeframe: string): Promise<void> {
    const snapshot = await this.loadMarkets();
    if (!snapshot.markets.some((market) => market.symbol === symbol)) {
      throw notFound("symbol", `expected a market listed by ${this.exchange}, got ${JSON.stringify(symbol)}`);
    }
    if (!snapshot.timeframes.includes(timeframe)) {
      throw invalidArgument(
        "timeframe",
        `expected one of ${this.exchange}'s timeframes (${snapshot.timeframes.join(", ")}), got ${JSON.stringify(timeframe)}`,
      );
    }
  }

  async fetchOhlcv(symbol: string, timeframe: string, sinceMs: number, limit: number): Promise<Candles> {
    await this.validateSeries(symbol, timeframe);
    const rows = await this.#withRetry(`fetchOHLCV ${symbol} ${timeframe}`, () =>
      this.#ccxt.fetchOHLCV(symbol, timeframe, sinceMs, limit),
    );
    return candlesFromRows(rows as unknown as number[][]);
  }

  async serverTimeMs(): Promise<number> {
    // ccxt marks exchanges without a time endpoint with has.fetchTime false.
    if (this.#ccxt.has.fetchTime !== true) return this.#clock.nowMs();
    const time = await this.#withRetry("fetchTime", () => this.#ccxt.fetchTime());
    if (typeof time !== "number" || !Number.isFinite(time)) {
      throw unavailable(
        `${this.exchange} fetchTime: expected a server time in ms, got ${JSON.stringify(time)}`,
      );
    }
    return time;
  }
}

export interface CcxtExchangeClientProviderOptions {
  /** Per-exchange ccxt config overrides (e.g. { binance: { urls: { api: {...} } } }). */
  exchangeConfig?: Record<string, Record<string, unknown>>;
  retry?: RetryOptions;
  clock?: Clock;
  /** Restrict to these exchange ids (default: every ccxt exchange). */
  allowedExchanges?: readonly string[];
}

/** One cached CcxtExchangeClient per exchange id. */
export function createCcxtExchangeClientProvider(
  options: CcxtExchangeClientProviderOptions = {},
): ExchangeClientProvider {
  const clients = new Map<string, CcxtExchangeClient>();
  return {
    get(exchange) {
      const existing = clients.get(exchange);
      if (existing !== undefined) return existing;
      if (options.allowedExchanges !== undefined && !options.allowedExchanges.includes(exchange)) {
        throw notFound(
          "exchange",
          `expected one of the configured exchanges (${options.allowedExchanges.join(", ")}), got ${JSON.stringify(exchange)}`,
        );
      }
      const client = new CcxtExchangeClient({
        exchange,
        config: options.exchangeConfig?.[exchange],
        retry: options.retry,
        clock: options.clock,
      });
      clients.set(exchange, client);
      return client;
    },
  };
}
