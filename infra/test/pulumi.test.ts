// The Pulumi program under mocks, once per environment: it must deploy what infra/shared/config.ts
// says, with the spec's policy (spot, consolidation, schedules, retention, no public buckets, IAM
// scoped to ARNs).
import * as pulumi from "@pulumi/pulumi";
import { workflowStateTableDefinition } from "@tradai/backtest";
import { beforeAll, describe, expect, it } from "vitest";
import {
  CONSOLIDATED_SERVICES,
  ENVIRONMENTS,
  LAMBDA_NAMES,
  SCHEDULED_LAMBDAS,
  SERVICES,
  SERVICE_NAMES,
  TOPOLOGY,
  lambdaFunctionName,
  lambdaVariables,
  tableName,
} from "../shared/config";
import type { Environment } from "../shared/config";
import { WILDCARD_ONLY_ACTIONS } from "../src/iam";
import { ecsEnvironment, loadBacktestEnvironment, loadWorkerEnvironment } from "./deployment-env";
import { ACCOUNT, runProgram } from "./pulumi-mocks";
import type { RecordedResource } from "./pulumi-mocks";
import { lambdaSchema, rejectedLambdaVariables, rejectedVariables } from "./service-schemas";

/* eslint-disable @typescript-eslint/no-explicit-any -- recorded inputs are untyped JSON */
const stacks = {} as Record<Environment, RecordedResource[]>;

beforeAll(async () => {
  for (const environment of ENVIRONMENTS) stacks[environment] = await runProgram({ environment });
}, 60_000);

const ofType = (resources: RecordedResource[], type: string) =>
  resources.filter((resource) => resource.type === type);
const one = (resources: RecordedResource[], type: string, name: string) => {
  const found = resources.find((resource) => resource.type === type && resource.name === name);
  if (found === undefined) throw new Error(`expected ${type} ${name}, got none`);
  return found;
};
const containerOf = (resources: RecordedResource[], environment: Environment, service: string) =>
  JSON.parse(
    one(resources, "aws:ecs/taskDefinition:TaskDefinition", `tradai-${environment}-${service}`).inputs
      .containerDefinitions,
  )[0];
const environmentOf = (resources: RecordedResource[], environment: Environment, service: string) =>
  Object.fromEntries(
    (containerOf(resources, environment, service).environment as { name: string; value: string }[]).map(
      (entry) => [entry.name, entry.value],
    ),
  );
/** Variables a boot script writes into a service's env file on the consolidated host. */
const hostEnvironmentOf = (userData: string, service: string) =>
  Object.fromEntries(
    [
      ...userData.matchAll(
        new RegExp(`^echo '([A-Z0-9_]+)=(.*)' >> /var/lib/tradai/${service}\\.env$`, "gm"),
      ),
    ].map((match) => [match[1], match[2]]),
  );
