// backtest-consumer (the spec's Lambda for the SQS executor): takes backtest jobs off the FIFO
// queue, claims each job id once in DynamoDB (so a message delivered twice launches once), and
// launches the worker through the backtest service's ECS or Step Functions submitter (the same
// code as the direct ECS/STEPFUNCTIONS executors). A launch that fails releases the claim and reports the record as a
// batch item failure, so SQS redelivers it. A job whose record in the workflow-state table is
// already final (cancelled while it waited in the queue, or finished) or gone is not launched.
import { DeleteCommand, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { isConditionalCheckFailed, TRACE_CONTEXT_KEYS, type AwsClients } from "@tradai/aws";
import {
  decodeJobMessage,
  JobMessageError,
  type BacktestJobMessage,
  type BacktestJobSubmitter,
  type WorkflowStateRepository,
} from "@tradai/backtest";
import type { Logger } from "@tradai/common";

export interface BacktestConsumerOptions {
  aws: AwsClients;
  /** DynamoDB table with partition key `job_id` (string). */
  idempotencyTable: string;
  /** What launches a claimed job: the ECS or Step Functions submitter of the backtest service. */
  launcher: BacktestJobSubmitter;
  /**
   * The backtest service's state store (the DynamoDB workflow-state table): a job it holds in a
   * final status, or no longer holds, is skipped.
   */
  workflowState: Pick<WorkflowStateRepository, "get">;
  logger: Logger;
  /** Claims expire after this many days (DynamoDB TTL attribute `expires_at`); default 14. */
  claimTtlDays?: number;
  now?: () => number;
}

/** A record of the Lambda SQS event (camelCase keys, unlike the SDK's ReceiveMessage output). */
export interface SqsEventRecord {
  messageId: string;
  receiptHandle?: string;
  body: string;
  attributes?: Record<string, string>;
  messageAttributes?: Record<string, { stringValue?: string; dataType?: string }>;
}

export interface SqsEvent {
  Records: SqsEventRecord[];
}

export interface SqsBatchResponse {
  batchItemFailures: { itemIdentifier: string }[];
}

export type RecordOutcome = {
  messageId: string;
  jobId?: string;
  outcome: "launched" | "duplicate" | "skipped" | "rejected" | "failed";
  reference?: string;
  reason?: string;
};

const FINAL_STATUSES = new Set(["COMPLETED", "FAILED", "CANCELLED"]);

export function createBacktestConsumer(options: BacktestConsumerOptions) {
  const documents = options.aws.dynamodbDocument;
  const now = options.now ?? Date.now;

  const claim = async (jobId: string, messageId: string): Promise<boolean> => {
    try {
      await documents.send(
        new PutCommand({
          TableName: options.idempotencyTable,
          Item: {
            job_id: jobId,
            status: "LAUNCHING",
            message_id: messageId,
            claimed_at: new Date(now()).toISOString(),
            expires_at: Math.floor(now() / 1000) + (options.claimTtlDays ?? 14) * 86_400,
          },
          ConditionExpression: "attribute_not_exists(job_id)",
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  };

  const launch = async (message: BacktestJobMessage): Promise<string> =>
    (await options.launcher.submit(message)).reference;

  const handleRecord = async (record: SqsEventRecord): Promise<RecordOutcome> => {
    let message: BacktestJobMessage;
    try {
      message = decodeJobMessage(record.body);
    } catch (error) {
      // A malformed message never becomes valid: drop it (the DLQ policy keeps a copy) instead of looping.
      const reason = error instanceof JobMessageError ? error.message : String(error);
      options.logger.error({ message_id: record.messageId, reason }, "rejected malformed backtest message");
      return { messageId: record.messageId, outcome: "rejected", reason };
    }
    // Trace context comes in the message attributes; the body's copy is the fallback.
    const traceContext: Record<string, string> = {};
    for (const key of TRACE_CONTEXT_KEYS) {
      const value = record.messageAttributes?.[key]?.stringValue;
      if (value !== undefined) traceContext[key] = value;
    }
    message = { ...message, traceHeaders: { ...message.traceHeaders, ...traceContext } };
    let status: string | undefined;
    try {
      status = (await options.workflowState.get(message.jobId))?.status;
    } catch (error) {
      const reason = `cannot read the job's state: ${error instanceof Error ? error.message : String(error)}`;
      options.logger.error(
        { job_id: message.jobId, reason },
        "state read failed; the message will be redelivered",
      );
      return { messageId: record.messageId, jobId: message.jobId, outcome: "failed", reason };
    }
    if (status === undefined || FINAL_STATUSES.has(status)) {
      const reason =
        status === undefined
          ? "the job has no record in the workflow-state table"
          : `the job is already ${status}`;
      options.logger.info(
        { job_id: message.jobId, message_id: record.messageId, reason },
        "job not launched",
      );
      return { messageId: record.messageId, jobId: message.jobId, outcome: "skipped", reason };
    }
    if (!(await claim(message.jobId, record.messageId))) {
      options.logger.info(
        { job_id: message.jobId, message_id: record.messageId },
        "duplicate delivery: job already launched",
      );
      return { messageId: record.messageId, jobId: message.jobId, outcome: "duplicate" };
    }
    try {
      const reference = await launch(message);
      await documents.send(
        new UpdateCommand({
          TableName: options.idempotencyTable,
          Key: { job_id: message.jobId },
          UpdateExpression: "SET #status = :launched, #reference = :reference",
          ExpressionAttributeNames: { "#status": "status", "#reference": "reference" },
          ExpressionAttributeValues: { ":launched": "LAUNCHED", ":reference": reference },
        }),
      );
      options.logger.info({ job_id: message.jobId, reference }, "backtest launched");
      return { messageId: record.messageId, jobId: message.jobId, outcome: "launched", reference };
    } catch (error) {
      await documents
        .send(new DeleteCommand({ TableName: options.idempotencyTable, Key: { job_id: message.jobId } }))
        .catch(() => undefined);
      const reason = error instanceof Error ? error.message : String(error);
      options.logger.error(
        { job_id: message.jobId, reason },
        "launch failed; the message will be redelivered",
      );
      return { messageId: record.messageId, jobId: message.jobId, outcome: "failed", reason };
    }
  };

  return {
    async handle(event: SqsEvent): Promise<SqsBatchResponse & { outcomes: RecordOutcome[] }> {
      const outcomes: RecordOutcome[] = [];
      // FIFO batches arrive in order; keep that order.
      for (const record of event.Records) outcomes.push(await handleRecord(record));
      return {
        batchItemFailures: outcomes
          .filter((outcome) => outcome.outcome === "failed")
          .map((outcome) => ({ itemIdentifier: outcome.messageId })),
        outcomes,
      };
    },
  };
}
