// Store throughput, 10M candles, cold and warm, side by side with ArcticDB (LMDB) in the same run.
//   npm run bench -- data [--candles=N] [--idle-seconds=S]     (default 10 000 000 candles, 2.5 s)
//   npx tsx bench/data/bench.ts [N]
// Data: the real BTC/USDT 1m candles of ../shared/data/ohlcv tiled forward in time to the
// requested count (prices repeat; timestamps continue on the 1m grid).
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { gunzipSync } from "node:zlib";
import { CANDLE_COLUMNS, createCandles, type Candles } from "../../services/data-collection/src/core/candles";
import { allocateUninitializedCandles } from "../../services/data-collection/src/infrastructure/store/allocate-uninitialized-candles";
import type { ColumnarMarketDataStore } from "../../services/data-collection/src/infrastructure/store/columnar-market-data-store";
import { createLocalMarketDataStore } from "../../services/data-collection/src/infrastructure/store/create-market-data-store";

const here = fileURLToPath(new URL(".", import.meta.url));
const repoRoot = resolve(here, "../..");
const sharedDirectory = process.env.TRADAI_SHARED_DIR ?? resolve(repoRoot, "../shared");
const flag = (name: string): string | undefined =>
  process.argv.find((argument) => argument.startsWith(`--${name}=`))?.slice(name.length + 3);
const positional = process.argv.slice(2).find((argument) => /^\d+$/.test(argument));
const count = Number(flag("candles") ?? positional ?? 10_000_000);
const idleSeconds = Number(flag("idle-seconds") ?? 2.5);
if (!Number.isInteger(count) || count < 1_000)
  throw new Error(`--candles: expected an integer >= 1000, got ${count}`);
if (!(idleSeconds >= 0)) throw new Error(`--idle-seconds: expected a number >= 0, got ${idleSeconds}`);
const key = { exchange: "binance", symbol: "BTC/USDT", timeframe: "1m" };

// A full GC before each timed read (outside the timing), so the previous result's memory is
// released first on both sides (CPython frees it by reference count when the name is rebound).
setFlagsFromString("--expose-gc");
const collectGarbage = runInNewContext("gc") as () => void;

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
const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));
const median = (values: number[]): number =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

/**
 * Time to allocate and first-touch 48 B x count of fresh memory the way a read does (no I/O): no
 * read into fresh arrays can beat it.
 */
