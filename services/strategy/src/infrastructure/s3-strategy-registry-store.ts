/** Registry in S3: s3://bucket/prefix/<name>/<version>.json (shared by every service instance). */
import { HeadBucketCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import type { StoredStrategyVersion, StrategyRegistryStore } from "../core/strategy-registry-store";
import type { S3Location } from "./s3-location";
import { listS3Keys, readS3Text } from "./s3-strategy-source";

export function createS3StrategyRegistryStore(client: S3Client, location: S3Location): StrategyRegistryStore {
  const keyOf = (name: string, version: string) => `${location.prefix}${name}/${version}.json`;
  const cache = new Map<string, StoredStrategyVersion>();

  async function read(name: string, version: string): Promise<StoredStrategyVersion | undefined> {
    const key = keyOf(name, version);
    const cached = cache.get(key);
    if (cached !== undefined) return cached;
    const text = await readS3Text(client, location.bucket, key);
    if (text === undefined) return undefined;
    const record = JSON.parse(text) as StoredStrategyVersion;
    cache.set(key, record);
    return record;
  }

  async function exists(key: string): Promise<boolean> {
    try {
      await client.send(new HeadObjectCommand({ Bucket: location.bucket, Key: key }));
      return true;
    } catch (error) {
      const name = (error as { name?: string }).name;
      if (name === "NotFound" || name === "NoSuchKey") return false;
      throw error;
    }
  }

  return {
    location: `s3://${location.bucket}/${location.prefix}`,
    async put(record) {
      const key = keyOf(record.name, record.version);
      if (cache.has(key) || (await exists(key))) return false;
      await client.send(
        new PutObjectCommand({
          Bucket: location.bucket,
          Key: key,
          Body: JSON.stringify(record),
          ContentType: "application/json",
        }),
      );
      cache.set(key, record);
      return true;
    },
    get: read,
    async listVersions(name) {
      const keys = await listS3Keys(client, location, `${location.prefix}${name}/`);
      const versions = keys
        .map((key) => key.slice(`${location.prefix}${name}/`.length))
        .filter((file) => /^[0-9a-f]{64}\.json$/.test(file))
        .map((file) => file.slice(0, -5));
      const records = await Promise.all(versions.map((version) => read(name, version)));
      return records.filter((record): record is StoredStrategyVersion => record !== undefined);
    },
    async listNames() {
      const keys = await listS3Keys(client, location);
      const names = new Set<string>();
      for (const key of keys) {
        const [name, file] = key.slice(location.prefix.length).split("/");
        if (name !== undefined && file !== undefined && /^[0-9a-f]{64}\.json$/.test(file)) names.add(name);
      }
      return [...names].sort();
    },
    async ping() {
      await client.send(new HeadBucketCommand({ Bucket: location.bucket }));
    },
  };
}
