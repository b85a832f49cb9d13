/** Where a columnar store keeps its manifests and partition files (local disk or S3 + cache). */
export interface StoreBackend {
  /**
   * Human-readable location of a file, used in error messages that reach clients: a path relative
   * to the store (never the server's absolute path) or an s3:// URL.
   */
  describe(seriesPath: string, file: string): string;
  /** The manifest's bytes and an opaque version for conditional commits; undefined when absent. */
  readManifest(seriesPath: string): Promise<{ bytes: Uint8Array; version: string } | undefined>;
  /**
   * A local file path holding the partition (S3: downloaded into the cache first). Throws an error
   * with code "ENOENT" when the partition does not exist.
   */
  partitionPath(seriesPath: string, file: string): Promise<string>;
  /** Writes a new, never-referenced partition durably (it becomes visible only via a manifest). */
  writePartition(
    seriesPath: string,
    file: string,
    chunks: readonly Uint8Array[],
    bytes: number,
  ): Promise<void>;
  /**
   * Atomically replaces the manifest. `previousVersion` is the version read under the lock
   * (undefined for a new series); backends that can, refuse the commit when it changed.
   */
  commitManifest(seriesPath: string, bytes: Uint8Array, previousVersion: string | undefined): Promise<void>;
  /** Best-effort removal of partitions no longer referenced. */
  deleteFiles(seriesPath: string, files: readonly string[]): Promise<void>;
  /** Removes the whole series (manifest first, so readers see "absent", then the partitions). */
  deleteSeries(seriesPath: string): Promise<void>;
  /** Every series path that has a manifest. */
  listSeriesPaths(): Promise<string[]>;
  /** Exclusive writer lock of one series; resolves to its release function. */
  lock(seriesPath: string): Promise<() => Promise<void>>;
}

export const MANIFEST_FILE = "manifest.json";
