// S3 helpers: results and configs buckets (put/get/list), s3:// URIs.
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { isAwsError } from "./aws-clients";

export interface S3Location {
  bucket: string;
  key: string;
}

/** "s3://bucket/key/with/slashes" → { bucket, key }. */
export function parseS3Uri(uri: string): S3Location {
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
  if (match === null || match[1] === undefined || match[2] === undefined) {
    throw new Error(`expected an s3://bucket/key URI, got "${uri}"`);
  }
  return { bucket: match[1], key: match[2] };
}

export function s3Uri(location: S3Location): string {
  return `s3://${location.bucket}/${location.key}`;
}

export interface PutObjectOptions extends S3Location {
  /** Objects are stored as JSON. */
  body: string | Uint8Array | object;
  /** Default: application/json for objects, text/plain for strings, application/octet-stream for bytes. */
  contentType?: string;
  metadata?: Record<string, string>;
}

export async function putObject(s3: S3Client, options: PutObjectOptions): Promise<{ etag?: string }> {
  const isBytes = options.body instanceof Uint8Array;
  const body = typeof options.body === "string" || isBytes ? options.body : JSON.stringify(options.body);
  const contentType =
    options.contentType ??
    (isBytes
      ? "application/octet-stream"
      : typeof options.body === "string"
        ? "text/plain"
        : "application/json");
  const result = await s3.send(
    new PutObjectCommand({
      Bucket: options.bucket,
      Key: options.key,
      Body: body as string | Uint8Array,
      ContentType: contentType,
      Metadata: options.metadata,
    }),
  );
  return result.ETag === undefined ? {} : { etag: result.ETag };
}

/** The object's bytes, or undefined when there is no such key. */
export async function getObject(s3: S3Client, location: S3Location): Promise<Uint8Array | undefined> {
  try {
    const result = await s3.send(new GetObjectCommand({ Bucket: location.bucket, Key: location.key }));
    if (result.Body === undefined) return new Uint8Array();
    return await result.Body.transformToByteArray();
  } catch (error) {
    if (isAwsError(error, "NoSuchKey")) return undefined;
    throw error;
  }
}

export async function getObjectText(s3: S3Client, location: S3Location): Promise<string | undefined> {
  const bytes = await getObject(s3, location);
  return bytes === undefined ? undefined : Buffer.from(bytes).toString("utf8");
}

export interface ListedObject {
  key: string;
  size: number;
  lastModified?: Date;
  etag?: string;
}

/** Every object under the prefix, all pages (bounded by `limit`, default 100000). */
export async function listObjects(
  s3: S3Client,
  options: {
    bucket: string;
    prefix?: string;
    limit?: number;
    /** Keys per request, 1..1000. Default 1000. */ pageSize?: number;
  },
): Promise<ListedObject[]> {
  const limit = options.limit ?? 100_000;
  const objects: ListedObject[] = [];
  let continuationToken: string | undefined;
  do {
    const result = await s3.send(
      new ListObjectsV2Command({
        Bucket: options.bucket,
        Prefix: options.prefix,
        ContinuationToken: continuationToken,
        MaxKeys: Math.min(options.pageSize ?? 1000, limit - objects.length),
      }),
    );
    for (const item of result.Contents ?? []) {
      if (item.Key === undefined) continue;
      const listed: ListedObject = { key: item.Key, size: item.Size ?? 0 };
      if (item.LastModified !== undefined) listed.lastModified = item.LastModified;
      if (item.ETag !== undefined) listed.etag = item.ETag;
      objects.push(listed);
    }
    continuationToken = result.IsTruncated === true ? result.NextContinuationToken : undefined;
  } while (continuationToken !== undefined && objects.length < limit);
  return objects;
}

export async function deleteObject(s3: S3Client, location: S3Location): Promise<void> {
  await s3.send(new DeleteObjectCommand({ Bucket: location.bucket, Key: location.key }));
}

/** Creates the bucket; one we already own is not an error. */
export async function ensureBucket(s3: S3Client, bucket: string): Promise<void> {
  try {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  } catch (error) {
    if (!isAwsError(error, "BucketAlreadyOwnedByYou") && !isAwsError(error, "BucketAlreadyExists"))
      throw error;
  }
}
