// The Pulumi program under mocks, once per environment: it must deploy what infra/shared/config.ts
// says, with the spec's policy (spot, consolidation, schedules, retention, no public buckets, IAM
// scoped to ARNs).
import * as pulumi from "@pulumi/pulumi";
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
  withSchedule,
  withService,
} from "../shared/config";
import type { Environment } from "../shared/config";
import { WILDCARD_ONLY_ACTIONS } from "../src/iam";
import { ACCOUNT, runProgram } from "./pulumi-mocks";
import type { RecordedResource } from "./pulumi-mocks";
import { rejectedVariables } from "./service-schemas";

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
    expect(definition.States.RunBacktest.Next).toBe("NotifyCompletion");
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

describe("one source of truth", () => {
  it("follows a port and a schedule change in the topology, and stack overrides by config key", async () => {
    const topology = withSchedule(
      withService(TOPOLOGY, "data-collection", { port: 9002 }),
      "drift-monitor",
      "rate(3 hours)",
    );
    const resources = await runProgram({
      environment: "dev",
      topology,
      scheduleOverrides: { orphan_scanner_schedule: "rate(10 minutes)" },
    });
    const container = containerOf(resources, "dev", "data-collection");
    expect(container.portMappings[0].containerPort).toBe(9002);
    expect(container.healthCheck.command.join(" ")).toContain("127.0.0.1:9002/api/v1/health");
    expect(containerOf(resources, "dev", "backend-api").environment).toContainEqual({
      name: "GATEWAY_DATA_COLLECTION_URL",
      value: "http://data-collection.tradai-dev.local:9002",
    });
    const schedule = (name: string) =>
      one(
        resources,
        "aws:cloudwatch/eventRule:EventRule",
        `${lambdaFunctionName("dev", name as never)}-schedule`,
      ).inputs.scheduleExpression;
    expect(schedule("drift-monitor")).toBe("rate(3 hours)");
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
    const { createTradaiInfrastructure } = await import("../src/tradai-infrastructure");
    expect(() =>
      createTradaiInfrastructure({
        environment: "dev",
        scheduleOverrides: { health_check_schedule: "rate(7 minutes)" },
      }),
    ).toThrow('health_check_schedule: expected a rate that divides 60 minutes, got "rate(7 minutes)"');
  });
});
