// Store throughput, 10M candles, cold and warm, side by side with ArcticDB (LMDB) in the same run.
//   npx tsx bench/data/data-store-bench.ts [candles]        (default 10 000 000)
// Data: the real BTC/USDT 1m candles of ../shared/data/ohlcv tiled forward in time to the
// requested count (prices repeat; timestamps continue on the 1m grid).
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { readFileSync } from "node:fs";
import { CANDLE_COLUMNS, createCandles, type Candles } from "../../services/data-collection/src/core/candles";
import { createLocalMarketDataStore } from "../../services/data-collection/src/infrastructure/store/create-market-data-store";

const here = fileURLToPath(new URL(".", import.meta.url));
const repoRoot = resolve(here, "../..");
const sharedDirectory = process.env.TRADAI_SHARED_DIR ?? resolve(repoRoot, "../shared");
const count = Number(process.argv[2] ?? 10_000_000);
const key = { exchange: "binance", symbol: "BTC/USDT", timeframe: "1m" };

function loadTiled(total: number): Candles {
  const lines = gunzipSync(readFileSync(join(sharedDirectory, "data/ohlcv/binance_BTC_USDT-1m.csv.gz")))
    .toString()
    .trimEnd()
    .split("\n")
    .slice(1);
  const rows = lines.map((line) => line.split(",").map(Number));
  const candles = createCandles(total);
  const first = rows[0]?.[0] ?? 0;
  for (let index = 0; index < total; index++) {
    const row = rows[index % rows.length] ?? [];
    candles.timestamps[index] = first + index * 60_000;
    candles.open[index] = row[1] ?? 0;
    candles.high[index] = row[2] ?? 0;
    candles.low[index] = row[3] ?? 0;
    candles.close[index] = row[4] ?? 0;
    candles.volume[index] = row[5] ?? 0;
  }
  return candles;
}

// Dropping the page cache is machine-wide, so it is opt-in: TRADAI_BENCH_DROP_CACHES=1 (root).
const dropCaches = process.env.TRADAI_BENCH_DROP_CACHES === "1";

