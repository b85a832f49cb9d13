// SQS helpers: FIFO sends that carry W3C trace context in message attributes (ARCHITECTURE.md
// §4.10), long-poll receives, deletes. The backtest SQS executor and the backtest-consumer lambda
// are the users.
import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type MessageAttributeValue,
  type SQSClient,
} from "@aws-sdk/client-sqs";

/** W3C trace context headers carried with a message: traceparent, tracestate, baggage. */
export type TraceContext = Record<string, string>;

/** The message attribute names that carry trace context (the W3C header names). */
export const TRACE_CONTEXT_KEYS = ["traceparent", "tracestate", "baggage"] as const;

export interface SendMessageOptions {
  queueUrl: string;
  /** The message body; objects are sent as JSON. */
  body: string | object;
  /** FIFO queues: messages of one group are delivered in order. Required for a .fifo queue. */
  messageGroupId?: string;
  /**
   * FIFO queues: a second send with the same id within 5 minutes is dropped by SQS. Required for
   * a .fifo queue unless the queue has content-based deduplication.
   */
  messageDeduplicationId?: string;
  /** W3C trace headers to carry (e.g. currentTraceHeaders() from @tradai/common). */
  traceContext?: TraceContext;
  /** More string attributes. */
  attributes?: Record<string, string>;
  /** Standard queues only. */
  delaySeconds?: number;
}

export interface SentMessage {
  messageId: string;
  /** FIFO queues only. */
  sequenceNumber?: string;
}

function stringAttributes(values: Record<string, string>): Record<string, MessageAttributeValue> {
  const attributes: Record<string, MessageAttributeValue> = {};
  for (const [name, value] of Object.entries(values))
    attributes[name] = { DataType: "String", StringValue: value };
  return attributes;
}

export async function sendMessage(sqs: SQSClient, options: SendMessageOptions): Promise<SentMessage> {
  const fifo = options.queueUrl.endsWith(".fifo");
  if (fifo && (options.messageGroupId === undefined || options.messageGroupId === "")) {
    throw new Error(`messageGroupId: expected a group id for FIFO queue ${options.queueUrl}, got none`);
  }
  const trace: Record<string, string> = {};
  for (const key of TRACE_CONTEXT_KEYS) {
    const value = options.traceContext?.[key];
    if (value !== undefined && value !== "") trace[key] = value;
  }
  const attributes = { ...options.attributes, ...trace };
  if (Object.keys(attributes).length > 10) {
    throw new Error(
      `attributes: expected at most 10 message attributes (SQS limit), got ${Object.keys(attributes).length}`,
    );
  }
  const result = await sqs.send(
    new SendMessageCommand({
      QueueUrl: options.queueUrl,
      MessageBody: typeof options.body === "string" ? options.body : JSON.stringify(options.body),
      MessageGroupId: options.messageGroupId,
      MessageDeduplicationId: options.messageDeduplicationId,
      DelaySeconds: options.delaySeconds,
      MessageAttributes: Object.keys(attributes).length > 0 ? stringAttributes(attributes) : undefined,
    }),
  );
  if (result.MessageId === undefined)
    throw new Error(`SendMessage to ${options.queueUrl}: no MessageId returned`);
  return {
    messageId: result.MessageId,
    ...(result.SequenceNumber === undefined ? {} : { sequenceNumber: result.SequenceNumber }),
  };
}

export interface ReceiveMessagesOptions {
  queueUrl: string;
  /** 1..10. Default 10. */
  maxMessages?: number;
  /** Long-poll wait, 0..20 s. Default 0. */
  waitTimeSeconds?: number;
  /** Default: the queue's. */
  visibilityTimeoutSeconds?: number;
}

export interface ReceivedMessage {
  messageId: string;
  receiptHandle: string;
  body: string;
  /** String message attributes, trace context included. */
  attributes: Record<string, string>;
  /** The W3C trace headers the sender carried. */
  traceContext: TraceContext;
  /** How many times SQS has delivered this message (1 on the first delivery). */
  receiveCount: number;
  messageGroupId?: string;
  messageDeduplicationId?: string;
}

