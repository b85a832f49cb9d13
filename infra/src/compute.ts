// ECS (spec §2): cluster tradai-{env} with FARGATE and FARGATE_SPOT, a task definition for every
// SERVICES entry, Cloud Map names for every service, Fargate services (all of them in prod; in
// dev/staging the consolidated ones run on one EC2 host instead), and the ALB before the gateway.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import {
  BACKTEST_EXECUTOR,
  CONSOLIDATED_MODE,
  POSTGRES_STATE_STORE_SECRETS,
  CONSOLIDATED_SERVICES,
  LOG_RETENTION_DAYS,
  SERVICE_DISCOVERY_TTL_SECONDS,
  SERVICE_NAMES,
  serviceDiscoveryNamespace,
  serviceLogGroupName,
  resultStoreUri,
  serviceUrlEnvironment,
  stateMachineName,
} from "../shared/config";
import type { Environment, ServiceConfig, ServiceName, Topology } from "../shared/config";
import type { DataStores } from "./data-stores";
import { createRole, policyDocument, withChildren } from "./iam";
import type { PolicyStatement } from "./iam";
import type { Network } from "./network";
import { subnetIds } from "./network";

export interface AccountContext {
  accountId: pulumi.Output<string>;
  region: string;
}

export interface ComputeArgs {
  environment: Environment;
  topology: Topology;
  account: AccountContext;
  network: Network;
  stores: DataStores;
  imageTag: string;
  /** ARN the backtest service starts executions of (built from its name, so no ordering cycle). */
  stateMachineArn: pulumi.Output<string>;
  /** Custom AMI for the consolidated host (Packer, infra/ami/); default: latest Amazon Linux 2023. */
  consolidatedAmiId: string | undefined;
  /** ACM certificate for HTTPS on the ALB; without one the ALB listens on HTTP only. */
  certificateArn: string | undefined;
  tags: Record<string, string>;
}

export interface Compute {
  cluster: aws.ecs.Cluster;
  logGroup: aws.cloudwatch.LogGroup;
  taskDefinitions: Record<ServiceName, aws.ecs.TaskDefinition>;
  taskRoles: Record<ServiceName, aws.iam.Role>;
  executionRole: aws.iam.Role;
  services: Partial<Record<ServiceName, aws.ecs.Service>>;
  namespace: aws.servicediscovery.PrivateDnsNamespace;
  discoveryServices: Partial<Record<ServiceName, aws.servicediscovery.Service>>;
  consolidatedHost: aws.ec2.Instance | undefined;
  loadBalancer: aws.lb.LoadBalancer;
}

/** Spot services: mostly FARGATE_SPOT, with a FARGATE share so a spot shortage never empties them. */
export const SPOT_CAPACITY = [
  { capacityProvider: "FARGATE_SPOT", weight: 3, base: 0 },
  { capacityProvider: "FARGATE", weight: 1, base: 0 },
];
/** Live trading and other spot: false services: on-demand only (spec §3.5). */
export const ON_DEMAND_CAPACITY = [{ capacityProvider: "FARGATE", weight: 1, base: 0 }];

export function capacityFor(service: ServiceConfig) {
  return service.spot ? SPOT_CAPACITY : ON_DEMAND_CAPACITY;
}

/** Health check command without curl (spec §2): node's fetch, python's urllib for MLflow. */
export function healthCheckCommand(service: ServiceConfig): string[] | null {
  if (service.port === null || service.healthPath === null) return null;
  const url = `http://127.0.0.1:${service.port}${service.healthPath}`;
  if (service.component === null) {
    return ["CMD", "python", "-c", `import urllib.request; urllib.request.urlopen('${url}', timeout=5)`];
  }
  return ["CMD", "node", "-e", `fetch('${url}').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))`];
}

