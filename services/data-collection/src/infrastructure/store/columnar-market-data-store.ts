import { randomBytes } from "node:crypto";
import { open } from "node:fs/promises";
import { crc32 } from "node:zlib";
import {
  CANDLE_COLUMNS,
  candleCount,
  emptyCandles,
  lowerBound,
  mergeCandles,
  normalizeCandles,
  sliceCandles,
  validateCandleValues,
  concatCandles,
  type Candles,
  type TimeRangeMs,
} from "../../core/candles";
import { clipOutside, gapSlots, isInside, mergeRanges } from "../../core/coverage";
import { dataLoss, invalidArgument, isDataCollectionError } from "../../core/errors";
import { detectGaps, gapBetween, type CandleGap } from "../../core/gaps";
import type {
  CorruptSeries,
  MarketDataStore,
  SeriesCoverage,
  SeriesFilter,
  StoreReadOptions,
  StoreWriteOptions,
  StoreWriteResult,
  StoredGap,
  StoredSeriesInfo,
} from "../../core/market-data-store";
import { validateSeriesKey, type SeriesKey } from "../../core/series-key";
import { timeframeGrid, type TimeframeGrid } from "../../core/timeframe";
import {
  PARTITION_HEADER_BYTES,
  columnOffset,
  decodePartitionHeader,
  encodePartition,
  partitionFileBytes,
  partitionPeriod,
  payloadChecksum,
  periodBounds,
} from "./partition-format";
import { allocateUninitializedCandles } from "./allocate-uninitialized-candles";
import { runPool } from "./run-pool";
import { MANIFEST_FILE, type StoreBackend } from "./store-backend";

/** One partition as the manifest lists it. */
export interface ManifestPartition {
  period: string;
  file: string;
  count: number;
  firstMs: number;
  lastMs: number;
  bytes: number;
  crc32: number;
  /** Gaps inside the partition as [afterMs, beforeMs] pairs. */
  gaps: [number, number][];
}

export interface SeriesManifest {
  format: "tradai-ohlcv";
  version: 1;
  exchange: string;
  symbol: string;
  timeframe: string;
  /** Incremented by every commit; part of new partition file names. */
  generation: number;
  partitions: ManifestPartition[];
  /**
   * [startMs, endMs) ranges a sync asked the exchange for and got no candle in, sorted and
   * disjoint (absent in manifests written before it existed: none).
   */
  emptyRanges?: [number, number][];
}

export type ChecksumPolicy = "always" | "once" | "never";

export interface ColumnarMarketDataStoreOptions {
  backend: StoreBackend;
  /**
   * When partition checksums are verified on read: "once" (default) verifies each immutable
   * partition file the first time this process reads it, "always" on every read.
   */
  verifyChecksums?: ChecksumPolicy;
  /** Partitions read concurrently by one range read. Default 4. */
  readConcurrency?: number;
  /** Partitions rewritten concurrently by one write. Default 4. */
  writeConcurrency?: number;
}

/** Filesystem- and S3-safe relative path of a series: exchange/symbol/timeframe, each URI-encoded. */
export function seriesPath(key: SeriesKey): string {
  return [key.exchange, key.symbol, key.timeframe].map((part) => encodeURIComponent(part)).join("/");
}

function sameCandles(left: Candles, right: Candles): boolean {
  if (candleCount(left) !== candleCount(right)) return false;
  for (const column of CANDLE_COLUMNS) {
    const a = left[column];
    const b = right[column];
    if (a === b) continue;
    const bytesA = Buffer.from(a.buffer, a.byteOffset, a.byteLength);
    const bytesB = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
    if (!bytesA.equals(bytesB)) return false;
  }
  return true;
}

/** Copies rows [plan.fromRow, plan.toRow) of every column of a whole partition file into the result. */
function copyRows(file: Uint8Array, plan: PartitionRead, result: Candles): void {
  const { partition, fromRow, toRow, offset } = plan;
  CANDLE_COLUMNS.forEach((column, columnIndex) => {
    const source = new Float64Array(
      file.buffer,
      file.byteOffset + columnOffset(partition.count, columnIndex, fromRow),
      toRow - fromRow,
    );
    result[column].set(source, offset);
  });
}

function isNotFound(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === "ENOENT";
}

function emptyRangesOf(manifest: SeriesManifest): TimeRangeMs[] {
  return (manifest.emptyRanges ?? []).map(([startMs, endMs]) => ({ startMs, endMs }));
}