export async function receiveMessages(
  sqs: SQSClient,
  options: ReceiveMessagesOptions,
): Promise<ReceivedMessage[]> {
  const result = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: options.queueUrl,
      MaxNumberOfMessages: options.maxMessages ?? 10,
      WaitTimeSeconds: options.waitTimeSeconds ?? 0,
      VisibilityTimeout: options.visibilityTimeoutSeconds,
      MessageAttributeNames: ["All"],
      MessageSystemAttributeNames: ["All"],
    }),
  );
  return (result.Messages ?? []).map((message) => fromSqsMessage(message));
}

/** The shape of a message as the SDK returns it and as a Lambda SQS event record carries it. */
export interface RawSqsMessage {
  MessageId?: string;
  ReceiptHandle?: string;
  Body?: string;
  MessageAttributes?: Record<string, { StringValue?: string; DataType?: string }>;
  Attributes?: Record<string, string>;
}

export function fromSqsMessage(message: RawSqsMessage): ReceivedMessage {
  const attributes: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
    if (value.StringValue !== undefined) attributes[name] = value.StringValue;
  }
  const traceContext: TraceContext = {};
  for (const key of TRACE_CONTEXT_KEYS) {
    const value = attributes[key];
    if (value !== undefined) traceContext[key] = value;
  }
  const system = message.Attributes ?? {};
  const received: ReceivedMessage = {
    messageId: message.MessageId ?? "",
    receiptHandle: message.ReceiptHandle ?? "",
    body: message.Body ?? "",
    attributes,
    traceContext,
    receiveCount: Number(system.ApproximateReceiveCount ?? "1"),
  };
  if (system.MessageGroupId !== undefined) received.messageGroupId = system.MessageGroupId;
  if (system.MessageDeduplicationId !== undefined)
    received.messageDeduplicationId = system.MessageDeduplicationId;
  return received;
}

export async function deleteMessage(sqs: SQSClient, queueUrl: string, receiptHandle: string): Promise<void> {
  await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: receiptHandle }));
}

/** Makes a received message visible again after `seconds` (0: at once), e.g. to retry later. */
export async function changeMessageVisibility(
  sqs: SQSClient,
  queueUrl: string,
  receiptHandle: string,
  seconds: number,
): Promise<void> {
  await sqs.send(
    new ChangeMessageVisibilityCommand({
      QueueUrl: queueUrl,
      ReceiptHandle: receiptHandle,
      VisibilityTimeout: seconds,
    }),
  );
}

export interface CreateQueueOptions {
  /** A name ending in ".fifo" makes a FIFO queue. */
  name: string;
  /** FIFO only. Default false. */
  contentBasedDeduplication?: boolean;
  /** Default 30. */
  visibilityTimeoutSeconds?: number;
}

/** Creates the queue (idempotent for identical attributes) and returns its URL. */
export async function createQueue(sqs: SQSClient, options: CreateQueueOptions): Promise<string> {
  const fifo = options.name.endsWith(".fifo");
  const attributes: Record<string, string> = {
    VisibilityTimeout: String(options.visibilityTimeoutSeconds ?? 30),
  };
  if (fifo) {
    attributes.FifoQueue = "true";
    attributes.ContentBasedDeduplication = String(options.contentBasedDeduplication ?? false);
  }
  const result = await sqs.send(new CreateQueueCommand({ QueueName: options.name, Attributes: attributes }));
  if (result.QueueUrl === undefined) throw new Error(`CreateQueue ${options.name}: no QueueUrl returned`);
  return result.QueueUrl;
}

/** Approximate visible + in-flight message counts (queue depth metrics). */
export async function queueDepth(
  sqs: SQSClient,
  queueUrl: string,
): Promise<{ visible: number; inFlight: number }> {
  const result = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    }),
  );
  return {
    visible: Number(result.Attributes?.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(result.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0),
  };
}
