// AWS Lambda entry (container image on lambdas/base): settings from env, read once per cold start.
import { createAwsClients } from "@tradai/aws";
import {
  createDynamoDbWorkflowStateRepository,
  createEcsSubmitter,
  createStepFunctionsSubmitter,
} from "@tradai/backtest";
import {
  createLogger,
  enumField,
  listField,
  loadConfig,
  optionalStringField,
  stringField,
} from "@tradai/common";
import { createBacktestConsumer, type SqsBatchResponse, type SqsEvent } from "./backtest-consumer";

const schema = {
  idempotencyTable: stringField({
    description: "DynamoDB idempotency table",
    default: "tradai-backtest-idempotency-dev",
  }),
  workflowStateTable: stringField({
    description: "the backtest service's DynamoDB workflow-state table (jobs final there are not launched)",
    default: "tradai-workflow-state-dev",
  }),
  launch: enumField(["ECS", "STEPFUNCTIONS"], {
    description: "what a job launches",
    default: "ECS",
    caseInsensitive: true,
  }),
  ecsCluster: optionalStringField({ description: "ECS cluster" }),
  ecsTaskDefinition: optionalStringField({ description: "strategy-container task definition" }),
  ecsSubnets: listField({ description: "subnets", default: [] }),
  ecsSecurityGroups: listField({ description: "security groups", default: [] }),
  stateMachineArn: optionalStringField({ description: "backtest state machine" }),
  region: stringField({ description: "AWS region", default: "eu-central-1" }),
  endpointUrl: optionalStringField({ description: "AWS endpoint override (tests)" }),
};

let consumer: Promise<ReturnType<typeof createBacktestConsumer>> | undefined;

async function build() {
  const config = loadConfig({ prefix: "BACKTEST_CONSUMER_", schema, env: process.env });
  const missing: string[] = [];
  if (config.launch === "ECS") {
    if (config.ecsCluster === undefined) missing.push("BACKTEST_CONSUMER_ECS_CLUSTER");
    if (config.ecsTaskDefinition === undefined) missing.push("BACKTEST_CONSUMER_ECS_TASK_DEFINITION");
    if (config.ecsSubnets.length === 0) missing.push("BACKTEST_CONSUMER_ECS_SUBNETS");
    if (config.ecsSecurityGroups.length === 0) missing.push("BACKTEST_CONSUMER_ECS_SECURITY_GROUPS");
  } else if (config.stateMachineArn === undefined) missing.push("BACKTEST_CONSUMER_STATE_MACHINE_ARN");
  if (missing.length > 0)
    throw new Error(`backtest-consumer: expected ${missing.join(", ")} to be set, got nothing`);
  const aws = createAwsClients({
    region: config.region,
    ...(config.endpointUrl === undefined ? {} : { endpoint: config.endpointUrl }),
  });
  return createBacktestConsumer({
    aws,
    idempotencyTable: config.idempotencyTable,
    workflowState: await createDynamoDbWorkflowStateRepository({
      clients: aws,
      tableName: config.workflowStateTable,
    }),
    launcher:
      config.launch === "ECS"
        ? createEcsSubmitter({
            aws,
            cluster: config.ecsCluster ?? "",
            taskDefinition: config.ecsTaskDefinition ?? "",
            subnets: config.ecsSubnets,
            securityGroups: config.ecsSecurityGroups,
          })
        : createStepFunctionsSubmitter({ aws, stateMachineArn: config.stateMachineArn ?? "" }),
    logger: createLogger({ service: "backtest-consumer" }),
  });
}

export async function handler(event: SqsEvent): Promise<SqsBatchResponse> {
  consumer ??= build().catch((error: unknown) => {
    consumer = undefined;
    throw error;
  });
  const { batchItemFailures } = await (await consumer).handle(event);
  return { batchItemFailures };
}
