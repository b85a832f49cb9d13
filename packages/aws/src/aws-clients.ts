// One place that builds the AWS SDK v3 clients every service and lambda uses, so the region,
// endpoint (moto_server or LocalStack in tests and the local stack) and credentials are set once.
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { ECSClient } from "@aws-sdk/client-ecs";
import { S3Client } from "@aws-sdk/client-s3";
import { SFNClient } from "@aws-sdk/client-sfn";
import { SNSClient } from "@aws-sdk/client-sns";
import { SQSClient } from "@aws-sdk/client-sqs";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface AwsClientsOptions {
  /** e.g. "us-east-1". */
  region: string;
  /**
   * Endpoint override for every service (moto_server, LocalStack): "http://127.0.0.1:5000".
   * Default: the real AWS endpoints. With an endpoint, S3 uses path-style addressing.
   */
  endpoint?: string;
  /** Default: the SDK's default provider chain (env, profile, container/instance role). */
  credentials?: AwsCredentials;
  /** SDK retry attempts per call, including the first. Default 3 (the SDK's). */
  maxAttempts?: number;
}

/** Lazily built clients: only the services a caller touches are constructed. */
export interface AwsClients {
  readonly region: string;
  readonly endpoint: string | undefined;
  readonly sqs: SQSClient;
  readonly ecs: ECSClient;
  readonly sfn: SFNClient;
  readonly dynamodb: DynamoDBClient;
  /** Marshals plain JS objects to and from DynamoDB attribute values (undefined values dropped). */
  readonly dynamodbDocument: DynamoDBDocumentClient;
  readonly s3: S3Client;
  readonly sns: SNSClient;
  /** Closes the sockets of every client built so far. */
  destroy(): void;
}

export function createAwsClients(options: AwsClientsOptions): AwsClients {
  if (typeof options.region !== "string" || options.region === "") {
    throw new Error(`region: expected an AWS region such as "us-east-1", got "${String(options.region)}"`);
  }
  if (options.endpoint !== undefined && !/^https?:\/\/[^/]+/.test(options.endpoint)) {
    throw new Error(`endpoint: expected an http(s) URL, got "${options.endpoint}"`);
  }
  const common = {
    region: options.region,
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
    ...(options.maxAttempts === undefined ? {} : { maxAttempts: options.maxAttempts }),
  };
  const built = new Map<string, { destroy(): void }>();
  const lazy = <T extends { destroy(): void }>(name: string, build: () => T): T => {
    let client = built.get(name) as T | undefined;
    if (client === undefined) {
      client = build();
      built.set(name, client);
    }
    return client;
  };
  return {
    region: options.region,
    endpoint: options.endpoint,
    get sqs() {
      return lazy("sqs", () => new SQSClient(common));
    },
    get ecs() {
      return lazy("ecs", () => new ECSClient(common));
    },
    get sfn() {
      return lazy("sfn", () => new SFNClient(common));
    },
    get dynamodb() {
      return lazy("dynamodb", () => new DynamoDBClient(common));
    },
    get dynamodbDocument() {
      return lazy("dynamodbDocument", () =>
        DynamoDBDocumentClient.from(this.dynamodb, {
          marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
        }),
      );
    },
    get s3() {
      return lazy("s3", () => new S3Client({ ...common, forcePathStyle: options.endpoint !== undefined }));
    },
    get sns() {
      return lazy("sns", () => new SNSClient(common));
    },
    destroy() {
      for (const client of built.values()) client.destroy();
      built.clear();
    },
  };
}

/** The error's AWS name ("ConditionalCheckFailedException", "QueueDoesNotExist", …), if it has one. */
export function awsErrorName(error: unknown): string | undefined {
  if (typeof error === "object" && error !== null && "name" in error && typeof error.name === "string") {
    return error.name;
  }
  return undefined;
}

export function isAwsError(error: unknown, name: string): boolean {
  return awsErrorName(error) === name;
}
