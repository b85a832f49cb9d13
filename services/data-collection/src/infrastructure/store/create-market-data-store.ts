import type { S3Client } from "@aws-sdk/client-s3";
import { ColumnarMarketDataStore, type ChecksumPolicy } from "./columnar-market-data-store";
import { LocalStoreBackend } from "./local-store-backend";
import { S3StoreBackend } from "./s3-store-backend";
import type { FileLockOptions } from "./series-lock";

export interface LocalMarketDataStoreOptions {
  /** Root directory of the store. */
  directory: string;
  /** fsync before each commit becomes visible (default true). */
  durable?: boolean;
  /** Default "once" per process and partition file. */
  verifyChecksums?: ChecksumPolicy;
  lock?: FileLockOptions;
}

/** The embedded default: TDC1 partitions on the local disk. */
export function createLocalMarketDataStore(options: LocalMarketDataStoreOptions): ColumnarMarketDataStore {
  return new ColumnarMarketDataStore({
    backend: new LocalStoreBackend({
      directory: options.directory,
      durable: options.durable,
      lock: options.lock,
    }),
    verifyChecksums: options.verifyChecksums,
  });
}

export interface S3MarketDataStoreOptions {
  client: S3Client;
  bucket: string;
  /** Key prefix (default ""). */
  prefix?: string;
  /** Local cache of downloaded partitions. */
  cacheDirectory: string;
  /** Default "once". */
  verifyChecksums?: ChecksumPolicy;
}

/** Shared deployments: the same partitions as S3 objects, read through a local cache. */
export function createS3MarketDataStore(options: S3MarketDataStoreOptions): ColumnarMarketDataStore {
  return new ColumnarMarketDataStore({
    backend: new S3StoreBackend({
      client: options.client,
      bucket: options.bucket,
      prefix: options.prefix,
      cacheDirectory: options.cacheDirectory,
    }),
    verifyChecksums: options.verifyChecksums,
  });
}
