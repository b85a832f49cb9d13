// The 18 Lambda functions (spec §5): 17 from ECR images on the shared base, update-nat-routes as
// an inline ZIP; EventBridge schedules from LAMBDA_SCHEDULES (overridable per stack), SQS triggers,
// the NAT lifecycle rule, and the backtest Step Functions state machine from the repository's ASL.
import { readFileSync } from "node:fs";
import path from "node:path";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import {
  LAMBDA_ECR_REPOS,
  LAMBDA_NAMES,
  LOG_RETENTION_DAYS,
  SCHEDULED_LAMBDAS,
  lambdaFunctionName,
  lambdaLogGroupName,
  serviceDiscoveryNamespace,
  stateMachineName,
} from "../shared/config";
import type { Environment, LambdaName, ScheduledLambdaName, Topology } from "../shared/config";
import type { AccountContext, Compute } from "./compute";
import type { DataStores } from "./data-stores";
import { createRole, withChildren } from "./iam";
import type { PolicyStatement } from "./iam";
import { NAT_ROUTES_HANDLER } from "./nat-routes-handler";
import type { Network } from "./network";
import { subnetIds } from "./network";

export const ASL_DEFINITION_FILE = path.resolve(import.meta.dirname, "../shared/backtest-workflow.asl.json");

export interface FunctionsArgs {
  environment: Environment;
  topology: Topology;
  account: AccountContext;
  network: Network;
  stores: DataStores;
  compute: Compute;
  imageTag: string;
  /** Effective schedule expression per scheduled function (defaults merged with stack overrides). */
  schedules: Record<ScheduledLambdaName, string>;
  tags: Record<string, string>;
}

export interface Functions {
  functions: Record<LambdaName, aws.lambda.Function>;
  rules: Record<ScheduledLambdaName, aws.cloudwatch.EventRule>;
  stateMachine: aws.sfn.StateMachine;
}

