// /api/v1/data/… over real HTTP: the gateway in-process in front of the real data-collection
// service (its main.ts, spawned as a child process on a free port, temp data dir) which downloads
// through ccxt's own `binance` class from the Binance REST simulator serving the real candles of
// ../shared/data/ohlcv. Values are checked against those CSV.gz files, read here independently.
import { readFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import { createLogger } from "@tradai/common";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import {
  startBinanceSimulator,
  type BinanceSimulator,
} from "../../services/data-collection/test/support/binance-simulator";
import { repoRoot, spawnService, type SpawnedService } from "../../test/support/spawn-service";
import { buildGateway } from "../src/app";
import { createServiceDirectory } from "../src/service-directory";

const sharedDir = process.env.TRADAI_SHARED_DIR ?? path.resolve(repoRoot, "../shared");
const logger = createLogger({ service: "test", level: "silent" });

// SOL/USDT 5m, 2025-07-01 00:00 → 2025-07-08 00:00 UTC: 2016 candles, three ccxt pages of ≤ 1000.
const RANGE_START = "2025-07-01";
const RANGE_END = "2025-07-08T00:00:00Z";
const START_MS = Date.UTC(2025, 6, 1);
const END_MS = Date.UTC(2025, 6, 8);
const FIVE_MINUTES = 300_000;

interface SourceRow {
  timestamp: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
}

/** The shared CSV.gz rows in [startMs, endMs), parsed here (not by the service's codec). */
function sourceRows(file: string, startMs: number, endMs: number): SourceRow[] {
  const lines = gunzipSync(readFileSync(path.join(sharedDir, "data", "ohlcv", file)))
    .toString("utf8")
    .trimEnd()
    .split("\n");
  expect(lines[0]).toBe("timestamp,open,high,low,close,volume");
  const rows: SourceRow[] = [];
  for (const line of lines.slice(1)) {
    const [timestamp = NaN, open = NaN, high = NaN, low = NaN, close = NaN, volume = NaN] = line
      .split(",")
      .map(Number);
    if (timestamp >= startMs && timestamp < endMs) rows.push({ timestamp, open, high, low, close, volume });
  }
  return rows;
}

interface Problem {
  type?: string;
  title?: string;
  status: number;
  detail: string;
  code: string;
  errors?: { field: string; message: string }[];
  request_id?: string;
}

let simulator: BinanceSimulator;
let dataDir: string;
let service: SpawnedService;
let gateway: FastifyInstance;
let base: string;

const post = (route: string, body: unknown) =>
  fetch(`${base}${route}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });

async function expectProblem(response: Response, status: number): Promise<Problem> {
  expect(response.status).toBe(status);
  expect(response.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  const body = (await response.json()) as Problem;
  expect(body.status).toBe(status);
  return body;
}

/** Parses a complete text/event-stream body into its events. */
function parseEvents(text: string): { event: string; data: unknown }[] {
  return text
    .split("\n\n")
    .filter((block) => block.trim() !== "")
    .map((block) => {
      const lines = block.split("\n");
      const event = lines.find((line) => line.startsWith("event: "))?.slice(7) ?? "message";
      const data = lines
        .filter((line) => line.startsWith("data: "))
        .map((line) => line.slice(6))
        .join("\n");
      return { event, data: JSON.parse(data) as unknown };
    });
}

beforeAll(async () => {
  simulator = await startBinanceSimulator();
  dataDir = await mkdtemp(path.join(tmpdir(), "tradai-gateway-data-"));
  service = await spawnService({
    entry: "services/data-collection/src/main.ts",
    portVariable: "DATA_COLLECTION_PORT",
    env: {
      DATA_COLLECTION_DATA_DIR: dataDir,
      DATA_COLLECTION_EXCHANGES: "binance",
      DATA_COLLECTION_EXCHANGE_OVERRIDES: JSON.stringify({ binance: simulator.ccxtConfig() }),
      DATA_COLLECTION_RETRY_BASE_DELAY_MS: "20",
      DATA_COLLECTION_RETRY_MAX_DELAY_MS: "200",
    },
    timeoutMs: 30_000,
  });
  const unused = "http://127.0.0.1:9";
  gateway = await buildGateway({
    services: createServiceDirectory(
      {
        backtest: unused,
        dataCollection: service.url,
        strategy: unused,
        liveTrading: unused,
        dryRunTrading: unused,
      },
      5_000,
    ),
    logger,
  });
  await gateway.listen({ host: "127.0.0.1", port: 0 });
  const address = gateway.server.address();
  base = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
}, 60_000);

afterAll(async () => {
  await gateway?.close();
  await service?.stop();
  await simulator?.close();
  if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
});

describe("POST /api/v1/data/sync", () => {
  it("streams progress as server-sent events until `end`, reaching 100 %", async () => {
    const response = await post("/api/v1/data/sync", {
      exchange: "binance",
      symbols: ["SOL/USDT"],
      timeframe: "5m",
      start: RANGE_START,
      end: RANGE_END,
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/event-stream");
    const events = parseEvents(await response.text());
    expect(events.at(-1)?.event).toBe("end");
    const progress = events
      .filter((entry) => entry.event === "progress")
      .map(
        (entry) =>
          entry.data as {
            symbol: string;
            phase: string;
            candles_fetched: number;
            candles_expected: number;
            percent: number;
            eta_seconds: number | null;
            gaps: unknown[];
          },
      );
    expect(events.filter((entry) => entry.event === "error")).toEqual([]);
    expect(progress[0]?.phase).toBe("validating");
    expect(progress.some((event) => event.phase === "fetching")).toBe(true);
    const percents = progress.map((event) => event.percent);
    for (let index = 1; index < percents.length; index++)
      expect(percents[index]).toBeGreaterThanOrEqual(percents[index - 1] ?? 0);
    const done = progress.at(-1);
    expect(done).toMatchObject({
      symbol: "SOL/USDT",
      phase: "done",
      candles_fetched: 2016,
      candles_expected: 2016,
      percent: 100,
      eta_seconds: 0,
      gaps: [],
    });
    expect(events.at(-1)?.data).toMatchObject({ candles_fetched: 2016, percent: 100 });
    // ccxt paged through the simulator: 2016 candles at ≤ 1000 per request.
    const klineRequests = simulator.requests.filter((request) => request.path === "/api/v3/klines");
    expect(klineRequests.length).toBeGreaterThanOrEqual(3);
  });

  it("turns an exchange failure after the first event into an `error` event with a problem", async () => {
    // Every attempt the service makes (DATA_COLLECTION_RETRY_MAX_ATTEMPTS, default 6) gets a 503.
    simulator.inject({ path: "/api/v3/klines", status: 503, times: 6 });
    const response = await post("/api/v1/data/sync", {
      exchange: "binance",
      symbols: ["ETH/USDT"],
      timeframe: "1h",
      start: "2025-06-01",
      end: "2025-06-02",
    });
    expect(response.status).toBe(200);
    const events = parseEvents(await response.text());
    expect(events[0]).toMatchObject({ event: "progress", data: { symbol: "ETH/USDT", phase: "validating" } });
    const last = events.at(-1);
    expect(last?.event).toBe("error");
    expect(last?.data).toMatchObject({ status: 503, code: "unavailable", instance: "/api/v1/data/sync" });
    expect(events.some((entry) => entry.event === "end")).toBe(false);
    const failed = simulator.requests.filter(
      (request) => request.path === "/api/v3/klines" && request.status === 503,
    );
    expect(failed).toHaveLength(6);
  });

  it("cancels the service's download when the client disconnects", async () => {
    // BTC/USDT 1m for June 2025 is 43 200 candles (44 pages); each page answers after 150 ms.
    simulator.inject({ path: "/api/v3/klines", delayMs: 150, times: 44 });
    const klines = () => simulator.requests.filter((request) => request.path === "/api/v3/klines").length;
    const before = klines();
    const controller = new AbortController();
    const response = await fetch(`${base}/api/v1/data/sync`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        exchange: "binance",
        symbols: ["BTC/USDT"],
        timeframe: "1m",
        start: "2025-06-01",
        end: "2025-07-01",
      }),
      signal: controller.signal,
    });
    const reader = response.body!.getReader();
    let text = "";
    for (let reads = 0; reads < 100 && !text.includes('"phase":"fetching"'); reads++) {
      const chunk = await reader.read();
      if (chunk.done) break;
      text += new TextDecoder().decode(chunk.value);
    }
    expect(text).toContain('"phase":"fetching"');
    controller.abort();
    await new Promise((resolve) => setTimeout(resolve, 500));
    const afterAbort = klines();
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    // Without the cancel the download would have gone on at ~6 pages a second.
    expect(klines()).toBe(afterAbort);
    expect(afterAbort - before).toBeLessThan(20);
  });
});

describe("GET /api/v1/data/ohlcv", () => {
  it("reads the synced range back as columnar JSON equal to the real candles", async () => {
    const expected = sourceRows("binance_SOL_USDT-5m.csv.gz", START_MS, END_MS);
    expect(expected.length).toBe(2016);
    const query = new URLSearchParams({
      exchange: "binance",
      symbol: "SOL/USDT",
      timeframe: "5m",
      start: RANGE_START,
      end: RANGE_END,
    });
    const response = await fetch(`${base}/api/v1/data/ohlcv?${query}`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body.count).toBe(2016);
    expect(body.timestamps_ms).toEqual(expected.map((row) => row.timestamp));
    expect(body.open).toEqual(expected.map((row) => row.open));
    expect(body.high).toEqual(expected.map((row) => row.high));
    expect(body.low).toEqual(expected.map((row) => row.low));
    expect(body.close).toEqual(expected.map((row) => row.close));
    expect(body.volume).toEqual(expected.map((row) => row.volume));
  });

  it("reads a sub-range as CSV with the header and the real values", async () => {
    const startMs = Date.UTC(2025, 6, 3, 12);
    const endMs = Date.UTC(2025, 6, 3, 18);
    const expected = sourceRows("binance_SOL_USDT-5m.csv.gz", startMs, endMs);
    expect(expected.length).toBe(72);
    const query = new URLSearchParams({
      exchange: "binance",
      symbol: "SOL/USDT",
      timeframe: "5m",
      start: new Date(startMs).toISOString(),
      end: new Date(endMs).toISOString(),
      format: "csv",
    });
    const response = await fetch(`${base}/api/v1/data/ohlcv?${query}`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/csv/);
    const lines = (await response.text()).trimEnd().split("\n");
    expect(lines[0]).toBe("timestamp,open,high,low,close,volume");
    const rows = lines.slice(1).map((line) => {
      const [timestamp, open, high, low, close, volume] = line.split(",").map(Number);
      return { timestamp, open, high, low, close, volume };
    });
    expect(rows).toEqual(expected);
  });
});

describe("freshness and datasets after the sync", () => {
  it("reports the synced series as STALE with its age, and an unsynced one as MISSING", async () => {
    const lastOpenMs = END_MS - FIVE_MINUTES;
    const stored = await fetch(
      `${base}/api/v1/data/freshness?exchange=binance&symbol=SOL%2FUSDT&timeframe=5m`,
    );
    expect(stored.status).toBe(200);
    const storedBody = (await stored.json()) as {
      checked_at: string;
      series: { symbol: string; last_candle: string; age_seconds: number; verdict: string }[];
    };
    expect(storedBody.series).toHaveLength(1);
    expect(storedBody.series[0]).toMatchObject({
      symbol: "SOL/USDT",
      last_candle: "2025-07-07T23:55:00.000Z",
      verdict: "STALE",
    });
    // Age counts from the candle's close (open + 5 min) to the service's clock.
    const expectedAge = (Date.parse(storedBody.checked_at) - (lastOpenMs + FIVE_MINUTES)) / 1000;
    expect(storedBody.series[0]?.age_seconds).toBeCloseTo(expectedAge, 3);
    expect(Math.abs(Date.parse(storedBody.checked_at) - Date.now())).toBeLessThan(60_000);

    const missing = await fetch(
      `${base}/api/v1/data/freshness?exchange=binance&symbol=BTC%2FUSDT&timeframe=5m`,
    );
    const missingBody = (await missing.json()) as {
      series: { symbol: string; last_candle: string | null; age_seconds: number | null; verdict: string }[];
    };
    expect(missingBody.series).toEqual([
      {
        exchange: "binance",
        symbol: "BTC/USDT",
        timeframe: "5m",
        last_candle: null,
        age_seconds: null,
        verdict: "MISSING",
      },
    ]);

    const all = (await (await fetch(`${base}/api/v1/data/freshness?timeframe=5m`)).json()) as {
      series: { symbol: string; verdict: string }[];
    };
    expect(all.series.map((entry) => [entry.symbol, entry.verdict])).toEqual([["SOL/USDT", "STALE"]]);
  });

  it("lists the stored series with first/last candle, count and no gaps", async () => {
    const response = await fetch(`${base}/api/v1/data/datasets?exchange=binance&timeframe=5m`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { series: Record<string, unknown>[] };
    expect(body.series).toHaveLength(1);
    expect(body.series[0]).toMatchObject({
      exchange: "binance",
      symbol: "SOL/USDT",
      timeframe: "5m",
      first_candle: "2025-07-01T00:00:00.000Z",
      last_candle: "2025-07-07T23:55:00.000Z",
      count: 2016,
      gaps: [],
    });
    expect(body.series[0]?.size_bytes).toBeGreaterThanOrEqual(2016 * 6 * 8);
  });

  it("ensure finds the synced range complete and fetches nothing", async () => {
    const response = await post("/api/v1/data/ensure", {
      exchange: "binance",
      symbols: ["SOL/USDT"],
      timeframe: "5m",
      start: "2025-07-02",
      end: "2025-07-05",
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { candles_fetched: number; series: Record<string, unknown>[] };
    expect(body.candles_fetched).toBe(0);
    expect(body.series[0]).toMatchObject({ symbol: "SOL/USDT", count: 2016 });
  });
});

describe("gap kinds", () => {
  interface GapJson {
    after: string;
    before: string;
    missing_candles: number;
    kind: string;
  }
  const HOUR = 3_600_000;
  // February 2018 holds Binance's 2018-02-08 outage; March 5–10 is synced apart, so the days
  // between the two ranges were never fetched.
  const FEBRUARY = [Date.UTC(2018, 1, 1), Date.UTC(2018, 2, 1)] as const;
  const MARCH = [Date.UTC(2018, 2, 5), Date.UTC(2018, 2, 10)] as const;

  /** Holes between consecutive open times, as the gateway writes them. */
  function holes(times: number[], kind: string): GapJson[] {
    return times.slice(1).flatMap((time, index) => {
      const previous = times[index] ?? 0;
      return time - previous > HOUR
        ? [
            {
              after: new Date(previous).toISOString(),
              before: new Date(time).toISOString(),
              missing_candles: (time - previous) / HOUR - 1,
              kind,
            },
          ]
        : [];
    });
  }

  it("tells the exchange's own gaps from never-fetched ones in sync events and datasets", async () => {
    const doneGaps: GapJson[] = [];
    for (const [startMs, endMs] of [FEBRUARY, MARCH]) {
      const response = await post("/api/v1/data/sync", {
        exchange: "binance",
        symbols: ["BTC/USDT"],
        timeframe: "1h",
        start: new Date(startMs).toISOString(),
        end: new Date(endMs).toISOString(),
      });
      expect(response.status).toBe(200);
      const events = parseEvents(await response.text());
      expect(events.at(-1)?.event).toBe("end");
      const done = events.filter((entry) => entry.event === "progress").at(-1)?.data as {
        phase: string;
        gaps: GapJson[];
      };
      expect(done.phase).toBe("done");
      doneGaps.push(...done.gaps);
    }
    // Expected straight from the source CSV: holes inside a synced range are the exchange's, the
    // hole joining the two ranges was never fetched.
    const february = sourceRows("binance_BTC_USDT-1h.csv.gz", ...FEBRUARY).map((row) => row.timestamp);
    const march = sourceRows("binance_BTC_USDT-1h.csv.gz", ...MARCH).map((row) => row.timestamp);
    const exchangeGaps = [...holes(february, "exchange"), ...holes(march, "exchange")];
    expect(exchangeGaps.some((gap) => gap.after.startsWith("2018-02-08"))).toBe(true);
    const joining = holes([february.at(-1) ?? 0, march[0] ?? 0], "unfetched");
    expect(joining).toHaveLength(1);
    expect(doneGaps).toEqual(exchangeGaps);

    const response = await fetch(
      `${base}/api/v1/data/datasets?exchange=binance&symbol=BTC%2FUSDT&timeframe=1h`,
    );
    expect(response.status).toBe(200);
    const body = (await response.json()) as { series: { gaps: GapJson[] }[]; corrupt_series: unknown[] };
    expect(body.corrupt_series).toEqual([]);
    expect(body.series).toHaveLength(1);
    const byTime = (left: GapJson, right: GapJson) => left.after.localeCompare(right.after);
    expect([...(body.series[0]?.gaps ?? [])].sort(byTime)).toEqual(
      [...exchangeGaps, ...joining].sort(byTime),
    );
  });
});

describe("GET /api/v1/data/markets/:exchange", () => {
  it("lists binance's USDT spot markets with tick sizes, steps, limits and timeframes", async () => {
    const response = await fetch(`${base}/api/v1/data/markets/binance?quote=USDT`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      exchange: string;
      fetched_at: string;
      timeframes: string[];
      markets: Record<string, unknown>[];
    };
    expect(body.exchange).toBe("binance");
    expect(body.timeframes).toEqual(expect.arrayContaining(["1m", "5m", "1h", "1d"]));
    expect(body.markets.map((market) => market.symbol).sort()).toEqual([
      "ADA/USDT",
      "BNB/USDT",
      "BTC/USDT",
      "DOGE/USDT",
      "ETH/USDT",
      "SOL/USDT",
      "XRP/USDT",
    ]);
    // The simulator's exchangeInfo filters for BTCUSDT: tickSize 0.01, stepSize/minQty 0.00001,
    // maxQty 9000, minNotional 5.
    expect(body.markets.find((market) => market.symbol === "BTC/USDT")).toMatchObject({
      base: "BTC",
      quote: "USDT",
      type: "spot",
      active: true,
      price_precision: 0.01,
      amount_precision: 0.00001,
      min_amount: 0.00001,
      max_amount: 9000,
      min_cost: 5,
      settle: null,
    });
    const none = (await (await fetch(`${base}/api/v1/data/markets/binance?quote=EUR`)).json()) as {
      markets: unknown[];
    };
    expect(none.markets).toEqual([]);
  });
});

describe("import and export", () => {
  // Three hand-written daily candles (not on the simulator: the series exists only through import).
  const csv = [
    "timestamp,open,high,low,close,volume",
    "1735689600000,0.8512,0.9013,0.8407,0.8921,101234.5",
    "1735776000000,0.8921,0.9512,0.8855,0.9402,205000.25",
    "1735862400000,0.9402,0.9601,0.9011,0.9111,150999.75",
  ].join("\n");
  const rows = csv
    .split("\n")
    .slice(1)
    .map((line) => line.split(",").map(Number));
  const series = "exchange=binance&symbol=ADA%2FUSDT&timeframe=1d";

  it("imports a CSV body and exports it back as CSV, Freqtrade json and feather", async () => {
    const imported = await fetch(`${base}/api/v1/data/import?${series}`, {
      method: "POST",
      headers: { "content-type": "text/csv" },
      body: csv,
    });
    expect(imported.status).toBe(200);
    expect(await imported.json()).toMatchObject({
      candles_imported: 3,
      duplicates_merged: 0,
      series: {
        symbol: "ADA/USDT",
        timeframe: "1d",
        first_candle: "2025-01-01T00:00:00.000Z",
        last_candle: "2025-01-03T00:00:00.000Z",
        count: 3,
      },
    });

    const exportedCsv = await fetch(`${base}/api/v1/data/export?${series}&format=csv`);
    expect(exportedCsv.status).toBe(200);
    expect(exportedCsv.headers.get("content-type")).toMatch(/^text\/csv/);
    expect(exportedCsv.headers.get("content-disposition")).toBe('attachment; filename="ADA_USDT-1d.csv"');
    expect(exportedCsv.headers.get("x-candles-exported")).toBe("3");
    const csvLines = (await exportedCsv.text()).trimEnd().split("\n");
    expect(csvLines[0]).toBe("timestamp,open,high,low,close,volume");
    expect(csvLines.slice(1).map((line) => line.split(",").map(Number))).toEqual(rows);

    const exportedJson = await fetch(
      `${base}/api/v1/data/export?${series}&format=json&start=2025-01-02&end=2025-01-04`,
    );
    expect(exportedJson.headers.get("content-type")).toMatch(/^application\/json/);
    expect(exportedJson.headers.get("content-disposition")).toBe('attachment; filename="ADA_USDT-1d.json"');
    expect(await exportedJson.json()).toEqual(rows.slice(1));

    const feather = await fetch(`${base}/api/v1/data/export?${series}&format=feather`);
    expect(feather.headers.get("content-type")).toBe("application/vnd.apache.arrow.file");
    const featherBytes = new Uint8Array(await feather.arrayBuffer());
    // Arrow IPC files start and end with the magic "ARROW1".
    expect(Buffer.from(featherBytes.subarray(0, 6)).toString("latin1")).toBe("ARROW1");

    // The feather file imports back into another series with the same candles.
    const reimported = await fetch(
      `${base}/api/v1/data/import?exchange=binance&symbol=ADA%2FUSDC&timeframe=1d`,
      {
        method: "POST",
        headers: { "content-type": "application/vnd.apache.arrow.file" },
        body: featherBytes,
      },
    );
    expect(reimported.status).toBe(200);
    const back = (await (
      await fetch(`${base}/api/v1/data/ohlcv?exchange=binance&symbol=ADA%2FUSDC&timeframe=1d`)
    ).json()) as Record<string, number[]>;
    expect(
      rows.map((_, index) =>
        ["timestamps_ms", "open", "high", "low", "close", "volume"].map((column) => back[column]?.[index]),
      ),
    ).toEqual(rows);
  });

  it("imports a Freqtrade json body as raw bytes", async () => {
    const response = await fetch(
      `${base}/api/v1/data/import?exchange=binance&symbol=XRP%2FUSDT&timeframe=1d`,
      {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(rows),
      },
    );
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ candles_imported: 3, series: { count: 3 } });
  });

  it("rejects an unsupported content type, a mismatched format and a CSV missing a column", async () => {
    const unsupported = await expectProblem(
      await fetch(`${base}/api/v1/data/import?${series}`, {
        method: "POST",
        headers: { "content-type": "application/xml" },
        body: "<candles/>",
      }),
      415,
    );
    expect(unsupported.detail).toContain("application/xml");
    expect(unsupported.title).toBe("Unsupported Media Type");
    expect(unsupported.type).toBe("https://tradai.dev/problems/unsupported-media-type");

    // A declared size over the 64 MiB import limit is refused before any byte of the body is read.
    const oversized = await new Promise<{ status: number; body: Problem }>((resolve, reject) => {
      const request = httpRequest(
        `${base}/api/v1/data/import?${series}`,
        { method: "POST", headers: { "content-type": "text/csv", "content-length": String(70_000_000) } },
        (response) => {
          let text = "";
          response.on("data", (chunk: Buffer) => (text += chunk.toString()));
          response.on("end", () =>
            resolve({ status: response.statusCode ?? 0, body: JSON.parse(text) as Problem }),
          );
        },
      );
      request.on("error", reject);
      request.write("timestamp,open");
    });
    expect(oversized.status).toBe(413);
    expect(oversized.body).toMatchObject({
      status: 413,
      title: "Content Too Large",
      code: "resource_exhausted",
    });

    const mismatch = await expectProblem(
      await fetch(`${base}/api/v1/data/import?${series}&format=feather`, {
        method: "POST",
        headers: { "content-type": "text/csv" },
        body: csv,
      }),
      400,
    );
    expect(mismatch.errors?.map((error) => error.field)).toEqual(["querystring.format"]);

    const missingColumn = await expectProblem(
      await fetch(`${base}/api/v1/data/import?${series}`, {
        method: "POST",
        headers: { "content-type": "text/csv" },
        body: "timestamp,open,high,low,close\n1735689600000,1,2,0.5,1.5\n",
      }),
      400,
    );
    expect(missingColumn.detail).toContain("volume");
  });
});

describe("bad input → problem+json", () => {
  it("an inverted range is a 400 naming the end field", async () => {
    const sync = await expectProblem(
      await post("/api/v1/data/sync", {
        exchange: "binance",
        symbols: ["SOL/USDT"],
        timeframe: "5m",
        start: "2025-07-08",
        end: "2025-07-01",
      }),
      400,
    );
    expect(sync.errors?.map((error) => error.field)).toEqual(["body.end"]);
    expect(sync.errors?.[0]?.message).toContain("expected an end after the start");

    const read = await expectProblem(
      await fetch(
        `${base}/api/v1/data/ohlcv?exchange=binance&symbol=SOL%2FUSDT&timeframe=5m&start=2025-07-08&end=2025-07-01`,
      ),
      400,
    );
    expect(read.errors?.map((error) => error.field)).toEqual(["querystring.end"]);
  });

  it("schema violations name each field", async () => {
    const body = await expectProblem(
      await post("/api/v1/data/sync", {
        exchange: "Binance!",
        symbols: ["SOLUSDT"],
        timeframe: "5 minutes",
        start: "yesterday",
        extra: 1,
      }),
      400,
    );
    const fields = new Set(body.errors?.map((error) => error.field));
    expect([...fields].sort()).toEqual([
      "body.exchange",
      "body.extra",
      "body.start",
      "body.symbols.0",
      "body.timeframe",
    ]);
    expect(body.request_id).toMatch(/^[0-9a-f-]{36}$/);

    const query = await expectProblem(
      await fetch(`${base}/api/v1/data/ohlcv?exchange=binance&timeframe=5m&format=xml`),
      400,
    );
    expect(new Set(query.errors?.map((error) => error.field))).toEqual(
      new Set(["querystring.symbol", "querystring.format"]),
    );
  });

  it("an unknown symbol is a 404 problem naming the symbol", async () => {
    const sync = await expectProblem(
      await post("/api/v1/data/sync", {
        exchange: "binance",
        symbols: ["NOPE/USDT"],
        timeframe: "5m",
        start: RANGE_START,
        end: RANGE_END,
      }),
      404,
    );
    expect(sync.code).toBe("not_found");
    expect(sync.detail).toContain("NOPE/USDT");
    expect(sync.errors?.[0]?.field).toBe("symbol");

    const read = await expectProblem(
      await fetch(`${base}/api/v1/data/ohlcv?exchange=binance&symbol=NOPE%2FUSDT&timeframe=5m`),
      404,
    );
    expect(read.detail).toContain("NOPE/USDT");
  });

  it("a malformed or unknown exchange in the route is a 4xx problem naming it", async () => {
    const malformed = await expectProblem(await fetch(`${base}/api/v1/data/markets/Not-An-Exchange`), 400);
    expect(malformed.errors?.map((error) => error.field)).toEqual(["params.exchange"]);

    const unknown = await expectProblem(await fetch(`${base}/api/v1/data/markets/nosuchexchange`), 404);
    expect(unknown.detail).toContain("nosuchexchange");
    expect(unknown.errors?.[0]?.field).toBe("exchange");
  });

  it("an unknown route under /api/v1/data is a 404 problem", async () => {
    const body = await expectProblem(await fetch(`${base}/api/v1/data/nothing-here`), 404);
    expect(body.detail).toBe("no route for GET /api/v1/data/nothing-here");
  });
});

describe("stored data problems → problem+json", () => {
  // DOGE/USDT 1d exists only through this import (the simulator is never asked for it).
  const dogeCsv = [
    "timestamp,open,high,low,close,volume",
    "1735689600000,0.31,0.33,0.30,0.32,1000",
    "1735776000000,0.32,0.34,0.31,0.33,2000",
  ].join("\n");
  const doge = "exchange=binance&symbol=DOGE%2FUSDT&timeframe=1d";
  const dogeDirectory = () => path.join(dataDir, "ohlcv", "binance", "DOGE%2FUSDT", "1d");

  it("a CSV with only its header is a 400 naming the content", async () => {
    const body = await expectProblem(
      await fetch(`${base}/api/v1/data/import?exchange=binance&symbol=BNB%2FUSDT&timeframe=1d`, {
        method: "POST",
        headers: { "content-type": "text/csv" },
        body: "timestamp,open,high,low,close,volume\n",
      }),
      400,
    );
    expect(body.code).toBe("invalid_argument");
    expect(body.errors?.map((error) => error.field)).toEqual(["content"]);
    expect(body.detail).toContain("expected at least one candle in the csv file");
  });

  it("freshness of a series on an unknown exchange is a 404 naming the exchange", async () => {
    const body = await expectProblem(
      await fetch(`${base}/api/v1/data/freshness?exchange=kraken&symbol=BTC%2FUSDT&timeframe=5m`),
      404,
    );
    expect(body.errors?.[0]?.field).toBe("exchange");
    expect(body.detail).toContain('"kraken"');
  });

  it("a corrupt partition is a DATA_LOSS problem naming it relative to the store, not by server path", async () => {
    const imported = await fetch(`${base}/api/v1/data/import?${doge}`, {
      method: "POST",
      headers: { "content-type": "text/csv" },
      body: dogeCsv,
    });
    expect(imported.status).toBe(200);
    const partition = (await readdir(dogeDirectory())).find((file) => file.endsWith(".tdc")) ?? "";
    const file = path.join(dogeDirectory(), partition);
    const bytes = await readFile(file);
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 0xff;
    await writeFile(file, bytes);
    const body = await expectProblem(await fetch(`${base}/api/v1/data/ohlcv?${doge}`), 500);
    expect(body.code).toBe("data_loss");
    expect(body.detail).toContain(`binance/DOGE%2FUSDT/1d/${partition}: corrupt partition`);
    expect(body.detail).not.toContain(dataDir);
    expect(JSON.stringify(body)).not.toContain(dataDir);
  });

  it("a corrupt manifest is listed apart by datasets and freshness; naming the series is a DATA_LOSS problem", async () => {
    const manifest = path.join(dogeDirectory(), "manifest.json");
    const original = await readFile(manifest);
    await writeFile(manifest, "{not json");
    const dogeEntry = {
      exchange: "binance",
      symbol: "DOGE/USDT",
      timeframe: "1d",
      file: "binance/DOGE%2FUSDT/1d/manifest.json",
    };
    const repair =
      "To repair it, delete the series' files from the store (binance/DOGE%2FUSDT/1d/: its manifest and " +
      "partitions), then sync or import the series again";
    interface Listing {
      series: { symbol: string; timeframe: string }[];
      corrupt_series: (typeof dogeEntry & { reason: string })[];
    }
    const expectDogeReported = (body: Listing) => {
      expect(body.corrupt_series.map(({ reason: _reason, ...rest }) => rest)).toEqual([dogeEntry]);
      expect(body.corrupt_series[0]?.reason).toMatch(
        /^binance\/DOGE%2FUSDT\/1d\/manifest\.json: corrupt manifest: expected JSON/,
      );
      expect(body.corrupt_series[0]?.reason).toContain(repair);
      expect(body.series.some((entry) => entry.symbol === "DOGE/USDT")).toBe(false);
    };
    try {
      // Unfiltered listings answer 200: the healthy series (SOL/USDT 5m among them), DOGE apart.
      for (const route of ["datasets", "freshness"]) {
        const response = await fetch(`${base}/api/v1/data/${route}`);
        expect(response.status).toBe(200);
        const body = (await response.json()) as Listing;
        expectDogeReported(body);
        expect(body.series.some((entry) => entry.symbol === "SOL/USDT" && entry.timeframe === "5m")).toBe(
          true,
        );
        expect(JSON.stringify(body)).not.toContain(dataDir);
      }
      // A filter matching it without naming it fully still lists it apart.
      const bySymbol = (await (
        await fetch(`${base}/api/v1/data/freshness?symbol=DOGE%2FUSDT`)
      ).json()) as Listing;
      expectDogeReported(bySymbol);
      expect(bySymbol.series).toEqual([]);
      const solOnly = (await (
        await fetch(`${base}/api/v1/data/datasets?symbol=SOL%2FUSDT&timeframe=5m`)
      ).json()) as Listing;
      expect(solOnly.corrupt_series).toEqual([]);
      expect(solOnly.series.map((entry) => entry.symbol)).toEqual(["SOL/USDT"]);

      // Named by exchange, symbol and timeframe: a data_loss problem naming it and the repair.
      for (const route of ["datasets", "freshness"]) {
        const body = await expectProblem(await fetch(`${base}/api/v1/data/${route}?${doge}`), 500);
        expect(body.code).toBe("data_loss");
        expect(body.detail).toMatch(
          /^stored series binance DOGE\/USDT 1d is corrupt: binance\/DOGE%2FUSDT\/1d\/manifest\.json: corrupt manifest/,
        );
        expect(body.detail).toContain(repair);
        expect(body.errors?.[0]?.field).toBe("binance/DOGE%2FUSDT/1d/manifest.json");
        expect(JSON.stringify(body)).not.toContain(dataDir);
      }
    } finally {
      await writeFile(manifest, original);
    }
  });
});

describe("repairing a corrupt partition through the REST sync route", () => {
  it("a full_refresh sync over the period the DATA_LOSS problem names replaces it; reads are exact again", async () => {
    const xrp = "exchange=binance&symbol=XRP%2FUSDT&timeframe=1h";
    const sync = async (start: string, end: string, fullRefresh: boolean) =>
      parseEvents(
        await (
          await post("/api/v1/data/sync", {
            exchange: "binance",
            symbols: ["XRP/USDT"],
            timeframe: "1h",
            start,
            end,
            full_refresh: fullRefresh,
          })
        ).text(),
      );
    // March and the first week of July: one yearly partition (2025) holds both.
    expect((await sync("2025-03-01", "2025-04-01", false)).at(-1)?.event).toBe("end");
    expect((await sync("2025-07-01", "2025-07-08", false)).at(-1)?.event).toBe("end");
    const directory = path.join(dataDir, "ohlcv", "binance", "XRP%2FUSDT", "1h");
    const partitions = (await readdir(directory)).filter((file) => file.endsWith(".tdc"));
    expect(partitions).toHaveLength(1);
    const partition = partitions[0] ?? "";
    const file = path.join(directory, partition);
    const bytes = await readFile(file);
    bytes[bytes.length - 100] = (bytes[bytes.length - 100] ?? 0) ^ 0x5a;
    await writeFile(file, bytes);

    const broken = await expectProblem(await fetch(`${base}/api/v1/data/ohlcv?${xrp}`), 500);
    expect(broken.code).toBe("data_loss");
    expect(broken.detail).toContain(`binance/XRP%2FUSDT/1h/${partition}: corrupt partition`);
    // A full refresh of July alone would lose March: the sync fails naming the period to refresh.
    const narrow = (await sync("2025-07-01", "2025-07-08", true)).at(-1);
    expect(narrow?.event).toBe("error");
    expect(narrow?.data).toMatchObject({ status: 500, code: "data_loss" });
    const named = /Refresh the whole partition period \[(\S+), (\S+)\)/.exec(
      (narrow?.data as Problem).detail,
    );
    expect(named?.slice(1)).toEqual(["2025-01-01T00:00:00.000Z", "2026-01-01T00:00:00.000Z"]);

    const expected = sourceRows("binance_XRP_USDT-1h.csv.gz", Date.UTC(2025, 0, 1), Date.UTC(2026, 0, 1));
    expect(expected.length).toBeGreaterThan(8000);
    const repaired = await sync(named?.[1] ?? "", named?.[2] ?? "", true);
    expect(repaired.filter((entry) => entry.event === "error")).toEqual([]);
    expect(repaired.at(-1)).toMatchObject({ event: "end", data: { candles_fetched: expected.length } });
    const response = await fetch(`${base}/api/v1/data/ohlcv?${xrp}`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body.count).toBe(expected.length);
    expect(body.timestamps_ms).toEqual(expected.map((row) => row.timestamp));
    expect(body.open).toEqual(expected.map((row) => row.open));
    expect(body.high).toEqual(expected.map((row) => row.high));
    expect(body.low).toEqual(expected.map((row) => row.low));
    expect(body.close).toEqual(expected.map((row) => row.close));
    expect(body.volume).toEqual(expected.map((row) => row.volume));
    const after = (await readdir(directory)).filter((name) => name.endsWith(".tdc"));
    expect(after).toHaveLength(1);
    expect(after[0]).not.toBe(partition);
  });
});

describe("OpenAPI", () => {
  it("documents every data route with its parameters", async () => {
    const document = (await (await fetch(`${base}/api/v1/openapi.json`)).json()) as {
      paths: Record<
        string,
        Record<
          string,
          {
            parameters?: { name: string }[];
            requestBody?: { content: Record<string, unknown> };
            responses: Record<string, { content?: Record<string, unknown> }>;
          }
        >
      >;
    };
    expect(
      Object.keys(document.paths)
        .filter((route) => route.startsWith("/api/v1/data/"))
        .sort(),
    ).toEqual([
      "/api/v1/data/datasets",
      "/api/v1/data/ensure",
      "/api/v1/data/export",
      "/api/v1/data/freshness",
      "/api/v1/data/import",
      "/api/v1/data/markets/{exchange}",
      "/api/v1/data/ohlcv",
      "/api/v1/data/sync",
    ]);
    expect(document.paths["/api/v1/data/ohlcv"]?.get?.parameters?.map((parameter) => parameter.name)).toEqual(
      ["exchange", "symbol", "timeframe", "start", "end", "format"],
    );
    const fileTypes = [
      "application/gzip",
      "application/json",
      "application/vnd.apache.arrow.file",
      "text/csv",
    ];
    expect(
      Object.keys(document.paths["/api/v1/data/import"]?.post?.requestBody?.content ?? {}).sort(),
    ).toEqual(fileTypes);
    expect(
      Object.keys(document.paths["/api/v1/data/export"]?.get?.responses["200"]?.content ?? {}).sort(),
    ).toEqual(fileTypes);
    expect(Object.keys(document.paths["/api/v1/data/sync"]?.post?.responses["200"]?.content ?? {})).toEqual([
      "text/event-stream",
    ]);
    // The datasets answer documents gap kinds and the corrupt series listed apart.
    const datasets = JSON.stringify(document.paths["/api/v1/data/datasets"]?.get?.responses["200"]);
    expect(datasets).toContain('"enum":["exchange","unfetched","unspecified"]');
    expect(datasets).toContain('"corrupt_series"');
    expect(JSON.stringify(document.paths["/api/v1/data/freshness"]?.get?.responses["200"])).toContain(
      '"corrupt_series"',
    );
  });

  it("compiles every route schema without an ajv strict-mode warning", async () => {
    // ajv reports strict-mode problems (e.g. `format` without a `type`) through console.warn.
    const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    const fresh = await buildGateway({
      services: createServiceDirectory(
        {
          backtest: "http://127.0.0.1:9",
          dataCollection: service.url,
          strategy: "http://127.0.0.1:9",
          liveTrading: "http://127.0.0.1:9",
          dryRunTrading: "http://127.0.0.1:9",
        },
        5_000,
      ),
      logger,
    });
    try {
      await fresh.ready();
      expect(warn.mock.calls.map((call) => call.map(String).join(" "))).toEqual([]);
    } finally {
      warn.mockRestore();
      await fresh.close();
    }
  });
});
