import { gunzipSync, gzipSync } from "node:zlib";
import {
  CompressionType,
  Float64,
  Table,
  TimeUnit,
  Timestamp,
  compressionRegistry,
  makeData,
  makeVector,
  tableFromIPC,
  tableToIPC,
  type Vector,
} from "apache-arrow";
import * as lz4 from "lz4js";
import { CANDLE_COLUMNS, candleCount, createCandles, type Candles } from "../../core/candles";
import type { DataFileCodec, DataFileFormat } from "../../core/data-file-codec";
import { invalidArgument } from "../../core/errors";

// Freqtrade's feather files are Arrow IPC with LZ4_FRAME-compressed buffers (pandas to_feather
// with compression="lz4"); apache-arrow needs the codec registered once.
compressionRegistry.set(CompressionType.LZ4_FRAME, {
  encode: (data: Uint8Array) => lz4.compress(data),
  decode: (data: Uint8Array) => lz4.decompress(data),
});

const PRICE_COLUMNS = ["open", "high", "low", "close", "volume"] as const;
const CSV_HEADER = "timestamp,open,high,low,close,volume";

function decodeJsonRows(text: string): Candles {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw invalidArgument(
      "content",
      `expected Freqtrade json ([[timestamp_ms, open, high, low, close, volume], ...]), got invalid JSON: ${(error as Error).message}`,
      error,
    );
  }
  if (!Array.isArray(parsed))
    throw invalidArgument("content", `expected a JSON array of candle rows, got ${typeof parsed}`);
  const candles = createCandles(parsed.length);
  parsed.forEach((row: unknown, index) => {
    if (!Array.isArray(row) || row.length < 6) {
      throw invalidArgument(
        `content[${index}]`,
        `expected [timestamp_ms, open, high, low, close, volume], got ${JSON.stringify(row)?.slice(0, 80)}`,
      );
    }
    for (let column = 0; column < 6; column++) {
      const value: unknown = row[column];
      if (typeof value !== "number" || !Number.isFinite(value)) {
        throw invalidArgument(
          `content[${index}][${column}]`,
          `expected a finite number for ${CANDLE_COLUMNS[column]}, got ${JSON.stringify(value)}`,
        );
      }
      const name = CANDLE_COLUMNS[column] ?? "timestamps";
      candles[name][index] = value;
    }
  });
  return candles;
}

function encodeJsonRows(candles: Candles): string {
  const parts: string[] = [];
  for (let index = 0; index < candleCount(candles); index++) {
    parts.push(
      `[${candles.timestamps[index]},${candles.open[index]},${candles.high[index]},${candles.low[index]},${candles.close[index]},${candles.volume[index]}]`,
    );
  }
  return `[${parts.join(",")}]`;
}