function emptyManifest(key: SeriesKey): SeriesManifest {
  return {
    format: "tradai-ohlcv",
    version: 1,
    exchange: key.exchange,
    symbol: key.symbol,
    timeframe: key.timeframe,
    generation: 0,
    partitions: [],
  };
}

interface PartitionRead {
  partition: ManifestPartition;
  /** Rows [fromRow, toRow) of the partition. */
  fromRow: number;
  toRow: number;
  /** Destination row in the result. */
  offset: number;
  /** Edge partitions up to EDGE_WHOLE_FILE_BYTES: the whole file, read and checked; rows are copied out of it. */
  file?: Uint8Array;
  /** Larger edge partitions: their timestamps column; the other columns' rows are read from the file. */
  timestamps?: Float64Array;
}

/**
 * Edge partitions up to this size are read whole in one call (a 1m month is 2 MB): cheaper than
 * a read per column. Larger ones (fine timeframes) read their timestamps, then only the rows needed.
 */
const EDGE_WHOLE_FILE_BYTES = 8 * 1024 * 1024;
/**
 * Whole-file edge reads go into scratch buffers the store keeps (at most this many, sized in
 * 1 MiB steps) instead of fresh memory per read: fresh buffers made V8 run a full GC every few
 * range reads (external-memory pressure). Scratch bytes never reach a caller: rows are copied out.
 */
const MAX_SCRATCH_BUFFERS = 4;
const SCRATCH_GRANULE_BYTES = 1024 * 1024;

/**
 * A columnar, partitioned store (exchange/symbol/timeframe/period) over a StoreBackend. Each write
 * produces new immutable partition files and then swaps the series manifest atomically, so a
 * reader sees either the old or the new manifest, and a writer killed at any point leaves the
 * previous manifest and its files intact.
 */
export class ColumnarMarketDataStore implements MarketDataStore {
  readonly #backend: StoreBackend;
  readonly #parsedManifests = new Map<
    string,
    { manifest: SeriesManifest; version: string; manifestBytes: number }
  >();
  readonly #verify: ChecksumPolicy;
  readonly #readConcurrency: number;
  readonly #writeConcurrency: number;
  readonly #verified = new Set<string>();
  readonly #scratch: Buffer[] = [];
  readonly #writers = new Map<string, Promise<unknown>>();

  constructor(options: ColumnarMarketDataStoreOptions) {
    this.#backend = options.backend;
    this.#verify = options.verifyChecksums ?? "once";
    this.#readConcurrency = Math.max(1, options.readConcurrency ?? 4);
    this.#writeConcurrency = Math.max(1, options.writeConcurrency ?? 4);
  }

