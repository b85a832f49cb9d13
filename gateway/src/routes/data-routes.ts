// /api/v1/data/…: REST over DataCollectionService (issue #4, item 1). Snake_case JSON, instants as
// ISO 8601 strings, enums as names; errors from the service arrive as ConnectErrors and leave as
// problem+json (app.ts). The sync streams server-sent events, like the backtest events route.
import { Readable } from "node:stream";
import { timestampDate, timestampFromMs, type Timestamp } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { DomainError, toProblemDetails } from "@tradai/common";
import {
  DataFormat,
  FreshnessVerdict,
  GapKind,
  MarketType,
  SyncPhase,
  type CorruptSeries,
  type Gap,
  type Market,
  type OhlcvBatch,
  type SeriesKey,
  type SeriesMetadata,
  type SyncOhlcvResponse,
} from "@tradai/proto";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { ServiceDirectory } from "../service-directory";

/** Largest file POST /api/v1/data/import accepts (the service's max message size). */
export const IMPORT_BODY_LIMIT_BYTES = 64 * 1024 * 1024;

// The same shapes the service checks (services/data-collection/src/core/series-key.ts,
// timeframe.ts), so bad input is a 400 naming the field before any call.
const exchangeProperty = {
  type: "string",
  pattern: "^[a-z][a-z0-9]{1,39}$",
  description: 'ccxt exchange id, e.g. "binance"',
} as const;
const symbolProperty = {
  type: "string",
  pattern: "^[A-Za-z0-9._-]{1,40}/[A-Za-z0-9._-]{1,40}(:[A-Za-z0-9._-]{1,40}(-[A-Za-z0-9._-]+)*)?$",
  description: 'unified ccxt symbol, e.g. "BTC/USDT" or "BTC/USDT:USDT"',
} as const;
const timeframeProperty = {
  type: "string",
  pattern: "^[1-9][0-9]{0,3}[smhdwMy]$",
  description: 'ccxt timeframe, e.g. "1m", "5m", "1h", "1d"',
} as const;
const instantProperty = (description: string) =>
  ({
    type: "string",
    anyOf: [
      { type: "string", format: "date-time" },
      { type: "string", format: "date" },
    ],
    description: `${description}; ISO 8601 date (UTC midnight) or date-time with zone`,
  }) as const;

const FILE_FORMATS = ["json", "jsongz", "feather", "csv"] as const;
type FileFormat = (typeof FILE_FORMATS)[number];

const DATA_FORMATS: Record<FileFormat, DataFormat> = {
  json: DataFormat.FREQTRADE_JSON,
  jsongz: DataFormat.FREQTRADE_JSONGZ,
  feather: DataFormat.FREQTRADE_FEATHER,
  csv: DataFormat.CSV,
};

const CONTENT_TYPES: Record<FileFormat, string> = {
  json: "application/json",
  jsongz: "application/gzip",
  feather: "application/vnd.apache.arrow.file",
  csv: "text/csv",
};

const FORMAT_OF_CONTENT_TYPE = Object.fromEntries(
  Object.entries(CONTENT_TYPES).map(([format, type]) => [type, format as FileFormat]),
) as Record<string, FileFormat>;

const CSV_HEADER = "timestamp,open,high,low,close,volume";

const iso = (timestamp: Timestamp | undefined) =>
  timestamp === undefined ? null : timestampDate(timestamp).toISOString();

/** "2025-07-01" or "2025-07-01T12:00:00Z" (already checked by the schema) → a proto Timestamp. */
const timestampOf = (value: string) => timestampFromMs(Date.parse(value));

const invalid = (field: string, message: string) =>
  new DomainError(Code.InvalidArgument, `${field}: ${message}`, [{ field, message }]);

