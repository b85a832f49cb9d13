/** Reads the shared real-candle CSVs (`<repo>/../shared/data/ohlcv/*.csv.gz`) into typed arrays. */
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import type { CandleSeries } from "../../packages/engine/src/index";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export function sharedDir(): string {
  return process.env["TRADAI_SHARED_DIR"] ?? path.resolve(repoRoot, "../shared");
}

/** e.g. loadCandles("binance", "BTC/USDT", "5m"); optional [start, end) window in epoch ms. */
export function loadCandles(
  exchange: string,
  pair: string,
  timeframe: string,
  start?: number,
  end?: number,
): CandleSeries {
  const file = path.join(
    sharedDir(),
    "data",
    "ohlcv",
    `${exchange}_${pair.replace("/", "_")}-${timeframe}.csv.gz`,
  );
  const text = gunzipSync(readFileSync(file)).toString("utf8");
  const lines = text.split("\n");
  const rows: number[][] = [];
  for (let index = 1; index < lines.length; index++) {
    const line = lines[index] as string;
    if (line.length === 0) continue;
    const parts = line.split(",").map(Number);
    const date = parts[0] as number;
    if (start !== undefined && date < start) continue;
    if (end !== undefined && date >= end) continue;
    rows.push(parts);
  }
  const columns = {
    date: new Float64Array(rows.length),
    open: new Float64Array(rows.length),
    high: new Float64Array(rows.length),
    low: new Float64Array(rows.length),
    close: new Float64Array(rows.length),
    volume: new Float64Array(rows.length),
  };
  rows.forEach((row, index) => {
    columns.date[index] = row[0] as number;
    columns.open[index] = row[1] as number;
    columns.high[index] = row[2] as number;
    columns.low[index] = row[3] as number;
    columns.close[index] = row[4] as number;
    columns.volume[index] = row[5] as number;
  });
  return columns;
}