describe.each(ENVIRONMENTS.map((environment) => [environment]))("stack %s", (environment) => {
  const resources = () => stacks[environment as Environment];
  const env = environment as Environment;

  it("has a task definition per SERVICES entry with its cpu, memory, port and health check", () => {
    for (const name of SERVICE_NAMES) {
      const service = SERVICES[name];
      const definition = one(
        resources(),
        "aws:ecs/taskDefinition:TaskDefinition",
        `tradai-${env}-${name}`,
      ).inputs;
      expect(definition).toMatchObject({
        cpu: String(service.cpu),
        memory: String(service.memory),
        networkMode: "awsvpc",
        requiresCompatibilities: ["FARGATE"],
      });
      const container = containerOf(resources(), env, name);
      expect(container.image).toBe(
        `${ACCOUNT}.dkr.ecr.eu-central-1.amazonaws.com/${service.ecrRepository}:latest`,
      );
      expect(container.logConfiguration.options["awslogs-group"]).toBe(`/ecs/tradai/${env}/services`);
      if (service.port === null) {
        expect(container.portMappings).toEqual([]);
        expect(container.healthCheck).toBeUndefined();
      } else {
        expect(container.portMappings[0].containerPort).toBe(service.port);
        const command = (container.healthCheck.command as string[]).join(" ");
        expect(command).toContain(`http://127.0.0.1:${service.port}${service.healthPath}`);
        expect(command).not.toContain("curl");
        expect(container.healthCheck.startPeriod).toBe(service.startPeriod);
      }
    }
    expect(containerOf(resources(), env, "dry-run-trading").command).toEqual(["--mode", "dry-run"]);
  });

  it("gives the backtest service the spec's executor settings (BACKEND_*)", () => {
    const variables = Object.fromEntries(
      (containerOf(resources(), env, "backtest").environment as { name: string; value: string }[]).map(
        (entry) => [entry.name, entry.value],
      ),
    );
    expect(variables).toMatchObject({
      BACKEND_ECS_CLUSTER: `tradai-${env}`,
      BACKEND_ECS_SECURITY_GROUPS: `tradai-${env}-services-id`,
      BACKEND_ECS_SUBNETS: `tradai-${env}-private-eu-central-1a-id,tradai-${env}-private-eu-central-1b-id`,
      BACKEND_BACKTEST_QUEUE_URL: `https://sqs.eu-central-1.amazonaws.com/${ACCOUNT}/tradai-backtest-${env}.fifo`,
      BACKEND_STEPFUNCTIONS_STATE_MACHINE_ARN: `arn:aws:states:eu-central-1:${ACCOUNT}:stateMachine:tradai-backtest-workflow-${env}`,
    });
    const host = ofType(resources(), "aws:ec2/instance:Instance")[0];
    if (host !== undefined) expect(host.inputs.userData).toContain(`BACKEND_ECS_CLUSTER=tradai-${env}`);
  });

  it("sets only variables the services' config schemas accept", () => {
    const rejected: string[] = [];
    for (const name of SERVICE_NAMES) {
      const container = containerOf(resources(), env, name);
      const variables = [...container.environment, ...container.secrets].map(
        (entry: { name: string }) => entry.name,
      );
      rejected.push(...rejectedVariables(name, variables).map((variable) => `${name}: ${variable}`));
    }
    expect(rejected).toEqual([]);
  });

  it("selects the SQS executor with DynamoDB job state and S3 results, on Fargate and the host", () => {
    const expected = {
      BACKEND_EXECUTOR_MODE: "SQS",
      BACKEND_DEV_MODE: "false",
      BACKEND_AWS_REGION: "eu-central-1",
      BACKEND_STATE_STORE: "dynamodb",
      BACKEND_WORKFLOW_STATE_TABLE: tableName(env, "workflowState"),
      BACKEND_RESULT_STORE: `s3://tradai-results-${env}/backtests/`,
    };
    const variables = environmentOf(resources(), env, "backtest");
    expect(variables).toMatchObject(expected);
    // Through the service's own loader and ExecutorFactory.missingSettings, as at start-up.
    const loaded = loadBacktestEnvironment(ecsEnvironment(containerOf(resources(), env, "backtest")));
    expect(loaded).toMatchObject({
      ok: true,
      settings: { executorMode: "SQS", stateStore: "dynamodb", devMode: false, port: 8001 },
    });
    const host = ofType(resources(), "aws:ec2/instance:Instance")[0];
    if (host !== undefined) {
      const onHost = hostEnvironmentOf(host.inputs.userData as string, "backtest");
      expect(onHost).toMatchObject(expected);
      expect(loadBacktestEnvironment(onHost)).toMatchObject({
        ok: true,
        settings: { executorMode: "SQS", stateStore: "dynamodb", host: "0.0.0.0" },
      });
    }
    // The worker task loads through the worker's schema with the same state and result stores.
    expect(
      loadWorkerEnvironment(ecsEnvironment(containerOf(resources(), env, "strategy-container"))),
    ).toMatchObject({
      ok: true,
      settings: { stateStore: "dynamodb", resultStore: expected.BACKEND_RESULT_STORE },
    });
    // DynamoDB, not PostgreSQL: no task may reference the PostgreSQL URL secrets.
    for (const name of ["backtest", "strategy-container"]) {
      expect(containerOf(resources(), env, name).secrets, name).toEqual([]);
    }
  });

  it("gives the worker task the services' Cloud Map URLs, the DynamoDB state store and S3 results", () => {
    const namespace = `tradai-${env}.local`;
    expect(environmentOf(resources(), env, "strategy-container")).toEqual({
      TRADAI_ENVIRONMENT: env,
      WORKER_STRATEGY_SERVICE_URL: `http://strategy-service.${namespace}:8003`,
      WORKER_DATA_COLLECTION_URL: `http://data-collection.${namespace}:8002`,
      WORKER_MLFLOW_TRACKING_URI: `http://mlflow.${namespace}:5000/mlflow`,
      WORKER_STATE_STORE: "dynamodb",
      WORKER_WORKFLOW_STATE_TABLE: tableName(env, "workflowState"),
      WORKER_AWS_REGION: "eu-central-1",
      WORKER_RESULT_STORE: `s3://tradai-results-${env}/backtests/`,
    });
  });

  it("creates the workflow-state table exactly as the repository defines it", () => {
    const name = tableName(env, "workflowState");
    const table = one(resources(), "aws:dynamodb/table:Table", name).inputs;
    const definition = workflowStateTableDefinition(name);
    const keyOf = (keys: { AttributeName?: string; KeyType?: string }[] | undefined, type: string) =>
      keys?.find((key) => key.KeyType === type)?.AttributeName;
    expect({
      name: table.name,
      billingMode: table.billingMode,
      hashKey: table.hashKey,
      rangeKey: table.rangeKey,
      attributes: [...table.attributes].sort((a: any, b: any) => a.name.localeCompare(b.name)),
      globalSecondaryIndexes: table.globalSecondaryIndexes ?? [],
    }).toEqual({
      name: definition.TableName,
      billingMode: definition.BillingMode,
      hashKey: keyOf(definition.KeySchema, "HASH"),
      rangeKey: keyOf(definition.KeySchema, "RANGE"),
      attributes: (definition.AttributeDefinitions ?? [])
        .map((attribute) => ({ name: attribute.AttributeName, type: attribute.AttributeType }))
        .sort((a, b) => (a.name ?? "").localeCompare(b.name ?? "")),
      globalSecondaryIndexes: (definition.GlobalSecondaryIndexes ?? []).map((index) => ({
        name: index.IndexName,
        hashKey: keyOf(index.KeySchema, "HASH"),
        ...(keyOf(index.KeySchema, "RANGE") === undefined
          ? {}
          : { rangeKey: keyOf(index.KeySchema, "RANGE") }),
        projectionType: index.Projection?.ProjectionType,
      })),
    });
  });

  it("creates backtest-consumer's claim table and lets only it write there", () => {
    const name = tableName(env, "backtestIdempotency");
    const table = one(resources(), "aws:dynamodb/table:Table", name).inputs;
    // lambdas/backtest-consumer/src/backtest-consumer.ts: PutItem ... attribute_not_exists(job_id), expires_at.
    expect(table).toMatchObject({ hashKey: "job_id", ttl: { attributeName: "expires_at", enabled: true } });
    const tableArn = `arn:aws:dynamodb:eu-central-1:${ACCOUNT}:${name}`;
    const writers = ofType(resources(), "aws:iam/rolePolicy:RolePolicy")
      .filter((policy) => policy.inputs.policy.includes(tableArn))
      .map((policy) => policy.name);
    expect(writers).toEqual([`${lambdaFunctionName(env, "backtest-consumer")}-role-policy`]);
  });

  it("gives every Lambda exactly the variables its handler's schema reads", () => {
    const rejected: string[] = [];
    for (const name of LAMBDA_NAMES) {
      const fn = one(resources(), "aws:lambda/function:Function", lambdaFunctionName(env, name)).inputs;
      const variables = Object.keys(fn.environment?.variables ?? {});
      if (name !== "update-nat-routes") {
        expect(variables.sort(), name).toEqual(Object.keys(lambdaVariables(TOPOLOGY.lambdas[name])).sort());
      }
      rejected.push(...rejectedLambdaVariables(name, variables).map((variable) => `${name}: ${variable}`));
    }
    expect(rejected).toEqual([]);
    // backtest-consumer: every variable of its schema but the test-only endpoint override.
    const schema = lambdaSchema("backtest-consumer");
    const consumer = one(
      resources(),
      "aws:lambda/function:Function",
      lambdaFunctionName(env, "backtest-consumer"),
    ).inputs.environment.variables;
    expect(Object.keys(consumer).sort()).toEqual(
      [...(schema?.variables ?? [])].filter((variable) => !variable.endsWith("_ENDPOINT_URL")).sort(),
    );
    expect(consumer).toMatchObject({
      BACKTEST_CONSUMER_IDEMPOTENCY_TABLE: tableName(env, "backtestIdempotency"),
      BACKTEST_CONSUMER_LAUNCH: "STEPFUNCTIONS",
      BACKTEST_CONSUMER_STATE_MACHINE_ARN: `arn:aws:states:eu-central-1:${ACCOUNT}:stateMachine:tradai-backtest-workflow-${env}`,
      BACKTEST_CONSUMER_REGION: "eu-central-1",
    });
  });

  it("never puts live trading on spot, and spot services on FARGATE_SPOT with a FARGATE share", () => {
    const services = ofType(resources(), "aws:ecs/service:Service");
    const live = services.find((service) => service.inputs.name === "live-trading");
    expect(live?.inputs.capacityProviderStrategies).toEqual([
      { capacityProvider: "FARGATE", weight: 1, base: 0 },
    ]);
    for (const service of services) {
      const providers = (service.inputs.capacityProviderStrategies as any[]).map(
        (entry) => entry.capacityProvider,
      );
      if (SERVICES[service.inputs.name as keyof typeof SERVICES].spot) {
        expect(providers.sort(), service.inputs.name).toEqual(["FARGATE", "FARGATE_SPOT"]);
      } else {
        expect(providers, service.inputs.name).toEqual(["FARGATE"]);
      }
    }
    const cluster = one(
      resources(),
      "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders",
      `tradai-${env}`,
    );
    expect(cluster.inputs.capacityProviders).toEqual(["FARGATE", "FARGATE_SPOT"]);
  });

  it("registers every long-running service in Cloud Map tradai-{env}.local (MULTIVALUE A, TTL 60)", () => {
    expect(
      ofType(resources(), "aws:servicediscovery/privateDnsNamespace:PrivateDnsNamespace")[0]?.inputs.name,
    ).toBe(`tradai-${env}.local`);
    const discovery = ofType(resources(), "aws:servicediscovery/service:Service");
    expect(discovery.map((service) => service.inputs.name).sort()).toEqual(
      SERVICE_NAMES.filter((name) => SERVICES[name].kind === "service").sort(),
    );
    for (const service of discovery) {
      expect(service.inputs.dnsConfig.routingPolicy).toBe("MULTIVALUE");
      expect(service.inputs.dnsConfig.dnsRecords).toEqual([{ type: "A", ttl: 60 }]);
    }
    expect(containerOf(resources(), env, "backtest").environment).toContainEqual({
      name: "BACKEND_DATA_COLLECTION_URL",
      value: `http://data-collection.tradai-${env}.local:8002`,
    });
  });

  it(
    env === "prod" ? "runs every service on Fargate" : "runs the consolidated services on one t3.small",
    () => {
      const fargate = ofType(resources(), "aws:ecs/service:Service").map(
        (service) => service.inputs.name as string,
      );
      const hosts = ofType(resources(), "aws:ec2/instance:Instance");
      const longRunning = SERVICE_NAMES.filter((name) => SERVICES[name].kind === "service");
      if (env === "prod") {
        expect(fargate.sort()).toEqual([...longRunning].sort());
        expect(hosts).toEqual([]);
        expect(
          one(resources(), "aws:lb/targetGroup:TargetGroup", "tradai-prod-gateway").inputs.targetType,
        ).toBe("ip");
      } else {
        expect(fargate.sort()).toEqual(
          longRunning.filter((name) => !CONSOLIDATED_SERVICES.includes(name)).sort(),
        );
        expect(hosts).toHaveLength(1);
        expect(hosts[0]?.inputs.instanceType).toBe("t3.small");
        const userData = hosts[0]?.inputs.userData as string;
        for (const name of CONSOLIDATED_SERVICES) {
          expect(userData).toContain(`--name ${name} `);
          expect(userData).toContain(`-p ${SERVICES[name].port}:${SERVICES[name].port}`);
        }
        const registered = ofType(resources(), "aws:servicediscovery/instance:Instance");
        expect(registered.map((instance) => instance.inputs.instanceId).sort()).toEqual(
          CONSOLIDATED_SERVICES.map((name) => `${name}-consolidated`).sort(),
        );
        expect(registered[0]?.inputs.attributes.AWS_INSTANCE_IPV4).toBe("10.0.10.5");
      }
    },
  );

  it("keeps logs 30 days in dev/staging and 90 in prod", () => {
    const retention = env === "prod" ? 90 : 30;
    const groups = ofType(resources(), "aws:cloudwatch/logGroup:LogGroup");
    expect(groups.length).toBe(1 + LAMBDA_NAMES.length + 1);
    for (const group of groups) expect(group.inputs.retentionInDays, group.inputs.name).toBe(retention);
    expect(groups.map((group) => group.inputs.name)).toContain(`/ecs/tradai/${env}/services`);
  });

  it("creates the 18 functions: 17 images from tradai/lambda-<name>, update-nat-routes inline", () => {
    const functions = ofType(resources(), "aws:lambda/function:Function");
    expect(functions).toHaveLength(18);
    for (const name of LAMBDA_NAMES) {
      const fn = one(resources(), "aws:lambda/function:Function", lambdaFunctionName(env, name)).inputs;
      expect(fn.memorySize, name).toBe(TOPOLOGY.lambdas[name].memory);
      expect(fn.timeout, name).toBe(TOPOLOGY.lambdas[name].timeout);
      expect(fn.vpcConfig !== undefined, name).toBe(TOPOLOGY.lambdas[name].vpc);
      if (name === "update-nat-routes") {
        expect(fn.packageType).toBe("Zip");
      } else {
        expect(fn.packageType).toBe("Image");
        expect(fn.imageUri).toBe(
          `${ACCOUNT}.dkr.ecr.eu-central-1.amazonaws.com/tradai/lambda-${name}:latest`,
        );
      }
    }
  });

  it("schedules every scheduled function at the configured rate", () => {
    const rules = ofType(resources(), "aws:cloudwatch/eventRule:EventRule").filter(
      (rule) => rule.inputs.scheduleExpression !== undefined,
    );
    expect(
      Object.fromEntries(rules.map((rule) => [rule.inputs.name, rule.inputs.scheduleExpression])),
    ).toEqual(
      Object.fromEntries(
        SCHEDULED_LAMBDAS.map((name) => [
          `${lambdaFunctionName(env, name)}-schedule`,
          TOPOLOGY.lambdaSchedules[name].expression,
        ]),
      ),
    );
    const permissions = ofType(resources(), "aws:lambda/permission:Permission");
    expect(
      permissions.filter((permission) => permission.inputs.principal === "events.amazonaws.com"),
    ).toHaveLength(SCHEDULED_LAMBDAS.length + 1);
  });

  it("blocks public access to every bucket and encrypts it", () => {
    const buckets = ofType(resources(), "aws:s3/bucket:Bucket");
    expect(buckets.length).toBe(4);
    for (const bucket of buckets) {
      expect(bucket.inputs.acl, bucket.name).toBeUndefined();
      const block = one(
        resources(),
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        `${bucket.name}-public-access`,
      );
      expect(block.inputs).toMatchObject({
        bucket: `${bucket.name}-id`,
        blockPublicAcls: true,
        blockPublicPolicy: true,
        ignorePublicAcls: true,
        restrictPublicBuckets: true,
      });
      const encryption = one(
        resources(),
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        `${bucket.name}-encryption`,
      );
      expect(encryption.inputs.rules[0].applyServerSideEncryptionByDefault.sseAlgorithm).toBe("aws:kms");
    }
    for (const policy of ofType(resources(), "aws:s3/bucketPolicy:BucketPolicy")) {
      for (const statement of JSON.parse(policy.inputs.policy).Statement) {
        if (statement.Principal === "*") expect(statement.Effect).toBe("Deny");
      }
    }
  });

  it("scopes every IAM statement to ARNs, except actions AWS offers only on *", () => {
    const policies = ofType(resources(), "aws:iam/rolePolicy:RolePolicy");
    expect(policies.length).toBeGreaterThan(20);
    const offending: string[] = [];
    for (const policy of policies) {
      for (const statement of JSON.parse(policy.inputs.policy).Statement) {
        const actions: string[] = [statement.Action].flat();
        const resources: string[] = [statement.Resource].flat();
        if (actions.some((action) => action === "*" || action.endsWith(":*"))) {
          offending.push(`${policy.name}/${statement.Sid}: wildcard action`);
        }
        if (resources.some((resource) => resource === "*")) {
          const unscoped = actions.filter((action) => !WILDCARD_ONLY_ACTIONS.has(action));
          if (unscoped.length > 0)
            offending.push(`${policy.name}/${statement.Sid}: ${unscoped.join(", ")} on *`);
        }
        for (const resource of resources) {
          if (resource !== "*") expect(resource, `${policy.name}/${statement.Sid}`).toMatch(/^arn:aws:/);
        }
      }
    }
    expect(offending).toEqual([]);
  });

  it("attaches no AWS-managed policy (ReadOnlyAccess, AdministratorAccess, ...): inline and scoped only", () => {
    const attachments = ofType(resources(), "aws:iam/rolePolicyAttachment:RolePolicyAttachment").map(
      (attachment) => `${attachment.name}: ${attachment.inputs.policyArn}`,
    );
    const managed = ofType(resources(), "aws:iam/role:Role").flatMap((role) =>
      ((role.inputs.managedPolicyArns ?? []) as string[]).map((arn) => `${role.name}: ${arn}`),
    );
    expect([...attachments, ...managed]).toEqual([]);
    // The drift detector reads configuration, never data.
    const drift = one(
      resources(),
      "aws:iam/rolePolicy:RolePolicy",
      `${lambdaFunctionName(env, "pulumi-drift-detector")}-role-policy`,
    );
    const actions: string[] = JSON.parse(drift.inputs.policy).Statement.flatMap(
      (statement: any) => statement.Action,
    );
    expect(actions).toContain("dynamodb:DescribeTable");
    for (const read of [
      "s3:GetObject",
      "dynamodb:GetItem",
      "dynamodb:Scan",
      "secretsmanager:GetSecretValue",
      "sqs:ReceiveMessage",
    ]) {
      expect(actions).not.toContain(read);
    }
  });

  if (env !== "prod") {
    it("lets the consolidated host pass exactly the worker's roles to ECS tasks (RunTask)", () => {
      const policy = one(resources(), "aws:iam/rolePolicy:RolePolicy", `tradai-${env}-consolidated-policy`);
      const statements = JSON.parse(policy.inputs.policy).Statement as any[];
      const passRole = statements.filter((statement) => [statement.Action].flat().includes("iam:PassRole"));
      expect(passRole).toEqual([
        {
          Sid: "PassWorkerRoles",
          Effect: "Allow",
          Action: ["iam:PassRole"],
          Resource: [
            `arn:aws:iam:eu-central-1:${ACCOUNT}:tradai-${env}-strategy-container-task`,
            `arn:aws:iam:eu-central-1:${ACCOUNT}:tradai-${env}-ecs-execution`,
          ],
          Condition: { StringEquals: { "iam:PassedToService": "ecs-tasks.amazonaws.com" } },
        },
      ]);
      expect(statements.flatMap((statement) => [statement.Action].flat())).toContain("ecs:RunTask");
    });
  }

  it("queues backtests on a FIFO queue with a dead-letter queue", () => {
    const queue = one(resources(), "aws:sqs/queue:Queue", `tradai-backtest-${env}.fifo`).inputs;
    expect(queue.fifoQueue).toBe(true);
    expect(JSON.parse(queue.redrivePolicy)).toEqual({
      deadLetterTargetArn: `arn:aws:sqs:eu-central-1:${ACCOUNT}:tradai-backtest-dlq-${env}.fifo`,
      maxReceiveCount: 3,
    });
    const mapping = ofType(resources(), "aws:lambda/eventSourceMapping:EventSourceMapping").find(
      (entry) =>
        entry.inputs.eventSourceArn === `arn:aws:sqs:eu-central-1:${ACCOUNT}:tradai-backtest-${env}.fifo`,
    );
    expect(mapping?.inputs.functionName).toBe(
      `arn:aws:lambda:eu-central-1:${ACCOUNT}:function:${lambdaFunctionName(env, "backtest-consumer")}`,
    );
  });

  it("builds the state machine from the repository's ASL with every placeholder filled", () => {
    const machine = one(
      resources(),
      "aws:sfn/stateMachine:StateMachine",
      `tradai-backtest-workflow-${env}`,
    ).inputs;
    const definition = JSON.parse(machine.definition);
    expect(machine.definition).not.toMatch(/\$\{\w+\}/);
    expect(definition.States.RunBacktest.Parameters.TaskDefinition).toBe(
      `arn:aws:ecs:eu-central-1:${ACCOUNT}:task-definition/tradai-${env}-strategy-container`,
    );
    expect(
      definition.States.RunBacktest.Parameters.NetworkConfiguration.AwsvpcConfiguration.Subnets,
    ).toHaveLength(2);
    expect(definition.States.ValidateStrategy.Parameters.FunctionName).toBe(
      `arn:aws:lambda:eu-central-1:${ACCOUNT}:function:${lambdaFunctionName(env, "validate-strategy")}`,
    );
    // The worker claims QUEUED → RUNNING and writes COMPLETED itself: a workflow state writing either
    // would make the worker skip the job, or refuse its own result. Only FAILED is the workflow's.
    const statusWrites = Object.values(
      definition.States as Record<
        string,
        { Parameters?: { FunctionName?: string; Payload?: { status?: string } } }
      >,
    )
      .filter((state) => state.Parameters?.FunctionName?.includes(lambdaFunctionName(env, "update-status")))
      .map((state) => state.Parameters?.Payload?.status);
    expect(statusWrites).toEqual(["FAILED"]);
    expect(definition.States.EnsureData.Next).toBe("RunBacktest");
    // NotifyCompletion announces the status the worker recorded (a worker that found its job
    // CANCELLED exits 0 too), read back from the workflow-state table by the job's key.
    expect(definition.States.RunBacktest.Next).toBe("ReadJobStatus");
    expect(definition.States.ReadJobStatus).toMatchObject({
      Resource: "arn:aws:states:::dynamodb:getItem",
      Parameters: {
        TableName: `tradai-workflow-state-${env}`,
        Key: { pk: { "S.$": "States.Format('job#{}', $.job_id)" } },
      },
      ResultSelector: { "status.$": "$.Item.status.S" },
      ResultPath: "$.final",
      Next: "NotifyCompletion",
    });
    expect(definition.States.NotifyCompletion.Parameters.Payload).toEqual({
      "job_id.$": "$.job_id",
      "status.$": "$.final.status",
    });
    const machineRole = JSON.stringify(
      resources()
        .filter((resource) => resource.type === "aws:iam/rolePolicy:RolePolicy")
        .map((resource) => resource.inputs)
        .filter((inputs) => String(inputs.role ?? "").includes("backtest-workflow")),
    );
    expect(machineRole).toContain("dynamodb:GetItem");
  });

  it("puts the NAT instance in an auto-scaling group with the update-nat-routes lifecycle hook", () => {
    const group = one(resources(), "aws:autoscaling/group:Group", `tradai-${env}-nat`).inputs;
    expect(group).toMatchObject({ minSize: 1, maxSize: 1 });
    expect(group.initialLifecycleHooks[0]).toMatchObject({
      name: "update-nat-routes",
      lifecycleTransition: "autoscaling:EC2_INSTANCE_LAUNCHING",
    });
    const rule = one(resources(), "aws:cloudwatch/eventRule:EventRule", `tradai-${env}-nat-lifecycle`).inputs;
    expect(JSON.parse(rule.eventPattern).detail.AutoScalingGroupName).toEqual([`tradai-${env}-nat`]);
  });

  it("tags every tagged resource with project and environment", () => {
    const tagged = resources().filter((resource) => resource.inputs.tags !== undefined);
    expect(tagged.length).toBeGreaterThan(50);
    for (const resource of tagged.filter((entry) => !Array.isArray(entry.inputs.tags))) {
      expect(resource.inputs.tags, `${resource.type} ${resource.name}`).toMatchObject({
        Project: "tradai",
        Environment: env,
      });
    }
  });
});

