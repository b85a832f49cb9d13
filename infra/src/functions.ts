// The 18 Lambda functions (spec §5): 17 from ECR images on the shared base, update-nat-routes as
// an inline ZIP; EventBridge schedules from LAMBDA_SCHEDULES (overridable per stack), SQS triggers,
// the NAT lifecycle rule, and the backtest Step Functions state machine from the repository's ASL.
import { readFileSync } from "node:fs";
import path from "node:path";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import {
  BACKTEST_CONSUMER_LAUNCH,
  LAMBDA_ECR_REPOS,
  LAMBDA_NAMES,
  LOG_RETENTION_DAYS,
  SCHEDULED_LAMBDAS,
  STATE_MACHINE_FUNCTIONS,
  lambdaFunctionName,
  lambdaLogGroupName,
  lambdaVariables,
  serviceDiscoveryNamespace,
  serviceUrl,
  stateMachineName,
} from "../shared/config";
import type { Environment, LambdaName, LambdaSetting, ScheduledLambdaName, Topology } from "../shared/config";
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
  /** Functions to deploy (resolveEnabledFunctions: all but the optional ones a stack disables). Default: all. */
  enabledFunctions?: readonly LambdaName[];
  tags: Record<string, string>;
}

export interface Functions {
  /** The deployed functions (a stack may leave optional ones out). */
  functions: Partial<Record<LambdaName, aws.lambda.Function>>;
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
      // Claims a job id once (PutItem with a condition), releases it when a launch fails.
      {
        Sid: "Claims",
        Action: ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:GetItem"],
        Resource: table("backtestIdempotency"),
      },
      // Reads a job's status to skip jobs the backtest service already finished or cancelled.
      { Sid: "JobState", Action: ["dynamodb:GetItem"], Resource: table("workflowState") },
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
    "pulumi-drift-detector": [...driftDetectorPermissions(args), alerts, metrics],
  };

  // One place names what each function reads (LAMBDA_CONFIGS[name].settings); these are the values.
  const settingValues: Record<LambdaSetting, pulumi.Input<string>> = {
    region: account.region,
    launch: BACKTEST_CONSUMER_LAUNCH,
    idempotencyTable: stores.tables.backtestIdempotency.name,
    workflowStateTable: stores.tables.workflowState.name,
    retrainingStateTable: stores.tables.retrainingState.name,
    tradingStateTable: stores.tables.tradingState.name,
    backtestQueueUrl: stores.queues.backtest.url,
    retrainingQueueUrl: stores.queues.retraining.url,
    alertTopicArn: stores.alertTopic.arn,
    ecsCluster: compute.cluster.name,
    ecsTaskDefinition: workerTaskDefinition.arnWithoutRevision,
    ecsSubnets: subnetIds(network.privateSubnets).apply((ids) => ids.join(",")),
    ecsSecurityGroups: network.servicesSecurityGroup.id,
    stateMachineArn,
    serviceNamespace: serviceDiscoveryNamespace(environment),
    dataCollectionUrl: serviceUrl(
      "data-collection",
      `data-collection.${serviceDiscoveryNamespace(environment)}`,
      topology.services,
    ),
  };
  const environmentOf = (name: LambdaName): pulumi.Output<Record<string, string>> =>
    pulumi
      .all(
        Object.fromEntries(
          Object.entries(lambdaVariables(topology.lambdas[name])).map(([variable, setting]) => [
            variable,
            settingValues[setting],
          ]),
        ),
      )
      .apply((variables) => variables as Record<string, string>);

  const functions: Partial<Record<LambdaName, aws.lambda.Function>> = {};
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
        environment: { variables: environmentOf(name) },
      },
      { dependsOn: [logGroup] },
    );
  };
  const enabled = new Set(args.enabledFunctions ?? LAMBDA_NAMES);
  for (const name of LAMBDA_NAMES) if (enabled.has(name)) functions[name] = create(name);
  const deployed = (name: LambdaName): aws.lambda.Function => {
    const fn = functions[name];
    if (fn === undefined) throw new Error(`functions: expected ${name} to be deployed, got it disabled`);
    return fn;
  };

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
      arn: deployed(name).arn,
      // The orphan scanner only reports unless an invocation says otherwise (spec §7).
      ...(name === "orphan-scanner" ? { input: JSON.stringify({ dry_run: true }) } : {}),
    });
    new aws.lambda.Permission(`${functionName}-schedule`, {
      action: "lambda:InvokeFunction",
      function: deployed(name).name,
      principal: "events.amazonaws.com",
      sourceArn: rule.arn,
    });
    rules[name] = rule;
  }

  // Queue consumers.
  for (const name of LAMBDA_NAMES) {
    const trigger = topology.lambdas[name].trigger;
    const fn = functions[name];
    if (trigger.type !== "sqs" || fn === undefined) continue;
    new aws.lambda.EventSourceMapping(`${lambdaFunctionName(environment, name)}-queue`, {
      eventSourceArn: stores.queues[trigger.queue].arn,
      functionName: fn.arn,
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
    arn: deployed("update-nat-routes").arn,
  });
  new aws.lambda.Permission(`${prefix}-nat-lifecycle`, {
    action: "lambda:InvokeFunction",
    function: deployed("update-nat-routes").name,
    principal: "events.amazonaws.com",
    sourceArn: natRule.arn,
  });

  const stateMachine = createStateMachine(args, deployed);
  return { functions, rules, stateMachine };
}

