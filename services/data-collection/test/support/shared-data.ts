// Real Binance candles from <repo>/../shared/data/ohlcv (see its README), overridable with
// TRADAI_SHARED_DIR. Parsed here independently of the service's own CSV codec.
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createCandles, type Candles } from "../../src/core/candles";

export const repoRoot = resolve(fileURLToPath(new URL(".", import.meta.url)), "../../../..");

export function sharedDirectory(): string {
  return process.env.TRADAI_SHARED_DIR ?? resolve(repoRoot, "../shared");
}

export function sharedOhlcvPath(file: string): string {
  return resolve(sharedDirectory(), "data/ohlcv", file);
}

const cache = new Map<string, Candles>();

/** Candles of e.g. "binance_BTC_USDT-1h.csv.gz". */
export function loadSharedCandles(file: string): Candles {
  const cached = cache.get(file);
  if (cached !== undefined) return cached;
  const lines = gunzipSync(readFileSync(sharedOhlcvPath(file)))
    .toString("utf8")
    .trimEnd()
    .split("\n");
  if (lines[0] !== "timestamp,open,high,low,close,volume")
    throw new Error(`${file}: unexpected header ${lines[0]}`);
  const candles = createCandles(lines.length - 1);
  for (let index = 1; index < lines.length; index++) {
    const fields = (lines[index] ?? "").split(",").map(Number);
    candles.timestamps[index - 1] = fields[0] ?? Number.NaN;
    candles.open[index - 1] = fields[1] ?? Number.NaN;
    candles.high[index - 1] = fields[2] ?? Number.NaN;
    candles.low[index - 1] = fields[3] ?? Number.NaN;
    candles.close[index - 1] = fields[4] ?? Number.NaN;
    candles.volume[index - 1] = fields[5] ?? Number.NaN;
  }
  cache.set(file, candles);
  return candles;
}