/** Environment of a service on AWS: bind address, port, Cloud Map URLs of what it calls. */
export function serviceEnvironment(
  environment: Environment,
  topology: Topology,
  name: ServiceName,
): Record<string, string> {
  const service = topology.services[name];
  const namespace = serviceDiscoveryNamespace(environment);
  const base: Record<string, string> = { TRADAI_ENVIRONMENT: environment };
  if (name === "mlflow") {
    return {
      ...base,
      MLFLOW_PORT: String(service.port),
      MLFLOW_SERVER_ALLOWED_HOSTS: `mlflow.${namespace}:*,mlflow:*,localhost:*,127.0.0.1:*,10.*`,
    };
  }
  return {
    ...base,
    ...(service.port !== null
      ? { [`${service.envPrefix}HOST`]: "0.0.0.0", [`${service.envPrefix}PORT`]: String(service.port) }
      : {}),
    ...serviceUrlEnvironment(name, (target) => `${target}.${namespace}`, topology.services),
  };
}

/** Secret variables of a service on AWS: the PostgreSQL state-store URLs are not (DynamoDB is). */
export function awsSecretEnv(service: ServiceConfig): string[] {
  return service.secretEnv.filter((variable) => !POSTGRES_STATE_STORE_SECRETS.includes(variable));
}

