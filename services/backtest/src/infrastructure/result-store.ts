// Where a worker writes a job's full result (trades, tables, metrics, equity curve: the engine's
// Freqtrade-layout export) and where the service reads it back: a directory on local disk (embedded
// default) or an S3 prefix (the spec's results bucket). Writes are atomic (temp file + rename).
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { getObjectText, parseS3Uri, putObject, s3Uri, type AwsClients } from "@tradai/aws";
import { Code } from "@connectrpc/connect";
import { DomainError } from "@tradai/common";
import type { ResultReader } from "../core/backtest-service";

export interface ResultStore extends ResultReader {
  /** Stores the result of `jobId` and returns its URI (file:// or s3://). */
  write(jobId: string, result: unknown): Promise<string>;
}

const SAFE_ID = /^[A-Za-z0-9_-]{1,128}$/;

function checkId(jobId: string) {
  if (!SAFE_ID.test(jobId)) throw new Error(`job id: expected 1..128 of A-Z a-z 0-9 - _, got "${jobId}"`);
}

export function createFileResultStore(directory: string): ResultStore {
  const root = path.resolve(directory);
  return {
    async write(jobId, result) {
      checkId(jobId);
      mkdirSync(root, { recursive: true });
      const target = path.join(root, `${jobId}.json`);
      const temporary = `${target}.${process.pid}.tmp`;
      writeFileSync(temporary, JSON.stringify(result));
      renameSync(temporary, target);
      return pathToFileURL(target).href;
    },
    async read(resultUri) {
      const file = fileURLToPath(resultUri);
      if (!file.startsWith(root + path.sep))
        throw new DomainError(Code.PermissionDenied, `result ${resultUri} is outside the result store`);
      try {
        return JSON.parse(readFileSync(file, "utf8")) as unknown;
      } catch (error) {
        throw new DomainError(
          Code.DataLoss,
          `result ${resultUri} is missing or unreadable: ${(error as Error).message}`,
        );
      }
    },
  };
}

export function createS3ResultStore(aws: AwsClients, bucket: string, prefix = "backtests/"): ResultStore {
  return {
    async write(jobId, result) {
      checkId(jobId);
      const location = { bucket, key: `${prefix}${jobId}.json` };
      await putObject(aws.s3, { ...location, body: JSON.stringify(result), contentType: "application/json" });
      return s3Uri(location);
    },
    async read(resultUri) {
      const location = parseS3Uri(resultUri);
      if (location.bucket !== bucket)
        throw new DomainError(Code.PermissionDenied, `result ${resultUri} is outside bucket ${bucket}`);
      const text = await getObjectText(aws.s3, location);
      if (text === undefined) throw new DomainError(Code.DataLoss, `result ${resultUri} is missing`);
      return JSON.parse(text) as unknown;
    },
  };
}

/** The store for a URI root: s3://bucket/prefix/ or a directory. */
export function createResultStore(root: string, aws?: () => AwsClients): ResultStore {
  if (root.startsWith("s3://")) {
    const { bucket, key } = parseS3Uri(root.endsWith("/") ? root : `${root}/`);
    if (aws === undefined) throw new Error("an s3:// result store needs AWS settings");
    return createS3ResultStore(aws(), bucket, key);
  }
  return createFileResultStore(root);
}