/** The cross-field check JSON schema cannot express: end after start. */
function timeRange(start: string | undefined, end: string | undefined, where: "body" | "querystring") {
  if (start !== undefined && end !== undefined && !(Date.parse(end) > Date.parse(start))) {
    throw invalid(`${where}.end`, `expected an end after the start (${start}), got ${end}`);
  }
  return {
    ...(start === undefined ? {} : { start: timestampOf(start) }),
    ...(end === undefined ? {} : { end: timestampOf(end) }),
  };
}

const enumName = (name: string | undefined) => (name ?? "unspecified").toLowerCase();

const seriesJson = (key: SeriesKey | undefined) => ({
  exchange: key?.exchange ?? "",
  symbol: key?.symbol ?? "",
  timeframe: key?.timeframe ?? "",
});

const gapJson = (gap: Gap) => ({
  after: iso(gap.after),
  before: iso(gap.before),
  missing_candles: Number(gap.missingCandles),
  kind: enumName(GapKind[gap.kind]),
});

const corruptSeriesJson = (entry: CorruptSeries) => ({
  ...seriesJson(entry.series),
  file: entry.file,
  reason: entry.reason,
});

export function seriesMetadataJson(metadata: SeriesMetadata) {
  return {
    ...seriesJson(metadata.series),
    first_candle: iso(metadata.firstCandle),
    last_candle: iso(metadata.lastCandle),
    count: Number(metadata.count),
    gaps: metadata.gaps.map(gapJson),
    size_bytes: Number(metadata.sizeBytes),
  };
}

export function syncProgressJson(event: SyncOhlcvResponse) {
  return {
    symbol: event.symbol,
    phase: enumName(SyncPhase[event.phase]),
    candles_fetched: Number(event.candlesFetched),
    candles_expected: Number(event.candlesExpected),
    percent: event.percent,
    eta_seconds: event.etaSeconds < 0 ? null : event.etaSeconds,
    gaps: event.gaps.map(gapJson),
  };
}

const marketJson = (market: Market) => ({
  symbol: market.symbol,
  base: market.base,
  quote: market.quote,
  type: enumName(MarketType[market.type]),
  active: market.active,
  price_precision: market.pricePrecision,
  amount_precision: market.amountPrecision,
  min_amount: market.minAmount,
  max_amount: market.maxAmount,
  min_cost: market.minCost,
  maker_fee: market.makerFee,
  taker_fee: market.takerFee,
  contract_size: market.contractSize,
  settle: market.settle === "" ? null : market.settle,
});

function csvRows(batch: OhlcvBatch): string {
  let text = "";
  for (let index = 0; index < batch.timestampsMs.length; index++) {
    text += `${batch.timestampsMs[index]},${batch.open[index]},${batch.high[index]},${batch.low[index]},${batch.close[index]},${batch.volume[index]}\n`;
  }
  return text;
}

/** Aborts the service call when the client goes away (the response closes before it finished). */
function abortOnClose(reply: FastifyReply): AbortController {
  const controller = new AbortController();
  reply.raw.once("close", () => {
    if (!reply.raw.writableFinished) controller.abort();
  });
  return controller;
}

const gapSchema = {
  type: "object",
  properties: {
    after: {
      type: "string",
      format: "date-time",
      description: "open time of the last candle before the gap",
    },
    before: { type: "string", format: "date-time", description: "open time of the first candle after it" },
    missing_candles: { type: "integer" },
    kind: {
      type: "string",
      enum: ["exchange", "unfetched", "unspecified"],
      description:
        "exchange: confirmed empty (a sync asked the exchange and it returned later candles), never " +
        "fetched again; unfetched: never fetched, the next sync or ensure covering it fetches it",
    },
  },
} as const;

const corruptSeriesSchema = {
  type: "array",
  description:
    "stored series whose metadata cannot be read, reported apart (the other series are listed as " +
    "usual); asking for one of them by exchange, symbol and timeframe is a data_loss problem",
  items: {
    type: "object",
    properties: {
      exchange: { type: "string" },
      symbol: { type: "string" },
      timeframe: { type: "string" },
      file: { type: "string", description: "the unreadable file, relative to the store" },
      reason: { type: "string", description: "what is wrong and how to repair it" },
    },
  },
} as const;