export function createCompute(args: ComputeArgs): Compute {
  const { environment, topology, network, stores, account, tags } = args;
  const prefix = `tradai-${environment}`;
  const consolidated = CONSOLIDATED_MODE[environment].enabled;

  const cluster = new aws.ecs.Cluster(prefix, {
    name: prefix,
    settings: [{ name: "containerInsights", value: environment === "prod" ? "enabled" : "disabled" }],
    tags,
  });
  new aws.ecs.ClusterCapacityProviders(prefix, {
    clusterName: cluster.name,
    capacityProviders: ["FARGATE", "FARGATE_SPOT"],
    defaultCapacityProviderStrategies: SPOT_CAPACITY,
  });

  const logGroup = new aws.cloudwatch.LogGroup(`${prefix}-services`, {
    name: serviceLogGroupName(environment),
    retentionInDays: LOG_RETENTION_DAYS[environment],
    tags,
  });

  // Secrets (exchange keys, database URLs) live in Secrets Manager; operators set the values.
  const secrets: Partial<Record<ServiceName, aws.secretsmanager.Secret>> = {};
  for (const name of SERVICE_NAMES) {
    const secretEnv = awsSecretEnv(topology.services[name]);
    if (secretEnv.length === 0) continue;
    secrets[name] = new aws.secretsmanager.Secret(`${prefix}-${name}-secrets`, {
      name: `tradai/${environment}/${name}`,
      description: `Secret variables of ${name}: ${secretEnv.join(", ")}`,
      tags,
    });
  }
  const secretArns = Object.values(secrets).map((secret) => secret.arn);
  const repositoryArns = [...new Set(SERVICE_NAMES.map((name) => topology.services[name].ecrRepository))].map(
    (repository) => {
      const ecr = stores.repositories[repository];
      if (ecr === undefined) throw new Error(`ECR: expected a repository ${repository}, got none`);
      return ecr.arn;
    },
  );

  const executionRole = createRole({
    name: `${prefix}-ecs-execution`,
    service: "ecs-tasks.amazonaws.com",
    tags,
    statements: [
      { Sid: "EcrLogin", Action: ["ecr:GetAuthorizationToken"], Resource: "*" },
      {
        Sid: "PullImages",
        Action: ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"],
        Resource: repositoryArns,
      },
      {
        Sid: "WriteLogs",
        Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
        Resource: [logGroup.arn, pulumi.interpolate`${logGroup.arn}:*`],
      },
      ...(secretArns.length > 0
        ? [{ Sid: "ReadSecrets", Action: ["secretsmanager:GetSecretValue"], Resource: secretArns }]
        : []),
    ],
  });

  const taskDefinitionFamily = (name: ServiceName) => `${prefix}-${name}`;
  const taskDefinitionArn = (name: ServiceName) =>
    pulumi.interpolate`arn:aws:ecs:${account.region}:${account.accountId}:task-definition/${taskDefinitionFamily(name)}:*`;
  const bucketArns = (...keys: (keyof DataStores["buckets"])[]) =>
    keys.flatMap((key) => withChildren(stores.buckets[key].arn));
  const tableArns = (...keys: (keyof DataStores["tables"])[]) =>
    keys.flatMap((key) => withChildren(stores.tables[key].arn));
  const readWriteObjects = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket"];
  const readWriteItems = [
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:Query",
    "dynamodb:ConditionCheckItem",
  ];
  const taskRoleArns: pulumi.Output<string>[] = [];

  // Data-plane permissions per service, each scoped to the ARNs it uses.
  const permissions = (name: ServiceName): PolicyStatement[] => {
    switch (name) {
      case "backtest":
        return [
          { Sid: "Objects", Action: readWriteObjects, Resource: bucketArns("configs", "results") },
          { Sid: "JobState", Action: readWriteItems, Resource: tableArns("workflowState") },
          {
            Sid: "Queue",
            Action: ["sqs:SendMessage", "sqs:GetQueueAttributes"],
            Resource: [stores.queues.backtest.arn],
          },
          { Sid: "Workflow", Action: ["states:StartExecution"], Resource: [args.stateMachineArn] },
          {
            Sid: "ExecutionStatus",
            Action: ["states:DescribeExecution", "states:StopExecution"],
            Resource: [
              pulumi.interpolate`arn:aws:states:${account.region}:${account.accountId}:execution:${stateMachineName(environment)}:*`,
            ],
          },
          {
            Sid: "RunWorker",
            Action: ["ecs:RunTask"],
            Resource: [taskDefinitionArn("strategy-container")],
            Condition: { ArnEquals: { "ecs:cluster": cluster.arn } },
          },
          {
            Sid: "WatchWorker",
            Action: ["ecs:DescribeTasks", "ecs:StopTask"],
            Resource: [
              pulumi.interpolate`arn:aws:ecs:${account.region}:${account.accountId}:task/${prefix}/*`,
            ],
          },
        ];
      case "data-collection":
        return [{ Sid: "MarketData", Action: readWriteObjects, Resource: bucketArns("data") }];
      case "strategy-service":
        return [{ Sid: "Configs", Action: readWriteObjects, Resource: bucketArns("configs") }];
      case "mlflow":
        return [{ Sid: "Artifacts", Action: readWriteObjects, Resource: bucketArns("mlflow") }];
      case "strategy-container":
        return [
          {
            Sid: "ReadInputs",
            Action: ["s3:GetObject", "s3:ListBucket"],
            Resource: bucketArns("data", "configs"),
          },
          { Sid: "WriteResults", Action: readWriteObjects, Resource: bucketArns("results") },
          { Sid: "JobState", Action: readWriteItems, Resource: tableArns("workflowState") },
        ];
      case "live-trading":
      case "dry-run-trading":
        return [
          { Sid: "Heartbeats", Action: readWriteItems, Resource: tableArns("tradingState") },
          { Sid: "Configs", Action: ["s3:GetObject", "s3:ListBucket"], Resource: bucketArns("configs") },
        ];
      case "backend-api":
        return [];
    }
  };

  // AWS resource names the services need (the spec's BACKEND_* executor settings, §4): the SQS
  // executor (backtest-consumer → Step Functions → worker task), job state in DynamoDB for the
  // service and its workers, results in S3.
  const awsEnvironment = (name: ServiceName): Record<string, pulumi.Input<string>> => {
    switch (name) {
      case "backtest":
        return {
          BACKEND_EXECUTOR_MODE: BACKTEST_EXECUTOR.aws.mode,
          // A deployment fails start-up on a missing executor setting instead of disabling backtests.
          BACKEND_DEV_MODE: "false",
          BACKEND_AWS_REGION: account.region,
          BACKEND_STATE_STORE: "dynamodb",
          BACKEND_RESULT_STORE: resultStoreUri(environment),
          BACKEND_ECS_CLUSTER: cluster.name,
          BACKEND_ECS_SUBNETS: subnetIds(network.privateSubnets).apply((ids) => ids.join(",")),
          BACKEND_ECS_SECURITY_GROUPS: network.servicesSecurityGroup.id,
          BACKEND_ECS_TASK_DEFINITION: taskDefinitionFamily("strategy-container"),
          BACKEND_BACKTEST_QUEUE_URL: stores.queues.backtest.url,
          BACKEND_STEPFUNCTIONS_STATE_MACHINE_ARN: args.stateMachineArn,
          BACKEND_WORKFLOW_STATE_TABLE: stores.tables.workflowState.name,
        };
      case "strategy-container":
        return {
          WORKER_STATE_STORE: "dynamodb",
          WORKER_WORKFLOW_STATE_TABLE: stores.tables.workflowState.name,
          WORKER_AWS_REGION: account.region,
          WORKER_RESULT_STORE: resultStoreUri(environment),
        };
      case "data-collection":
        return {
          DATA_COLLECTION_STORE: "s3",
          DATA_COLLECTION_S3_BUCKET: stores.buckets.data.bucket,
          DATA_COLLECTION_S3_REGION: account.region,
        };
      case "strategy-service":
        return {
          STRATEGY_SERVICE_REGISTRY_DIR: pulumi.interpolate`s3://${stores.buckets.configs.bucket}/strategies/`,
          STRATEGY_SERVICE_AWS_REGION: account.region,
        };
      case "mlflow":
        return { MLFLOW_ARTIFACTS_DESTINATION: pulumi.interpolate`s3://${stores.buckets.mlflow.bucket}` };
      default:
        return {};
    }
  };

  const taskRoles = {} as Record<ServiceName, aws.iam.Role>;
  for (const name of SERVICE_NAMES) {
    taskRoles[name] = createRole({
      name: `${prefix}-${name}-task`,
      service: "ecs-tasks.amazonaws.com",
      tags,
      statements: permissions(name),
    });
    taskRoleArns.push(taskRoles[name].arn);
  }
  // The backtest service launches worker tasks, which needs PassRole on exactly their roles.
  new aws.iam.RolePolicy(`${prefix}-backtest-pass-worker-roles`, {
    role: taskRoles.backtest.id,
    policy: policyDocument([
      {
        Sid: "PassWorkerRoles",
        Action: ["iam:PassRole"],
        Resource: [taskRoles["strategy-container"].arn, executionRole.arn],
      },
    ]),
  });

  const taskDefinitions = {} as Record<ServiceName, aws.ecs.TaskDefinition>;
  for (const name of SERVICE_NAMES) {
    const service = topology.services[name];
    const repository = stores.repositories[service.ecrRepository];
    const secret = secrets[name];
    const healthCheck = healthCheckCommand(service);
    const containerDefinitions = pulumi.jsonStringify([
      {
        name,
        image: pulumi.interpolate`${repository?.repositoryUrl}:${args.imageTag}`,
        essential: true,
        ...(service.args.length > 0 ? { command: [...service.args] } : {}),
        portMappings:
          service.port === null ? [] : [{ containerPort: service.port, protocol: "tcp", name: "http" }],
        environment: Object.entries({
          ...serviceEnvironment(environment, topology, name),
          ...awsEnvironment(name),
        }).map(([key, value]) => ({ name: key, value })),
        secrets:
          secret === undefined
            ? []
            : awsSecretEnv(service).map((variable) => ({
                name: variable,
                valueFrom: pulumi.interpolate`${secret.arn}:${variable}::`,
              })),
        ...(healthCheck === null
          ? {}
          : {
              healthCheck: {
                command: healthCheck,
                interval: 30,
                timeout: 10,
                retries: 3,
                startPeriod: service.startPeriod,
              },
            }),
        logConfiguration: {
          logDriver: "awslogs",
          options: {
            "awslogs-group": logGroup.name,
            "awslogs-region": account.region,
            "awslogs-stream-prefix": name,
          },
        },
        readonlyRootFilesystem: false,
        user: name === "mlflow" ? "10001" : "1000",
      },
    ]);
    taskDefinitions[name] = new aws.ecs.TaskDefinition(taskDefinitionFamily(name), {
      family: taskDefinitionFamily(name),
      cpu: String(service.cpu),
      memory: String(service.memory),
      networkMode: "awsvpc",
      requiresCompatibilities: ["FARGATE"],
      runtimePlatform: { operatingSystemFamily: "LINUX", cpuArchitecture: "X86_64" },
      executionRoleArn: executionRole.arn,
      taskRoleArn: taskRoles[name].arn,
      containerDefinitions,
      tags,
    });
  }

  const namespace = new aws.servicediscovery.PrivateDnsNamespace(`${prefix}-namespace`, {
    name: serviceDiscoveryNamespace(environment),
    vpc: network.vpc.id,
    description: `TradAI ${environment} service discovery`,
    tags,
  });
  // Every long-running service gets a name, whether it runs on Fargate or the consolidated host.
  const discoveryServices: Partial<Record<ServiceName, aws.servicediscovery.Service>> = {};
  for (const name of SERVICE_NAMES) {
    if (topology.services[name].kind !== "service") continue;
    discoveryServices[name] = new aws.servicediscovery.Service(`${prefix}-${name}-discovery`, {
      name,
      namespaceId: namespace.id,
      dnsConfig: {
        namespaceId: namespace.id,
        routingPolicy: "MULTIVALUE",
        dnsRecords: [{ type: "A", ttl: SERVICE_DISCOVERY_TTL_SECONDS }],
      },
      forceDestroy: environment !== "prod",
      tags,
    });
  }

  // The public entry point: an ALB in front of the gateway.
  const gateway = topology.services["backend-api"];
  const loadBalancer = new aws.lb.LoadBalancer(`${prefix}-alb`, {
    name: `${prefix}-alb`,
    loadBalancerType: "application",
    internal: false,
    subnets: subnetIds(network.publicSubnets),
    securityGroups: [network.albSecurityGroup.id],
    dropInvalidHeaderFields: true,
    tags,
  });
  const targetGroup = new aws.lb.TargetGroup(`${prefix}-gateway`, {
    name: `${prefix}-gateway`,
    port: gateway.port ?? 0,
    protocol: "HTTP",
    targetType: consolidated ? "instance" : "ip",
    vpcId: network.vpc.id,
    deregistrationDelay: 15,
    healthCheck: { path: gateway.healthPath ?? "/", matcher: "200", interval: 15, healthyThreshold: 2 },
    tags,
  });
  if (args.certificateArn !== undefined) {
    new aws.lb.Listener(`${prefix}-https`, {
      loadBalancerArn: loadBalancer.arn,
      port: 443,
      protocol: "HTTPS",
      sslPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06",
      certificateArn: args.certificateArn,
      defaultActions: [{ type: "forward", targetGroupArn: targetGroup.arn }],
    });
    new aws.lb.Listener(`${prefix}-http`, {
      loadBalancerArn: loadBalancer.arn,
      port: 80,
      protocol: "HTTP",
      defaultActions: [
        { type: "redirect", redirect: { port: "443", protocol: "HTTPS", statusCode: "HTTP_301" } },
      ],
    });
  } else {
    new aws.lb.Listener(`${prefix}-http`, {
      loadBalancerArn: loadBalancer.arn,
      port: 80,
      protocol: "HTTP",
      defaultActions: [{ type: "forward", targetGroupArn: targetGroup.arn }],
    });
  }

  const services: Partial<Record<ServiceName, aws.ecs.Service>> = {};
  for (const name of SERVICE_NAMES) {
    const service = topology.services[name];
    if (service.kind !== "service") continue;
    if (consolidated && CONSOLIDATED_SERVICES.includes(name)) continue;
    const discovery = discoveryServices[name];
    services[name] = new aws.ecs.Service(`${prefix}-${name}`, {
      name,
      cluster: cluster.arn,
      taskDefinition: taskDefinitions[name].arn,
      desiredCount: service.desiredCount[environment],
      capacityProviderStrategies: capacityFor(service),
      networkConfiguration: {
        subnets: subnetIds(network.privateSubnets),
        securityGroups: [network.servicesSecurityGroup.id],
        assignPublicIp: false,
      },
      ...(discovery ? { serviceRegistries: { registryArn: discovery.arn } } : {}),
      ...(name === "backend-api"
        ? {
            loadBalancers: [
              { targetGroupArn: targetGroup.arn, containerName: name, containerPort: service.port ?? 0 },
            ],
            healthCheckGracePeriodSeconds: service.startPeriod,
          }
        : {}),
      deploymentCircuitBreaker: { enable: true, rollback: true },
      // One bot per strategy: stop the old task before starting the new one.
      ...(service.autoscaling === null
        ? { deploymentMinimumHealthyPercent: 0, deploymentMaximumPercent: 100 }
        : { deploymentMinimumHealthyPercent: 100, deploymentMaximumPercent: 200 }),
      propagateTags: "SERVICE",
      enableEcsManagedTags: true,
      tags,
    });
  }

  let consolidatedHost: aws.ec2.Instance | undefined;
  if (consolidated) {
    consolidatedHost = createConsolidatedHost({
      ...args,
      prefix,
      logGroup,
      secrets,
      repositoryArns,
      permissions,
      awsEnvironment,
      targetGroup,
      discoveryServices,
      workerRoleArns: [taskRoles["strategy-container"].arn, executionRole.arn],
    });
  }

  return {
    cluster,
    logGroup,
    taskDefinitions,
    taskRoles,
    executionRole,
    services,
    namespace,
    discoveryServices,
    consolidatedHost,
    loadBalancer,
  };
}

