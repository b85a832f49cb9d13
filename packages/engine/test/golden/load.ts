// Test-side loader for the TA-Lib golden vectors (packages/engine/test/golden/*.json.gz, written by
// scripts/golden/make_talib_golden.py) and for the real candles they were computed from
// (../shared/data/ohlcv, re-read here: the golden files store outputs only).

import { readFileSync, existsSync, readdirSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const GOLDEN_DIR = dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = resolve(GOLDEN_DIR, "../../../..");

/** Where the shared candle files are: $TRADAI_SHARED_DATA, else <repo>/../shared/data/ohlcv. */
export function sharedDataDir(): string {
  return process.env.TRADAI_SHARED_DATA ?? resolve(REPO_ROOT, "../shared/data/ohlcv");
}

export interface GoldenCase {
  fn: string;
  params: Record<string, number>;
  inputs: string[];
  outputs: Record<string, (number | null)[]>;
}

export interface GoldenFile {
  generator: string;
  versions: Record<string, string>;
  dataset: {
    id: string;
    file: string;
    startRow: number;
    rows: number;
    firstTimestamp: number;
    lastTimestamp: number;
    nanPrefix: number;
    nanHoleAt: number;
    storedRows: { denseUntil: number; stride: number };
  };
  cases: GoldenCase[];
}

export function goldenFiles(): string[] {
  return readdirSync(GOLDEN_DIR)
    .filter((f) => f.endsWith(".json.gz"))
    .sort();
}

export function loadGolden(name: string): GoldenFile {
  return JSON.parse(gunzipSync(readFileSync(join(GOLDEN_DIR, name))).toString("utf8")) as GoldenFile;
}

/** The rows of a slice that the golden file stores (see make_talib_golden.py, stored_rows). */
export function storedRows(g: GoldenFile): number[] {
  const { denseUntil, stride } = g.dataset.storedRows;
  const rows: number[] = [];
  for (let i = 0; i < g.dataset.rows; i++)
    if (i < denseUntil || (i - denseUntil) % stride === 0) rows.push(i);
  return rows;
}

export type Columns = Record<string, Float64Array>;

/**
 * Reads data rows [startRow, startRow + rows) of a shared candle file (header excluded) into
 * columns, plus the NaN variants the generator feeds to TA-Lib ("close_nanprefix", "close_nanhole").
 */
export function loadColumns(g: GoldenFile): Columns {
  const path = join(sharedDataDir(), g.dataset.file);
  if (!existsSync(path)) {
    throw new Error(
      `golden input ${path} not found (set TRADAI_SHARED_DATA to the shared/data/ohlcv folder)`,
    );
  }
  const text = gunzipSync(readFileSync(path)).toString("utf8");
  const lines = text.split("\n");
  const header = lines[0]!.split(",");
  const { startRow, rows } = g.dataset;
  const cols: Columns = {};
  for (const h of header) cols[h] = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    const line = lines[1 + startRow + r];
    if (line === undefined || line === "") throw new Error(`${path}: has no data row ${startRow + r}`);
    const fields = line.split(",");
    for (let c = 0; c < header.length; c++) cols[header[c]!]![r] = Number(fields[c]);
  }
  const close = cols["close"]!;
  const pre = Float64Array.from(close);
  pre.fill(Number.NaN, 0, g.dataset.nanPrefix);
  cols["close_nanprefix"] = pre;
  const hole = Float64Array.from(close);
  hole[g.dataset.nanHoleAt] = Number.NaN;
  cols["close_nanhole"] = hole;
  return cols;
}
