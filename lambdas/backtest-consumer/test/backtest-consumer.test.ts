// backtest-consumer against moto_server: real SQS messages (sent by the SQS submitter, received
// back and shaped as the Lambda SQS event), a real DynamoDB idempotency table, the backtest
// service's real DynamoDB workflow-state table, real ECS RunTask and Step Functions StartExecution.
import { describeExecution, listTaskArns, receiveMessages, type ReceivedMessage } from "@tradai/aws";
import {
  createDynamoDbWorkflowStateRepository,
  type BacktestConfig,
  type WorkflowStateRepository,
} from "@tradai/backtest";
import { createLogger } from "@tradai/common";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEcsSubmitter, createSqsSubmitter, createStepFunctionsSubmitter } from "@tradai/backtest";
import {
  defaultNetwork,
  ecsFixture,
  fifoQueue,
  idempotencyTable,
  motoClients,
  passStateMachine,
  uniqueName,
} from "../../../test/support/moto-fixtures";
import { createBacktestConsumer, type SqsEvent } from "../src/backtest-consumer";

const config: BacktestConfig = {
  strategy: "ema_cross",
  strategy_version: "v1",
  exchange: "binance",
  pairs: ["BTC/USDT"],
  timeframe: "5m",
  timerange: "20250101-20250201",
  stake_amount: 100,
  dry_run_wallet: 1000,
  max_open_trades: 1,
  params: {},
  stake_currency: "USDT",
  timeframe_detail: "",
};
const traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
const logger = createLogger({ service: "test", level: "silent" });

/** The Lambda SQS event record for a received message (camelCase keys, as Lambda delivers them). */
const toEvent = (messages: ReceivedMessage[]): SqsEvent => ({
  Records: messages.map((message) => ({
    messageId: message.messageId,
    receiptHandle: message.receiptHandle,
    body: message.body,
    attributes: { ApproximateReceiveCount: String(message.receiveCount) },
    messageAttributes: Object.fromEntries(
      Object.entries(message.attributes).map(([name, value]) => [
        name,
        { stringValue: value, dataType: "String" },
      ]),
    ),
  })),
});