interface ConsolidatedHostArgs extends ComputeArgs {
  prefix: string;
  logGroup: aws.cloudwatch.LogGroup;
  secrets: Partial<Record<ServiceName, aws.secretsmanager.Secret>>;
  repositoryArns: pulumi.Output<string>[];
  permissions: (name: ServiceName) => PolicyStatement[];
  awsEnvironment: (name: ServiceName) => Record<string, pulumi.Input<string>>;
  targetGroup: aws.lb.TargetGroup;
  discoveryServices: Partial<Record<ServiceName, aws.servicediscovery.Service>>;
  /** The worker's task and execution roles: ECS RunTask passes them (the backtest ECS executor). */
  workerRoleArns: pulumi.Output<string>[];
}

/**
 * The consolidated EC2 mode (spec §2): one t3.small runs the consolidated services as containers
 * (plus PostgreSQL for MLflow), registered in Cloud Map under the same names as on Fargate.
 */
function createConsolidatedHost(args: ConsolidatedHostArgs): aws.ec2.Instance {
  const { environment, topology, prefix, tags, account } = args;
  const mode = CONSOLIDATED_MODE[environment];
  const role = createRole({
    name: `${prefix}-consolidated`,
    service: "ec2.amazonaws.com",
    tags,
    statements: [
      { Sid: "EcrLogin", Action: ["ecr:GetAuthorizationToken"], Resource: "*" },
      {
        Sid: "PullImages",
        Action: ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"],
        Resource: args.repositoryArns,
      },
      {
        Sid: "WriteLogs",
        Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
        Resource: [args.logGroup.arn, pulumi.interpolate`${args.logGroup.arn}:*`],
      },
      {
        Sid: "ReadSecrets",
        Action: ["secretsmanager:GetSecretValue"],
        Resource: CONSOLIDATED_SERVICES.flatMap((name) => {
          const secret = args.secrets[name];
          return secret === undefined ? [] : [secret.arn];
        }),
      },
      // The backtest service on this host may launch worker tasks (ECS executor): RunTask passes
      // exactly the worker's roles, to ECS tasks only.
      {
        Sid: "PassWorkerRoles",
        Action: ["iam:PassRole"],
        Resource: args.workerRoleArns,
        Condition: { StringEquals: { "iam:PassedToService": "ecs-tasks.amazonaws.com" } },
      },
      ...CONSOLIDATED_SERVICES.flatMap((name) =>
        args
          .permissions(name)
          .map((statement) => ({ ...statement, Sid: `${statement.Sid ?? "Data"}${name.replace(/-/g, "")}` })),
      ),
    ],
  });
  const profile = new aws.iam.InstanceProfile(`${prefix}-consolidated`, { role: role.name, tags });

  const ami =
    args.consolidatedAmiId ??
    aws.ec2.getAmiOutput({
      mostRecent: true,
      owners: ["amazon"],
      filters: [{ name: "name", values: ["al2023-ami-2023.*-x86_64"] }],
    }).id;

  const registry = pulumi.interpolate`${account.accountId}.dkr.ecr.${account.region}.amazonaws.com`;
  const secretArnList = pulumi.all(CONSOLIDATED_SERVICES.map((name) => args.secrets[name]?.arn ?? ""));
  const userData = pulumi
    .all([
      registry,
      args.logGroup.name,
      secretArnList,
      pulumi.all(CONSOLIDATED_SERVICES.map((name) => pulumi.output(args.awsEnvironment(name)))),
    ])
    .apply(([registryHost, logGroupName, secretArns, extraEnvironments]) =>
      consolidatedUserData({
        environment,
        topology,
        region: account.region,
        registry: registryHost,
        imageTag: args.imageTag,
        logGroup: logGroupName,
        secretArns: Object.fromEntries(
          CONSOLIDATED_SERVICES.map((name, index) => [name, secretArns[index] ?? ""]),
        ),
        extraEnvironment: Object.fromEntries(
          CONSOLIDATED_SERVICES.map((name, index) => [
            name,
            (extraEnvironments[index] ?? {}) as Record<string, string>,
          ]),
        ),
      }),
    );

  const instance = new aws.ec2.Instance(`${prefix}-consolidated`, {
    ami,
    instanceType: mode.instanceType,
    subnetId: args.network.privateSubnets[0]?.id ?? "",
    vpcSecurityGroupIds: [args.network.servicesSecurityGroup.id],
    iamInstanceProfile: profile.name,
    metadataOptions: { httpTokens: "required", httpEndpoint: "enabled" },
    rootBlockDevice: { volumeSize: 30, volumeType: "gp3", encrypted: true },
    userData,
    userDataReplaceOnChange: true,
    tags: { ...tags, Name: `${prefix}-consolidated` },
  });

  for (const name of CONSOLIDATED_SERVICES) {
    const discovery = args.discoveryServices[name];
    if (discovery === undefined) continue;
    new aws.servicediscovery.Instance(`${prefix}-${name}-consolidated`, {
      instanceId: `${name}-consolidated`,
      serviceId: discovery.id,
      attributes: {
        AWS_INSTANCE_IPV4: instance.privateIp,
        AWS_INSTANCE_PORT: String(topology.services[name].port ?? 0),
      },
    });
  }
  new aws.lb.TargetGroupAttachment(`${prefix}-gateway-consolidated`, {
    targetGroupArn: args.targetGroup.arn,
    targetId: instance.id,
    port: topology.services["backend-api"].port ?? 0,
  });
  return instance;
}