function firstTouchSeconds(): number {
  let best = Number.POSITIVE_INFINITY;
  for (let round = 0; round < 3; round++) {
    collectGarbage();
    const start = process.hrtime.bigint();
    const candles = allocateUninitializedCandles(count);
    for (const column of CANDLE_COLUMNS) {
      const bytes = new Uint8Array(
        candles[column].buffer,
        candles[column].byteOffset,
        candles[column].byteLength,
      );
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
const rate = (value: number, candles = count): string => `${(candles / value / 1e6).toFixed(1)} M candles/s`;

/** `rounds` timed full reads into fresh arrays, each after `pauseMs` without reads. */
async function timedReads(
  store: ColumnarMarketDataStore,
  rounds: number,
  pauseMs: number,
): Promise<number[]> {
  const times: number[] = [];
  for (let round = 0; round < rounds; round++) {
    collectGarbage();
    if (pauseMs > 0) await sleep(pauseMs);
    const start = process.hrtime.bigint();
    const read = await store.read(key);
    times.push(seconds(start));
    if (read.timestamps.length !== count)
      throw new Error(`expected ${count} candles, got ${read.timestamps.length}`);
  }
  return times;
}

/** `total` ranges of 30 days starting at pseudo-random candles (fixed seed: the same every run). */
function rangeReads(timestamps: Float64Array, total: number): { startMs: number; endMs: number }[] {
  const span = 30 * 86_400_000;
  const last = (timestamps[timestamps.length - 1] ?? 0) - span;
  let state = 0x9e3779b9;
  const ranges: { startMs: number; endMs: number }[] = [];
  for (let index = 0; index < total; index++) {
    // xorshift32
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    const at = Math.floor(((state >>> 0) / 2 ** 32) * timestamps.length);
    const startMs = Math.min(timestamps[at] ?? 0, last);
    ranges.push({ startMs, endMs: startMs + span });
  }
  return ranges;
}

interface ArcticTimes {
  arcticdb: string;
  write_cold: number;
  write_warm: number;
  read_cold: number;
  read_warm: number;
  read_idle: number;
  read_ranges_cold?: number;
  read_ranges?: number;
  range_candles?: number;
  range_check?: number;
}

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
    collectGarbage();
    start = process.hrtime.bigint();
    let read = await store.read(key);
    const readCold = seconds(start);
    if (read.timestamps.length !== count || read.close[count - 1] !== changed.close[count - 1]) {
      throw new Error(
        `read-back mismatch: ${read.timestamps.length} candles, last close ${read.close[count - 1]}, expected ${changed.close[count - 1]}`,
      );
    }
    read = createCandles(0);
    const readWarm = Math.min(...(await timedReads(store, 3, 0)));
    const readIdle = median(await timedReads(store, 3, idleSeconds * 1000));
    // A sweep re-reading the same series can reuse its buffers (no fresh-memory page faults).
    const reused = createCandles(count);
    const reuse: number[] = [];
    for (let round = 0; round < 3; round++) {
      start = process.hrtime.bigint();
      await store.read(key, {}, { allocate: () => reused });
      reuse.push(seconds(start));
    }
    const readReused = Math.min(...reuse);
    // Range reads of 30 days (43 200 candles, two monthly partitions cut at both ends) at 200
    // pseudo-random offsets: what a backtest asks for, where per-read overhead shows.
    const ranges = rangeReads(candles.timestamps, 200);
    const readRanges = async (from: ColumnarMarketDataStore) => {
      collectGarbage();
      const started = process.hrtime.bigint();
      let candlesRead = 0;
      let check = 0;
      for (const range of ranges) {
        const got = await from.read(key, range);
        candlesRead += got.timestamps.length;
        check += (got.close[0] as number) + (got.close[got.close.length - 1] as number);
      }
      return { seconds: seconds(started), candles: candlesRead, check };
    };
    // Cold: a new store instance (its first read of each partition verifies the checksum), then warm.
    const rangeCold = (await readRanges(createLocalMarketDataStore({ directory }))).seconds;
    const { seconds: rangeSeconds, candles: rangeCandles, check: rangeCheck } = await readRanges(store);

    // ArcticDB on the same candles.
    const python =
      process.env.TRADAI_ARCTICDB_PYTHON ?? join(homedir(), ".cache/tradai/venv-arcticdb/bin/python");
    let arctic: ArcticTimes | undefined;
    if (!existsSync(python)) {
      console.log(
        `ArcticDB baseline skipped: ${python} missing (run bash bench/data/setup-arcticdb-venv.sh)`,
      );
    } else {
      const columnsFile = join(work, "columns.bin");
      const rangesFile = join(work, "ranges.json");
      writeFileSync(rangesFile, JSON.stringify(ranges));
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
          String(idleSeconds),
          rangesFile,
        ],
        { encoding: "utf8", maxBuffer: 1 << 20 },
      );
      arctic = JSON.parse(output.trim().split("\n").pop() ?? "{}") as ArcticTimes;
    }

    console.log(
      `page cache dropped before the cold read: ${dropped ? "yes" : "no (TRADAI_BENCH_DROP_CACHES unset or not permitted): cold = new store instance, first read verifies every checksum"}`,
    );
    // glibc.malloc.hugetlb=1 makes malloc advise its large blocks as transparent huge pages (what
    // numpy does for its arrays): a process-wide setting, see README.
    console.log(`GLIBC_TUNABLES: ${process.env.GLIBC_TUNABLES ?? "(unset: result memory in 4 KiB pages)"}`);
    const rows: [string, number, number | undefined, number?][] = [
      ["write cold (empty store)", writeCold, arctic?.write_cold],
      ["write warm (upsert, every candle changed)", writeWarm, arctic?.write_warm],
      ["read cold (new instance, all candles)", readCold, arctic?.read_cold],
      ["read warm (best of 3, fresh arrays)", readWarm, arctic?.read_warm],
      [`read after ${idleSeconds} s idle (median of 3, fresh)`, readIdle, arctic?.read_idle],
      [
        `range reads cold, 30 days of 1m (x${ranges.length})`,
        rangeCold,
        arctic?.read_ranges_cold,
        rangeCandles,
      ],
      [
        `range reads warm, 30 days of 1m (x${ranges.length})`,
        rangeSeconds,
        arctic?.read_ranges,
        rangeCandles,
      ],
    ];
    if (
      arctic?.range_candles !== undefined &&
      (arctic.range_candles !== rangeCandles || arctic.range_check !== rangeCheck)
    ) {
      throw new Error(
        `range reads disagree: TDC returned ${rangeCandles} candles (first+last close sum ${rangeCheck}), ArcticDB ${arctic.range_candles} (${arctic.range_check})`,
      );
    }
    console.log(
      `\n${"phase".padEnd(46)} ${"TDC store".padStart(22)} ${`ArcticDB ${arctic?.arcticdb ?? ""}`.padStart(24)} ${"ratio".padStart(8)}`,
    );
    for (const [name, ours, theirs, candlesRead] of rows) {
      const ratio = theirs === undefined ? "" : `${(theirs / ours).toFixed(1)}x`;
      console.log(
        `${name.padEnd(46)} ${rate(ours, candlesRead).padStart(22)} ${(theirs === undefined ? "-" : rate(theirs, candlesRead)).padStart(24)} ${ratio.padStart(8)}`,
      );
    }
    const extra: [string, string][] = [
      ["write warm (re-ingest identical candles)", rate(writeSame)],
      ["read warm into reused buffers (best of 3)", rate(readReused)],
      [
        `range reads: TDC per read`,
        `${((rangeSeconds * 1000) / ranges.length).toFixed(2)} ms/read` +
          (arctic?.read_ranges === undefined
            ? ""
            : ` (ArcticDB ${((arctic.read_ranges * 1000) / ranges.length).toFixed(2)} ms/read)`),
      ],
      ["floor: allocate + first-touch fresh columns", rate(floor)],
    ];
    for (const [name, value] of extra) console.log(`${name.padEnd(46)} ${value.padStart(22)}`);
    console.log(
      `on disk: TDC ${(diskBytes(directory) / 1e6).toFixed(0)} MB (uncompressed float64), ArcticDB LMDB ${(diskBytes(join(work, "lmdb")) / 1e6).toFixed(0)} MB`,
    );
    const verdict = (value: number, target: number): string => (value >= target ? "PASS" : "MISS");
    const warmRate = count / readWarm / 1e6;
    const writeRate = count / writeCold / 1e6;
    console.log(
      `\ntargets: read >= 50M candles/s into fresh arrays: ${warmRate.toFixed(1)}M ${verdict(warmRate, 50)}` +
        (arctic === undefined
          ? ""
          : `, vs ArcticDB ${(arctic.read_warm / readWarm).toFixed(1)}x ${verdict(arctic.read_warm / readWarm, 1)}`) +
        (arctic?.read_ranges === undefined
          ? ""
          : `; 30-day range reads vs ArcticDB ${(arctic.read_ranges / rangeSeconds).toFixed(1)}x ${verdict(arctic.read_ranges / rangeSeconds, 1)}`) +
        `; write >= 5M candles/s: ${writeRate.toFixed(1)}M ${verdict(writeRate, 5)}`,
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