describe("stack config", () => {
  // A changed topology reaching compose, charts and Pulumi together: infra/test/single-source.test.ts.
  it("applies stack schedule overrides by config key and keeps the other defaults", async () => {
    const resources = await runProgram({
      environment: "dev",
      scheduleOverrides: { orphan_scanner_schedule: "rate(10 minutes)" },
    });
    const schedule = (name: string) =>
      one(
        resources,
        "aws:cloudwatch/eventRule:EventRule",
        `${lambdaFunctionName("dev", name as never)}-schedule`,
      ).inputs.scheduleExpression;
    expect(schedule("orphan-scanner")).toBe("rate(10 minutes)");
    expect(schedule("health-check")).toBe("rate(2 minutes)");
  }, 30_000);

  it("reads schedule overrides and options from the stack config", async () => {
    await pulumi.runtime.setMocks(
      { newResource: () => ({ id: "x", state: {} }), call: () => ({}) },
      "tradai",
      "staging",
    );
    pulumi.runtime.setAllConfig({
      "tradai:orphan_scanner_schedule": "rate(10 minutes)",
      "tradai:image_tag": "1.2.3",
      "aws:region": "eu-west-1",
    });
    const { argsFromConfig } = await import("../src/tradai-infrastructure");
    expect(argsFromConfig("staging", new pulumi.Config("tradai"))).toEqual({
      environment: "staging",
      region: "eu-west-1",
      imageTag: "1.2.3",
      scheduleOverrides: { orphan_scanner_schedule: "rate(10 minutes)" },
    });
    expect(() => argsFromConfig("qa", new pulumi.Config("tradai"))).toThrow(
      'stack: expected one of dev, staging, prod, got "qa"',
    );
    expect(
      argsFromConfig("dev", configWith({ "tradai:disabled_functions": "sqs-consumer, compare-models" }))
        .disabledFunctions,
    ).toEqual(["sqs-consumer", "compare-models"]);
  });
});

