// The HTTP layer of the MLflow client: base URL with an optional path prefix (MLflow served with
// --static-prefix=/mlflow), JSON in and out, per-request headers (auth, W3C trace context), a
// timeout, and retries with exponential backoff and jitter on network errors, 429 and 5xx — never
// on other 4xx, which would fail the same way again.
import { MlflowError } from "./mlflow-error";

export interface MlflowHttpOptions {
  /** The server's URL including any static prefix: "http://mlflow:5000" or "http://host/mlflow". */
  baseUrl: string;
  /** Retries after the first attempt on network errors, 429 and 5xx. Default 3. */
  maxRetries?: number;
  /** Backoff before the first retry, doubled each time (with ±50% jitter). Default 200 ms. */
  initialBackoffMs?: number;
  /** Cap on one backoff. Default 5000 ms. */
  maxBackoffMs?: number;
  /** Per attempt. Default 30000 ms. */
  timeoutMs?: number;
  /** Static headers on every request (e.g. Authorization). */
  headers?: Record<string, string>;
  /** Headers computed per request (e.g. currentTraceHeaders() from @tradai/common). */
  requestHeaders?: () => Record<string, string>;
  /** Default globalThis.fetch. */
  fetch?: typeof fetch;
  /** Default setTimeout-based sleep; tests may shorten it. */
  sleep?: (ms: number) => Promise<void>;
}

export interface MlflowRequest {
  method: "GET" | "POST" | "PATCH" | "DELETE" | "PUT";
  /** Path below the base URL, starting with "/api/...". */
  path: string;
  /** GET/DELETE query parameters (arrays repeat the key). */
  query?: Record<string, string | number | readonly string[] | undefined>;
  /** JSON body. */
  json?: unknown;
  /** Raw body (artifact upload). */
  body?: Uint8Array | string;
  contentType?: string;
}

export interface MlflowHttp {
  readonly baseUrl: string;
  /** Parsed JSON response ({} for an empty body). */
  json<T>(request: MlflowRequest): Promise<T>;
  /** Raw response bytes (artifact download). */
  bytes(request: MlflowRequest): Promise<Uint8Array>;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function createMlflowHttp(options: MlflowHttpOptions): MlflowHttp {
  let base: URL;
  try {
    base = new URL(options.baseUrl);
  } catch {
    throw new Error(
      `baseUrl: expected an http(s) URL such as "http://127.0.0.1:5000", got "${options.baseUrl}"`,
    );
  }
  if (base.protocol !== "http:" && base.protocol !== "https:") {
    throw new Error(`baseUrl: expected an http(s) URL, got "${options.baseUrl}"`);
  }
  const prefix = base.pathname.replace(/\/+$/, "");
  const origin = base.origin;
  const maxRetries = options.maxRetries ?? 3;
  const initialBackoff = options.initialBackoffMs ?? 200;
  const maxBackoff = options.maxBackoffMs ?? 5000;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const doFetch = options.fetch ?? globalThis.fetch;
  const sleep = options.sleep ?? defaultSleep;

  const urlOf = (request: MlflowRequest) => {
    const url = new URL(`${origin}${prefix}${request.path}`);
    for (const [key, value] of Object.entries(request.query ?? {})) {
      if (value === undefined) continue;
      if (Array.isArray(value))
        for (const item of value as readonly string[]) url.searchParams.append(key, item);
      else url.searchParams.set(key, String(value));
    }
    return url;
  };

  const attempt = async (request: MlflowRequest): Promise<Response> => {
    const headers: Record<string, string> = { ...options.headers, ...options.requestHeaders?.() };
    let body: string | Uint8Array | undefined;
    if (request.json !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(request.json);
    } else if (request.body !== undefined) {
      headers["content-type"] = request.contentType ?? "application/octet-stream";
      body = request.body;
    }
    let response: Response;
    try {
      response = await doFetch(urlOf(request), {
        method: request.method,
        headers,
        body: body as RequestInit["body"],
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      throw new MlflowError(request.method, request.path, 0, "NETWORK_ERROR", reason, { cause: error });
    }
    if (response.ok) return response;
    const text = await response.text().catch(() => "");
    let errorCode = `HTTP_${response.status}`;
    let message = text.slice(0, 500);
    try {
      const parsed = JSON.parse(text) as { error_code?: string; message?: string };
      if (typeof parsed.error_code === "string") errorCode = parsed.error_code;
      if (typeof parsed.message === "string") message = parsed.message;
    } catch {
      // not JSON (a proxy's HTML error page): keep the text
    }
    throw new MlflowError(request.method, request.path, response.status, errorCode, message);
  };

  const send = async (request: MlflowRequest): Promise<Response> => {
    for (let retry = 0; ; retry++) {
      try {
        return await attempt(request);
      } catch (error) {
        if (!(error instanceof MlflowError) || !error.retryable || retry >= maxRetries) throw error;
        const backoff = Math.min(maxBackoff, initialBackoff * 2 ** retry);
        await sleep(backoff * (0.5 + Math.random()));
      }
    }
  };

  return {
    baseUrl: `${origin}${prefix}`,
    async json<T>(request: MlflowRequest): Promise<T> {
      const response = await send(request);
      const text = await response.text();
      return (text === "" ? {} : JSON.parse(text)) as T;
    },
    async bytes(request: MlflowRequest): Promise<Uint8Array> {
      const response = await send(request);
      return new Uint8Array(await response.arrayBuffer());
    },
  };
}