  async #loadManifest(
    key: SeriesKey,
  ): Promise<{ manifest: SeriesManifest; version: string; manifestBytes: number } | undefined> {
    const path = seriesPath(key);
    const raw = await this.#backend.readManifest(path);
    if (raw === undefined) return undefined;
    // The same manifest version parses to the same (frozen) manifest: no JSON.parse per read.
    const cached = this.#parsedManifests.get(path);
    if (raw.version !== "" && cached?.version === raw.version) return cached;
    const where = this.#backend.describe(path, MANIFEST_FILE);
    let parsed: unknown;
    try {
      parsed = JSON.parse(new TextDecoder().decode(raw.bytes));
    } catch (error) {
      throw dataLoss(
        where,
        `corrupt manifest: expected JSON, got unparsable content (${(error as Error).message})`,
        error,
      );
    }
    const manifest = parsed as Partial<SeriesManifest>;
    if (manifest.format !== "tradai-ohlcv" || manifest.version !== 1 || !Array.isArray(manifest.partitions)) {
      throw dataLoss(
        where,
        `corrupt manifest: expected format "tradai-ohlcv" version 1, got ${JSON.stringify(manifest.format)} version ${JSON.stringify(manifest.version)}`,
      );
    }
    const emptyRanges: unknown = manifest.emptyRanges;
    if (
      emptyRanges !== undefined &&
      !(
        Array.isArray(emptyRanges) &&
        emptyRanges.every(
          (range: unknown) =>
            Array.isArray(range) &&
            range.length === 2 &&
            range.every((value: unknown) => typeof value === "number" && Number.isFinite(value)),
        )
      )
    ) {
      throw dataLoss(where, "corrupt manifest: expected emptyRanges as [startMs, endMs] pairs of numbers");
    }
    if (
      manifest.exchange !== key.exchange ||
      manifest.symbol !== key.symbol ||
      manifest.timeframe !== key.timeframe
    ) {
      throw dataLoss(
        where,
        `manifest belongs to ${manifest.exchange} ${manifest.symbol} ${manifest.timeframe}, expected ${key.exchange} ${key.symbol} ${key.timeframe}`,
      );
    }
    const loaded = {
      manifest: Object.freeze({
        ...(manifest as SeriesManifest),
        partitions: Object.freeze([...(manifest as SeriesManifest).partitions]),
      }) as SeriesManifest,
      version: raw.version,
      manifestBytes: raw.bytes.byteLength,
    };
    if (raw.version !== "") this.#parsedManifests.set(path, loaded);
    return loaded;
  }

  async read(
    key: SeriesKey,
    range: Partial<TimeRangeMs> = {},
    options: StoreReadOptions = {},
  ): Promise<Candles> {
    validateSeriesKey(key);
    // A concurrent writer may delete a partition between our manifest read and its open:
    // reload the manifest and retry (bounded).
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#readOnce(key, range, options.allocate ?? allocateUninitializedCandles);
      } catch (error) {
        if (attempt < 3 && isNotFound(error)) continue;
        if (isNotFound(error))
          throw dataLoss(seriesPath(key), "a partition listed in the manifest is missing", error);
        throw error;
      }
    }
  }

  async #readOnce(
    key: SeriesKey,
    range: Partial<TimeRangeMs>,
    allocate: (count: number) => Candles,
  ): Promise<Candles> {
    const loaded = await this.#loadManifest(key);
    if (loaded === undefined) return emptyCandles();
    const startMs = range.startMs ?? Number.NEGATIVE_INFINITY;
    const endMs = range.endMs ?? Number.POSITIVE_INFINITY;
    const selected = loaded.manifest.partitions.filter(
      (partition) => partition.lastMs >= startMs && partition.firstMs < endMs,
    );
    if (selected.length === 0) return emptyCandles();

    // Inner partitions are read whole, straight into the result. Edge partitions (cut by the range)
    // need their timestamps to find their rows: each is read whole, in one read, and its rows are
    // copied out of that (one open/read/close instead of a timestamps read plus eight more calls).
    const plans: PartitionRead[] = selected.map((partition) => ({
      partition,
      fromRow: 0,
      toRow: partition.count,
      offset: 0,
    }));
    const edges = plans.filter((plan) => plan.partition.firstMs < startMs || plan.partition.lastMs >= endMs);
    const scratch: Buffer[] = [];
    try {
      return await this.#readPlans(key, plans, edges, { startMs, endMs }, allocate, scratch);
    } finally {
      for (const buffer of scratch) this.#releaseScratch(buffer);
    }
  }

  #acquireScratch(bytes: number): Buffer {
    const index = this.#scratch.findIndex((buffer) => buffer.length >= bytes);
    const reused = index < 0 ? undefined : this.#scratch.splice(index, 1)[0];
    return reused ?? Buffer.allocUnsafeSlow(Math.ceil(bytes / SCRATCH_GRANULE_BYTES) * SCRATCH_GRANULE_BYTES);
  }

  #releaseScratch(buffer: Buffer): void {
    // Only edge-sized buffers are kept (a first, verifying read of a larger partition uses one once).
    if (
      this.#scratch.length < MAX_SCRATCH_BUFFERS &&
      buffer.length <= EDGE_WHOLE_FILE_BYTES + SCRATCH_GRANULE_BYTES
    )
      this.#scratch.push(buffer);
  }

  async #readPlans(
    key: SeriesKey,
    plans: PartitionRead[],
    edges: PartitionRead[],
    { startMs, endMs }: TimeRangeMs,
    allocate: (count: number) => Candles,
    scratch: Buffer[],
  ): Promise<Candles> {
    await runPool(edges, this.#readConcurrency, async (plan) => {
      const { partition } = plan;
      const location = await this.#openPartition(key, partition);
      let timestamps: Float64Array;
      if (location.verifyNow || partitionFileBytes(partition.count) <= EDGE_WHOLE_FILE_BYTES) {
        const buffer = this.#acquireScratch(partitionFileBytes(partition.count) + 1);
        scratch.push(buffer);
        const file = await this.#readPartitionFile(key, partition, location, buffer);
        timestamps = new Float64Array(file.buffer, file.byteOffset + PARTITION_HEADER_BYTES, partition.count);
        plan.file = file;
      } else {
        timestamps = await this.#readTimestamps(key, partition, location.path);
        plan.timestamps = timestamps;
      }
      plan.fromRow = lowerBound(timestamps, startMs);
      plan.toRow = lowerBound(timestamps, endMs);
    });
    const reads = plans.filter((plan) => plan.toRow > plan.fromRow);
    let total = 0;
    for (const plan of reads) {
      plan.offset = total;
      total += plan.toRow - plan.fromRow;
    }
    const result = allocate(total);
    await runPool(reads, this.#readConcurrency, async (plan) => {
      if (plan.file !== undefined) copyRows(plan.file, plan, result);
      else if (plan.timestamps !== undefined) await this.#readRowsInto(key, plan, plan.timestamps, result);
      else await this.#readWholeInto(key, plan, result);
    });
    return result;
  }

  /** Validates size, header and (per policy) checksum; returns the partition's local path. */
  async #openPartition(
    key: SeriesKey,
    partition: ManifestPartition,
  ): Promise<{ path: string; verifyNow: boolean }> {
    const path = await this.#backend.partitionPath(seriesPath(key), partition.file);
    const verifyNow = this.#verify === "always" || (this.#verify === "once" && !this.#verified.has(path));
    return { path, verifyNow };
  }

  #checkHeader(where: string, partition: ManifestPartition, head: Uint8Array, size: number): void {
    const expectedBytes = partitionFileBytes(partition.count);
    if (size !== expectedBytes) {
      throw dataLoss(
        where,
        `truncated or corrupt partition: expected ${expectedBytes} bytes for ${partition.count} candles, got ${size}`,
      );
    }
    const header = decodePartitionHeader(head);
    if (typeof header === "string") throw dataLoss(where, header);
    if (
      header.count !== partition.count ||
      header.crc32 !== partition.crc32 ||
      header.firstMs !== partition.firstMs ||
      header.lastMs !== partition.lastMs
    ) {
      throw dataLoss(
        where,
        `partition header does not match the manifest: expected ${partition.count} candles ${partition.firstMs}..${partition.lastMs}, got ${header.count} candles ${header.firstMs}..${header.lastMs}`,
      );
    }
  }

  /**
   * Reads a whole partition file in one read into `bytes` (at least its size + 1) and checks its
   * size and header, and (per policy) its checksum. Used for edge partitions, whose rows are then
   * copied out of it.
   */
  async #readPartitionFile(
    key: SeriesKey,
    partition: ManifestPartition,
    { path, verifyNow }: { path: string; verifyNow: boolean },
    bytes: Buffer,
  ): Promise<Uint8Array> {
    const where = this.#backend.describe(seriesPath(key), partition.file);
    const expected = partitionFileBytes(partition.count);
    const handle = await open(path, "r");
    try {
      // One byte more than expected: a longer file is as wrong as a shorter one. Every byte of the
      // returned range is written by this read (checked: read === expected).
      let read = 0;
      for (;;) {
        const { bytesRead } = await handle.read(bytes, read, expected + 1 - read, read);
        read += bytesRead;
        if (bytesRead === 0 || read >= expected) break;
      }
      const size = read > expected ? (await handle.stat()).size : read;
      this.#checkHeader(where, partition, bytes.subarray(0, Math.min(read, PARTITION_HEADER_BYTES)), size);
      const file = bytes.subarray(0, expected);
      if (verifyNow) {
        const checksum = payloadChecksum(file);
        if (checksum !== partition.crc32) {
          throw dataLoss(where, `corrupt partition: expected CRC-32 ${partition.crc32}, got ${checksum}`);
        }
        this.#verified.add(path);
      }
      return file;
    } finally {
      await handle.close();
    }
  }

  /** Reads the header and the timestamps column (contiguous: one read) of a partition. */
  async #readTimestamps(key: SeriesKey, partition: ManifestPartition, path: string): Promise<Float64Array> {
    const where = this.#backend.describe(seriesPath(key), partition.file);
    const wanted = PARTITION_HEADER_BYTES + partition.count * 8;
    const handle = await open(path, "r");
    try {
      const bytes = Buffer.allocUnsafeSlow(wanted);
      const { bytesRead } = await handle.read(bytes, 0, wanted, 0);
      const size = bytesRead < wanted ? (await handle.stat()).size : partitionFileBytes(partition.count);
      this.#checkHeader(
        where,
        partition,
        bytes.subarray(0, Math.min(bytesRead, PARTITION_HEADER_BYTES)),
        size,
      );
      return new Float64Array(bytes.buffer, bytes.byteOffset + PARTITION_HEADER_BYTES, partition.count);
    } finally {
      await handle.close();
    }
  }

  /** Reads rows [fromRow, toRow) of the five value columns from the file; timestamps come from memory. */
  async #readRowsInto(
    key: SeriesKey,
    plan: PartitionRead,
    timestamps: Float64Array,
    result: Candles,
  ): Promise<void> {
    const { partition, fromRow, toRow, offset } = plan;
    const { path } = await this.#openPartition(key, partition);
    const where = this.#backend.describe(seriesPath(key), partition.file);
    result.timestamps.set(timestamps.subarray(fromRow, toRow), offset);
    const length = (toRow - fromRow) * 8;
    const handle = await open(path, "r");
    try {
      for (let columnIndex = 1; columnIndex < CANDLE_COLUMNS.length; columnIndex++) {
        const column = CANDLE_COLUMNS[columnIndex] ?? "timestamps";
        const destination = result[column];
        const { bytesRead } = await handle.read(
          destination,
          offset * 8,
          length,
          columnOffset(partition.count, columnIndex, fromRow),
        );
        if (bytesRead !== length)
          throw dataLoss(
            where,
            `truncated partition: expected ${length} bytes of ${column}, got ${bytesRead}`,
          );
      }
    } finally {
      await handle.close();
    }
  }

  /**
   * Reads a whole partition straight into the result: the file is laid out exactly like
   * [header, column 0..5], so one vectored read fills the six destination slices (the checksum,
   * when due, runs over them in place). No stat: a truncated file shows up as a short read.
   */
  async #readWholeInto(key: SeriesKey, plan: PartitionRead, result: Candles): Promise<void> {
    const { partition, offset } = plan;
    const rows = partition.count;
    const { path, verifyNow } = await this.#openPartition(key, partition);
    const where = this.#backend.describe(seriesPath(key), partition.file);
    const handle = await open(path, "r");
    try {
      const head = new Uint8Array(PARTITION_HEADER_BYTES);
      const views = CANDLE_COLUMNS.map((column) => {
        const target = result[column];
        return new Uint8Array(target.buffer, target.byteOffset + offset * 8, rows * 8);
      });
      const expected = partitionFileBytes(partition.count);
      const { bytesRead } = await handle.readv([head, ...views], 0);
      let size = bytesRead < expected ? bytesRead : expected;
      if (verifyNow && size === expected) {
        const { bytesRead: extra } = await handle.read(new Uint8Array(1), 0, 1, expected);
        size += extra;
      }
      this.#checkHeader(where, partition, head, size);
      if (verifyNow) {
        let checksum = 0;
        for (const view of views) checksum = crc32(view, checksum);
        if (checksum !== partition.crc32) {
          throw dataLoss(where, `corrupt partition: expected CRC-32 ${partition.crc32}, got ${checksum}`);
        }
        this.#verified.add(path);
      }
    } finally {
      await handle.close();
    }
  }

  async #readPartitionWhole(key: SeriesKey, partition: ManifestPartition): Promise<Candles> {
    const result = allocateUninitializedCandles(partition.count);
    await this.#readWholeInto(key, { partition, fromRow: 0, toRow: partition.count, offset: 0 }, result);
    return result;
  }

  /**
   * The stored candles of a partition a write is about to replace. A range overwrite that covers
   * every candle the manifest lists for the partition needs none of them, so it does not read the
   * old file at all: that is how a full refresh repairs a corrupt or missing partition. Otherwise
   * an unreadable partition fails the write (nothing of it can be proven good, and writing without
   * it would silently drop its candles), saying which period to refresh to repair it.
   */
  async #readForRewrite(
    key: SeriesKey,
    partition: ManifestPartition,
    overwrite: TimeRangeMs | undefined,
  ): Promise<Candles> {
    if (
      overwrite !== undefined &&
      overwrite.startMs <= partition.firstMs &&
      partition.lastMs < overwrite.endMs
    )
      return emptyCandles();
    try {
      return await this.#readPartitionWhole(key, partition);
    } catch (error) {
      const unreadable = isNotFound(error) || (isDataCollectionError(error) && error.kind === "data-loss");
      if (!unreadable) throw error;
      const where = this.#backend.describe(seriesPath(key), partition.file);
      const message = (error as Error).message;
      const reason = isNotFound(error)
        ? "the partition file is missing"
        : message.startsWith(`${where}: `)
          ? message.slice(where.length + 2)
          : message;
      const period = periodBounds(partition.period);
      const iso = (ms: number) => new Date(ms).toISOString();
      const lost =
        overwrite === undefined
          ? "this write would have to merge into it"
          : `it holds candles outside the overwritten range [${iso(overwrite.startMs)}, ${iso(overwrite.endMs)}), which would be lost`;
      throw dataLoss(
        where,
        `cannot rewrite partition ${partition.period} (${partition.count} candles ${iso(partition.firstMs)}..${iso(partition.lastMs)}): ${reason}; ${lost}. Refresh the whole partition period [${iso(period.startMs)}, ${iso(period.endMs)}) from the exchange (a full refresh over that range) to replace it`,
        error,
      );
    }
  }

  /** Serializes writers of one series inside this process (the backend lock covers processes). */
  async #exclusive<T>(key: SeriesKey, action: () => Promise<T>): Promise<T> {
    const id = seriesPath(key);
    const previous = this.#writers.get(id) ?? Promise.resolve();
    const run = previous
      .catch(() => undefined)
      .then(async () => {
        const release = await this.#backend.lock(id);
        try {
          return await action();
        } finally {
          await release();
        }
      });
    this.#writers.set(id, run);
    try {
      return await run;
    } finally {
      if (this.#writers.get(id) === run) this.#writers.delete(id);
    }
  }

  async write(key: SeriesKey, candles: Candles, options: StoreWriteOptions = {}): Promise<StoreWriteResult> {
    validateSeriesKey(key);
    validateCandleValues(candles);
    const grid = timeframeGrid(key.timeframe);
    const incoming = normalizeCandles(candles, "last-wins").candles;
    const overwrite = options.overwriteRange;
    if (overwrite !== undefined) {
      if (!(overwrite.endMs > overwrite.startMs)) {
        throw invalidArgument(
          "overwriteRange.endMs",
          `expected an end after ${overwrite.startMs}, got ${overwrite.endMs}`,
        );
      }
      const count = candleCount(incoming);
      const first = incoming.timestamps[0];
      const last = incoming.timestamps[count - 1];
      if (
        first !== undefined &&
        last !== undefined &&
        (first < overwrite.startMs || last >= overwrite.endMs)
      ) {
        throw invalidArgument(
          "candles",
          `expected every candle inside the overwritten range [${overwrite.startMs}, ${overwrite.endMs}), got ${first}..${last}`,
        );
      }
    }
    const confirmedEmpty = options.confirmedEmpty ?? [];
    confirmedEmpty.forEach((range, index) => {
      if (
        !Number.isFinite(range.startMs) ||
        !Number.isFinite(range.endMs) ||
        !(range.endMs > range.startMs)
      ) {
        throw invalidArgument(
          `confirmedEmpty[${index}]`,
          `expected a range with a finite end after its start, got [${range.startMs}, ${range.endMs})`,
        );
      }
    });
    const incomingTimes = incoming.timestamps;
    for (let index = 0; index < incomingTimes.length; index++) {
      const timestamp = incomingTimes[index] as number;
      if (!grid.contains(timestamp)) {
        throw invalidArgument(
          `candles[${index}].timestamp`,
          `expected an open time on the ${key.timeframe} grid, got ${new Date(timestamp).toISOString()}`,
        );
      }
    }
    return this.#exclusive(key, async () =>
      this.#writeLocked(key, incoming, grid, overwrite, confirmedEmpty),
    );
  }

  async #writeLocked(
    key: SeriesKey,
    incoming: Candles,
    grid: TimeframeGrid,
    overwrite: TimeRangeMs | undefined,
    confirmedEmpty: readonly TimeRangeMs[],
  ): Promise<StoreWriteResult> {
    const path = seriesPath(key);
    const loaded = await this.#loadManifest(key);
    const manifest = loaded?.manifest ?? emptyManifest(key);
    const generation = manifest.generation + 1;
    // Two hosts writing the same series read the same generation: the token keeps the loser of the
    // manifest commit from overwriting the winner's partition files on a shared bucket.
    const writeToken = randomBytes(4).toString("hex");
    const byPeriod = new Map<string, ManifestPartition>(
      manifest.partitions.map((partition) => [partition.period, partition]),
    );

    // Incoming rows grouped by period (input is sorted, so each period is one contiguous slice).
    const slices = new Map<string, Candles>();
    const count = candleCount(incoming);
    for (let start = 0; start < count;) {
      const period = partitionPeriod(incoming.timestamps[start] ?? 0, grid.nominalMs);
      const end = Math.max(start + 1, lowerBound(incoming.timestamps, periodBounds(period).endMs));
      slices.set(period, sliceCandles(incoming, start, end));
      start = end;
    }
    const affected = new Set(slices.keys());
    if (overwrite !== undefined) {
      for (const partition of manifest.partitions) {
        if (partition.lastMs >= overwrite.startMs && partition.firstMs < overwrite.endMs)
          affected.add(partition.period);
      }
    }

    let replaced = 0;
    let changed = 0;
    const obsolete: string[] = [];
    const periods = [...affected];
    // Partitions are independent files: rewrite several at once so their fsyncs overlap.
    const written: string[] = [];
    const rewrite = async (period: string): Promise<void> => {
      const existingPartition = byPeriod.get(period);
      let existing =
        existingPartition === undefined
          ? emptyCandles()
          : await this.#readForRewrite(key, existingPartition, overwrite);
      if (overwrite !== undefined && candleCount(existing) > 0) {
        const from = lowerBound(existing.timestamps, overwrite.startMs);
        const to = lowerBound(existing.timestamps, overwrite.endMs);
        if (to > from)
          existing = concatCandles([
            sliceCandles(existing, 0, from),
            sliceCandles(existing, to, candleCount(existing)),
          ]);
      }
      const slice = slices.get(period) ?? emptyCandles();
      const merged = mergeCandles(existing, slice);
      replaced += candleCount(existing) + candleCount(slice) - candleCount(merged);
      // Re-ingesting candles that are already stored unchanged rewrites nothing.
      if (existingPartition !== undefined && sameCandles(merged, existing)) return;
      changed++;
      if (existingPartition !== undefined) obsolete.push(existingPartition.file);
      if (candleCount(merged) === 0) {
        byPeriod.delete(period);
        return;
      }
      const encoded = encodePartition(merged);
      const file = `${period}.g${generation.toString().padStart(8, "0")}-${writeToken}.tdc`;
      written.push(file);
      await this.#backend.writePartition(path, file, encoded.chunks, encoded.bytes);
      byPeriod.set(period, {
        period,
        file,
        count: encoded.header.count,
        firstMs: encoded.header.firstMs,
        lastMs: encoded.header.lastMs,
        bytes: encoded.bytes,
        crc32: encoded.header.crc32,
        gaps: detectGaps(merged.timestamps, grid).map((gap) => [gap.afterMs, gap.beforeMs]),
      });
    };
    try {
      await runPool(periods, this.#writeConcurrency, rewrite);
    } catch (error) {
      // Nothing references this generation's files yet: remove them so a failed write leaves none behind.
      await this.#backend.deleteFiles(path, written).catch(() => undefined);
      throw error;
    }
    // Confirmed-empty ranges: an overwrite replaces what was known inside its range.
    const previousEmpty = emptyRangesOf(manifest);
    const emptyRanges = mergeRanges([
      ...(overwrite === undefined ? previousEmpty : clipOutside(previousEmpty, overwrite)),
      ...confirmedEmpty,
    ]).map((range): [number, number] => [range.startMs, range.endMs]);
    const emptyChanged = JSON.stringify(emptyRanges) !== JSON.stringify(manifest.emptyRanges ?? []);
    if (changed === 0 && !emptyChanged) {
      return { count: manifest.partitions.reduce((sum, partition) => sum + partition.count, 0), replaced };
    }
    const next: SeriesManifest = {
      ...manifest,
      generation,
      partitions: [...byPeriod.values()].sort((left, right) => left.firstMs - right.firstMs),
      emptyRanges,
    };
    try {
      await this.#backend.commitManifest(
        path,
        new TextEncoder().encode(JSON.stringify(next)),
        loaded?.version,
      );
    } catch (error) {
      // A lost race is certain not to reference our files; an unknown outcome might, so keep them.
      if (isDataCollectionError(error) && error.kind === "aborted")
        await this.#backend.deleteFiles(path, written).catch(() => undefined);
      throw error;
    }
    await this.#backend.deleteFiles(path, obsolete);
    const total = next.partitions.reduce((sum, partition) => sum + partition.count, 0);
    return { count: total, replaced };
  }

  #infoFrom(key: SeriesKey, manifest: SeriesManifest, manifestBytes: number): StoredSeriesInfo | undefined {
    const partitions = manifest.partitions;
    const first = partitions[0];
    const last = partitions[partitions.length - 1];
    if (first === undefined || last === undefined) return undefined;
    const grid = timeframeGrid(key.timeframe);
    const empty = emptyRangesOf(manifest);
    const gaps: StoredGap[] = [];
    const classify = (gap: CandleGap): StoredGap => ({
      ...gap,
      kind: isInside(gapSlots(gap, grid), empty) ? "exchange" : "unfetched",
    });
    let count = 0;
    let sizeBytes = manifestBytes;
    let previousLast: number | undefined;
    for (const partition of partitions) {
      if (previousLast !== undefined) {
        const between = gapBetween(previousLast, partition.firstMs, grid);
        if (between !== undefined) gaps.push(classify(between));
      }
      for (const [afterMs, beforeMs] of partition.gaps) {
        const gap = gapBetween(afterMs, beforeMs, grid);
        if (gap !== undefined) gaps.push(classify(gap));
      }
      count += partition.count;
      sizeBytes += partition.bytes;
      previousLast = partition.lastMs;
    }
    return { key, firstMs: first.firstMs, lastMs: last.lastMs, count, gaps, sizeBytes };
  }

  async info(key: SeriesKey): Promise<StoredSeriesInfo | undefined> {
    validateSeriesKey(key);
    const loaded = await this.#loadManifest(key);
    return loaded === undefined ? undefined : this.#infoFrom(key, loaded.manifest, loaded.manifestBytes);
  }

  async coverage(key: SeriesKey): Promise<SeriesCoverage> {
    validateSeriesKey(key);
    const loaded = await this.#loadManifest(key);
    if (loaded === undefined) return { info: undefined, confirmedEmpty: [] };
    return {
      info: this.#infoFrom(key, loaded.manifest, loaded.manifestBytes),
      confirmedEmpty: emptyRangesOf(loaded.manifest),
    };
  }

  async list(filter: SeriesFilter = {}): Promise<{ series: StoredSeriesInfo[]; corrupt: CorruptSeries[] }> {
    const result: StoredSeriesInfo[] = [];
    const corrupt: CorruptSeries[] = [];
    for (const path of await this.#backend.listSeriesPaths()) {
      const [exchange, symbol, timeframe] = path.split("/").map((part) => decodeURIComponent(part));
      if (exchange === undefined || symbol === undefined || timeframe === undefined) continue;
      const key = { exchange, symbol, timeframe };
      if ((filter.exchange ?? "") !== "" && filter.exchange !== exchange) continue;
      if ((filter.symbol ?? "") !== "" && filter.symbol !== symbol) continue;
      if ((filter.timeframe ?? "") !== "" && filter.timeframe !== timeframe) continue;
      try {
        const info = await this.info(key);
        if (info !== undefined) result.push(info);
      } catch (error) {
        // One corrupt series must neither hide the others nor be hidden: it is listed apart.
        if (!isDataCollectionError(error) || error.kind !== "data-loss") throw error;
        corrupt.push({
          key,
          message: error.message,
          file: error.field ?? this.#backend.describe(path, MANIFEST_FILE),
        });
      }
    }
    const order = (left: { key: SeriesKey }, right: { key: SeriesKey }) =>
      `${left.key.exchange}|${left.key.symbol}|${left.key.timeframe}`.localeCompare(
        `${right.key.exchange}|${right.key.symbol}|${right.key.timeframe}`,
      );
    return { series: result.sort(order), corrupt: corrupt.sort(order) };
  }

  async delete(key: SeriesKey): Promise<void> {
    validateSeriesKey(key);
    await this.#exclusive(key, async () => this.#backend.deleteSeries(seriesPath(key)));
  }
}
