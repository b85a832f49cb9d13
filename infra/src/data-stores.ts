// Storage and messaging from infra/shared/config.ts: S3 buckets (public access blocked, encrypted,
// TLS only), DynamoDB tables, SQS FIFO queues with dead-letter queues, the SNS alert topic and the
// ECR repositories.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import {
  DYNAMODB_TABLES,
  ECR_REPOS,
  S3_BUCKETS,
  SQS_QUEUES,
  alertTopicName,
  bucketName,
  deadLetterQueueName,
  queueName,
  tableName,
} from "../shared/config";
import type { BucketKey, Environment, QueueName, TableConfig, TableKey } from "../shared/config";

export interface DataStores {
  buckets: Record<BucketKey, aws.s3.Bucket>;
  tables: Record<TableKey, aws.dynamodb.Table>;
  queues: Record<QueueName, aws.sqs.Queue>;
  deadLetterQueues: Record<QueueName, aws.sqs.Queue>;
  alertTopic: aws.sns.Topic;
  repositories: Record<string, aws.ecr.Repository>;
}

export function createDataStores(environment: Environment, tags: Record<string, string>): DataStores {
  const buckets = {} as Record<BucketKey, aws.s3.Bucket>;
  for (const key of Object.keys(S3_BUCKETS) as BucketKey[]) {
    const config = S3_BUCKETS[key];
    const name = bucketName(environment, key);
    const bucket = new aws.s3.Bucket(name, { bucket: name, forceDestroy: environment !== "prod", tags });
    const child = { parent: bucket };
    new aws.s3.BucketPublicAccessBlock(
      `${name}-public-access`,
      {
        bucket: bucket.id,
        blockPublicAcls: true,
        blockPublicPolicy: true,
        ignorePublicAcls: true,
        restrictPublicBuckets: true,
      },
      child,
    );
    new aws.s3.BucketOwnershipControls(
      `${name}-ownership`,
      { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } },
      child,
    );
    new aws.s3.BucketServerSideEncryptionConfiguration(
      `${name}-encryption`,
      {
        bucket: bucket.id,
        rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms" }, bucketKeyEnabled: true }],
      },
      child,
    );
    new aws.s3.BucketVersioning(
      `${name}-versioning`,
      { bucket: bucket.id, versioningConfiguration: { status: config.versioned ? "Enabled" : "Suspended" } },
      child,
    );
    if (config.expireAfterDays !== null) {
      new aws.s3.BucketLifecycleConfiguration(
        `${name}-lifecycle`,
        {
          bucket: bucket.id,
          rules: [
            { id: "expire", status: "Enabled", filter: {}, expiration: { days: config.expireAfterDays } },
          ],
        },
        child,
      );
    }
    new aws.s3.BucketPolicy(
      `${name}-tls-only`,
      {
        bucket: bucket.id,
        policy: pulumi.jsonStringify({
          Version: "2012-10-17",
          Statement: [
            {
              Sid: "DenyInsecureTransport",
              Effect: "Deny",
              Principal: "*",
              Action: "s3:*",
              Resource: [bucket.arn, pulumi.interpolate`${bucket.arn}/*`],
              Condition: { Bool: { "aws:SecureTransport": "false" } },
            },
          ],
        }),
      },
      child,
    );
    buckets[key] = bucket;
  }

  const tables = {} as Record<TableKey, aws.dynamodb.Table>;
  for (const key of Object.keys(DYNAMODB_TABLES) as TableKey[]) {
    const config: TableConfig = DYNAMODB_TABLES[key];
    const name = tableName(environment, key);
    const keys = [
      config.partitionKey,
      config.sortKey,
      ...config.globalSecondaryIndexes.flatMap((index) => [index.partitionKey, index.sortKey]),
    ].filter((attribute): attribute is string => attribute !== null);
    tables[key] = new aws.dynamodb.Table(name, {
      name,
      billingMode: "PAY_PER_REQUEST",
      hashKey: config.partitionKey,
      ...(config.sortKey !== null ? { rangeKey: config.sortKey } : {}),
      // DynamoDB wants exactly the key attributes (of the table and its indexes) declared.
      attributes: [...new Set(keys)].map((attribute) => ({ name: attribute, type: "S" })),
      ...(config.globalSecondaryIndexes.length > 0
        ? {
            globalSecondaryIndexes: config.globalSecondaryIndexes.map((index) => ({
              name: index.name,
              hashKey: index.partitionKey,
              ...(index.sortKey !== null ? { rangeKey: index.sortKey } : {}),
              projectionType: "ALL",
            })),
          }
        : {}),
      ...(config.ttlAttribute !== null ? { ttl: { attributeName: config.ttlAttribute, enabled: true } } : {}),
      serverSideEncryption: { enabled: true },
      pointInTimeRecovery: { enabled: environment === "prod" },
      deletionProtectionEnabled: environment === "prod",
      tags,
    });
  }

  const queues = {} as Record<QueueName, aws.sqs.Queue>;
  const deadLetterQueues = {} as Record<QueueName, aws.sqs.Queue>;
  for (const key of Object.keys(SQS_QUEUES) as QueueName[]) {
    const config = SQS_QUEUES[key];
    const deadLetterName = deadLetterQueueName(environment, key);
    const deadLetter = new aws.sqs.Queue(deadLetterName, {
      name: deadLetterName,
      fifoQueue: true,
      messageRetentionSeconds: 14 * 24 * 3600,
      sqsManagedSseEnabled: true,
      tags,
    });
    const name = queueName(environment, key);
    queues[key] = new aws.sqs.Queue(name, {
      name,
      fifoQueue: true,
      // Producers send explicit deduplication ids (idempotency keys), not content hashes.
      contentBasedDeduplication: false,
      visibilityTimeoutSeconds: config.visibilityTimeout,
      messageRetentionSeconds: config.messageRetentionSeconds,
      sqsManagedSseEnabled: true,
      redrivePolicy: pulumi.jsonStringify({
        deadLetterTargetArn: deadLetter.arn,
        maxReceiveCount: config.maxReceiveCount,
      }),
      tags,
    });
    deadLetterQueues[key] = deadLetter;
  }

  const alertTopic = new aws.sns.Topic(alertTopicName(environment), {
    name: alertTopicName(environment),
    kmsMasterKeyId: "alias/aws/sns",
    tags,
  });

  const repositories: Record<string, aws.ecr.Repository> = {};
  for (const repository of ECR_REPOS) {
    const resourceName = `${environment}-${repository.replace("/", "-")}`;
    const ecr = new aws.ecr.Repository(resourceName, {
      // The spec's names in every environment: one AWS account per environment.
      name: repository,
      imageScanningConfiguration: { scanOnPush: true },
      imageTagMutability: "MUTABLE",
      encryptionConfigurations: [{ encryptionType: "AES256" }],
      forceDelete: environment !== "prod",
      tags,
    });
    new aws.ecr.LifecyclePolicy(
      `${resourceName}-lifecycle`,
      {
        repository: ecr.name,
        policy: JSON.stringify({
          rules: [
            {
              rulePriority: 1,
              description: "keep the last 30 images",
              selection: { tagStatus: "any", countType: "imageCountMoreThan", countNumber: 30 },
              action: { type: "expire" },
            },
          ],
        }),
      },
      { parent: ecr },
    );
    repositories[repository] = ecr;
  }

  return { buckets, tables, queues, deadLetterQueues, alertTopic, repositories };
}