function dropPageCache(): boolean {
  if (!dropCaches) return false;
  try {
    execFileSync("sh", ["-c", "sync && echo 1 > /proc/sys/vm/drop_caches"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

const seconds = (start: bigint): number => Number(process.hrtime.bigint() - start) / 1e9;

/** Time to allocate and first-touch 48 B x count of fresh memory: no read into fresh arrays can beat it. */
function firstTouchSeconds(): number {
  let best = Number.POSITIVE_INFINITY;
  for (let round = 0; round < 3; round++) {
    const start = process.hrtime.bigint();
    for (let column = 0; column < 6; column++) {
      // Same allocation as the store's reads (uninitialized, not pooled), then one write per page.
      const bytes = Buffer.allocUnsafeSlow(count * 8);
      for (let offset = 0; offset < bytes.length; offset += 4096) bytes[offset] = 1;
    }
    best = Math.min(best, seconds(start));
  }
  return best;
}

function diskBytes(path: string): number {
  try {
    return Number(execFileSync("du", ["-sb", path], { encoding: "utf8" }).split("\t")[0]);
  } catch {
    return Number.NaN;
  }
}
const rate = (value: number): string => `${(count / value / 1e6).toFixed(1)} M candles/s`;

async function main(): Promise<void> {
  console.log(
    `workload: ${count.toLocaleString("en")} candles (BTC/USDT 1m, ${((count * 48) / 1e6).toFixed(0)} MB of float64 columns)`,
  );
  // Measured first, before the store's buffers add GC pressure.
  const floor = firstTouchSeconds();
  const candles = loadTiled(count);
  const work = mkdtempSync(join(tmpdir(), "tradai-bench-"));
  try {
    const directory = join(work, "tdc");
    let store = createLocalMarketDataStore({ directory });
    let start = process.hrtime.bigint();
    await store.write(key, candles);
    const writeCold = seconds(start);
    start = process.hrtime.bigint();
    await store.write(key, candles);
    const writeSame = seconds(start);
    // Upsert where every candle changed (close + 1): every partition is read, merged and rewritten.
    const changed = { ...candles, close: candles.close.map((value) => value + 1) };
    start = process.hrtime.bigint();
    await store.write(key, changed);
    const writeWarm = seconds(start);

    const dropped = dropPageCache();
    store = createLocalMarketDataStore({ directory });
    start = process.hrtime.bigint();
    let read = await store.read(key);
    const readCold = seconds(start);
    if (read.timestamps.length !== count || read.close[count - 1] !== changed.close[count - 1]) {
      throw new Error(
        `read-back mismatch: ${read.timestamps.length} candles, last close ${read.close[count - 1]}, expected ${changed.close[count - 1]}`,
      );
    }
    const warm: number[] = [];
    for (let round = 0; round < 3; round++) {
      start = process.hrtime.bigint();
      read = await store.read(key);
      warm.push(seconds(start));
    }
    const readWarm = Math.min(...warm);
    // A sweep re-reading the same series can reuse its buffers (no fresh-memory page faults).
    const reused = createCandles(count);
    const reuse: number[] = [];
    for (let round = 0; round < 3; round++) {
      start = process.hrtime.bigint();
      await store.read(key, {}, { allocate: () => reused });
      reuse.push(seconds(start));
    }
    const readReused = Math.min(...reuse);
    // A range read of one month from the middle.
    const middle = candles.timestamps[Math.floor(count / 2)] ?? 0;
    start = process.hrtime.bigint();
    const month = await store.read(key, { startMs: middle, endMs: middle + 30 * 86_400_000 });
    const monthSeconds = seconds(start);

    // ArcticDB on the same candles.
    const python =
      process.env.TRADAI_ARCTICDB_PYTHON ?? join(homedir(), ".cache/tradai/venv-arcticdb/bin/python");
    let arctic:
      | { arcticdb: string; write_cold: number; write_warm: number; read_cold: number; read_warm: number }
      | undefined;
    if (!existsSync(python)) {
      console.log(
        `ArcticDB baseline skipped: ${python} missing (run bash bench/data/setup-arcticdb-venv.sh)`,
      );
    } else {
      const columnsFile = join(work, "columns.bin");
      writeFileSync(
        columnsFile,
        Buffer.concat(
          CANDLE_COLUMNS.map((column) =>
            Buffer.from(candles[column].buffer, candles[column].byteOffset, candles[column].byteLength),
          ),
        ),
      );
      const output = execFileSync(
        python,
        [
          join(here, "arcticdb_bench.py"),
          columnsFile,
          String(count),
          join(work, "lmdb"),
          dropCaches ? "drop" : "keep",
        ],
        { encoding: "utf8", maxBuffer: 1 << 20 },
      );
      arctic = JSON.parse(output.trim().split("\n").pop() ?? "{}") as typeof arctic;
    }

    console.log(
      `page cache dropped before the cold read: ${dropped ? "yes" : "no (TRADAI_BENCH_DROP_CACHES unset or not permitted): cold = new store instance, first read verifies every checksum"}`,
    );
    const rows: [string, number, number | undefined][] = [
      ["write cold (empty store)", writeCold, arctic?.write_cold],
      ["write warm (upsert, every candle changed)", writeWarm, arctic?.write_warm],
      ["read cold (new instance, all 10M)", readCold, arctic?.read_cold],
      ["read warm (best of 3, fresh arrays)", readWarm, arctic?.read_warm],
    ];
    console.log(
      `\n${"phase".padEnd(44)} ${"TDC store".padStart(22)} ${`ArcticDB ${arctic?.arcticdb ?? ""}`.padStart(24)} ${"ratio".padStart(8)}`,
    );
    for (const [name, ours, theirs] of rows) {
      const ratio = theirs === undefined ? "" : `${(theirs / ours).toFixed(1)}x`;
      console.log(
        `${name.padEnd(44)} ${rate(ours).padStart(22)} ${(theirs === undefined ? "-" : rate(theirs)).padStart(24)} ${ratio.padStart(8)}`,
      );
    }
    console.log(`${"write warm (re-ingest identical candles)".padEnd(44)} ${rate(writeSame).padStart(22)}`);
    console.log(`${"read warm into reused buffers (best of 3)".padEnd(44)} ${rate(readReused).padStart(22)}`);
    console.log(
      `${"range read, 30 days of 1m".padEnd(44)} ${`${month.timestamps.length} candles in ${(monthSeconds * 1000).toFixed(1)} ms`.padStart(22)}`,
    );
    console.log(`${"floor: allocate + first-touch fresh columns".padEnd(44)} ${rate(floor).padStart(22)}`);
    console.log(
      `on disk: TDC ${(diskBytes(directory) / 1e6).toFixed(0)} MB (uncompressed float64), ArcticDB LMDB ${(diskBytes(join(work, "lmdb")) / 1e6).toFixed(0)} MB`,
    );
    console.log(
      `\ntargets: read >= 50M candles/s: warm ${(count / readWarm / 1e6).toFixed(1)}M, reused ${(count / readReused / 1e6).toFixed(1)}M; write >= 5M candles/s: ${(count / writeCold / 1e6).toFixed(1)}M`,
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
