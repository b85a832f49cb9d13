import { S3Client } from "@aws-sdk/client-s3";

export interface S3ClientOptions {
  /** AWS region; default "us-east-1". */
  region?: string;
  /** Endpoint override (moto, LocalStack, MinIO); path-style addressing is used with it. */
  endpoint?: string;
}

/** Credentials come from the SDK's default chain (env, profile, task role). */
export function createS3Client(options: S3ClientOptions = {}): S3Client {
  return new S3Client({
    region: options.region ?? "us-east-1",
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint, forcePathStyle: true }),
  });
}