/** Fills the ASL placeholders `${Name}`; `"${SubnetIds}"` (quoted) becomes a JSON array. */
export function renderDefinition(template: string, values: Record<string, string | string[]>): string {
  let text = template;
  for (const [key, value] of Object.entries(values)) {
    text = Array.isArray(value)
      ? text.replaceAll(`"\${${key}}"`, JSON.stringify(value))
      : text.replaceAll(`\${${key}}`, value);
  }
  const missing = /\$\{(\w+)\}/.exec(text.replace(/"Comment": "[^"]*"/, ""));
  if (missing !== null)
    throw new Error(`state machine definition: expected a value for ${missing[1]}, got none`);
  JSON.parse(text);
  return text;
}

export function createFunctions(args: FunctionsArgs): Functions {
  const { environment, topology, account, network, stores, compute, tags } = args;
  const prefix = `tradai-${environment}`;
  const stateMachineArn = pulumi.interpolate`arn:aws:states:${account.region}:${account.accountId}:stateMachine:${stateMachineName(environment)}`;
  const clusterTasks = pulumi.interpolate`arn:aws:ecs:${account.region}:${account.accountId}:task/${prefix}/*`;
  const workerTaskDefinition = compute.taskDefinitions["strategy-container"];
  const workerRoles = [compute.taskRoles["strategy-container"].arn, compute.executionRole.arn];
  const read = ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan"];
  const readWrite = [...read, "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:ConditionCheckItem"];
  const table = (key: keyof DataStores["tables"]) => withChildren(stores.tables[key].arn);
  const alerts: PolicyStatement = {
    Sid: "Alerts",
    Action: ["sns:Publish"],
    Resource: [stores.alertTopic.arn],
  };
  const metrics: PolicyStatement = {
    Sid: "Metrics",
    Action: ["cloudwatch:PutMetricData"],
    Resource: "*",
    Condition: { StringLike: { "cloudwatch:namespace": "TradAI/*" } },
  };
  const runWorker: PolicyStatement[] = [
    {
      Sid: "RunWorker",
      Action: ["ecs:RunTask"],
      Resource: [pulumi.interpolate`${workerTaskDefinition.arnWithoutRevision}:*`],
      Condition: { ArnEquals: { "ecs:cluster": compute.cluster.arn } },
    },
    { Sid: "PassWorkerRoles", Action: ["iam:PassRole"], Resource: workerRoles },
  ];
  const consume = (queue: keyof DataStores["queues"]): PolicyStatement => ({
    Sid: "Consume",
    Action: [
      "sqs:ReceiveMessage",
      "sqs:DeleteMessage",
      "sqs:GetQueueAttributes",
      "sqs:ChangeMessageVisibility",
    ],
    Resource: [stores.queues[queue].arn],
  });
  const watchTasks: PolicyStatement = {
    Sid: "WatchTasks",
    Action: ["ecs:DescribeTasks", "ecs:StopTask"],
    Resource: [clusterTasks],
  };

  // Data-plane permissions per function, scoped to what its handler touches.
  const permissions: Record<Exclude<LambdaName, "update-nat-routes">, PolicyStatement[]> = {
    "backtest-consumer": [
      consume("backtest"),
      { Sid: "JobState", Action: readWrite, Resource: table("workflowState") },
      { Sid: "Workflow", Action: ["states:StartExecution"], Resource: [stateMachineArn] },
      ...runWorker,
    ],
    "sqs-consumer": [
      consume("retraining"),
      { Sid: "RetrainingState", Action: readWrite, Resource: table("retrainingState") },
      ...runWorker,
    ],
    "orphan-scanner": [
      {
        Sid: "ListTasks",
        Action: ["ecs:ListTasks"],
        Resource: "*",
        Condition: { ArnEquals: { "ecs:cluster": compute.cluster.arn } },
      },
      watchTasks,
      {
        Sid: "ReadState",
        Action: read,
        Resource: [...table("workflowState"), ...table("retrainingState"), ...table("tradingState")],
      },
      alerts,
      metrics,
    ],
    "health-check": [
      { Sid: "Discover", Action: ["servicediscovery:DiscoverInstances"], Resource: "*" },
      alerts,
      metrics,
    ],
    "trading-heartbeat-check": [
      { Sid: "Heartbeats", Action: read, Resource: table("tradingState") },
      alerts,
      metrics,
    ],
    "drift-monitor": [
      { Sid: "RetrainingState", Action: readWrite, Resource: table("retrainingState") },
      {
        Sid: "MarketData",
        Action: ["s3:GetObject", "s3:ListBucket"],
        Resource: withChildren(stores.buckets.data.arn),
      },
      alerts,
      metrics,
    ],
    "retraining-scheduler": [
      { Sid: "RetrainingState", Action: readWrite, Resource: table("retrainingState") },
      { Sid: "Enqueue", Action: ["sqs:SendMessage"], Resource: [stores.queues.retraining.arn] },
    ],
    "validate-strategy": [
      {
        Sid: "Configs",
        Action: ["s3:GetObject", "s3:ListBucket"],
        Resource: withChildren(stores.buckets.configs.arn),
      },
    ],
    "data-collection-proxy": [],
    "notify-completion": [alerts],
    "check-retraining-needed": [{ Sid: "RetrainingState", Action: read, Resource: table("retrainingState") }],
    "compare-models": [
      {
        Sid: "Results",
        Action: ["s3:GetObject", "s3:ListBucket"],
        Resource: withChildren(stores.buckets.results.arn),
      },
    ],
    "promote-model": [{ Sid: "Audit", Action: readWrite, Resource: table("retrainingState") }, alerts],
    "model-rollback": [{ Sid: "Audit", Action: readWrite, Resource: table("retrainingState") }, alerts],
    "cleanup-resources": [
      watchTasks,
      { Sid: "JobState", Action: readWrite, Resource: table("workflowState") },
    ],
    "update-status": [{ Sid: "JobState", Action: readWrite, Resource: table("workflowState") }],
    "pulumi-drift-detector": [alerts, metrics],
  };

  const environmentVariables = pulumi
    .all({
      TRADAI_ENVIRONMENT: environment,
      TRADAI_WORKFLOW_STATE_TABLE: stores.tables.workflowState.name,
      TRADAI_RETRAINING_STATE_TABLE: stores.tables.retrainingState.name,
      TRADAI_TRADING_STATE_TABLE: stores.tables.tradingState.name,
      TRADAI_BACKTEST_QUEUE_URL: stores.queues.backtest.url,
      TRADAI_RETRAINING_QUEUE_URL: stores.queues.retraining.url,
      TRADAI_ALERT_TOPIC_ARN: stores.alertTopic.arn,
      TRADAI_ECS_CLUSTER: compute.cluster.name,
      TRADAI_WORKER_TASK_DEFINITION: workerTaskDefinition.arnWithoutRevision,
      TRADAI_ECS_SUBNETS: subnetIds(network.privateSubnets).apply((ids) => ids.join(",")),
      TRADAI_ECS_SECURITY_GROUPS: network.servicesSecurityGroup.id,
      TRADAI_STATE_MACHINE_ARN: stateMachineArn,
      TRADAI_SERVICE_NAMESPACE: serviceDiscoveryNamespace(environment),
    })
    .apply((variables) => variables as Record<string, string>);

  const functions = {} as Record<LambdaName, aws.lambda.Function>;
  const create = (name: LambdaName): aws.lambda.Function => {
    const config = topology.lambdas[name];
    const functionName = lambdaFunctionName(environment, name);
    const logGroup = new aws.cloudwatch.LogGroup(`${functionName}-logs`, {
      name: lambdaLogGroupName(environment, name),
      retentionInDays: LOG_RETENTION_DAYS[environment],
      tags,
    });
    const statements: PolicyStatement[] = [
      {
        Sid: "WriteLogs",
        Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
        Resource: [logGroup.arn, pulumi.interpolate`${logGroup.arn}:*`],
      },
      ...(config.vpc
        ? [
            {
              Sid: "VpcNetworkInterfaces",
              Action: [
                "ec2:CreateNetworkInterface",
                "ec2:DescribeNetworkInterfaces",
                "ec2:DeleteNetworkInterface",
                "ec2:AssignPrivateIpAddresses",
                "ec2:UnassignPrivateIpAddresses",
              ],
              Resource: "*" as const,
            },
          ]
        : []),
      ...(name === "update-nat-routes" ? natPermissions(args) : permissions[name]),
    ];
    const role = createRole({
      name: `${functionName}-role`,
      service: "lambda.amazonaws.com",
      statements,
      tags,
    });
    if (name === "pulumi-drift-detector") {
      // `pulumi preview` reads every resource the stack manages.
      new aws.iam.RolePolicyAttachment(`${functionName}-read-only`, {
        role: role.name,
        policyArn: "arn:aws:iam::aws:policy/ReadOnlyAccess",
      });
    }
    const common = {
      name: functionName,
      description: config.description,
      role: role.arn,
      memorySize: config.memory,
      timeout: config.timeout,
      architectures: ["x86_64"],
      loggingConfig: { logFormat: "JSON", logGroup: logGroup.name },
      ...(config.vpc
        ? {
            vpcConfig: {
              subnetIds: subnetIds(network.privateSubnets),
              securityGroupIds: [network.lambdaSecurityGroup.id],
            },
          }
        : {}),
      tags,
    };
    if (config.packaging === "inline") {
      return new aws.lambda.Function(
        functionName,
        {
          ...common,
          packageType: "Zip",
          runtime: "nodejs20.x",
          handler: "index.handler",
          code: new pulumi.asset.AssetArchive({
            "index.mjs": new pulumi.asset.StringAsset(NAT_ROUTES_HANDLER),
          }),
          environment: {
            variables: {
              PRIVATE_ROUTE_TABLE_IDS: network.privateRouteTable.id,
              TRADAI_ENVIRONMENT: environment,
            },
          },
        },
        { dependsOn: [logGroup] },
      );
    }
    const repository = stores.repositories[LAMBDA_ECR_REPOS[name] ?? ""];
    if (repository === undefined) throw new Error(`${name}: expected an ECR repository, got none`);
    return new aws.lambda.Function(
      functionName,
      {
        ...common,
        packageType: "Image",
        imageUri: pulumi.interpolate`${repository.repositoryUrl}:${args.imageTag}`,
        environment: { variables: environmentVariables },
      },
      { dependsOn: [logGroup] },
    );
  };
  for (const name of LAMBDA_NAMES) functions[name] = create(name);

  // Scheduled functions: one EventBridge rule each, at the resolved rate.
  const rules = {} as Record<ScheduledLambdaName, aws.cloudwatch.EventRule>;
  for (const name of SCHEDULED_LAMBDAS) {
    const functionName = lambdaFunctionName(environment, name);
    const rule = new aws.cloudwatch.EventRule(`${functionName}-schedule`, {
      name: `${functionName}-schedule`,
      description: `Runs ${name} (${topology.lambdaSchedules[name].configKey})`,
      scheduleExpression: args.schedules[name],
      tags,
    });
    new aws.cloudwatch.EventTarget(`${functionName}-schedule`, {
      rule: rule.name,
      arn: functions[name].arn,
      // The orphan scanner only reports unless an invocation says otherwise (spec §7).
      ...(name === "orphan-scanner" ? { input: JSON.stringify({ dry_run: true }) } : {}),
    });
    new aws.lambda.Permission(`${functionName}-schedule`, {
      action: "lambda:InvokeFunction",
      function: functions[name].name,
      principal: "events.amazonaws.com",
      sourceArn: rule.arn,
    });
    rules[name] = rule;
  }

  // Queue consumers.
  for (const name of LAMBDA_NAMES) {
    const trigger = topology.lambdas[name].trigger;
    if (trigger.type !== "sqs") continue;
    new aws.lambda.EventSourceMapping(`${lambdaFunctionName(environment, name)}-queue`, {
      eventSourceArn: stores.queues[trigger.queue].arn,
      functionName: functions[name].arn,
      batchSize: 1,
      functionResponseTypes: ["ReportBatchItemFailures"],
    });
  }

  // NAT instance replacement → update-nat-routes.
  const natRule = new aws.cloudwatch.EventRule(`${prefix}-nat-lifecycle`, {
    name: `${prefix}-nat-lifecycle`,
    description: "NAT instance launch: repoint the private default route",
    eventPattern: pulumi.jsonStringify({
      source: ["aws.autoscaling"],
      "detail-type": ["EC2 Instance-launch Lifecycle Action"],
      detail: {
        AutoScalingGroupName: [network.natGroup.name],
        LifecycleHookName: [network.natLifecycleHookName],
      },
    }),
    tags,
  });
  new aws.cloudwatch.EventTarget(`${prefix}-nat-lifecycle`, {
    rule: natRule.name,
    arn: functions["update-nat-routes"].arn,
  });
  new aws.lambda.Permission(`${prefix}-nat-lifecycle`, {
    action: "lambda:InvokeFunction",
    function: functions["update-nat-routes"].name,
    principal: "events.amazonaws.com",
    sourceArn: natRule.arn,
  });

  const stateMachine = createStateMachine(args, functions);
  return { functions, rules, stateMachine };
}

function natPermissions(args: FunctionsArgs): PolicyStatement[] {
  const { account, network } = args;
  return [
    { Sid: "Describe", Action: ["ec2:DescribeInstances", "ec2:DescribeRouteTables"], Resource: "*" },
    {
      Sid: "DisableSourceDestCheck",
      Action: ["ec2:ModifyInstanceAttribute"],
      Resource: [pulumi.interpolate`arn:aws:ec2:${account.region}:${account.accountId}:instance/*`],
      Condition: { StringEquals: { "aws:ResourceTag/aws:autoscaling:groupName": network.natGroup.name } },
    },
    {
      Sid: "Route",
      Action: ["ec2:ReplaceRoute", "ec2:CreateRoute"],
      Resource: [
        pulumi.interpolate`arn:aws:ec2:${account.region}:${account.accountId}:route-table/${network.privateRouteTable.id}`,
      ],
    },
    {
      Sid: "CompleteLifecycle",
      Action: ["autoscaling:CompleteLifecycleAction"],
      Resource: [network.natGroup.arn],
    },
  ];
}

function createStateMachine(
  args: FunctionsArgs,
  functions: Record<LambdaName, aws.lambda.Function>,
): aws.sfn.StateMachine {
  const { environment, account, network, compute, tags } = args;
  const name = stateMachineName(environment);
  const invoked: LambdaName[] = [
    "validate-strategy",
    "data-collection-proxy",
    "update-status",
    "notify-completion",
    "cleanup-resources",
  ];
  const worker = compute.taskDefinitions["strategy-container"];
  const logGroup = new aws.cloudwatch.LogGroup(`${name}-logs`, {
    name: `/aws/vendedlogs/states/${name}`,
    retentionInDays: LOG_RETENTION_DAYS[environment],
    tags,
  });
  const role = createRole({
    name: `${name}-role`,
    service: "states.amazonaws.com",
    tags,
    statements: [
      {
        Sid: "InvokeSteps",
        Action: ["lambda:InvokeFunction"],
        Resource: invoked.flatMap((lambda) => [
          functions[lambda].arn,
          pulumi.interpolate`${functions[lambda].arn}:*`,
        ]),
      },
      {
        Sid: "RunWorker",
        Action: ["ecs:RunTask"],
        Resource: [pulumi.interpolate`${worker.arnWithoutRevision}:*`],
        Condition: { ArnEquals: { "ecs:cluster": compute.cluster.arn } },
      },
      {
        Sid: "WatchWorker",
        Action: ["ecs:DescribeTasks", "ecs:StopTask"],
        Resource: [
          pulumi.interpolate`arn:aws:ecs:${account.region}:${account.accountId}:task/tradai-${environment}/*`,
        ],
      },
      {
        Sid: "PassWorkerRoles",
        Action: ["iam:PassRole"],
        Resource: [compute.taskRoles["strategy-container"].arn, compute.executionRole.arn],
      },
      {
        // runTask.sync waits through this managed rule.
        Sid: "SyncRule",
        Action: ["events:PutTargets", "events:PutRule", "events:DescribeRule"],
        Resource: [
          pulumi.interpolate`arn:aws:events:${account.region}:${account.accountId}:rule/StepFunctionsGetEventsForECSTaskRule`,
        ],
      },
      {
        Sid: "LogDelivery",
        Action: [
          "logs:CreateLogDelivery",
          "logs:GetLogDelivery",
          "logs:UpdateLogDelivery",
          "logs:DeleteLogDelivery",
          "logs:ListLogDeliveries",
          "logs:PutResourcePolicy",
          "logs:DescribeResourcePolicies",
          "logs:DescribeLogGroups",
        ],
        Resource: "*",
      },
    ],
  });
  const template = readFileSync(ASL_DEFINITION_FILE, "utf8");
  const lambdaArns = pulumi.all(invoked.map((lambda) => functions[lambda].arn));
  const definition = pulumi
    .all([
      lambdaArns,
      compute.cluster.arn,
      worker.arnWithoutRevision,
      subnetIds(network.privateSubnets),
      network.servicesSecurityGroup.id,
    ])
    .apply(([arns, cluster, workerFamily, subnets, securityGroup]) => {
      const arnOf = (lambda: LambdaName) => arns[invoked.indexOf(lambda)] ?? "";
      return renderDefinition(template, {
        ValidateStrategyFunctionArn: arnOf("validate-strategy"),
        DataCollectionProxyFunctionArn: arnOf("data-collection-proxy"),
        UpdateStatusFunctionArn: arnOf("update-status"),
        NotifyCompletionFunctionArn: arnOf("notify-completion"),
        CleanupResourcesFunctionArn: arnOf("cleanup-resources"),
        ClusterArn: cluster,
        WorkerTaskDefinitionArn: workerFamily,
        SubnetIds: subnets,
        SecurityGroupId: securityGroup,
      });
    });
  return new aws.sfn.StateMachine(name, {
    name,
    roleArn: role.arn,
    definition,
    type: "STANDARD",
    loggingConfiguration: {
      level: "ERROR",
      includeExecutionData: false,
      logDestination: pulumi.interpolate`${logGroup.arn}:*`,
    },
    tags,
  });
}