describe.runIf(process.env.TRADAI_TEST_MOTO_URL)("backtest-consumer Lambda", () => {
  const aws = motoClients();
  let network: { subnets: string[]; securityGroups: string[] };
  let workflowState: WorkflowStateRepository;
  beforeAll(async () => {
    network = await defaultNetwork();
    workflowState = await createDynamoDbWorkflowStateRepository({
      clients: aws,
      tableName: uniqueName("workflow-state"),
      createTable: true,
    });
  });
  afterAll(async () => {
    await workflowState.close();
    aws.destroy();
  });
  /** The job's record, as the backtest service writes it before it sends the message. */
  const recorded = async (...jobIds: string[]) => {
    for (const jobId of jobIds) await workflowState.create({ config, jobId, executor: "SQS" });
  };

  it("launches one ECS task per job, even when the same job is delivered twice", async () => {
    const [queueUrl, table, ecs] = await Promise.all([
      fifoQueue(aws),
      idempotencyTable(aws),
      ecsFixture(aws),
    ]);
    await recorded("job-c1", "job-c2");
    const submitter = createSqsSubmitter({ aws, queueUrl });
    await submitter.submit({ jobId: "job-c1", config, traceHeaders: { traceparent } });
    await submitter.submit({ jobId: "job-c2", config, traceHeaders: {} });
    const received = await receiveMessages(aws.sqs, { queueUrl, maxMessages: 10, waitTimeSeconds: 1 });
    expect(received).toHaveLength(2);
    const consumer = createBacktestConsumer({
      aws,
      idempotencyTable: table,
      workflowState,
      launcher: createEcsSubmitter({
        aws,
        cluster: ecs.cluster,
        taskDefinition: ecs.taskDefinition,
        capacity: "FARGATE",
        ...network,
      }),
      logger,
    });
    // The first message arrives again in a later batch (a redelivery after a visibility timeout).
    const first = await consumer.handle(toEvent(received));
    const again = await consumer.handle(toEvent([received[0]!]));
    expect(first.batchItemFailures).toEqual([]);
    expect(first.outcomes.map((outcome) => [outcome.jobId, outcome.outcome])).toEqual([
      ["job-c1", "launched"],
      ["job-c2", "launched"],
    ]);
    expect(again.outcomes.map((outcome) => [outcome.jobId, outcome.outcome])).toEqual([
      ["job-c1", "duplicate"],
    ]);
    const tasks = await listTaskArns(aws.ecs, ecs.cluster);
    expect(tasks).toHaveLength(2);
    expect(tasks).toContain(first.outcomes[0]?.reference);
  });

  it("starts a Step Functions execution with {job_id, job} and the trace context from the attributes", async () => {
    const [queueUrl, table, stateMachineArn] = await Promise.all([
      fifoQueue(aws),
      idempotencyTable(aws),
      passStateMachine(aws),
    ]);
    await recorded("job-s1");
    await createSqsSubmitter({ aws, queueUrl }).submit({
      jobId: "job-s1",
      config,
      traceHeaders: { traceparent },
    });
    const received = await receiveMessages(aws.sqs, { queueUrl, maxMessages: 10, waitTimeSeconds: 1 });
    const consumer = createBacktestConsumer({
      aws,
      idempotencyTable: table,
      workflowState,
      launcher: createStepFunctionsSubmitter({ aws, stateMachineArn }),
      logger,
    });
    const result = await consumer.handle(toEvent(received));
    expect(result.outcomes[0]?.outcome).toBe("launched");
    const execution = await describeExecution(aws.sfn, result.outcomes[0]?.reference ?? "");
    expect(execution.name).toBe("job-s1");
    expect(JSON.parse(execution.input ?? "null")).toEqual({
      job_id: "job-s1",
      job: { job_id: "job-s1", config, trace: { traceparent } },
    });
  });

  it("drops a malformed message and reports a failed launch for redelivery, releasing its claim", async () => {
    const table = await idempotencyTable(aws);
    const consumer = createBacktestConsumer({
      aws,
      idempotencyTable: table,
      workflowState,
      launcher: createEcsSubmitter({
        aws,
        cluster: "no-such-cluster",
        taskDefinition: "nope",
        capacity: "FARGATE",
        ...network,
      }),
      logger,
    });
    await recorded("job-f1");
    const body = JSON.stringify({ job_id: "job-f1", config, trace: {} });
    const result = await consumer.handle({
      Records: [
        { messageId: "m-bad", body: '{"job_id": ' },
        { messageId: "m-ok", body },
      ],
    });
    expect(result.outcomes.map((outcome) => outcome.outcome)).toEqual(["rejected", "failed"]);
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: "m-ok" }]);
    // The claim was released: a redelivery tries to launch again instead of being skipped as a duplicate.
    const retry = await consumer.handle({ Records: [{ messageId: "m-ok", body }] });
    expect(retry.outcomes[0]?.outcome).toBe("failed");
  });

  it("does not launch a job that was cancelled (or finished, or removed) while its message waited", async () => {
    const [queueUrl, table, ecs] = await Promise.all([
      fifoQueue(aws),
      idempotencyTable(aws),
      ecsFixture(aws),
    ]);
    await recorded("job-x-cancelled", "job-x-failed", "job-x-queued");
    await workflowState.transition("job-x-cancelled", { to: "CANCELLED", error: "cancelled by request" });
    await workflowState.transition("job-x-failed", { to: "FAILED", error: "boom" });
    const submitter = createSqsSubmitter({ aws, queueUrl });
    for (const jobId of ["job-x-cancelled", "job-x-failed", "job-x-unrecorded", "job-x-queued"])
      await submitter.submit({ jobId, config, traceHeaders: {} });
    const received = await receiveMessages(aws.sqs, { queueUrl, maxMessages: 10, waitTimeSeconds: 1 });
    expect(received).toHaveLength(4);
    const consumer = createBacktestConsumer({
      aws,
      idempotencyTable: table,
      workflowState,
      launcher: createEcsSubmitter({
        aws,
        cluster: ecs.cluster,
        taskDefinition: ecs.taskDefinition,
        capacity: "FARGATE",
        ...network,
      }),
      logger,
    });
    const result = await consumer.handle(toEvent(received));
    expect(result.batchItemFailures).toEqual([]);
    expect(result.outcomes.map(({ jobId, outcome, reason }) => [jobId, outcome, reason])).toEqual([
      ["job-x-cancelled", "skipped", "the job is already CANCELLED"],
      ["job-x-failed", "skipped", "the job is already FAILED"],
      ["job-x-unrecorded", "skipped", "the job has no record in the workflow-state table"],
      ["job-x-queued", "launched", undefined],
    ]);
    // One task: the QUEUED job's.
    const tasks = await listTaskArns(aws.ecs, ecs.cluster);
    expect(tasks).toEqual([result.outcomes[3]?.reference]);
  });
});
