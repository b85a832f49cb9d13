/**
 * Candles from a directory of gzip CSV files in the shared-data format
 * (`<exchange>_<BASE>_<QUOTE>-<timeframe>.csv.gz`, header timestamp,open,high,low,close,volume,
 * timestamps = candle open time in epoch ms UTC, ascending).
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import type { CandleSeries } from "@tradai/engine";
import type { CandleRequest, CandleSource } from "../core/candle-source";

export interface CsvCandleSourceOptions {
  /** Parsed files kept in memory; default 4. */
  cacheSize?: number;
}

export function csvFileName(exchange: string, symbol: string, timeframe: string): string {
  const [pair] = symbol.split(":");
  const [base, quote] = (pair ?? "").split("/");
  return `${exchange}_${base ?? ""}_${quote ?? ""}-${timeframe}.csv.gz`;
}

export function parseCandleCsv(text: string): CandleSeries {
  const lines = text.split("\n");
  const header = lines[0]?.trim();
  if (header !== "timestamp,open,high,low,close,volume") {
    throw new Error(
      `expected the header "timestamp,open,high,low,close,volume", got ${JSON.stringify(header)}`,
    );
  }
  const count = lines.length - 1 - (lines[lines.length - 1] === "" ? 1 : 0);
  const columns = {
    date: new Float64Array(count),
    open: new Float64Array(count),
    high: new Float64Array(count),
    low: new Float64Array(count),
    close: new Float64Array(count),
    volume: new Float64Array(count),
  };
  for (let row = 0; row < count; row++) {
    const fields = (lines[row + 1] as string).split(",");
    columns.date[row] = Number(fields[0]);
    columns.open[row] = Number(fields[1]);
    columns.high[row] = Number(fields[2]);
    columns.low[row] = Number(fields[3]);
    columns.close[row] = Number(fields[4]);
    columns.volume[row] = Number(fields[5]);
  }
  return columns;
}

function lowerBound(dates: Float64Array, time: number): number {
  let low = 0;
  let high = dates.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((dates[middle] as number) < time) low = middle + 1;
    else high = middle;
  }
  return low;
}

export function createCsvCandleSource(directory: string, options: CsvCandleSourceOptions = {}): CandleSource {
  const root = path.resolve(directory);
  const cacheSize = options.cacheSize ?? 4;
  const cache = new Map<string, Promise<CandleSeries | undefined>>();

  const loadFile = (file: string) => {
    const cached = cache.get(file);
    if (cached !== undefined) {
      cache.delete(file);
      cache.set(file, cached);
      return cached;
    }
    const loading = readFile(path.join(root, file)).then(
      (buffer) => parseCandleCsv(gunzipSync(buffer).toString("utf8")),
      (error: NodeJS.ErrnoException) => {
        if (error.code === "ENOENT") return undefined;
        throw error;
      },
    );
    cache.set(file, loading);
    while (cache.size > cacheSize) cache.delete(cache.keys().next().value as string);
    return loading;
  };

  return {
    async load(request: CandleRequest) {
      const series = await loadFile(csvFileName(request.exchange, request.symbol, request.timeframe));
      if (series === undefined) return undefined;
      const start = request.start === undefined ? 0 : lowerBound(series.date, request.start);
      const end = request.end === undefined ? series.date.length : lowerBound(series.date, request.end);
      return {
        date: series.date.slice(start, end),
        open: series.open.slice(start, end),
        high: series.high.slice(start, end),
        low: series.low.slice(start, end),
        close: series.close.slice(start, end),
        volume: series.volume.slice(start, end),
      };
    },
  };
}
