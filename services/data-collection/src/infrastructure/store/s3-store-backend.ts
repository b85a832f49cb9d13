import {
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3ServiceException,
  type S3Client,
} from "@aws-sdk/client-s3";
import { mkdir, rename, stat, unlink, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { randomBytes } from "node:crypto";
import { DataCollectionError, unavailable } from "../../core/errors";
import { MANIFEST_FILE, type StoreBackend } from "./store-backend";

export interface S3StoreBackendOptions {
  client: S3Client;
  bucket: string;
  /** Key prefix inside the bucket, e.g. "ohlcv/" (default ""). */
  prefix?: string;
  /**
   * Local directory caching downloaded partitions. Partition objects are immutable (every write
   * creates new names), so a cached file never goes stale.
   */
  cacheDirectory: string;
  /**
   * Use S3 conditional writes (If-Match / If-None-Match) on the manifest so that two writers on
   * different hosts cannot both commit over the same manifest version. Default true.
   */
  conditionalWrites?: boolean;
}

function errorName(error: unknown): string {
  return error instanceof S3ServiceException ? error.name : ((error as { name?: string }).name ?? "");
}

function statusOf(error: unknown): number | undefined {
  return error instanceof S3ServiceException ? error.$metadata.httpStatusCode : undefined;
}

/**
 * Manifests and partitions as S3 objects (s3://bucket/prefix/exchange/symbol/timeframe/...), with
 * a local read cache. The manifest PUT is the atomic commit (S3 PUTs are all-or-nothing). Writers
 * in one process are serialized per series by the store; across hosts the conditional manifest
 * PUT rejects a commit over a manifest that changed since it was read.
 */
export class S3StoreBackend implements StoreBackend {
  readonly #client: S3Client;
  readonly #bucket: string;
  readonly #prefix: string;
  readonly #cache: string;
  readonly #conditional: boolean;

  constructor(options: S3StoreBackendOptions) {
    this.#client = options.client;
    this.#bucket = options.bucket;
    this.#prefix = options.prefix ?? "";
    this.#cache = options.cacheDirectory;
    this.#conditional = options.conditionalWrites ?? true;
  }

  #key(seriesPath: string, file: string): string {
    return `${this.#prefix}${seriesPath}/${file}`;
  }

  describe(seriesPath: string, file: string): string {
    return `s3://${this.#bucket}/${this.#key(seriesPath, file)}`;
  }

  async #get(key: string): Promise<{ bytes: Uint8Array; etag: string } | undefined> {
    try {
      const response = await this.#client.send(new GetObjectCommand({ Bucket: this.#bucket, Key: key }));
      const bytes =
        response.Body === undefined ? new Uint8Array() : await response.Body.transformToByteArray();
      return { bytes, etag: response.ETag ?? "" };
    } catch (error) {
      if (errorName(error) === "NoSuchKey" || statusOf(error) === 404) return undefined;
      throw unavailable(`s3://${this.#bucket}/${key}: ${(error as Error).message}`, error);
    }
  }

  async readManifest(seriesPath: string): Promise<{ bytes: Uint8Array; version: string } | undefined> {
    const object = await this.#get(this.#key(seriesPath, MANIFEST_FILE));
    return object === undefined ? undefined : { bytes: object.bytes, version: object.etag };
  }

  async partitionPath(seriesPath: string, file: string): Promise<string> {
    const local = join(this.#cache, seriesPath, file);
    const cached = await stat(local).then(
      () => true,
      () => false,
    );
    if (cached) return local;
    const object = await this.#get(this.#key(seriesPath, file));
    if (object === undefined) {
      throw Object.assign(new Error(`${this.describe(seriesPath, file)} does not exist`), { code: "ENOENT" });
    }
    await this.#cacheFile(local, object.bytes);
    return local;
  }

  async #cacheFile(local: string, bytes: Uint8Array): Promise<void> {
    await mkdir(dirname(local), { recursive: true });
    const temporary = `${local}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
    await writeFile(temporary, bytes);
    await rename(temporary, local);
  }

  async writePartition(seriesPath: string, file: string, chunks: readonly Uint8Array[]): Promise<void> {
    const body = Buffer.concat(chunks);
    const key = this.#key(seriesPath, file);
    try {
      await this.#client.send(
        new PutObjectCommand({
          Bucket: this.#bucket,
          Key: key,
          Body: body,
          ContentType: "application/octet-stream",
        }),
      );
    } catch (error) {
      throw unavailable(`s3://${this.#bucket}/${key}: ${(error as Error).message}`, error);
    }
    await this.#cacheFile(join(this.#cache, seriesPath, file), body);
  }

  async commitManifest(
    seriesPath: string,
    bytes: Uint8Array,
    previousVersion: string | undefined,
  ): Promise<void> {
    const key = this.#key(seriesPath, MANIFEST_FILE);
    const condition = !this.#conditional
      ? {}
      : previousVersion === undefined
        ? { IfNoneMatch: "*" }
        : { IfMatch: previousVersion };
    try {
      await this.#client.send(
        new PutObjectCommand({
          Bucket: this.#bucket,
          Key: key,
          Body: bytes,
          ContentType: "application/json",
          ...condition,
        }),
      );
    } catch (error) {
      const status = statusOf(error);
      if (status === 412 || status === 409 || errorName(error) === "PreconditionFailed") {
        throw new DataCollectionError(
          "aborted",
          `s3://${this.#bucket}/${key}: another writer committed this series concurrently; retry`,
          {
            field: key,
            cause: error,
          },
        );
      }
      throw unavailable(`s3://${this.#bucket}/${key}: ${(error as Error).message}`, error);
    }
  }

  async deleteFiles(seriesPath: string, files: readonly string[]): Promise<void> {
    if (files.length === 0) return;
    await this.#client
      .send(
        new DeleteObjectsCommand({
          Bucket: this.#bucket,
          Delete: { Objects: files.map((file) => ({ Key: this.#key(seriesPath, file) })), Quiet: true },
        }),
      )
      .catch(() => undefined);
    await Promise.all(
      files.map((file) => unlink(join(this.#cache, seriesPath, file)).catch(() => undefined)),
    );
  }

  async #listKeys(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    for (let page = 0; page < 10_000; page++) {
      const response = await this.#client.send(
        new ListObjectsV2Command({ Bucket: this.#bucket, Prefix: prefix, ContinuationToken: token }),
      );
      for (const object of response.Contents ?? []) if (object.Key !== undefined) keys.push(object.Key);
      token = response.NextContinuationToken;
      if (response.IsTruncated !== true || token === undefined) break;
    }
    return keys;
  }

  async deleteSeries(seriesPath: string): Promise<void> {
    const prefix = `${this.#prefix}${seriesPath}/`;
    const manifestKey = `${prefix}${MANIFEST_FILE}`;
    await this.#client.send(
      new DeleteObjectsCommand({
        Bucket: this.#bucket,
        Delete: { Objects: [{ Key: manifestKey }], Quiet: true },
      }),
    );
    const rest = (await this.#listKeys(prefix)).filter((key) => key !== manifestKey);
    for (let start = 0; start < rest.length; start += 1000) {
      await this.#client.send(
        new DeleteObjectsCommand({
          Bucket: this.#bucket,
          Delete: { Objects: rest.slice(start, start + 1000).map((Key) => ({ Key })), Quiet: true },
        }),
      );
    }
  }

  async listSeriesPaths(): Promise<string[]> {
    const suffix = `/${MANIFEST_FILE}`;
    return (await this.#listKeys(this.#prefix))
      .filter((key) => key.endsWith(suffix))
      .map((key) => key.slice(this.#prefix.length, key.length - suffix.length))
      .filter((path) => path.split("/").length === 3)
      .sort();
  }

  async lock(): Promise<() => Promise<void>> {
    // In-process exclusion comes from the store; cross-host safety from the conditional commit.
    return Promise.resolve(async () => Promise.resolve());
  }
}
