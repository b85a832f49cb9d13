/** "s3://bucket/some/prefix" → bucket and a prefix ending in "/" (or "" for the bucket root). */
export interface S3Location {
  readonly bucket: string;
  readonly prefix: string;
}

export function isS3Url(value: string): boolean {
  return value.startsWith("s3://");
}

export function parseS3Url(value: string): S3Location {
  const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(value);
  if (match === null) {
    throw new Error(`expected an S3 URL such as s3://bucket/prefix, got ${JSON.stringify(value)}`);
  }
  const raw = (match[2] ?? "").replace(/^\/+/, "");
  return { bucket: match[1] as string, prefix: raw === "" || raw.endsWith("/") ? raw : `${raw}/` };
}
