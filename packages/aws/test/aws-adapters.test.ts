// The AWS adapters against moto_server (TRADAI_TEST_MOTO_URL; run with TRADAI_TEST_DEPS=moto).
// Every test uses its own queue, cluster, table, bucket or topic name.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DescribeSecurityGroupsCommand, DescribeSubnetsCommand, EC2Client } from "@aws-sdk/client-ec2";
import { CreateClusterCommand, RegisterTaskDefinitionCommand } from "@aws-sdk/client-ecs";
import { PutCommand } from "@aws-sdk/lib-dynamodb";
import { SubscribeCommand } from "@aws-sdk/client-sns";
import { GetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import {
  createAwsClients,
  createQueue,
  createStateMachine,
  createTopic,
  deleteMessage,
  deleteTableIfExists,
  describeExecution,
  describeTasks,
  ensureBucket,
  ensureTable,
  getObject,
  getObjectText,
  isConditionalCheckFailed,
  listObjects,
  listTaskArns,
  parseS3Uri,
  publish,
  putObject,
  queueDepth,
  receiveMessages,
  runTask,
  s3Uri,
  sendMessage,
  startExecution,
  stopTask,
  type AwsClients,
} from "../src/index";

const motoUrl = process.env.TRADAI_TEST_MOTO_URL;
const name = (prefix: string) => `${prefix}-${randomBytes(5).toString("hex")}`;
const TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

describe("createAwsClients", () => {
  it("rejects a missing region or a malformed endpoint, naming the field", () => {
    expect(() => createAwsClients({ region: "" })).toThrow(
      'region: expected an AWS region such as "us-east-1", got ""',
    );
    expect(() => createAwsClients({ region: "us-east-1", endpoint: "localhost:5000" })).toThrow(
      'endpoint: expected an http(s) URL, got "localhost:5000"',
    );
  });

  it("builds clients lazily and points them at the endpoint", async () => {
    const clients = createAwsClients({ region: "eu-west-1", endpoint: "http://127.0.0.1:1" });
    const endpoint = await clients.sqs.config.endpoint?.();
    expect(endpoint?.hostname).toBe("127.0.0.1");
    expect(await clients.s3.config.region()).toBe("eu-west-1");
    expect(clients.s3.config.forcePathStyle).toBe(true);
    clients.destroy();
  });
});

describe.skipIf(motoUrl === undefined)("AWS adapters on moto", () => {
  let clients: AwsClients;

  beforeAll(() => {
    clients = createAwsClients({
      region: "us-east-1",
      endpoint: motoUrl,
      credentials: { accessKeyId: "test", secretAccessKey: "test" },
    });
  });
  afterAll(() => clients.destroy());

  it("sends to a FIFO queue with group, deduplication id and trace context, then receives and deletes", async () => {
    const queueUrl = await createQueue(clients.sqs, { name: `${name("backtest")}.fifo` });
    const attributes = await clients.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["FifoQueue"] }),
    );
    expect(attributes.Attributes?.FifoQueue).toBe("true");

    const job = { job_id: "job-1", strategy: "SampleStrategy" };
    const first = await sendMessage(clients.sqs, {
      queueUrl,
      body: job,
      messageGroupId: "SampleStrategy",
      messageDeduplicationId: "job-1",
      traceContext: { traceparent: TRACEPARENT, tracestate: "vendor=1", unrelated: "dropped" },
      attributes: { job_id: "job-1" },
    });
    expect(first.messageId).not.toBe("");
    expect(first.sequenceNumber).toBeDefined();
    // The same deduplication id within 5 minutes is accepted but not delivered twice.
    await sendMessage(clients.sqs, {
      queueUrl,
      body: job,
      messageGroupId: "SampleStrategy",
      messageDeduplicationId: "job-1",
    });

    const received = await receiveMessages(clients.sqs, {
      queueUrl,
      maxMessages: 10,
      visibilityTimeoutSeconds: 30,
    });
    expect(received).toHaveLength(1);
    const message = received[0]!;
    expect(JSON.parse(message.body)).toEqual(job);
    expect(message.traceContext).toEqual({ traceparent: TRACEPARENT, tracestate: "vendor=1" });
    expect(message.attributes.job_id).toBe("job-1");
    expect(message.attributes.unrelated).toBeUndefined();
    expect(message.messageGroupId).toBe("SampleStrategy");
    expect(message.messageDeduplicationId).toBe("job-1");
    expect(message.receiveCount).toBe(1);

    await deleteMessage(clients.sqs, queueUrl, message.receiptHandle);
    expect(await queueDepth(clients.sqs, queueUrl)).toEqual({ visible: 0, inFlight: 0 });
    await expect(sendMessage(clients.sqs, { queueUrl, body: "x" })).rejects.toThrow(
      /messageGroupId: expected a group id for FIFO queue/,
    );
  });

  it("runs an ECS task on FARGATE with awsvpc networking and container overrides", async () => {
    // moto validates subnets and security groups: use its default VPC's.
    const ec2 = new EC2Client({
      region: "us-east-1",
      endpoint: motoUrl,
      credentials: { accessKeyId: "test", secretAccessKey: "test" },
    });
    const subnet = (await ec2.send(new DescribeSubnetsCommand({}))).Subnets?.[0]?.SubnetId ?? "";
    const securityGroup =
      (await ec2.send(new DescribeSecurityGroupsCommand({}))).SecurityGroups?.[0]?.GroupId ?? "";
    ec2.destroy();
    const cluster = name("tradai");
    await clients.ecs.send(
      new CreateClusterCommand({ clusterName: cluster, capacityProviders: ["FARGATE", "FARGATE_SPOT"] }),
    );
    const registered = await clients.ecs.send(
      new RegisterTaskDefinitionCommand({
        family: "strategy-container",
        requiresCompatibilities: ["FARGATE"],
        networkMode: "awsvpc",
        cpu: "1024",
        memory: "2048",
        // moto needs container-level cpu/memory to place a task.
        containerDefinitions: [
          { name: "worker", image: "tradai/worker:latest", essential: true, cpu: 1024, memory: 2048 },
        ],
      }),
    );
    const taskDefinition = registered.taskDefinition?.taskDefinitionArn ?? "";
    const launch = (jobId: string) =>
      runTask(clients.ecs, {
        cluster,
        taskDefinition,
        subnets: [subnet],
        securityGroups: [securityGroup],
        containerName: "worker",
        environment: { TRADAI_JOB_ID: jobId, TRADAI_JOB: JSON.stringify({ strategy: "SampleStrategy" }) },
        traceContext: { traceparent: TRACEPARENT },
        command: ["node", "worker.js", "--job", jobId],
        startedBy: `backtest-${jobId}`,
        tags: { job_id: jobId },
      });
    const first = await launch("job-42");
    const second = await launch("job-43");
    expect(first.taskArn).toMatch(/^arn:aws:ecs:us-east-1:\d+:task\//);

    const [described] = await describeTasks(clients.ecs, cluster, [first.taskArn]);
    expect(described?.launchType).toBe("FARGATE");
    const override = described?.overrides?.containerOverrides?.[0];
    expect(override?.name).toBe("worker");
    expect(override?.command).toEqual(["node", "worker.js", "--job", "job-42"]);
    expect(
      Object.fromEntries((override?.environment ?? []).map((entry) => [entry.name, entry.value])),
    ).toEqual({
      TRADAI_JOB_ID: "job-42",
      TRADAI_JOB: '{"strategy":"SampleStrategy"}',
      TRACEPARENT,
    });
    expect(described?.startedBy).toBe("backtest-job-42");
    expect(described?.tags).toEqual([{ key: "job_id", value: "job-42" }]);
    const eni = described?.attachments?.find((attachment) => attachment.type === "ElasticNetworkInterface");
    expect(eni?.details?.find((detail) => detail.name === "subnetId")?.value).toBe(subnet);

    expect((await listTaskArns(clients.ecs, cluster)).sort()).toEqual([first.taskArn, second.taskArn].sort());
    await stopTask(clients.ecs, cluster, second.taskArn, "test done");
    expect(await listTaskArns(clients.ecs, cluster)).toEqual([first.taskArn]);
  });

  it("starts a Step Functions execution with the job as input and describes it", async () => {
    const stateMachineArn = await createStateMachine(clients.sfn, {
      name: name("backtest"),
      roleArn: "arn:aws:iam::123456789012:role/tradai-sfn",
      definition: { StartAt: "Done", States: { Done: { Type: "Pass", End: true } } },
    });
    const input = { job_id: "job-7", trace_context: { traceparent: TRACEPARENT } };
    const started = await startExecution(clients.sfn, { stateMachineArn, name: "job-7", input });
    expect(started.executionArn).toContain(":execution:");
    const described = await describeExecution(clients.sfn, started.executionArn);
    expect(described.name).toBe("job-7");
    expect(described.stateMachineArn).toBe(stateMachineArn);
    expect(JSON.parse(described.input ?? "null")).toEqual(input);
    expect(["RUNNING", "SUCCEEDED"]).toContain(described.status);
    await expect(startExecution(clients.sfn, { stateMachineArn, name: "job 7!", input })).rejects.toThrow(
      'name: expected 1..80 characters of A-Z a-z 0-9 - _, got "job 7!"',
    );
  });

  it("creates DynamoDB tables idempotently and reports failed conditional writes", async () => {
    const tableName = name("table");
    const definition = {
      TableName: tableName,
      BillingMode: "PAY_PER_REQUEST" as const,
      AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" as const }],
      KeySchema: [{ AttributeName: "pk", KeyType: "HASH" as const }],
    };
    expect(await ensureTable(clients.dynamodb, definition)).toBe(true);
    expect(await ensureTable(clients.dynamodb, definition)).toBe(false);
    const put = () =>
      clients.dynamodbDocument.send(
        new PutCommand({
          TableName: tableName,
          Item: { pk: "a", optional: undefined },
          ConditionExpression: "attribute_not_exists(pk)",
        }),
      );
    await put();
    const error = await put().catch((reason: unknown) => reason);
    expect(isConditionalCheckFailed(error)).toBe(true);
    expect(isConditionalCheckFailed(new Error("other"))).toBe(false);
    await deleteTableIfExists(clients.dynamodb, tableName);
    await deleteTableIfExists(clients.dynamodb, tableName);
  });

  it("puts, gets and lists S3 objects across pages", async () => {
    const bucket = name("results");
    await ensureBucket(clients.s3, bucket);
    await ensureBucket(clients.s3, bucket);
    await putObject(clients.s3, { bucket, key: "jobs/a/result.json", body: { total_profit: 0.25 } });
    await putObject(clients.s3, { bucket, key: "jobs/a/trades.csv", body: "pair,profit\nBTC/USDT,1.5\n" });
    await putObject(clients.s3, { bucket, key: "jobs/b/chart.png", body: new Uint8Array([137, 80, 78, 71]) });
    await putObject(clients.s3, { bucket, key: "other/x", body: "x" });

    expect(
      JSON.parse((await getObjectText(clients.s3, { bucket, key: "jobs/a/result.json" })) ?? ""),
    ).toEqual({
      total_profit: 0.25,
    });
    expect(Array.from((await getObject(clients.s3, { bucket, key: "jobs/b/chart.png" })) ?? [])).toEqual([
      137, 80, 78, 71,
    ]);
    expect(await getObject(clients.s3, { bucket, key: "jobs/missing" })).toBeUndefined();

    const listed = await listObjects(clients.s3, { bucket, prefix: "jobs/", pageSize: 2 });
    expect(listed.map((object) => [object.key, object.size])).toEqual([
      ["jobs/a/result.json", 21],
      ["jobs/a/trades.csv", 25],
      ["jobs/b/chart.png", 4],
    ]);
    expect(parseS3Uri("s3://results/jobs/a/result.json")).toEqual({
      bucket: "results",
      key: "jobs/a/result.json",
    });
    expect(s3Uri({ bucket, key: "k/1" })).toBe(`s3://${bucket}/k/1`);
    expect(() => parseS3Uri("https://x/y")).toThrow('expected an s3://bucket/key URI, got "https://x/y"');
  });

  it("publishes to an SNS topic that delivers to a subscribed queue", async () => {
    const topicArn = await createTopic(clients.sns, name("alerts"));
    const queueUrl = await createQueue(clients.sqs, { name: name("alerts-sink") });
    const queueArn = (
      await clients.sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["QueueArn"] }),
      )
    ).Attributes?.QueueArn;
    await clients.sns.send(
      new SubscribeCommand({
        TopicArn: topicArn,
        Protocol: "sqs",
        Endpoint: queueArn,
        Attributes: { RawMessageDelivery: "true" },
      }),
    );
    const { messageId } = await publish(clients.sns, {
      topicArn,
      subject: "orphan tasks",
      message: { orphans: 2 },
      attributes: { severity: "warning" },
    });
    expect(messageId).not.toBe("");
    const delivered = await receiveMessages(clients.sqs, { queueUrl, waitTimeSeconds: 1 });
    expect(delivered.map((message) => JSON.parse(message.body) as unknown)).toEqual([{ orphans: 2 }]);
    await expect(publish(clients.sns, { topicArn, message: "x", subject: "s".repeat(101) })).rejects.toThrow(
      "subject: expected at most 100 characters, got 101",
    );
  });
});