const seriesMetadataSchema = {
  type: "object",
  properties: {
    exchange: { type: "string" },
    symbol: { type: "string" },
    timeframe: { type: "string" },
    first_candle: { type: ["string", "null"], format: "date-time" },
    last_candle: { type: ["string", "null"], format: "date-time" },
    count: { type: "integer" },
    gaps: { type: "array", items: gapSchema },
    size_bytes: { type: "integer" },
  },
} as const;

const seriesQuery = {
  type: "object",
  additionalProperties: false,
  required: ["exchange", "symbol", "timeframe"],
  properties: {
    exchange: exchangeProperty,
    symbol: symbolProperty,
    timeframe: timeframeProperty,
    start: instantProperty("first candle open time (inclusive); default: the first stored"),
    end: instantProperty("end (exclusive); default: after the last stored"),
  },
} as const;

interface SeriesQuery {
  exchange: string;
  symbol: string;
  timeframe: string;
  start?: string;
  end?: string;
}

const rangeBody = {
  type: "object",
  additionalProperties: false,
  required: ["exchange", "symbols", "timeframe", "start"],
  properties: {
    exchange: exchangeProperty,
    symbols: { type: "array", minItems: 1, maxItems: 200, items: symbolProperty },
    timeframe: timeframeProperty,
    start: instantProperty("first candle open time (inclusive)"),
    end: instantProperty("end (exclusive); default: up to the last closed candle"),
  },
} as const;

interface RangeBody {
  exchange: string;
  symbols: string[];
  timeframe: string;
  start: string;
  end?: string;
}

