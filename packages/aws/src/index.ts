export {
  awsErrorName,
  createAwsClients,
  isAwsError,
  type AwsClients,
  type AwsClientsOptions,
  type AwsCredentials,
} from "./aws-clients";
export {
  deleteTableIfExists,
  ensureTable,
  isConditionalCheckFailed,
  transactionCancellationReasons,
  type EnsureTableOptions,
} from "./dynamodb-tables";
export {
  changeMessageVisibility,
  createQueue,
  deleteMessage,
  fromSqsMessage,
  queueDepth,
  receiveMessages,
  sendMessage,
  TRACE_CONTEXT_KEYS,
  type CreateQueueOptions,
  type RawSqsMessage,
  type ReceivedMessage,
  type ReceiveMessagesOptions,
  type SendMessageOptions,
  type SentMessage,
  type TraceContext,
} from "./sqs-queue";
export {
  buildRunTaskInput,
  describeTasks,
  EcsRunTaskError,
  listTaskArns,
  runTask,
  stopTask,
  traceContextEnvironment,
  type EcsCapacity,
  type RunTaskOptions,
  type RunTaskResult,
} from "./ecs-tasks";
export {
  createStateMachine,
  describeExecution,
  startExecution,
  waitForExecution,
  type ExecutionDescription,
  type ExecutionStatus,
  type StartedExecution,
  type StartExecutionOptions,
} from "./step-functions";
export {
  deleteObject,
  ensureBucket,
  getObject,
  getObjectText,
  listObjects,
  parseS3Uri,
  putObject,
  s3Uri,
  type ListedObject,
  type PutObjectOptions,
  type S3Location,
} from "./s3-objects";
export { createTopic, publish, type PublishOptions } from "./sns-topics";