function decodeCsv(text: string): Candles {
  const lines = text.split(/\r?\n/);
  while (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  const header = (lines[0] ?? "").split(",").map((name) => name.trim().toLowerCase());
  const required = ["timestamp", ...PRICE_COLUMNS];
  const missing = required.filter((name) => !header.includes(name));
  if (missing.length > 0) {
    throw invalidArgument(
      "content",
      `CSV line 1: expected the header ${CSV_HEADER}, missing column(s) ${missing.join(", ")} (got ${JSON.stringify(lines[0] ?? "")})`,
    );
  }
  const indexes = required.map((name) => header.indexOf(name));
  const candles = createCandles(lines.length - 1);
  for (let line = 1; line < lines.length; line++) {
    const fields = (lines[line] ?? "").split(",");
    if (fields.length < header.length) {
      throw invalidArgument(
        "content",
        `CSV line ${line + 1}: expected ${header.length} fields, got ${fields.length}`,
      );
    }
    for (let column = 0; column < required.length; column++) {
      const raw = (fields[indexes[column] ?? 0] ?? "").trim();
      const value = raw === "" ? Number.NaN : Number(raw);
      if (!Number.isFinite(value)) {
        throw invalidArgument(
          "content",
          `CSV line ${line + 1}, column ${required[column]}: expected a number, got ${JSON.stringify(raw)}`,
        );
      }
      const name = CANDLE_COLUMNS[column] ?? "timestamps";
      candles[name][line - 1] = value;
    }
  }
  return candles;
}

function encodeCsv(candles: Candles): string {
  const lines = [CSV_HEADER];
  for (let index = 0; index < candleCount(candles); index++) {
    lines.push(
      `${candles.timestamps[index]},${candles.open[index]},${candles.high[index]},${candles.low[index]},${candles.close[index]},${candles.volume[index]}`,
    );
  }
  return `${lines.join("\n")}\n`;
}

const UNIT_TO_MS: Record<number, number> = {
  [TimeUnit.SECOND]: 1000,
  [TimeUnit.MILLISECOND]: 1,
  [TimeUnit.MICROSECOND]: 1 / 1000,
  [TimeUnit.NANOSECOND]: 1 / 1_000_000,
};

function dateColumnToMs(vector: Vector, count: number): Float64Array {
  const result = new Float64Array(count);
  const type = vector.type as unknown;
  if (type instanceof Timestamp) {
    // Read the raw int64 values and scale by the unit (bigint math keeps nanoseconds exact).
    let offset = 0;
    const unit = type.unit;
    for (const chunk of vector.data) {
      const values = chunk.values as unknown as BigInt64Array;
      for (let index = 0; index < chunk.length; index++) {
        const raw = values[index] ?? 0n;
        result[offset + index] =
          unit === TimeUnit.NANOSECOND
            ? Number(raw / 1_000_000n)
            : unit === TimeUnit.MICROSECOND
              ? Number(raw / 1000n)
              : Number(raw) * (UNIT_TO_MS[unit] ?? 1);
      }
      offset += chunk.length;
    }
    return result;
  }
  for (let index = 0; index < count; index++) {
    const value: unknown = vector.get(index);
    result[index] = typeof value === "bigint" ? Number(value) : Number(value);
  }
  return result;
}

function decodeFeather(content: Uint8Array): Candles {
  let table: Table;
  try {
    table = tableFromIPC(content);
  } catch (error) {
    throw invalidArgument(
      "content",
      `expected a Feather (Arrow IPC) file, got unreadable content: ${(error as Error).message}`,
      error,
    );
  }
  const names = table.schema.fields.map((field) => field.name);
  const missing = ["date", ...PRICE_COLUMNS].filter((name) => !names.includes(name));
  if (missing.length > 0) {
    throw invalidArgument(
      "content",
      `Feather columns: expected date, open, high, low, close, volume, missing ${missing.join(", ")} (got ${names.join(", ")})`,
    );
  }
  const count = table.numRows;
  const candles = createCandles(count);
  const date = table.getChild("date");
  if (date === null) throw invalidArgument("content", "Feather columns: expected a date column");
  candles.timestamps.set(dateColumnToMs(date, count));
  for (const name of PRICE_COLUMNS) {
    const vector = table.getChild(name);
    if (vector === null) throw invalidArgument("content", `Feather columns: expected ${name}`);
    const values = vector.toArray() as ArrayLike<number | bigint>;
    for (let index = 0; index < count; index++) {
      const value = values[index];
      const numeric = typeof value === "bigint" ? Number(value) : (value ?? Number.NaN);
      if (!Number.isFinite(numeric)) {
        throw invalidArgument(`content[${index}].${name}`, `expected a finite number, got ${String(value)}`);
      }
      candles[name][index] = numeric;
    }
  }
  return candles;
}

function encodeFeather(candles: Candles): Uint8Array {
  const count = candleCount(candles);
  const nanoseconds = new BigInt64Array(count);
  for (let index = 0; index < count; index++)
    nanoseconds[index] = BigInt(candles.timestamps[index] ?? 0) * 1_000_000n;
  // Same schema as Freqtrade's dataframe: date as timestamp[ns, tz=UTC], prices and volume float64.
  const date = makeVector(
    makeData({ type: new Timestamp(TimeUnit.NANOSECOND, "UTC"), length: count, data: nanoseconds }),
  );
  const columns: Record<string, Vector> = { date };
  for (const name of PRICE_COLUMNS)
    columns[name] = makeVector(makeData({ type: new Float64(), length: count, data: candles[name] }));
  const table = new Table(columns);
  return tableToIPC(table, {
    format: "file",
    compressionType: CompressionType.LZ4_FRAME,
  } as unknown as "file");
}

/** Freqtrade json / jsongz / feather and plain CSV. */
export function createDataFileCodec(): DataFileCodec {
  return {
    async decode(format: DataFileFormat, content: Uint8Array): Promise<Candles> {
      switch (format) {
        case "freqtrade-json":
          return decodeJsonRows(Buffer.from(content).toString("utf8"));
        case "freqtrade-jsongz": {
          let text: string;
          try {
            text = gunzipSync(content).toString("utf8");
          } catch (error) {
            throw invalidArgument(
              "content",
              `expected gzip-compressed Freqtrade json, got ${(error as Error).message}`,
              error,
            );
          }
          return decodeJsonRows(text);
        }
        case "freqtrade-feather":
          return decodeFeather(content);
        case "csv":
          return decodeCsv(Buffer.from(content).toString("utf8"));
      }
      return Promise.reject(
        invalidArgument(
          "format",
          `expected one of freqtrade-json, freqtrade-jsongz, freqtrade-feather, csv, got ${String(format)}`,
        ),
      );
    },
    async encode(format: DataFileFormat, candles: Candles): Promise<Uint8Array> {
      switch (format) {
        case "freqtrade-json":
          return Buffer.from(encodeJsonRows(candles));
        case "freqtrade-jsongz":
          return gzipSync(encodeJsonRows(candles));
        case "freqtrade-feather":
          return encodeFeather(candles);
        case "csv":
          return Buffer.from(encodeCsv(candles));
      }
      return Promise.reject(
        invalidArgument(
          "format",
          `expected one of freqtrade-json, freqtrade-jsongz, freqtrade-feather, csv, got ${String(format)}`,
        ),
      );
    },
  };
}