export function registerDataRoutes(app: FastifyInstance, services: ServiceDirectory): void {
  const client = services.dataCollection;

  app.post(
    "/api/v1/data/sync",
    {
      schema: {
        summary: "Download candles into the store; answers with server-sent progress events",
        description:
          "Events: `progress` (symbol, phase validating|fetching|writing|done, candles_fetched, " +
          "candles_expected, percent 0..100 for the whole request, eta_seconds or null when unknown, " +
          "gaps the exchange has in the range), then `end`, or `error` with a problem document. " +
          "Errors found before the first event (bad symbol, unknown exchange) are plain problem+json.",
        tags: ["data"],
        response: {
          200: {
            description: "server-sent events: progress…, end (or error)",
            content: { "text/event-stream": { schema: { type: "string" } } },
          },
        },
        body: {
          ...rangeBody,
          properties: {
            ...rangeBody.properties,
            full_refresh: {
              type: "boolean",
              default: false,
              description: "re-download the whole range instead of resuming from the last stored candle",
            },
          },
        },
      },
    },
    async (request, reply) => {
      const body = request.body as RangeBody & { full_refresh?: boolean };
      const range = timeRange(body.start, body.end, "body");
      const controller = abortOnClose(reply);
      const stream = client.syncOhlcv(
        {
          exchange: body.exchange,
          symbols: body.symbols,
          timeframe: body.timeframe,
          range,
          fullRefresh: body.full_refresh ?? false,
        },
        { signal: controller.signal, timeoutMs: 24 * 3600_000 },
      );
      const iterator = stream[Symbol.asyncIterator]();
      // The service validates exchange, symbols and timeframe before its first event: awaiting it
      // here makes those errors plain problem+json answers instead of an `error` event.
      const first = await iterator.next();
      reply.hijack();
      reply.raw.writeHead(200, {
        "content-type": "text/event-stream",
        "cache-control": "no-cache",
        connection: "keep-alive",
        "x-request-id": request.id,
      });
      const send = (event: string, data: unknown) =>
        reply.raw.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      const fetched = new Map<string, number>();
      let percent = 0;
      try {
        for (let next = first; next.done !== true; next = await iterator.next()) {
          const progress = syncProgressJson(next.value);
          fetched.set(progress.symbol, progress.candles_fetched);
          percent = progress.percent;
          send("progress", progress);
        }
        send("end", {
          exchange: body.exchange,
          timeframe: body.timeframe,
          symbols: body.symbols,
          candles_fetched: [...fetched.values()].reduce((sum, count) => sum + count, 0),
          percent,
        });
      } catch (error) {
        if (!controller.signal.aborted) send("error", toProblemDetails(error, request.url));
      } finally {
        reply.raw.end();
      }
    },
  );

  app.get(
    "/api/v1/data/ohlcv",
    {
      schema: {
        summary: "Stored candles of one series, oldest first (columnar JSON or CSV)",
        tags: ["data"],
        querystring: {
          ...seriesQuery,
          properties: {
            ...seriesQuery.properties,
            format: { type: "string", enum: ["json", "csv"], default: "json" },
          },
        },
        response: {
          200: {
            description: "columnar JSON (index i of every column is one candle) or CSV",
            content: {
              "application/json": {
                schema: {
                  type: "object",
                  properties: {
                    exchange: { type: "string" },
                    symbol: { type: "string" },
                    timeframe: { type: "string" },
                    count: { type: "integer" },
                    timestamps_ms: { type: "array", items: { type: "integer" }, description: "open times" },
                    open: { type: "array", items: { type: "number" } },
                    high: { type: "array", items: { type: "number" } },
                    low: { type: "array", items: { type: "number" } },
                    close: { type: "array", items: { type: "number" } },
                    volume: { type: "array", items: { type: "number" } },
                  },
                },
              },
              "text/csv": {
                schema: { type: "string", description: `header: ${CSV_HEADER}; timestamp in ms` },
              },
            },
          },
        },
      },
    },
    async (request: FastifyRequest, reply: FastifyReply) => {
      const query = request.query as SeriesQuery & { format: "json" | "csv" };
      const controller = abortOnClose(reply);
      const stream = client.getOhlcv(
        {
          series: { exchange: query.exchange, symbol: query.symbol, timeframe: query.timeframe },
          range: timeRange(query.start, query.end, "querystring"),
        },
        { signal: controller.signal, timeoutMs: 3600_000 },
      );
      const iterator = stream[Symbol.asyncIterator]();
      // The first batch before answering, so "no such series" is a plain 404 problem.
      const first = await iterator.next();
      if (query.format === "csv") {
        async function* lines() {
          yield `${CSV_HEADER}\n`;
          for (let next = first; next.done !== true; next = await iterator.next()) {
            if (next.value.batch !== undefined) yield csvRows(next.value.batch);
          }
        }
        return reply.type("text/csv; charset=utf-8").send(Readable.from(lines()));
      }
      const columns = {
        timestamps_ms: [] as number[],
        open: [] as number[],
        high: [] as number[],
        low: [] as number[],
        close: [] as number[],
        volume: [] as number[],
      };
      for (let next = first; next.done !== true; next = await iterator.next()) {
        const batch = next.value.batch;
        if (batch === undefined) continue;
        for (const timestamp of batch.timestampsMs) columns.timestamps_ms.push(Number(timestamp));
        for (const name of ["open", "high", "low", "close", "volume"] as const) {
          for (const value of batch[name]) columns[name].push(value);
        }
      }
      return reply.type("application/json").send({
        exchange: query.exchange,
        symbol: query.symbol,
        timeframe: query.timeframe,
        count: columns.timestamps_ms.length,
        ...columns,
      });
    },
  );

  app.post(
    "/api/v1/data/ensure",
    {
      schema: {
        summary: "Make sure the store holds every candle of a range (fetching what is missing)",
        tags: ["data"],
        body: {
          ...rangeBody,
          properties: {
            ...rangeBody.properties,
            startup_candles: {
              type: "integer",
              minimum: 0,
              maximum: 1_000_000,
              default: 0,
              description: "candles needed before start for indicator warm-up",
            },
          },
        },
        response: {
          200: {
            type: "object",
            properties: {
              candles_fetched: { type: "integer", description: "0 when everything was already stored" },
              series: { type: "array", items: seriesMetadataSchema },
            },
          },
        },
      },
    },
    async (request, reply) => {
      const body = request.body as RangeBody & { startup_candles?: number };
      const controller = abortOnClose(reply);
      const response = await client.ensureData(
        {
          exchange: body.exchange,
          symbols: body.symbols,
          timeframe: body.timeframe,
          range: timeRange(body.start, body.end, "body"),
          startupCandles: body.startup_candles ?? 0,
        },
        { signal: controller.signal, timeoutMs: 3600_000 },
      );
      return {
        candles_fetched: Number(response.candlesFetched),
        series: response.series.map(seriesMetadataJson),
      };
    },
  );

  app.get(
    "/api/v1/data/freshness",
    {
      schema: {
        summary: "Age of the latest stored candle of each series, with a FRESH/STALE/MISSING verdict",
        description:
          "Without filters: every stored series, corrupt ones listed apart in corrupt_series. With " +
          "exchange, symbol and timeframe all given, that one series (MISSING when nothing is stored; " +
          "a data_loss problem when its metadata is corrupt).",
        tags: ["data"],
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: {
            exchange: exchangeProperty,
            symbol: symbolProperty,
            timeframe: timeframeProperty,
            max_age_periods: {
              type: "integer",
              minimum: 1,
              maximum: 100_000,
              description:
                "stale when the latest candle is older than this many timeframe periods; default 2",
            },
          },
        },
        response: {
          200: {
            type: "object",
            properties: {
              checked_at: { type: "string", format: "date-time" },
              series: {
                type: "array",
                items: {
                  type: "object",
                  properties: {
                    exchange: { type: "string" },
                    symbol: { type: "string" },
                    timeframe: { type: "string" },
                    last_candle: { type: ["string", "null"], format: "date-time" },
                    age_seconds: { type: ["number", "null"] },
                    verdict: { type: "string", enum: ["FRESH", "STALE", "MISSING", "UNSPECIFIED"] },
                  },
                },
              },
              corrupt_series: corruptSeriesSchema,
            },
          },
        },
      },
    },
    async (request) => {
      const query = request.query as Partial<Omit<SeriesQuery, "start" | "end">> & {
        max_age_periods?: number;
      };
      const exact =
        query.exchange !== undefined && query.symbol !== undefined && query.timeframe !== undefined;
      const response = await client.checkFreshness({
        series: exact ? [{ exchange: query.exchange, symbol: query.symbol, timeframe: query.timeframe }] : [],
        maxAgePeriods: query.max_age_periods ?? 0,
      });
      const matches = (key: SeriesKey | undefined) =>
        (query.exchange === undefined || key?.exchange === query.exchange) &&
        (query.symbol === undefined || key?.symbol === query.symbol) &&
        (query.timeframe === undefined || key?.timeframe === query.timeframe);
      return {
        checked_at: iso(response.checkedAt),
        series: response.series
          .filter((entry) => matches(entry.series))
          .map((entry) => ({
            ...seriesJson(entry.series),
            last_candle: iso(entry.lastCandle),
            age_seconds: entry.verdict === FreshnessVerdict.MISSING ? null : entry.ageSeconds,
            verdict: FreshnessVerdict[entry.verdict] ?? "UNSPECIFIED",
          })),
        corrupt_series: response.corruptSeries
          .filter((entry) => matches(entry.series))
          .map(corruptSeriesJson),
      };
    },
  );

  app.get(
    "/api/v1/data/datasets",
    {
      schema: {
        summary: "What is stored: first/last candle, count, gaps and size per series",
        description:
          "Series whose metadata is corrupt are listed apart in corrupt_series; with exchange, symbol " +
          "and timeframe all given and that series corrupt, the answer is a data_loss problem.",
        tags: ["data"],
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: { exchange: exchangeProperty, symbol: symbolProperty, timeframe: timeframeProperty },
        },
        response: {
          200: {
            type: "object",
            properties: {
              series: { type: "array", items: seriesMetadataSchema },
              corrupt_series: corruptSeriesSchema,
            },
          },
        },
      },
    },
    async (request) => {
      const query = request.query as Partial<Omit<SeriesQuery, "start" | "end">>;
      const response = await client.getDatasetMetadata({
        exchange: query.exchange ?? "",
        symbol: query.symbol ?? "",
        timeframe: query.timeframe ?? "",
      });
      return {
        series: response.series.map(seriesMetadataJson),
        corrupt_series: response.corruptSeries.map(corruptSeriesJson),
      };
    },
  );

  app.get(
    "/api/v1/data/markets/:exchange",
    {
      schema: {
        summary: "The exchange's markets (precision, limits, fees) and timeframes",
        tags: ["data"],
        params: {
          type: "object",
          required: ["exchange"],
          properties: { exchange: exchangeProperty },
        },
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: {
            quote: { type: "string", pattern: "^[A-Za-z0-9._-]{1,40}$", description: 'e.g. "USDT"' },
          },
        },
        response: {
          200: {
            type: "object",
            properties: {
              exchange: { type: "string" },
              fetched_at: { type: ["string", "null"], format: "date-time" },
              timeframes: { type: "array", items: { type: "string" } },
              markets: {
                type: "array",
                items: {
                  type: "object",
                  properties: {
                    symbol: { type: "string" },
                    base: { type: "string" },
                    quote: { type: "string" },
                    type: { type: "string", enum: ["spot", "swap", "future", "unspecified"] },
                    active: { type: "boolean" },
                    price_precision: { type: "number", description: "tick size" },
                    amount_precision: { type: "number", description: "amount step" },
                    min_amount: { type: "number" },
                    max_amount: { type: "number" },
                    min_cost: { type: "number", description: "quote currency" },
                    maker_fee: { type: "number" },
                    taker_fee: { type: "number" },
                    contract_size: { type: "number" },
                    settle: { type: ["string", "null"] },
                  },
                },
              },
            },
          },
        },
      },
    },
    async (request) => {
      const { exchange } = request.params as { exchange: string };
      const { quote } = request.query as { quote?: string };
      const response = await client.listMarkets({ exchange, quote: quote ?? "" });
      return {
        exchange: response.exchange,
        fetched_at: iso(response.fetchedAt),
        timeframes: response.timeframes,
        markets: response.markets.map(marketJson),
      };
    },
  );

  // Import reads the raw file bytes, so it lives in its own scope with its own body parsers (the
  // app's JSON parser would parse a Freqtrade .json file) and a 64 MiB limit.
  void app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser(
      Object.values(CONTENT_TYPES),
      { bodyLimit: IMPORT_BODY_LIMIT_BYTES + 1 },
      async (request: FastifyRequest, payload: NodeJS.ReadableStream) => {
        const tooLarge = () =>
          Object.assign(
            new Error(`request body too large: expected at most ${IMPORT_BODY_LIMIT_BYTES} bytes`),
            { statusCode: 413 },
          );
        if (Number(request.headers["content-length"] ?? 0) > IMPORT_BODY_LIMIT_BYTES) throw tooLarge();
        const chunks: Buffer[] = [];
        let total = 0;
        for await (const chunk of payload) {
          const bytes = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
          total += bytes.byteLength;
          if (total > IMPORT_BODY_LIMIT_BYTES) throw tooLarge();
          chunks.push(bytes);
        }
        return Buffer.concat(chunks);
      },
    );
    scope.addContentTypeParser("*", (request, _payload, done) => {
      done(
        Object.assign(
          new Error(
            `unsupported content type "${request.headers["content-type"] ?? ""}": expected one of ${Object.values(CONTENT_TYPES).join(", ")}`,
          ),
          { statusCode: 415 },
        ),
      );
    });

    scope.post(
      "/api/v1/data/import",
      {
        bodyLimit: IMPORT_BODY_LIMIT_BYTES + 1,
        schema: {
          summary: "Import a data file (Freqtrade json/jsongz/feather or CSV) into the store",
          description:
            "The body is the file itself (at most 64 MiB) with content type text/csv, application/json, " +
            "application/gzip (Freqtrade jsongz) or application/vnd.apache.arrow.file (Freqtrade " +
            "feather); `format` defaults from the content type. CSV has the header " +
            `${CSV_HEADER} (timestamp in ms).`,
          tags: ["data"],
          consumes: Object.values(CONTENT_TYPES),
          // The parsed body is a Buffer, which no JSON type describes: an empty schema (any value) is
          // how OpenAPI 3.1 documents a raw binary body. `format: "binary"` without a type, the 3.0
          // idiom, made ajv warn at start-up (strictTypes: format applies to number and string).
          body: { description: "the file's bytes, raw (the content type says which format)" },
          querystring: {
            type: "object",
            additionalProperties: false,
            required: ["exchange", "symbol", "timeframe"],
            properties: {
              exchange: exchangeProperty,
              symbol: symbolProperty,
              timeframe: timeframeProperty,
              format: { type: "string", enum: [...FILE_FORMATS] },
            },
          },
          response: {
            200: {
              type: "object",
              properties: {
                candles_imported: { type: "integer" },
                duplicates_merged: { type: "integer" },
                series: seriesMetadataSchema,
              },
            },
          },
        },
      },
      async (request) => {
        const query = request.query as Omit<SeriesQuery, "start" | "end"> & { format?: FileFormat };
        const contentType = (request.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
        const implied = FORMAT_OF_CONTENT_TYPE[contentType];
        const format = query.format ?? implied;
        if (format === undefined) {
          throw invalid("querystring.format", `expected one of ${FILE_FORMATS.join(", ")}, got none`);
        }
        if (implied !== undefined && format !== implied) {
          throw invalid(
            "querystring.format",
            `expected a format matching the content type ${contentType} (${implied}), got ${format}`,
          );
        }
        const response = await client.importData(
          {
            series: { exchange: query.exchange, symbol: query.symbol, timeframe: query.timeframe },
            format: DATA_FORMATS[format],
            content: request.body as Buffer,
          },
          { timeoutMs: 300_000 },
        );
        return {
          candles_imported: Number(response.candlesImported),
          duplicates_merged: Number(response.duplicatesMerged),
          series: response.series === undefined ? null : seriesMetadataJson(response.series),
        };
      },
    );
  });

  app.get(
    "/api/v1/data/export",
    {
      schema: {
        summary: "Export a stored series as a data file (Freqtrade json/jsongz/feather or CSV)",
        description:
          "Answers the file with its content type and a content-disposition file name in Freqtrade's " +
          "naming (BTC_USDT-1h.feather); the header x-candles-exported counts the candles.",
        tags: ["data"],
        querystring: {
          ...seriesQuery,
          properties: {
            ...seriesQuery.properties,
            format: { type: "string", enum: [...FILE_FORMATS], default: "csv" },
          },
        },
        response: {
          200: {
            description: "the file, named by content-disposition",
            content: Object.fromEntries(
              Object.values(CONTENT_TYPES).map((type) => [
                type,
                { schema: { type: "string", format: "binary" } },
              ]),
            ),
          },
        },
      },
    },
    async (request, reply) => {
      const query = request.query as SeriesQuery & { format: FileFormat };
      const response = await client.exportData(
        {
          series: { exchange: query.exchange, symbol: query.symbol, timeframe: query.timeframe },
          range: timeRange(query.start, query.end, "querystring"),
          format: DATA_FORMATS[query.format],
        },
        { timeoutMs: 300_000 },
      );
      const fileName = response.fileName.replace(/["\\\r\n]/g, "_");
      return reply
        .type(CONTENT_TYPES[query.format])
        .header("content-disposition", `attachment; filename="${fileName}"`)
        .header("x-candles-exported", String(response.candlesExported))
        .send(Buffer.from(response.content));
    },
  );
}
