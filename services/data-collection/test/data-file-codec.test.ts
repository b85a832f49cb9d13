import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { CANDLE_COLUMNS, candleCount, copyCandles, type Candles } from "../src/core/candles";
import type { DataFileFormat } from "../src/core/data-file-codec";
import { createDataFileCodec } from "../src/infrastructure/formats/data-file-codec";
import { loadSharedCandles } from "./support/shared-data";

const fixture = (name: string): Uint8Array =>
  readFileSync(fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url)));
const codec = createDataFileCodec();
// The fixtures hold the first 500 rows of the shared BTC/USDT 1h CSV (fixtures/SOURCES.md).
const expected = copyCandles(loadSharedCandles("binance_BTC_USDT-1h.csv.gz"), 0, 500);

function expectSameCandles(actual: Candles, wanted: Candles): void {
  expect(candleCount(actual)).toBe(candleCount(wanted));
  for (const column of CANDLE_COLUMNS) expect(Array.from(actual[column])).toEqual(Array.from(wanted[column]));
}

describe("Freqtrade data files written by pandas/pyarrow", () => {
  it.each([
    ["BTC_USDT-1h.feather", "freqtrade-feather"],
    ["BTC_USDT-1h.json", "freqtrade-json"],
    ["BTC_USDT-1h.json.gz", "freqtrade-jsongz"],
  ] as const)("decodes %s to the source candles exactly", async (file, format) => {
    expectSameCandles(await codec.decode(format, fixture(file)), expected);
  });
});

describe("round trips", () => {
  it.each(["freqtrade-feather", "freqtrade-json", "freqtrade-jsongz", "csv"] as DataFileFormat[])(
    "%s",
    async (format) => {
      const encoded = await codec.encode(format, expected);
      expectSameCandles(await codec.decode(format, encoded), expected);
    },
  );
});

describe("bad files", () => {
  const text = (value: string): Uint8Array => Buffer.from(value);

  it("names the missing CSV columns and the line", async () => {
    await expect(codec.decode("csv", text("timestamp,open,high,low,close\n1,2,3,4,5\n"))).rejects.toThrow(
      /CSV line 1: expected the header timestamp,open,high,low,close,volume, missing column\(s\) volume/,
    );
  });

  it("names the line and column of a non-numeric CSV value", async () => {
    const csv =
      "timestamp,open,high,low,close,volume\n1502942400000,1,2,0.5,1.5,10\n1502946000000,1,2,abc,1.5,10\n";
    const error = await codec.decode("csv", text(csv)).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ kind: "invalid-argument", field: "content" });
    expect((error as Error).message).toBe('content: CSV line 3, column low: expected a number, got "abc"');
  });

  it("rejects a json row that is not six numbers", async () => {
    await expect(
      codec.decode("freqtrade-json", text('[[1,2,3,4,5,6],[1,2,"x",4,5,6]]')),
    ).rejects.toMatchObject({
      kind: "invalid-argument",
      field: "content[1][2]",
    });
  });

  it("rejects a file that is not Arrow IPC", async () => {
    await expect(codec.decode("freqtrade-feather", text("not a feather file"))).rejects.toMatchObject({
      kind: "invalid-argument",
    });
  });
});
