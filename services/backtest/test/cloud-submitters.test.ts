// The AWS executors against moto_server: what lands in the queue, the task and the execution.
import { createStateMachine, describeExecution, describeTasks, receiveMessages } from "@tradai/aws";
import { createLogger } from "@tradai/common";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  defaultNetwork,
  ecsFixture,
  fifoQueue,
  motoClients,
  passStateMachine,
  uniqueName,
} from "../../../test/support/moto-fixtures";
import {
  createEcsSubmitter,
  createSqsSubmitter,
  createStepFunctionsSubmitter,
} from "../src/infrastructure/cloud-submitters";
import { ExecutorFactory, missingSettings } from "../src/infrastructure/executor-factory";
import { testBacktestConfig } from "./support/backtest-config-fixture";

/** A state machine whose executions keep RUNNING (a long Wait state), to be stopped. */
async function waitStateMachine(aws: ReturnType<typeof motoClients>): Promise<string> {
  return createStateMachine(aws.sfn, {
    name: uniqueName("backtest-wait"),
    definition: { StartAt: "Wait", States: { Wait: { Type: "Wait", Seconds: 3600, End: true } } },
    roleArn: "arn:aws:iam::123456789012:role/sfn",
  });
}

const config = testBacktestConfig({
  strategy: "ema_cross",
  strategy_version: "abc123",
  pairs: ["BTC/USDT", "ETH/USDT"],
  max_open_trades: 2,
  params: { fast: 12 },
});
const traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
const logger = createLogger({ service: "test", level: "silent" });

describe("ExecutorFactory", () => {
  const callbacks = { logger, onJobLost: () => undefined };

  it("names every missing setting of a mode at once", () => {
    const result = ExecutorFactory.create({ mode: "ECS", localExecutionMode: "SUBPROCESS" }, callbacks);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.missing).toEqual([
        "BACKEND_ECS_CLUSTER",
        "BACKEND_ECS_SUBNETS",
        "BACKEND_ECS_SECURITY_GROUPS",
        "BACKEND_ECS_TASK_DEFINITION",
        "BACKEND_AWS_REGION",
      ]);
      expect(result.error.message).toBe(
        "executor ECS is not configured: expected BACKEND_ECS_CLUSTER, BACKEND_ECS_SUBNETS, BACKEND_ECS_SECURITY_GROUPS, BACKEND_ECS_TASK_DEFINITION, BACKEND_AWS_REGION to be set, got nothing",
      );
    }
    expect(
      missingSettings({ mode: "SQS", localExecutionMode: "SUBPROCESS", awsRegion: "eu-central-1" }),
    ).toEqual(["BACKEND_BACKTEST_QUEUE_URL"]);
    expect(missingSettings({ mode: "STEPFUNCTIONS", localExecutionMode: "SUBPROCESS" })).toEqual([
      "BACKEND_STEPFUNCTIONS_STATE_MACHINE_ARN",
      "BACKEND_AWS_REGION",
    ]);
    expect(missingSettings({ mode: "QUEUE", localExecutionMode: "SUBPROCESS" })).toEqual([
      "BACKEND_REDIS_URL",
    ]);
    expect(missingSettings({ mode: "LOCAL", localExecutionMode: "DOCKER" })).toEqual([
      "BACKEND_WORKER_IMAGE",
    ]);
  });

  it("degrades to no executor in dev mode, and throws outside it", () => {
    expect(
      ExecutorFactory.createWithFallback(
        { mode: "SQS", localExecutionMode: "SUBPROCESS", devMode: true },
        callbacks,
      ),
    ).toBeUndefined();
    expect(() =>
      ExecutorFactory.createWithFallback(
        { mode: "SQS", localExecutionMode: "SUBPROCESS", devMode: false },
        callbacks,
      ),
    ).toThrow(/BACKEND_BACKTEST_QUEUE_URL/);
  });
});

