import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { randomBytes } from "node:crypto";

/** moto_server URL exported by the test global setup (TRADAI_TEST_MOTO_URL); undefined when not started. */
export const motoUrl: string | undefined = process.env.TRADAI_TEST_MOTO_URL;

export function createMotoS3Client(url: string): S3Client {
  return new S3Client({
    endpoint: url,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
  });
}

/** A fresh bucket per test (tests never see each other's objects). */
export async function createTestBucket(client: S3Client): Promise<string> {
  const bucket = `tradai-data-${randomBytes(6).toString("hex")}`;
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  return bucket;
}