export interface ConsolidatedUserDataArgs {
  environment: Environment;
  topology: Topology;
  region: string;
  registry: string;
  imageTag: string;
  logGroup: string;
  secretArns: Record<string, string>;
  /** AWS resource names per service (queue URL, cluster, ...), added to its environment. */
  extraEnvironment: Record<string, Record<string, string>>;
}

/** The host's boot script: pull the images and run the consolidated services with Docker. */
export function consolidatedUserData(args: ConsolidatedUserDataArgs): string {
  const { topology, environment } = args;
  const lines = [
    "#!/bin/bash",
    "set -euo pipefail",
    "command -v docker >/dev/null || dnf install -y docker",
    "systemctl enable --now docker",
    `aws ecr get-login-password --region ${args.region} | docker login --username AWS --password-stdin ${args.registry}`,
    "docker network create tradai || true",
    "mkdir -p /var/lib/tradai/postgres /var/lib/tradai/data",
    "POSTGRES_PASSWORD=$(openssl rand -hex 24)",
    '[ -f /var/lib/tradai/postgres.password ] || echo "$POSTGRES_PASSWORD" > /var/lib/tradai/postgres.password',
    "POSTGRES_PASSWORD=$(cat /var/lib/tradai/postgres.password)",
    "echo 'CREATE DATABASE mlflow;' > /var/lib/tradai/postgres-init.sql",
    "docker run -d --name postgres --restart unless-stopped --network tradai" +
      ' -e POSTGRES_USER=tradai -e POSTGRES_DB=tradai -e POSTGRES_PASSWORD="$POSTGRES_PASSWORD"' +
      " -v /var/lib/tradai/postgres:/var/lib/postgresql/data" +
      " -v /var/lib/tradai/postgres-init.sql:/docker-entrypoint-initdb.d/10-mlflow.sql:ro" +
      " public.ecr.aws/docker/library/postgres:15-alpine",
  ];
  for (const name of CONSOLIDATED_SERVICES) {
    const service = topology.services[name];
    const environmentVariables = {
      ...serviceEnvironment(environment, topology, name),
      ...(args.extraEnvironment[name] ?? {}),
    };
    const secretArn = args.secretArns[name] ?? "";
    const envFile = `/var/lib/tradai/${name}.env`;
    lines.push(`: > ${envFile}`);
    for (const [key, value] of Object.entries(environmentVariables))
      lines.push(`echo '${key}=${value}' >> ${envFile}`);
    if (name === "mlflow") {
      lines.push(
        `echo "MLFLOW_BACKEND_STORE_URI=postgresql://tradai:$POSTGRES_PASSWORD@postgres:5432/mlflow" >> ${envFile}`,
      );
    }
    if (secretArn !== "") {
      lines.push(
        `aws secretsmanager get-secret-value --region ${args.region} --secret-id '${secretArn}' --query SecretString --output text` +
          ` | python3 -c 'import json,sys; [print(f"{k}={v}") for k,v in json.load(sys.stdin).items()]' >> ${envFile} || true`,
      );
    }
    const image = `${args.registry}/${service.ecrRepository}:${args.imageTag}`;
    const volume = name === "data-collection" ? " -v /var/lib/tradai/data:/data" : "";
    lines.push(
      `docker run -d --name ${name} --restart unless-stopped --network tradai --network-alias ${name}` +
        ` -p ${service.port}:${service.port} --env-file ${envFile}${volume}` +
        ` --log-driver awslogs --log-opt awslogs-region=${args.region} --log-opt awslogs-group=${args.logGroup}` +
        ` --log-opt awslogs-stream=consolidated/${name} ${image} ${service.args.join(" ")}`.trimEnd(),
    );
  }
  return lines.join("\n");
}
