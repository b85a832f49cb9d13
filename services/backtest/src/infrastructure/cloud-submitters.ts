// The AWS executors (the spec's §4): SQS (FIFO queue → backtest-consumer Lambda → ECS or Step
// Functions), ECS (RunTask directly) and STEPFUNCTIONS (StartExecution of the backtest state
// machine). Each carries the job message and the W3C trace context.
import { StopExecutionCommand } from "@aws-sdk/client-sfn";
import {
  runTask,
  sendMessage,
  startExecution,
  stopTask,
  type AwsClients,
  type EcsCapacity,
} from "@tradai/aws";
import {
  encodeJobMessage,
  type BacktestJobMessage,
  type BacktestJobSubmitter,
  type SubmissionReceipt,
} from "../core/backtest-job-submitter";

export interface SqsSubmitterOptions {
  aws: AwsClients;
  /** BACKEND_BACKTEST_QUEUE_URL: the FIFO queue. */
  queueUrl: string;
}

/** Messages of one strategy are delivered in order; the job id deduplicates resends for 5 minutes. */
export function createSqsSubmitter(options: SqsSubmitterOptions): BacktestJobSubmitter {
  return {
    executor: "SQS",
    async submit(message: BacktestJobMessage): Promise<SubmissionReceipt> {
      const sent = await sendMessage(options.aws.sqs, {
        queueUrl: options.queueUrl,
        body: encodeJobMessage(message),
        messageGroupId: message.config.strategy,
        messageDeduplicationId: message.jobId,
        traceContext: message.traceHeaders,
        attributes: { job_id: message.jobId },
      });
      return { executor: "SQS", reference: sent.messageId };
    },
    // A queued SQS message cannot be recalled; the consumer skips jobs that are CANCELLED.
    cancel: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
}

export interface EcsSubmitterOptions {
  aws: AwsClients;
  cluster: string;
  subnets: string[];
  securityGroups: string[];
  /** The strategy-container task definition (family[:revision] or ARN). */
  taskDefinition: string;
  /** The container the overrides go to; default "strategy-container". */
  containerName?: string;
  /** Default FARGATE_SPOT with FARGATE fallback is an infra choice; backtests default to FARGATE_SPOT. */
  capacity?: EcsCapacity;
}

/** The job message travels in the container's WORKER_JOB env, the trace context as TRACEPARENT. */
export function createEcsSubmitter(options: EcsSubmitterOptions): BacktestJobSubmitter {
  return {
    executor: "ECS",
    async submit(message: BacktestJobMessage): Promise<SubmissionReceipt> {
      const task = await runTask(options.aws.ecs, {
        cluster: options.cluster,
        taskDefinition: options.taskDefinition,
        capacity: options.capacity ?? "FARGATE_SPOT",
        subnets: options.subnets,
        securityGroups: options.securityGroups,
        containerName: options.containerName ?? "strategy-container",
        environment: { WORKER_JOB: JSON.stringify(encodeJobMessage(message)) },
        traceContext: message.traceHeaders,
        startedBy: message.jobId.slice(0, 36),
        tags: { "tradai:job-id": message.jobId, "tradai:strategy": message.config.strategy },
      });
      return { executor: "ECS", reference: task.taskArn };
    },
    // The task ARN recorded with the job (the receipt's reference): works after a restart and from
    // any instance of the service.
    async cancel(jobId: string, taskArn?: string): Promise<void> {
      if (taskArn === undefined || !taskArn.startsWith("arn:"))
        throw new Error(
          `job ${jobId}: expected a recorded ECS task ARN to stop, got ${taskArn ?? "nothing"}`,
        );
      await stopTask(options.aws.ecs, options.cluster, taskArn, `job ${jobId} cancelled by request`);
    },
    close: () => Promise.resolve(),
  };
}

export interface StepFunctionsSubmitterOptions {
  aws: AwsClients;
  /** BACKEND_STEPFUNCTIONS_STATE_MACHINE_ARN */
  stateMachineArn: string;
}

/** The execution is named after the job, so a second start of the same job is refused by AWS. */
export function createStepFunctionsSubmitter(options: StepFunctionsSubmitterOptions): BacktestJobSubmitter {
  return {
    executor: "STEPFUNCTIONS",
    async submit(message: BacktestJobMessage): Promise<SubmissionReceipt> {
      const execution = await startExecution(options.aws.sfn, {
        stateMachineArn: options.stateMachineArn,
        name: message.jobId,
        // The state machine's input (infra/shared/backtest-workflow.asl.json): {job_id, job}.
        input: { job_id: message.jobId, job: encodeJobMessage(message) },
      });
      return { executor: "STEPFUNCTIONS", reference: execution.executionArn };
    },
    // StopExecution on the execution ARN recorded with the job; the worker task it runs sees
    // CANCELLED in the state store as well.
    async cancel(jobId: string, executionArn?: string): Promise<void> {
      if (executionArn === undefined || !executionArn.startsWith("arn:"))
        throw new Error(
          `job ${jobId}: expected a recorded Step Functions execution ARN to stop, got ${executionArn ?? "nothing"}`,
        );
      await options.aws.sfn.send(
        new StopExecutionCommand({
          executionArn,
          error: "Cancelled",
          cause: `job ${jobId} cancelled by request`,
        }),
      );
    },
    close: () => Promise.resolve(),
  };
}
