/** Strategy files under an S3 prefix (STRATEGY_SERVICE_STRATEGIES_DIR=s3://bucket/prefix). */
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from "@aws-sdk/client-s3";
import {
  isStrategyEntry,
  isStrategyModule,
  type StrategySourceFiles,
  type StrategySourceRepository,
} from "../core/strategy-source";
import type { S3Location } from "./s3-location";

const MAX_FILES = 2_000;

export async function listS3Keys(client: S3Client, location: S3Location, prefix = location.prefix) {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsV2Command({ Bucket: location.bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const object of page.Contents ?? []) if (object.Key !== undefined) keys.push(object.Key);
    token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
  } while (token !== undefined && keys.length < MAX_FILES * 10);
  return keys;
}

export async function readS3Text(client: S3Client, bucket: string, key: string): Promise<string | undefined> {
  try {
    const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return (await object.Body?.transformToString("utf8")) ?? "";
  } catch (error) {
    const name = (error as { name?: string }).name;
    if (name === "NoSuchKey" || name === "NotFound") return undefined;
    throw error;
  }
}

export function createS3StrategySource(client: S3Client, location: S3Location): StrategySourceRepository {
  return {
    location: `s3://${location.bucket}/${location.prefix}`,
    async loadAll(): Promise<StrategySourceFiles[]> {
      const paths = (await listS3Keys(client, location))
        .map((key) => key.slice(location.prefix.length))
        .filter(isStrategyModule)
        .slice(0, MAX_FILES)
        .sort();
      const files: Record<string, string> = {};
      for (const file of paths) {
        files[file] = (await readS3Text(client, location.bucket, `${location.prefix}${file}`)) ?? "";
      }
      return paths.filter(isStrategyEntry).map((entry) => ({ entry, files }));
    },
  };
}
