import type { Candles } from "./candles";

/** Data file formats for import/export (tradai.data.v1.DataFormat). */
export type DataFileFormat = "freqtrade-json" | "freqtrade-jsongz" | "freqtrade-feather" | "csv";

export const DATA_FILE_FORMATS: readonly DataFileFormat[] = [
  "freqtrade-json",
  "freqtrade-jsongz",
  "freqtrade-feather",
  "csv",
];

/**
 * Encodes and decodes candle files. Decoding returns rows in file order (not deduplicated);
 * malformed input is an "invalid-argument" error naming the line or column.
 */
export interface DataFileCodec {
  decode(format: DataFileFormat, content: Uint8Array): Promise<Candles>;
  encode(format: DataFileFormat, candles: Candles): Promise<Uint8Array>;
}

const FILE_EXTENSIONS: Record<DataFileFormat, string> = {
  "freqtrade-json": "json",
  "freqtrade-jsongz": "json.gz",
  "freqtrade-feather": "feather",
  csv: "csv",
};

/**
 * Freqtrade's file name for a pair: "BTC/USDT" 1m → "BTC_USDT-1m.feather"; futures symbols
 * ("BTC/USDT:USDT") get Freqtrade's "-futures" candle-type suffix.
 */
export function dataFileName(symbol: string, timeframe: string, format: DataFileFormat): string {
  // Freqtrade's pair_to_filename replaces these characters by "_".
  const pair = symbol.replace(/[/ .@$+:]/g, "_");
  const suffix = symbol.includes(":") ? "-futures" : "";
  return `${pair}-${timeframe}${suffix}.${FILE_EXTENSIONS[format]}`;
}