describe.runIf(process.env.TRADAI_TEST_MOTO_URL)("AWS executors on moto", () => {
  const aws = motoClients();
  let network: { subnets: string[]; securityGroups: string[] };
  beforeAll(async () => {
    network = await defaultNetwork();
  });
  afterAll(() => aws.destroy());

  it("SQS: sends the job to the FIFO queue with group, dedup id and trace context", async () => {
    const queueUrl = await fifoQueue(aws);
    const submitter = createSqsSubmitter({ aws, queueUrl });
    const receipt = await submitter.submit({ jobId: "job-sqs-1", config, traceHeaders: { traceparent } });
    expect(receipt.executor).toBe("SQS");
    // A resend of the same job within the dedup window is dropped by SQS.
    await submitter.submit({ jobId: "job-sqs-1", config, traceHeaders: { traceparent } });
    const messages = await receiveMessages(aws.sqs, { queueUrl, maxMessages: 10, waitTimeSeconds: 1 });
    expect(messages).toHaveLength(1);
    const [message] = messages;
    expect(message?.messageId).toBe(receipt.reference);
    expect(message?.messageGroupId).toBe("ema_cross");
    expect(message?.messageDeduplicationId).toBe("job-sqs-1");
    expect(message?.traceContext).toEqual({ traceparent });
    expect(JSON.parse(message?.body ?? "{}")).toEqual({
      job_id: "job-sqs-1",
      config,
      trace: { traceparent },
    });
  });

  it("ECS: runs the strategy-container task with the job and trace context in its overrides", async () => {
    const { cluster, taskDefinition } = await ecsFixture(aws);
    const submitter = createEcsSubmitter({ aws, cluster, taskDefinition, capacity: "FARGATE", ...network });
    const receipt = await submitter.submit({ jobId: "job-ecs-1", config, traceHeaders: { traceparent } });
    expect(receipt.reference).toMatch(/^arn:aws:ecs:us-east-1:\d+:task\//);
    const [task] = await describeTasks(aws.ecs, cluster, [receipt.reference]);
    const override = task?.overrides?.containerOverrides?.[0];
    expect(override?.name).toBe("strategy-container");
    const environment = Object.fromEntries(
      (override?.environment ?? []).map((item) => [item.name, item.value]),
    );
    expect(JSON.parse(environment.WORKER_JOB ?? "{}")).toEqual({
      job_id: "job-ecs-1",
      config,
      trace: { traceparent },
    });
    expect(environment.TRACEPARENT).toBe(traceparent);
    expect(task?.startedBy).toBe("job-ecs-1");
  });

  it("STEPFUNCTIONS: starts an execution named after the job with {job_id, job} as input", async () => {
    const stateMachineArn = await passStateMachine(aws);
    const submitter = createStepFunctionsSubmitter({ aws, stateMachineArn });
    const receipt = await submitter.submit({ jobId: "job-sfn-1", config, traceHeaders: { traceparent } });
    const execution = await describeExecution(aws.sfn, receipt.reference);
    expect(execution.name).toBe("job-sfn-1");
    expect(JSON.parse(execution.input ?? "null")).toEqual({
      job_id: "job-sfn-1",
      job: { job_id: "job-sfn-1", config, trace: { traceparent } },
    });
    // The same job cannot be started twice: the execution name is taken.
    await expect(submitter.submit({ jobId: "job-sfn-1", config, traceHeaders: {} })).rejects.toThrow();
  });

  it("ECS cancel: stops the task named by the job's recorded reference, from a fresh submitter", async () => {
    const { cluster, taskDefinition } = await ecsFixture(aws);
    const options = { aws, cluster, taskDefinition, capacity: "FARGATE" as const, ...network };
    const receipt = await createEcsSubmitter(options).submit({
      jobId: "job-ecs-cancel",
      config,
      traceHeaders: {},
    });
    // Another instance (or this one after a restart): nothing in memory, only the stored reference.
    await createEcsSubmitter(options).cancel("job-ecs-cancel", receipt.reference);
    const [task] = await describeTasks(aws.ecs, cluster, [receipt.reference]);
    expect(task?.desiredStatus).toBe("STOPPED");
    expect(task?.stoppedReason).toBe("job job-ecs-cancel cancelled by request");
    await expect(createEcsSubmitter(options).cancel("job-x")).rejects.toThrow(
      "job job-x: expected a recorded ECS task ARN to stop, got nothing",
    );
  });

  it("STEPFUNCTIONS cancel: stops the execution named by the job's recorded reference", async () => {
    const stateMachineArn = await waitStateMachine(aws);
    const receipt = await createStepFunctionsSubmitter({ aws, stateMachineArn }).submit({
      jobId: "job-sfn-cancel",
      config,
      traceHeaders: {},
    });
    expect((await describeExecution(aws.sfn, receipt.reference)).status).toBe("RUNNING");
    await createStepFunctionsSubmitter({ aws, stateMachineArn }).cancel("job-sfn-cancel", receipt.reference);
    expect((await describeExecution(aws.sfn, receipt.reference)).status).toBe("ABORTED");
  });
});