function configWith(values: Record<string, string>): pulumi.Config {
  pulumi.runtime.setAllConfig(values);
  return new pulumi.Config("tradai");
}

describe("stack options", () => {
  it("accepts every valid EventBridge schedule on AWS, even ones Kubernetes cannot run exactly", async () => {
    const resources = await runProgram({
      environment: "dev",
      scheduleOverrides: { health_check_schedule: "rate(7 minutes)", drift_monitor_schedule: "rate(2 days)" },
    });
    const schedule = (name: "health-check" | "drift-monitor") =>
      one(resources, "aws:cloudwatch/eventRule:EventRule", `${lambdaFunctionName("dev", name)}-schedule`)
        .inputs.scheduleExpression;
    expect(schedule("health-check")).toBe("rate(7 minutes)");
    expect(schedule("drift-monitor")).toBe("rate(2 days)");
    const { createTradaiInfrastructure } = await import("../src/tradai-infrastructure");
    expect(() =>
      createTradaiInfrastructure({
        environment: "dev",
        scheduleOverrides: { health_check_schedule: "rate(0 minutes)" },
      }),
    ).toThrow(
      'health_check_schedule: expected "rate(1 minute)" or "rate(N minutes)" with N > 1, got "rate(0 minutes)"',
    );
  }, 30_000);

  it("leaves out the optional functions a stack disables (disabled_functions), and nothing else", async () => {
    const resources = await runProgram({
      environment: "dev",
      disabledFunctions: ["sqs-consumer", "compare-models"],
    });
    const names = ofType(resources, "aws:lambda/function:Function").map((fn) => fn.inputs.name as string);
    expect(names).toHaveLength(LAMBDA_NAMES.length - 2);
    expect(names).not.toContain(lambdaFunctionName("dev", "sqs-consumer"));
    expect(names).not.toContain(lambdaFunctionName("dev", "compare-models"));
    expect(names).toContain(lambdaFunctionName("dev", "backtest-consumer"));
    // The retraining queue's consumer goes with it; the backtest queue keeps its consumer.
    const mappings = ofType(resources, "aws:lambda/eventSourceMapping:EventSourceMapping");
    expect(mappings.map((mapping) => mapping.inputs.eventSourceArn)).toEqual([
      `arn:aws:sqs:eu-central-1:${ACCOUNT}:tradai-backtest-dev.fifo`,
    ]);
    const { createTradaiInfrastructure } = await import("../src/tradai-infrastructure");
    expect(() =>
      createTradaiInfrastructure({ environment: "dev", disabledFunctions: ["orphan-scanner"] }),
    ).toThrow(
      'disabled_functions: expected optional functions only, got the required function "orphan-scanner"',
    );
  }, 30_000);
});