/**
 * `pulumi preview` refreshes what the stack manages: read the configuration (never the data) of this
 * environment's resources. Each statement names the resource ARNs by the stack's naming scheme;
 * only the describe calls AWS offers on `*` alone are unscoped (WILDCARD_ONLY_ACTIONS in iam.ts).
 * Replaces the AWS-managed ReadOnlyAccess, which also reads every object, item and secret.
 */
export function driftDetectorPermissions(
  args: Pick<FunctionsArgs, "environment" | "account">,
): PolicyStatement[] {
  const { environment, account } = args;
  const { region, accountId } = account;
  const arn = (service: string, resource: string, scope: "regional" | "global" = "regional") =>
    scope === "global"
      ? pulumi.interpolate`arn:aws:${service}::${accountId}:${resource}`
      : pulumi.interpolate`arn:aws:${service}:${region}:${accountId}:${resource}`;
  return [
    {
      Sid: "DescribeOnly",
      Action: [
        "ec2:DescribeVpcs",
        "ec2:DescribeVpcAttribute",
        "ec2:DescribeSubnets",
        "ec2:DescribeSecurityGroups",
        "ec2:DescribeSecurityGroupRules",
        "ec2:DescribeRouteTables",
        "ec2:DescribeInternetGateways",
        "ec2:DescribeInstances",
        "ec2:DescribeInstanceAttribute",
        "ec2:DescribeLaunchTemplates",
        "ec2:DescribeLaunchTemplateVersions",
        "ec2:DescribeImages",
        "ec2:DescribeTags",
        "autoscaling:DescribeAutoScalingGroups",
        "autoscaling:DescribeLifecycleHooks",
        "elasticloadbalancing:DescribeLoadBalancers",
        "elasticloadbalancing:DescribeLoadBalancerAttributes",
        "elasticloadbalancing:DescribeTargetGroups",
        "elasticloadbalancing:DescribeTargetGroupAttributes",
        "elasticloadbalancing:DescribeListeners",
        "elasticloadbalancing:DescribeTargetHealth",
        "elasticloadbalancing:DescribeTags",
        "ecs:DescribeTaskDefinition",
      ],
      Resource: "*",
    },
    {
      Sid: "EcsConfiguration",
      Action: ["ecs:DescribeClusters", "ecs:DescribeServices", "ecs:ListTagsForResource"],
      Resource: [
        arn("ecs", `cluster/tradai-${environment}`),
        arn("ecs", `service/tradai-${environment}/*`),
        arn("ecs", `task-definition/tradai-${environment}-*:*`),
      ],
    },
    {
      Sid: "IamConfiguration",
      Action: [
        "iam:GetRole",
        "iam:GetRolePolicy",
        "iam:ListRolePolicies",
        "iam:ListAttachedRolePolicies",
        "iam:GetInstanceProfile",
      ],
      Resource: [
        arn("iam", `role/tradai-${environment}-*`, "global"),
        arn("iam", `role/tradai-*-${environment}-role`, "global"),
        arn("iam", `instance-profile/tradai-${environment}-*`, "global"),
      ],
    },
    {
      Sid: "DataStoreConfiguration",
      Action: [
        "dynamodb:DescribeTable",
        "dynamodb:DescribeTimeToLive",
        "dynamodb:DescribeContinuousBackups",
        "dynamodb:ListTagsOfResource",
        "sqs:GetQueueAttributes",
        "sqs:ListQueueTags",
        "sns:GetTopicAttributes",
        "sns:ListTagsForResource",
      ],
      Resource: [
        arn("dynamodb", `table/tradai-*-${environment}`),
        arn("sqs", `tradai-*-${environment}.fifo`),
        arn("sns", `tradai-*-${environment}`),
      ],
    },
    {
      Sid: "BucketConfiguration",
      Action: [
        "s3:GetBucketLocation",
        "s3:GetBucketTagging",
        "s3:GetBucketPolicy",
        "s3:GetBucketPublicAccessBlock",
        "s3:GetBucketOwnershipControls",
        "s3:GetEncryptionConfiguration",
        "s3:GetBucketVersioning",
        "s3:GetLifecycleConfiguration",
        "s3:GetBucketAcl",
      ],
      Resource: [pulumi.output(`arn:aws:s3:::tradai-*-${environment}`)],
    },
    {
      Sid: "ComputeConfiguration",
      Action: [
        "lambda:GetFunction",
        "lambda:GetFunctionConfiguration",
        "lambda:GetPolicy",
        "lambda:ListTags",
        "lambda:GetEventSourceMapping",
        "states:DescribeStateMachine",
        "states:ListTagsForResource",
        "events:DescribeRule",
        "events:ListTargetsByRule",
        "events:ListTagsForResource",
        "logs:ListTagsForResource",
      ],
      Resource: [
        arn("lambda", `function:tradai-*-${environment}`),
        arn("lambda", "event-source-mapping:*"),
        arn("states", `stateMachine:tradai-*-${environment}`),
        arn("events", `rule/tradai-*`),
        arn("logs", `log-group:/ecs/tradai/${environment}/*`),
        arn("logs", `log-group:/aws/lambda/tradai-*-${environment}`),
        arn("logs", `log-group:/aws/vendedlogs/states/tradai-*-${environment}`),
      ],
    },
    {
      Sid: "RegistryAndDiscovery",
      Action: [
        "ecr:DescribeRepositories",
        "ecr:GetLifecyclePolicy",
        "ecr:ListTagsForResource",
        "secretsmanager:DescribeSecret",
        "servicediscovery:GetNamespace",
        "servicediscovery:GetService",
        "servicediscovery:ListTagsForResource",
      ],
      Resource: [
        arn("ecr", "repository/tradai/*"),
        arn("secretsmanager", `secret:tradai/${environment}/*`),
        arn("servicediscovery", "namespace/*"),
        arn("servicediscovery", "service/*"),
      ],
    },
  ];
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
  functionOf: (name: LambdaName) => aws.lambda.Function,
): aws.sfn.StateMachine {
  const { environment, account, network, compute, stores, tags } = args;
  const name = stateMachineName(environment);
  const invoked = STATE_MACHINE_FUNCTIONS;
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
          functionOf(lambda).arn,
          pulumi.interpolate`${functionOf(lambda).arn}:*`,
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
        // ReadJobStatus: the status NotifyCompletion announces is the one the worker recorded.
        Sid: "ReadJobStatus",
        Action: ["dynamodb:GetItem"],
        Resource: [stores.tables.workflowState.arn],
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
  const lambdaArns = pulumi.all(invoked.map((lambda) => functionOf(lambda).arn));
  const definition = pulumi
    .all([
      lambdaArns,
      compute.cluster.arn,
      worker.arnWithoutRevision,
      subnetIds(network.privateSubnets),
      network.servicesSecurityGroup.id,
      stores.tables.workflowState.name,
    ])
    .apply(([arns, cluster, workerFamily, subnets, securityGroup, workflowStateTable]) => {
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
        WorkflowStateTableName: workflowStateTable,
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
