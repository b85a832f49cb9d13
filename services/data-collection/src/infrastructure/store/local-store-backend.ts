import { mkdir, open, readFile, readdir, rename, rm, stat, unlink } from "node:fs/promises";
import { dirname, join } from "node:path";
import { randomBytes } from "node:crypto";
import { acquireFileLock, type FileLockOptions } from "./series-lock";
import { MANIFEST_FILE, type StoreBackend } from "./store-backend";

export interface LocalStoreBackendOptions {
  /** Root directory of the store. */
  directory: string;
  /** fsync files and directories before they become visible (default true). */
  durable?: boolean;
  lock?: FileLockOptions;
}

async function fsyncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Writes `chunks` to a temporary file, fsyncs it and renames it over `path` (atomic on POSIX).
 * With `syncDirectory` the rename itself is made durable too (fsync of the directory).
 */
export async function writeFileAtomic(
  path: string,
  chunks: readonly Uint8Array[],
  durable: boolean,
  syncDirectory = durable,
): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
  const handle = await open(temporary, "w");
  try {
    let pending = [...chunks];
    while (pending.length > 0) {
      const { bytesWritten } = await handle.writev(pending);
      // writev may write partially: drop what was written and continue.
      let left = bytesWritten;
      const rest: Uint8Array[] = [];
      for (const chunk of pending) {
        if (left >= chunk.byteLength) left -= chunk.byteLength;
        else {
          rest.push(chunk.subarray(left));
          left = 0;
        }
      }
      pending = rest;
    }
    if (durable) await handle.sync();
  } catch (error) {
    await handle.close();
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
  await handle.close();
  await rename(temporary, path);
  if (syncDirectory) await fsyncDirectory(dirname(path));
}

/** Store files on the local disk: <directory>/<exchange>/<symbol>/<timeframe>/{manifest.json, *.tdc}. */
export class LocalStoreBackend implements StoreBackend {
  readonly #directory: string;
  readonly #durable: boolean;
  readonly #lockOptions: FileLockOptions;
  readonly #manifests = new Map<string, { bytes: Uint8Array; version: string }>();

  constructor(options: LocalStoreBackendOptions) {
    this.#directory = options.directory;
    this.#durable = options.durable ?? true;
    this.#lockOptions = options.lock ?? {};
  }

  /** Relative to the store's directory: error messages reach clients, the server's paths must not. */
  describe(seriesPath: string, file: string): string {
    return `${seriesPath}/${file}`;
  }

  /**
   * The manifest with a version stamp (inode, mtime in ns, size): a commit swaps the file by
   * rename, so every commit — by this or another process — changes the stamp. Unchanged manifests
   * are served from memory after one stat (bench/queue: EnsureData spent ~30 % of its CPU
   * re-reading them).
   */
  async readManifest(seriesPath: string): Promise<{ bytes: Uint8Array; version: string } | undefined> {
    const file = join(this.#directory, seriesPath, MANIFEST_FILE);
    try {
      const info = await stat(file, { bigint: true });
      const version = `${info.ino}:${info.mtimeNs}:${info.size}`;
      const cached = this.#manifests.get(file);
      if (cached?.version === version) return cached;
      const bytes = await readFile(file);
      const entry = { bytes, version };
      this.#manifests.set(file, entry);
      return entry;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") {
        this.#manifests.delete(file);
        return undefined;
      }
      throw error;
    }
  }

  async partitionPath(seriesPath: string, file: string): Promise<string> {
    return Promise.resolve(join(this.#directory, seriesPath, file));
  }

  async writePartition(seriesPath: string, file: string, chunks: readonly Uint8Array[]): Promise<void> {
    // File contents are fsynced here; the directory once, in commitManifest, before the swap.
    await writeFileAtomic(join(this.#directory, seriesPath, file), chunks, this.#durable, false);
  }

  async commitManifest(seriesPath: string, bytes: Uint8Array): Promise<void> {
    const directory = join(this.#directory, seriesPath);
    // The new partitions' directory entries must be durable before a manifest can name them.
    if (this.#durable) await fsyncDirectory(directory);
    await writeFileAtomic(join(directory, MANIFEST_FILE), [bytes], this.#durable);
  }

  async deleteFiles(seriesPath: string, files: readonly string[]): Promise<void> {
    await Promise.all(
      files.map((file) => unlink(join(this.#directory, seriesPath, file)).catch(() => undefined)),
    );
    // Leftovers of writers killed mid-write (temporary files and unreferenced partitions) are
    // swept here, under the series lock.
    const directory = join(this.#directory, seriesPath);
    const manifest = await this.readManifest(seriesPath);
    if (manifest === undefined) return;
    const referenced = new Set(
      (
        JSON.parse(new TextDecoder().decode(manifest.bytes)) as { partitions: { file: string }[] }
      ).partitions.map((partition) => partition.file),
    );
    for (const entry of await readdir(directory)) {
      const orphan =
        (entry.endsWith(".tdc") && !referenced.has(entry)) ||
        (entry.includes(".tmp-") && !entry.startsWith(".lock"));
      if (orphan) await unlink(join(directory, entry)).catch(() => undefined);
    }
  }

  async deleteSeries(seriesPath: string): Promise<void> {
    const directory = join(this.#directory, seriesPath);
    await unlink(join(directory, MANIFEST_FILE)).catch(() => undefined);
    for (const entry of await readdir(directory).catch(() => [] as string[])) {
      if (entry !== ".lock") await rm(join(directory, entry), { force: true });
    }
  }

  async listSeriesPaths(): Promise<string[]> {
    const result: string[] = [];
    const level = async (relative: string, depth: number): Promise<void> => {
      const entries = await readdir(join(this.#directory, relative), { withFileTypes: true }).catch(() => []);
      for (const entry of entries) {
        if (!entry.isDirectory()) continue;
        const child = relative === "" ? entry.name : `${relative}/${entry.name}`;
        if (depth === 2) {
          const exists = await stat(join(this.#directory, child, MANIFEST_FILE)).then(
            () => true,
            () => false,
          );
          if (exists) result.push(child);
        } else await level(child, depth + 1);
      }
    };
    await level("", 0);
    return result.sort();
  }

  async lock(seriesPath: string): Promise<() => Promise<void>> {
    const directory = join(this.#directory, seriesPath);
    await mkdir(directory, { recursive: true });
    return acquireFileLock(join(directory, ".lock"), this.#lockOptions, this.describe(seriesPath, ".lock"));
  }
}
