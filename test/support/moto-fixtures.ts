// AWS fixtures on moto_server for executor tests: a FIFO queue, an ECS cluster with a
// strategy-container task definition in moto's default VPC, a state machine, a DynamoDB table.
import { DescribeSecurityGroupsCommand, DescribeSubnetsCommand, EC2Client } from "@aws-sdk/client-ec2";
import { CreateClusterCommand, RegisterTaskDefinitionCommand } from "@aws-sdk/client-ecs";
import { createAwsClients, createQueue, createStateMachine, ensureTable, type AwsClients } from "@tradai/aws";

export const motoUrl = () => process.env.TRADAI_TEST_MOTO_URL ?? "";
export const uniqueName = (prefix: string) =>
  `${prefix}-${process.pid}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6)}`;

export function motoClients(): AwsClients {
  return createAwsClients({
    region: "us-east-1",
    endpoint: motoUrl(),
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
  });
}

export async function defaultNetwork(): Promise<{ subnets: string[]; securityGroups: string[] }> {
  const ec2 = new EC2Client({
    region: "us-east-1",
    endpoint: motoUrl(),
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
  });
  try {
    const subnet = (await ec2.send(new DescribeSubnetsCommand({}))).Subnets?.[0]?.SubnetId ?? "";
    const group = (await ec2.send(new DescribeSecurityGroupsCommand({}))).SecurityGroups?.[0]?.GroupId ?? "";
    return { subnets: [subnet], securityGroups: [group] };
  } finally {
    ec2.destroy();
  }
}

export async function ecsFixture(aws: AwsClients): Promise<{ cluster: string; taskDefinition: string }> {
  const cluster = uniqueName("tradai");
  await aws.ecs.send(
    new CreateClusterCommand({ clusterName: cluster, capacityProviders: ["FARGATE", "FARGATE_SPOT"] }),
  );
  const registered = await aws.ecs.send(
    new RegisterTaskDefinitionCommand({
      family: uniqueName("strategy-container"),
      requiresCompatibilities: ["FARGATE"],
      networkMode: "awsvpc",
      cpu: "1024",
      memory: "2048",
      containerDefinitions: [
        {
          name: "strategy-container",
          image: "tradai/strategy-container:latest",
          essential: true,
          cpu: 1024,
          memory: 2048,
        },
      ],
    }),
  );
  return { cluster, taskDefinition: registered.taskDefinition?.taskDefinitionArn ?? "" };
}

export function fifoQueue(aws: AwsClients): Promise<string> {
  return createQueue(aws.sqs, { name: `${uniqueName("backtests")}.fifo` });
}

export function passStateMachine(aws: AwsClients): Promise<string> {
  return createStateMachine(aws.sfn, {
    name: uniqueName("backtest"),
    roleArn: "arn:aws:iam::123456789012:role/tradai-sfn",
    definition: { StartAt: "Done", States: { Done: { Type: "Pass", End: true } } },
  });
}

export async function idempotencyTable(aws: AwsClients): Promise<string> {
  const name = uniqueName("idempotency");
  await ensureTable(aws.dynamodb, {
    TableName: name,
    KeySchema: [{ AttributeName: "job_id", KeyType: "HASH" }],
    AttributeDefinitions: [{ AttributeName: "job_id", AttributeType: "S" }],
    BillingMode: "PAY_PER_REQUEST",
  });
  return name;
}
