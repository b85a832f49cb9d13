// The single source of truth for TradAI's deployment topology (the spec's config.py, §1, §2, §5).
// docker-compose.yaml, the cdk8s charts (charts/) and the Pulumi program (infra/) all read or are
// checked against this module: infra/test and charts/test fail when one of them drifts from it.

export const PROJECT = "tradai";

export const ENVIRONMENTS = ["dev", "staging", "prod"] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

/** AWS region used when neither Pulumi config `aws:region` nor AWS_REGION says otherwise (spec §1). */
export const DEFAULT_REGION = "eu-central-1";

export function isEnvironment(value: string): value is Environment {
  return (ENVIRONMENTS as readonly string[]).includes(value);
}

/** Parses a stack or environment name; bad input names what was expected and what was found. */
export function parseEnvironment(value: string, field = "environment"): Environment {
  if (!isEnvironment(value)) {
    throw new Error(`${field}: expected one of ${ENVIRONMENTS.join(", ")}, got "${value}"`);
  }
  return value;
}

// ---------------------------------------------------------------------------------------------
// Services (spec §1, ARCHITECTURE.md §2)
// ---------------------------------------------------------------------------------------------

export const SERVICE_NAMES = [
  "backend-api",
  "backtest",
  "data-collection",
  "strategy-service",
  "mlflow",
  "strategy-container",
  "live-trading",
  "dry-run-trading",
] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

export interface AutoscalingConfig {
  minReplicas: number;
  maxReplicas: number;
  /** Target average CPU utilisation in percent of the request. */
  targetCpuPercent: number;
}

export interface ServiceConfig {
  /** The seed's deployment name; also the Cloud Map and Kubernetes service name. */
  name: ServiceName;
  /** Name of the service in docker-compose.yaml. */
  composeService: string;
  /** The repository component that implements it (`null` for the third-party MLflow server). */
  component: string | null;
  /** TypeScript entry point bundled into the image (`null` for MLflow). */
  entrypoint: string | null;
  /** Extra command-line arguments (trading: `--mode live|dry-run`). */
  args: readonly string[];
  /** Container port; `null` for the on-demand worker. */
  port: number | null;
  /** ECS CPU units (1024 = 1 vCPU). */
  cpu: number;
  /** Memory in MiB. */
  memory: number;
  /** HTTP health path; `null` when the service has no health endpoint. */
  healthPath: string | null;
  /** Whether the port also serves grpc.health.v1.Health (Connect services do, MLflow does not). */
  grpcHealth: boolean;
  /** Runs on FARGATE_SPOT (with FARGATE fallback) when true; live trading never does. */
  spot: boolean;
  desiredCount: Readonly<Record<Environment, number>>;
  /** Seconds of grace before failing health checks count. */
  startPeriod: number;
  /** Prefix of the service's configuration variables (ARCHITECTURE.md §4.10). */
  envPrefix: string;
  /** ECR repository and local image name (without tag). */
  ecrRepository: string;
  /** Dockerfile that builds the image, relative to the repository root. */
  dockerfile: string;
  /**
   * Services it calls, each with the variable of the service's config schema that carries the
   * target's URL (e.g. gateway/src/main.ts: GATEWAY_STRATEGY_URL). Services reject unknown
   * variables with their prefix, so these names must match the schemas exactly.
   */
  urlVariables: Readonly<Partial<Record<ServiceName, string>>>;
  /** Names of secret variables (passwords, keys) taken from a secret store, never from config. */
  secretEnv: readonly string[];
  /** Horizontal autoscaling for stateless services; `null` keeps a fixed replica count. */
  autoscaling: AutoscalingConfig | null;
  /** Long-running service (Deployment / ECS service) or on-demand task (Job / RunTask). */
  kind: "service" | "task";
}

/** Same port for HTTP health, Connect, gRPC and gRPC-Web (h2c + HTTP/1.1 on one port). */
export const HEALTH_PATH = "/api/v1/health";
export const MLFLOW_STATIC_PREFIX = "/mlflow";

const perEnvironment = (dev: number, staging: number, prod: number) => ({ dev, staging, prod });

export const SERVICES: Readonly<Record<ServiceName, ServiceConfig>> = {
  "backend-api": {
    name: "backend-api",
    composeService: "backend",
    component: "gateway",
    entrypoint: "gateway/src/main.ts",
    args: [],
    port: 8000,
    cpu: 512,
    memory: 1024,
    healthPath: HEALTH_PATH,
    grpcHealth: false,
    spot: true,
    desiredCount: perEnvironment(1, 1, 2),
    startPeriod: 15,
    envPrefix: "GATEWAY_",
    ecrRepository: "tradai/backend",
    dockerfile: "docker/gateway.Dockerfile",
    urlVariables: {
      backtest: "GATEWAY_BACKTEST_URL",
      "data-collection": "GATEWAY_DATA_COLLECTION_URL",
      "strategy-service": "GATEWAY_STRATEGY_URL",
      "live-trading": "GATEWAY_LIVE_TRADING_URL",
      "dry-run-trading": "GATEWAY_DRY_RUN_TRADING_URL",
    },
    secretEnv: [],
    autoscaling: { minReplicas: 1, maxReplicas: 4, targetCpuPercent: 70 },
    kind: "service",
  },
  backtest: {
    name: "backtest",
    composeService: "backtest",
    component: "services/backtest",
    entrypoint: "services/backtest/src/main.ts",
    args: [],
    port: 8001,
    cpu: 512,
    memory: 1024,
    healthPath: HEALTH_PATH,
    grpcHealth: true,
    spot: true,
    desiredCount: perEnvironment(1, 1, 2),
    startPeriod: 15,
    // The backtest service holds the seed backend's executors, so it keeps the BACKEND_ prefix
    // (BACKEND_ECS_CLUSTER, BACKEND_BACKTEST_QUEUE_URL, ... in spec §4).
    envPrefix: "BACKEND_",
    ecrRepository: "tradai/backtest",
    dockerfile: "docker/backtest.Dockerfile",
    // The spec's names (§3.1, §6); the worker's naming for the state store (WORKER_POSTGRES_URL).
    urlVariables: {
      "data-collection": "BACKEND_DATA_COLLECTION_URL",
      "strategy-service": "BACKEND_STRATEGY_SERVICE_URL",
      mlflow: "BACKEND_MLFLOW_TRACKING_URI",
    },
    secretEnv: ["BACKEND_POSTGRES_URL"],
    autoscaling: { minReplicas: 1, maxReplicas: 4, targetCpuPercent: 70 },
    kind: "service",
  },
  "data-collection": {
    name: "data-collection",
    composeService: "data-collection",
    component: "services/data-collection",
    entrypoint: "services/data-collection/src/main.ts",
    args: [],
    port: 8002,
    cpu: 256,
    memory: 512,
    healthPath: HEALTH_PATH,
    grpcHealth: true,
    spot: true,
    desiredCount: perEnvironment(1, 1, 1),
    startPeriod: 15,
    envPrefix: "DATA_COLLECTION_",
    ecrRepository: "tradai/data-collection",
    dockerfile: "docker/data-collection.Dockerfile",
    urlVariables: {},
    secretEnv: [],
    // Writes the time-series store; one writer, so no horizontal scaling.
    autoscaling: null,
    kind: "service",
  },
  "strategy-service": {
    name: "strategy-service",
    composeService: "strategy-service",
    component: "services/strategy",
    entrypoint: "services/strategy/src/main.ts",
    args: [],
    port: 8003,
    cpu: 512,
    memory: 1024,
    healthPath: HEALTH_PATH,
    grpcHealth: true,
    spot: true,
    desiredCount: perEnvironment(1, 1, 1),
    startPeriod: 15,
    envPrefix: "STRATEGY_SERVICE_",
    ecrRepository: "tradai/strategy-service",
    dockerfile: "docker/strategy.Dockerfile",
    urlVariables: {},
    secretEnv: [],
    autoscaling: { minReplicas: 1, maxReplicas: 3, targetCpuPercent: 70 },
    kind: "service",
  },
  mlflow: {
    name: "mlflow",
    composeService: "mlflow",
    component: null,
    entrypoint: null,
    args: [],
    port: 5000,
    cpu: 512,
    memory: 1024,
    // The MLflow server has no /health under the static prefix; its root answers 200 (spec §3.4).
    healthPath: `${MLFLOW_STATIC_PREFIX}/`,
    grpcHealth: false,
    spot: true,
    desiredCount: perEnvironment(1, 1, 1),
    startPeriod: 30,
    envPrefix: "MLFLOW_",
    ecrRepository: "tradai/mlflow",
    dockerfile: "docker/mlflow.Dockerfile",
    urlVariables: {},
    secretEnv: ["MLFLOW_BACKEND_STORE_URI"],
    autoscaling: null,
    kind: "service",
  },
  "strategy-container": {
    name: "strategy-container",
    composeService: "worker",
    component: "services/worker",
    entrypoint: "services/worker/src/main.ts",
    args: [],
    port: null,
    cpu: 1024,
    memory: 2048,
    healthPath: null,
    grpcHealth: false,
    spot: true,
    desiredCount: perEnvironment(0, 0, 0),
    startPeriod: 0,
    envPrefix: "WORKER_",
    ecrRepository: "tradai/strategy-container",
    dockerfile: "docker/worker.Dockerfile",
    // The worker's schema (services/worker/src/main.ts): it loads strategies and candles from the
    // services and tracks runs in MLflow, in every deployment (compose, Kubernetes, ECS).
    urlVariables: {
      "strategy-service": "WORKER_STRATEGY_SERVICE_URL",
      "data-collection": "WORKER_DATA_COLLECTION_URL",
      mlflow: "WORKER_MLFLOW_TRACKING_URI",
    },
    secretEnv: ["WORKER_POSTGRES_URL"],
    autoscaling: null,
    kind: "task",
  },
  "live-trading": {
    name: "live-trading",
    composeService: "live-trading",
    component: "services/trading",
    entrypoint: "services/trading/src/main.ts",
    args: ["--mode", "live"],
    port: 8004,
    cpu: 1024,
    memory: 2048,
    healthPath: HEALTH_PATH,
    grpcHealth: true,
    // Real money: never on spot capacity (spec §3.5).
    spot: false,
    desiredCount: perEnvironment(0, 0, 0),
    startPeriod: 120,
    envPrefix: "TRADING_",
    ecrRepository: "tradai/trading",
    dockerfile: "docker/trading.Dockerfile",
    urlVariables: {},
    // Exchange keys (e.g. TRADING_EXCHANGE_API_KEY) join this list once the trading schema has them:
    // a variable the schema does not know stops start-up.
    secretEnv: [],
    // One bot per strategy: never two replicas of one bot.
    autoscaling: null,
    kind: "service",
  },
  "dry-run-trading": {
    name: "dry-run-trading",
    composeService: "dry-run-trading",
    component: "services/trading",
    entrypoint: "services/trading/src/main.ts",
    args: ["--mode", "dry-run"],
    port: 8005,
    cpu: 1024,
    memory: 2048,
    healthPath: HEALTH_PATH,
    grpcHealth: true,
    spot: true,
    desiredCount: perEnvironment(0, 0, 0),
    startPeriod: 120,
    envPrefix: "TRADING_",
    ecrRepository: "tradai/trading",
    dockerfile: "docker/trading.Dockerfile",
    urlVariables: {},
    secretEnv: [],
    autoscaling: null,
    kind: "service",
  },
};

/** Service name → ECR repository (spec §1 "ECR Repository Mapping"); trading is one image (ARCHITECTURE §2). */
export const ECR_SERVICE_MAPPING: Readonly<Record<ServiceName, string>> = Object.fromEntries(
  SERVICE_NAMES.map((name) => [name, SERVICES[name].ecrRepository]),
) as Record<ServiceName, string>;

/** Services that run on the single consolidated EC2 host in dev/staging (spec §2). */
export const CONSOLIDATED_SERVICES: readonly ServiceName[] = [
  "backend-api",
  "backtest",
  "data-collection",
  "strategy-service",
  "mlflow",
];

export interface ConsolidatedModeConfig {
  enabled: boolean;
  instanceType: string;
}

export const CONSOLIDATED_MODE: Readonly<Record<Environment, ConsolidatedModeConfig>> = {
  dev: { enabled: true, instanceType: "t3.small" },
  staging: { enabled: true, instanceType: "t3.small" },
  prod: { enabled: false, instanceType: "t3.small" },
};

/** CloudWatch retention of the ECS service logs (spec §2: 30 days dev/staging, 90 days prod). */
export const LOG_RETENTION_DAYS: Readonly<Record<Environment, number>> = { dev: 30, staging: 30, prod: 90 };

export function serviceLogGroupName(environment: Environment): string {
  return `/ecs/${PROJECT}/${environment}/services`;
}

export function lambdaLogGroupName(environment: Environment, lambda: LambdaName): string {
  return `/aws/lambda/${lambdaFunctionName(environment, lambda)}`;
}

/** Cloud Map private DNS namespace (spec §2 "Service Discovery"). */
export function serviceDiscoveryNamespace(environment: Environment): string {
  return `${PROJECT}-${environment}.local`;
}
export const SERVICE_DISCOVERY_TTL_SECONDS = 60;

/** Base URL of a service for a host name resolver (Cloud Map, compose service name, k8s Service). */
export function serviceUrl(
  name: ServiceName,
  host: string,
  services: Readonly<Record<ServiceName, ServiceConfig>> = SERVICES,
): string {
  const service = services[name];
  if (service.port === null) throw new Error(`serviceUrl: expected a service with a port, got ${name}`);
  const path = name === "mlflow" ? MLFLOW_STATIC_PREFIX : "";
  return `http://${host}:${service.port}${path}`;
}

/** The URL variables of a service, with each target's host given by `hostOf`. */
export function serviceUrlEnvironment(
  name: ServiceName,
  hostOf: (target: ServiceName) => string,
  services: Readonly<Record<ServiceName, ServiceConfig>> = SERVICES,
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(services[name].urlVariables).map(([target, variable]) => [
      variable,
      serviceUrl(target as ServiceName, hostOf(target as ServiceName), services),
    ]),
  );
}

// ---------------------------------------------------------------------------------------------
// Lambda functions (spec §5)
// ---------------------------------------------------------------------------------------------

export const LAMBDA_NAMES = [
  "backtest-consumer",
  "sqs-consumer",
  "orphan-scanner",
  "health-check",
  "trading-heartbeat-check",
  "drift-monitor",
  "retraining-scheduler",
  "validate-strategy",
  "data-collection-proxy",
  "notify-completion",
  "check-retraining-needed",
  "compare-models",
  "promote-model",
  "model-rollback",
  "cleanup-resources",
  "update-status",
  "pulumi-drift-detector",
  "update-nat-routes",
] as const;
export type LambdaName = (typeof LAMBDA_NAMES)[number];

export const SCHEDULED_LAMBDAS = [
  "orphan-scanner",
  "health-check",
  "trading-heartbeat-check",
  "drift-monitor",
  "retraining-scheduler",
  "pulumi-drift-detector",
] as const satisfies readonly LambdaName[];
export type ScheduledLambdaName = (typeof SCHEDULED_LAMBDAS)[number];

/** What invokes a function besides direct calls. */
export type LambdaTrigger =
  | { type: "schedule" }
  | { type: "sqs"; queue: QueueName }
  | { type: "step-functions" }
  | { type: "asg-lifecycle-hook" };

export interface LambdaConfig {
  name: LambdaName;
  memory: number;
  /** Seconds. */
  timeout: number;
  /** Runs inside the VPC's private subnets. */
  vpc: boolean;
  /** Part of every deployment (optional ones can be switched off per stack). */
  required: boolean;
  trigger: LambdaTrigger;
  /** Container image from ECR (`tradai/lambda-<name>`), or a small inline ZIP handler. */
  packaging: "image" | "inline";
  description: string;
  /** Handler source in this repository. */
  handler: string;
  /** Prefix of the handler's config variables: the name in SNAKE_CASE (BACKTEST_CONSUMER_). */
  envPrefix: string;
  /** Settings the handler reads, by the field names of its config schema (variable = prefix + SNAKE_CASE). */
  settings: readonly LambdaSetting[];
}

/**
 * Values the Pulumi program can hand a function (infra/src/functions.ts resolves each to a resource
 * attribute), named like the handlers' config fields: lambdas/backtest-consumer/src/handler.ts reads
 * `idempotencyTable` from BACKTEST_CONSUMER_IDEMPOTENCY_TABLE, and so on.
 */
export const LAMBDA_SETTINGS = [
  "region",
  "launch",
  "idempotencyTable",
  "workflowStateTable",
  "retrainingStateTable",
  "tradingStateTable",
  "backtestQueueUrl",
  "retrainingQueueUrl",
  "alertTopicArn",
  "ecsCluster",
  "ecsTaskDefinition",
  "ecsSubnets",
  "ecsSecurityGroups",
  "stateMachineArn",
  "serviceNamespace",
  "dataCollectionUrl",
] as const;
export type LambdaSetting = (typeof LAMBDA_SETTINGS)[number];

/** SNAKE_CASE of a camelCase field, as packages/common's config loader names variables. */
export function snakeCase(field: string): string {
  return field.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toUpperCase();
}

export function lambdaEnvPrefix(name: LambdaName): string {
  return `${name.toUpperCase().replace(/-/g, "_")}_`;
}

/** The variables a function gets (prefix + SNAKE_CASE of each setting), in settings order. */
export function lambdaVariables(config: LambdaConfig): Record<string, LambdaSetting> {
  return Object.fromEntries(
    config.settings.map((setting) => [config.envPrefix + snakeCase(setting), setting]),
  );
}

const launchWorker: readonly LambdaSetting[] = [
  "ecsCluster",
  "ecsTaskDefinition",
  "ecsSubnets",
  "ecsSecurityGroups",
];

/**
 * What each function's handler reads. backtest-consumer's list is its schema (lambdas/backtest-consumer/
 * src/handler.ts, checked by infra/test); the others follow their permissions until their handlers land.
 */
const LAMBDA_FUNCTION_SETTINGS: Readonly<Record<LambdaName, readonly LambdaSetting[]>> = {
  // workflowStateTable: jobs already final in the backtest service's table are not launched again.
  "backtest-consumer": [
    "idempotencyTable",
    "workflowStateTable",
    "launch",
    ...launchWorker,
    "stateMachineArn",
    "region",
  ],
  "sqs-consumer": ["retrainingStateTable", ...launchWorker, "region"],
  "orphan-scanner": [
    "ecsCluster",
    "workflowStateTable",
    "retrainingStateTable",
    "tradingStateTable",
    "alertTopicArn",
    "region",
  ],
  "health-check": ["serviceNamespace", "alertTopicArn", "region"],
  "trading-heartbeat-check": ["tradingStateTable", "alertTopicArn", "region"],
  "drift-monitor": ["retrainingStateTable", "alertTopicArn", "region"],
  "retraining-scheduler": ["retrainingStateTable", "retrainingQueueUrl", "region"],
  "validate-strategy": ["region"],
  "data-collection-proxy": ["dataCollectionUrl", "region"],
  "notify-completion": ["alertTopicArn", "region"],
  "check-retraining-needed": ["retrainingStateTable", "region"],
  "compare-models": ["region"],
  "promote-model": ["retrainingStateTable", "alertTopicArn", "region"],
  "model-rollback": ["retrainingStateTable", "alertTopicArn", "region"],
  "cleanup-resources": ["ecsCluster", "workflowStateTable", "region"],
  "update-status": ["workflowStateTable", "region"],
  "pulumi-drift-detector": ["alertTopicArn", "region"],
  // The inline handler (infra/src/nat-routes-handler.ts) has its own variables.
  "update-nat-routes": [],
};

const lambda = (
  name: LambdaName,
  memory: number,
  timeout: number,
  vpc: boolean,
  required: boolean,
  trigger: LambdaTrigger,
  description: string,
): LambdaConfig => ({
  name,
  memory,
  timeout,
  vpc,
  required,
  trigger,
  // update-nat-routes must work while the NAT instance (and so ECR access) is being replaced.
  packaging: name === "update-nat-routes" ? "inline" : "image",
  description,
  handler: `lambdas/${name}/src/handler.ts`,
  envPrefix: lambdaEnvPrefix(name),
  settings: LAMBDA_FUNCTION_SETTINGS[name],
});

const schedule: LambdaTrigger = { type: "schedule" };
const stepFunctions: LambdaTrigger = { type: "step-functions" };

export const LAMBDA_CONFIGS: Readonly<Record<LambdaName, LambdaConfig>> = {
  "backtest-consumer": lambda(
    "backtest-consumer",
    256,
    30,
    true,
    true,
    { type: "sqs", queue: "backtest" },
    "Consumes the SQS backtest queue, launches ECS tasks",
  ),
  "sqs-consumer": lambda(
    "sqs-consumer",
    256,
    30,
    true,
    false,
    { type: "sqs", queue: "retraining" },
    "Consumes the retraining SQS queue, launches ECS tasks",
  ),
  "orphan-scanner": lambda("orphan-scanner", 128, 60, true, true, schedule, "Scans for orphaned ECS tasks"),
  "health-check": lambda(
    "health-check",
    256,
    60,
    true,
    true,
    schedule,
    "Periodic health checks via Service Discovery",
  ),
  "trading-heartbeat-check": lambda(
    "trading-heartbeat-check",
    256,
    60,
    true,
    true,
    schedule,
    "Checks trading container heartbeats in DynamoDB",
  ),
  "drift-monitor": lambda("drift-monitor", 512, 120, true, true, schedule, "Model drift detection using PSI"),
  "retraining-scheduler": lambda(
    "retraining-scheduler",
    256,
    60,
    true,
    true,
    schedule,
    "Schedules retraining based on drift and intervals",
  ),
  "validate-strategy": lambda(
    "validate-strategy",
    256,
    30,
    true,
    false,
    stepFunctions,
    "Validates strategy config in Step Functions",
  ),
  "data-collection-proxy": lambda(
    "data-collection-proxy",
    256,
    180,
    true,
    false,
    stepFunctions,
    "Proxies to data-collection for ensure-data operations",
  ),
  "notify-completion": lambda(
    "notify-completion",
    128,
    30,
    false,
    false,
    stepFunctions,
    "Sends SNS notifications on backtest completion",
  ),
  "check-retraining-needed": lambda(
    "check-retraining-needed",
    256,
    30,
    true,
    false,
    stepFunctions,
    "Checks drift state to decide retraining",
  ),
  "compare-models": lambda(
    "compare-models",
    512,
    120,
    true,
    false,
    stepFunctions,
    "Compares champion vs challenger models",
  ),
  "promote-model": lambda(
    "promote-model",
    256,
    60,
    true,
    false,
    stepFunctions,
    "Promotes the challenger to champion in MLflow",
  ),
  "model-rollback": lambda(
    "model-rollback",
    256,
    60,
    true,
    false,
    stepFunctions,
    "Rolls back a model on performance degradation",
  ),
  "cleanup-resources": lambda(
    "cleanup-resources",
    256,
    60,
    true,
    false,
    stepFunctions,
    "Stops orphaned ECS tasks on Step Functions failure",
  ),
  "update-status": lambda(
    "update-status",
    256,
    30,
    true,
    false,
    stepFunctions,
    "Updates job status in the DynamoDB workflow-state table",
  ),
  "pulumi-drift-detector": lambda(
    "pulumi-drift-detector",
    512,
    300,
    false,
    true,
    schedule,
    "Detects infrastructure drift via Pulumi preview",
  ),
  "update-nat-routes": lambda(
    "update-nat-routes",
    128,
    120,
    false,
    true,
    { type: "asg-lifecycle-hook" },
    "Updates the private route table when the NAT instance is replaced",
  ),
};

export const LAMBDA_BASE_REPOSITORY = "tradai/lambda-base";

/** Lambda name → ECR repository (`tradai/lambda-<name>`), for image-packaged functions. */
export const LAMBDA_ECR_REPOS: Readonly<Partial<Record<LambdaName, string>>> = Object.fromEntries(
  LAMBDA_NAMES.filter((name) => LAMBDA_CONFIGS[name].packaging === "image").map((name) => [
    name,
    `tradai/lambda-${name}`,
  ]),
);

/** Every ECR repository the platform needs: service images, the Lambda base and one per Lambda. */
export const ECR_REPOS: readonly string[] = [
  ...new Set([
    ...SERVICE_NAMES.map((name) => SERVICES[name].ecrRepository),
    LAMBDA_BASE_REPOSITORY,
    ...Object.values(LAMBDA_ECR_REPOS),
  ]),
];

export function lambdaFunctionName(environment: Environment, name: LambdaName): string {
  return `${PROJECT}-${name}-${environment}`;
}

export interface LambdaSchedule {
  /** EventBridge schedule expression: `rate(N unit)` or `cron(...)`. */
  expression: string;
  /** Pulumi stack config key that overrides it (spec §5 "Schedule Configuration"). */
  configKey: string;
}

export const LAMBDA_SCHEDULES: Readonly<Record<ScheduledLambdaName, LambdaSchedule>> = {
  "orphan-scanner": { expression: "rate(5 minutes)", configKey: "orphan_scanner_schedule" },
  "health-check": { expression: "rate(2 minutes)", configKey: "health_check_schedule" },
  "trading-heartbeat-check": { expression: "rate(5 minutes)", configKey: "trading_heartbeat_schedule" },
  "drift-monitor": { expression: "rate(12 hours)", configKey: "drift_monitor_schedule" },
  "retraining-scheduler": { expression: "rate(6 hours)", configKey: "retraining_scheduler_schedule" },
  "pulumi-drift-detector": { expression: "rate(6 hours)", configKey: "pulumi_drift_schedule" },
};

/**
 * The effective schedule expression per scheduled Lambda: the stack config value under the
 * function's `configKey` when `lookup` returns one, else the default. Every value must be a valid
 * EventBridge expression (validateScheduleExpression); whether Kubernetes can run it is checked
 * only where CronJobs are made (scheduleToCron, charts/).
 */
export function resolveLambdaSchedules(
  lookup: (configKey: string) => string | undefined,
  schedules: Readonly<Record<ScheduledLambdaName, LambdaSchedule>> = LAMBDA_SCHEDULES,
): Record<ScheduledLambdaName, string> {
  return Object.fromEntries(
    SCHEDULED_LAMBDAS.map((name) => {
      const entry = schedules[name];
      const expression = lookup(entry.configKey) ?? entry.expression;
      validateScheduleExpression(expression, entry.configKey);
      return [name, expression];
    }),
  ) as Record<ScheduledLambdaName, string>;
}

const RATE = /^rate\((\S+) (\S+)\)$/;
const CRON = /^cron\(([^)]+)\)$/;
const MINUTES_PER: Readonly<Record<string, number>> = { minute: 1, hour: 60, day: 1440 };
const RATE_UNITS = ["minute", "minutes", "hour", "hours", "day", "days"];

export type ScheduleExpression =
  | { kind: "rate"; minutes: number }
  | { kind: "cron"; fields: [string, string, string, string, string, string] };

interface CronFieldRule {
  name: string;
  min: number;
  max: number;
  /** Names accepted for values (JAN = 1, SUN = 1), case-insensitive. */
  names?: readonly string[];
  /** Special items of the field besides values, ranges and steps (L, W, #). */
  special?: RegExp;
  /** What the error message says the field accepts. */
  expected: string;
}

const MONTH_NAMES = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const DAY_NAMES = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

/** EventBridge's six cron fields (AWS "Cron expressions" reference). */
const CRON_FIELDS: readonly CronFieldRule[] = [
  { name: "minute", min: 0, max: 59, expected: "0-59 with , - * /" },
  { name: "hour", min: 0, max: 23, expected: "0-23 with , - * /" },
  {
    name: "day-of-month",
    min: 1,
    max: 31,
    special: /^(L|LW|([1-9]|[12]\d|3[01])W)$/,
    expected: "1-31 with , - * ? / L W",
  },
  { name: "month", min: 1, max: 12, names: MONTH_NAMES, expected: "1-12 or JAN-DEC with , - * /" },
  {
    name: "day-of-week",
    min: 1,
    max: 7,
    names: DAY_NAMES,
    special: /^(L|([1-7]|SUN|MON|TUE|WED|THU|FRI|SAT)(L|#[1-5]))$/i,
    expected: "1-7 or SUN-SAT with , - * ? L #",
  },
  { name: "year", min: 1970, max: 2199, expected: "1970-2199 with , - * /" },
];

/** A value of a cron field: a number in range or one of its names; `undefined` when it is neither. */
function cronValue(rule: CronFieldRule, text: string): number | undefined {
  if (/^\d+$/.test(text)) {
    const value = Number(text);
    return value >= rule.min && value <= rule.max ? value : undefined;
  }
  const index = rule.names?.indexOf(text.toUpperCase()) ?? -1;
  return index < 0 ? undefined : rule.min + index;
}

/** Whether one comma-separated item (`*`, `v`, `v-v`, with `/step`, or a special) is valid. */
function validCronItem(rule: CronFieldRule, item: string): boolean {
  if (rule.special?.test(item) === true) return true;
  const [base = "", step, ...extra] = item.split("/");
  if (extra.length > 0) return false;
  if (step !== undefined && !(/^\d+$/.test(step) && Number(step) >= 1 && Number(step) <= rule.max)) {
    return false;
  }
  if (base === "*") return true;
  const [from = "", to, ...more] = base.split("-");
  if (more.length > 0) return false;
  const start = cronValue(rule, from);
  if (start === undefined) return false;
  return to === undefined || cronValue(rule, to) !== undefined;
}

/**
 * Parses an EventBridge schedule expression (`rate(N unit)`, `cron(m h dom mon dow year)`) as AWS
 * accepts it: N a whole number ≥ 1 with the singular unit exactly for 1; cron with six fields, each
 * in its range (minute 0-59, hour 0-23, day-of-month 1-31/L/W, month 1-12/JAN-DEC, day-of-week
 * 1-7/SUN-SAT/L/#, year 1970-2199) and `?` in exactly one of day-of-month and day-of-week. Bad input
 * names `field` (the stack config key), what was expected and what was found.
 */
export function validateScheduleExpression(expression: string, field = "schedule"): ScheduleExpression {
  const rate = RATE.exec(expression);
  if (rate) {
    const amountText = rate[1] ?? "";
    const unit = rate[2] ?? "";
    if (!RATE_UNITS.includes(unit)) {
      throw new Error(
        `${field}: expected a rate unit of ${RATE_UNITS.join(", ")}, got "${unit}" in "${expression}"`,
      );
    }
    const singular = unit.endsWith("s") ? unit.slice(0, -1) : unit;
    if (!/^\d+$/.test(amountText)) {
      throw new Error(
        `${field}: expected a whole number of ${singular}s in rate(), got "${amountText}" in "${expression}"`,
      );
    }
    const amount = Number(amountText);
    if (amount < 1 || (amount === 1) !== (singular === unit)) {
      throw new Error(
        `${field}: expected "rate(1 ${singular})" or "rate(N ${singular}s)" with N > 1, got "${expression}"`,
      );
    }
    return { kind: "rate", minutes: amount * (MINUTES_PER[singular] ?? 1) };
  }
  const cron = CRON.exec(expression);
  if (cron) {
    const fields = (cron[1] ?? "").trim().split(/\s+/);
    if (fields.length !== 6) {
      throw new Error(`${field}: expected cron() with 6 fields, got ${fields.length} in "${expression}"`);
    }
    const [, , dayOfMonth, , dayOfWeek] = fields;
    if ((dayOfMonth === "?") === (dayOfWeek === "?")) {
      throw new Error(
        `${field}: expected "?" in exactly one of day-of-month and day-of-week, got "${dayOfMonth} ... ${dayOfWeek}" in "${expression}"`,
      );
    }
    const problems = CRON_FIELDS.flatMap((rule, index) => {
      const value = fields[index] ?? "";
      if (value === "?" && (rule.name === "day-of-month" || rule.name === "day-of-week")) return [];
      return value.split(",").every((item) => validCronItem(rule, item))
        ? []
        : [`the ${rule.name} field to be ${rule.expected}, got "${value}"`];
    });
    if (problems.length > 0) {
      throw new Error(`${field}: expected ${problems.join("; expected ")} in "${expression}"`);
    }
    return { kind: "cron", fields: fields as [string, string, string, string, string, string] };
  }
  throw new Error(`${field}: expected "rate(N unit)" or "cron(m h dom mon dow year)", got "${expression}"`);
}

/** EventBridge numbers days of the week 1-7 from Sunday, Kubernetes 0-6: shift numbers by one. */
function dayOfWeekToCron(part: string, field: string, expression: string): string {
  if (/[LW#]/.test(part)) {
    throw new Error(
      `${field}: expected a day of week without L, W or # (Kubernetes cron has none), got "${part}" in "${expression}"`,
    );
  }
  return part.replace(
    /(^|[,-])(\d+)/g,
    (_match, separator: string, day: string) => `${separator}${Number(day) - 1}`,
  );
}

/**
 * Converts an EventBridge schedule expression to a five-field Kubernetes CronJob schedule that
 * fires at the same rate. Valid on AWS but not expressible exactly in five-field cron (rates that do
 * not divide an hour or a day, rate(2 days), a year field, L/W/#): an error naming `field` (the
 * stack config key) that says why, and the nearest cron where there is one, which is not exact.
 */
export function scheduleToCron(expression: string, field = "schedule"): string {
  const parsed = validateScheduleExpression(expression, field);
  const inexact = (reason: string, nearest: string | null) =>
    new Error(
      `${field}: "${expression}" has no exact Kubernetes cron (${reason})` +
        (nearest === null ? "" : `; the nearest, "${nearest}", is not exact`) +
        `; on Kubernetes, expected a rate that divides an hour or a day, rate(7 days), or a cron(...) value`,
    );
  if (parsed.kind === "rate") {
    const minutes = parsed.minutes;
    if (minutes < 60) {
      if (60 % minutes !== 0)
        throw inexact(`${minutes} minutes do not divide an hour`, `*/${minutes} * * * *`);
      return minutes === 1 ? "* * * * *" : `*/${minutes} * * * *`;
    }
    if (minutes < 1440) {
      const hours = minutes / 60;
      if (!Number.isInteger(hours)) throw inexact(`${minutes} minutes are not whole hours`, null);
      if (24 % hours !== 0) throw inexact(`${hours} hours do not divide a day`, `0 */${hours} * * *`);
      return hours === 1 ? "0 * * * *" : `0 */${hours} * * *`;
    }
    const days = minutes / 1440;
    if (days === 1) return "0 0 * * *";
    if (days === 7) return "0 0 * * 0";
    throw inexact(
      Number.isInteger(days)
        ? `every ${days} days restarts at each month's start`
        : `${minutes} minutes are not whole days`,
      Number.isInteger(days) ? `0 0 */${days} * *` : null,
    );
  }
  const [minute, hour, dayOfMonth, month, dayOfWeek, year] = parsed.fields;
  if (year !== "*") {
    throw new Error(
      `${field}: expected the year field of "${expression}" to be * on Kubernetes (cron has no year), got "${year}"`,
    );
  }
  if (/[LW#]/.test(dayOfMonth)) {
    throw new Error(
      `${field}: expected a day of month without L or W (Kubernetes cron has none), got "${dayOfMonth}" in "${expression}"`,
    );
  }
  return [
    minute,
    hour,
    dayOfMonth === "?" ? "*" : dayOfMonth,
    month,
    dayOfWeek === "?" ? "*" : dayOfWeekToCron(dayOfWeek, field, expression),
  ].join(" ");
}

/** Pulumi stack config key: comma-separated optional functions to leave out (LAMBDA_CONFIGS.required false). */
export const DISABLED_FUNCTIONS_CONFIG_KEY = "disabled_functions";

/** Functions the backtest state machine invokes: they go with it, so they cannot be left out alone. */
export const STATE_MACHINE_FUNCTIONS: readonly LambdaName[] = [
  "validate-strategy",
  "data-collection-proxy",
  "update-status",
  "notify-completion",
  "cleanup-resources",
];

/**
 * The functions to deploy: all but the `disabled` ones, which must be optional (`required: false`)
 * and not steps of the backtest state machine.
 */
export function resolveEnabledFunctions(
  disabled: readonly string[],
  lambdas: Readonly<Record<LambdaName, LambdaConfig>> = LAMBDA_CONFIGS,
  field = DISABLED_FUNCTIONS_CONFIG_KEY,
): LambdaName[] {
  const optional = LAMBDA_NAMES.filter(
    (name) => !lambdas[name].required && !STATE_MACHINE_FUNCTIONS.includes(name),
  );
  for (const name of disabled) {
    if (!(LAMBDA_NAMES as readonly string[]).includes(name)) {
      throw new Error(
        `${field}: expected names of optional functions (${optional.join(", ")}), got "${name}"`,
      );
    }
    if (lambdas[name as LambdaName].required) {
      throw new Error(`${field}: expected optional functions only, got the required function "${name}"`);
    }
    if (STATE_MACHINE_FUNCTIONS.includes(name as LambdaName)) {
      throw new Error(
        `${field}: expected a function the backtest state machine does not invoke, got "${name}" (a step of ${STATE_MACHINE})`,
      );
    }
  }
  return LAMBDA_NAMES.filter((name) => !disabled.includes(name));
}

// ---------------------------------------------------------------------------------------------
// Data stores
// ---------------------------------------------------------------------------------------------

export interface TableIndexConfig {
  name: string;
  partitionKey: string;
  sortKey: string | null;
}

export interface TableConfig {
  /** Logical name; the table is `tradai-<name>-<env>`. */
  name: string;
  /** String (S) partition key. */
  partitionKey: string;
  sortKey: string | null;
  /** Attribute holding the expiry epoch second, if items expire. */
  ttlAttribute: string | null;
  /** Global secondary indexes (string keys, all attributes projected). */
  globalSecondaryIndexes: readonly TableIndexConfig[];
}

export const DYNAMODB_TABLES = {
  // The backtest service's and the worker's WorkflowStateRepository (services/backtest
  // dynamodb-workflow-state-repository.ts, workflowStateTableDefinition()): jobs and idempotency
  // keys under `pk`, listed newest first through `by_created`. infra/test compares the two.
  workflowState: {
    name: "workflow-state",
    partitionKey: "pk",
    sortKey: null,
    ttlAttribute: null,
    globalSecondaryIndexes: [{ name: "by_created", partitionKey: "gsi_list", sortKey: "created_sk" }],
  },
  retrainingState: {
    name: "retraining-state",
    partitionKey: "model_name",
    sortKey: null,
    ttlAttribute: null,
    globalSecondaryIndexes: [],
  },
  tradingState: {
    name: "trading-state",
    partitionKey: "strategy_id",
    sortKey: null,
    ttlAttribute: null,
    globalSecondaryIndexes: [],
  },
  // backtest-consumer's claims (lambdas/backtest-consumer: one launch per job id; claims expire).
  backtestIdempotency: {
    name: "backtest-idempotency",
    partitionKey: "job_id",
    sortKey: null,
    ttlAttribute: "expires_at",
    globalSecondaryIndexes: [],
  },
} as const satisfies Record<string, TableConfig>;
export type TableKey = keyof typeof DYNAMODB_TABLES;

export function tableName(environment: Environment, table: TableKey): string {
  return `${PROJECT}-${DYNAMODB_TABLES[table].name}-${environment}`;
}

export interface BucketConfig {
  /** Logical name; the bucket is `tradai-<name>-<env>`. */
  name: string;
  versioned: boolean;
  /** Days after which objects expire; `null` keeps them. */
  expireAfterDays: number | null;
}

export const S3_BUCKETS = {
  configs: { name: "configs", versioned: true, expireAfterDays: null },
  results: { name: "results", versioned: false, expireAfterDays: 365 },
  data: { name: "arcticdb", versioned: false, expireAfterDays: null },
  mlflow: { name: "mlflow", versioned: true, expireAfterDays: null },
} as const satisfies Record<string, BucketConfig>;
export type BucketKey = keyof typeof S3_BUCKETS;

export function bucketName(environment: Environment, bucket: BucketKey): string {
  return `${PROJECT}-${S3_BUCKETS[bucket].name}-${environment}`;
}

export interface QueueConfig {
  /** Logical name; the queue is `tradai-<name>-<env>.fifo`. */
  name: string;
  fifo: true;
  /** Seconds; at least six times the consuming Lambda's timeout (AWS guidance for event sources). */
  visibilityTimeout: number;
  /** Receives before a message moves to the dead-letter queue. */
  maxReceiveCount: number;
  messageRetentionSeconds: number;
}

export const SQS_QUEUES = {
  backtest: {
    name: "backtest",
    fifo: true,
    visibilityTimeout: 180,
    maxReceiveCount: 3,
    messageRetentionSeconds: 4 * 24 * 3600,
  },
  retraining: {
    name: "retraining",
    fifo: true,
    visibilityTimeout: 180,
    maxReceiveCount: 3,
    messageRetentionSeconds: 4 * 24 * 3600,
  },
} as const satisfies Record<string, QueueConfig>;
export type QueueName = keyof typeof SQS_QUEUES;

export function queueName(environment: Environment, queue: QueueName): string {
  return `${PROJECT}-${SQS_QUEUES[queue].name}-${environment}.fifo`;
}

export function deadLetterQueueName(environment: Environment, queue: QueueName): string {
  return `${PROJECT}-${SQS_QUEUES[queue].name}-dlq-${environment}.fifo`;
}

/**
 * BullMQ queue consumed by the worker (QUEUE executor; services/backtest DEFAULT_BACKTEST_QUEUE);
 * KEDA scales the worker on its length.
 */
export const BULLMQ_BACKTEST_QUEUE = "tradai-backtests";

/** Worker arguments for a long-running BullMQ consumer (compose, Kubernetes Deployment); without
 * them the worker runs the one job in WORKER_JOB and exits (ECS task, Kubernetes Job). */
export const WORKER_CONSUMER_ARGS: readonly string[] = ["--queue"];
/** Variable that carries the one job (JSON) of a one-shot worker. */
export const WORKER_JOB_VARIABLE = "WORKER_JOB";

/**
 * Command of the worker image (docker/worker.Dockerfile CMD, no ENTRYPOINT): also the LOCAL/DOCKER
 * executor's default command (services/backtest local-docker-submitter.ts), which appends
 * `--job <json>`; deployments that consume the queue append WORKER_CONSUMER_ARGS.
 */
export const WORKER_COMMAND: readonly string[] = ["node", "dist/main.mjs"];

// ---------------------------------------------------------------------------------------------
// Backtest execution per deployment (spec §4, §6)
// ---------------------------------------------------------------------------------------------

/**
 * The backtest service's executor (BACKEND_EXECUTOR_MODE) in each deployment:
 * - compose: LOCAL with the DOCKER sub-mode (spec §6 override): a worker container per job on the
 *   compose network, results on a volume shared with the backtest service;
 * - kubernetes: QUEUE: jobs on the BullMQ queue in Redis, consumed by the worker Deployment that
 *   KEDA scales on the queue's length;
 * - aws: SQS (spec §4 sequence): the FIFO queue → backtest-consumer Lambda → Step Functions → an
 *   ECS worker task; job state in DynamoDB, results in S3.
 */
export const BACKTEST_EXECUTOR = {
  compose: { mode: "LOCAL", localExecutionMode: "docker" },
  kubernetes: { mode: "QUEUE" },
  aws: { mode: "SQS" },
} as const;

/** What backtest-consumer launches for a job (its BACKTEST_CONSUMER_LAUNCH; spec §4: Step Functions). */
export const BACKTEST_CONSUMER_LAUNCH = "STEPFUNCTIONS";

/** Where the backtest service and its workers share results on a volume (compose, Kubernetes). */
export const RESULTS_MOUNT_PATH = "/var/lib/tradai/results";

/** Result store of the backtest service and the worker on AWS (BACKEND_/WORKER_RESULT_STORE). */
export function resultStoreUri(environment: Environment): string {
  return `s3://${bucketName(environment, "results")}/backtests/`;
}

/**
 * Secret variables that only the PostgreSQL state store reads: on AWS the state store is DynamoDB,
 * so ECS task definitions must not reference them (a secret key that is not set stops the task).
 */
export const POSTGRES_STATE_STORE_SECRETS: readonly string[] = [
  "BACKEND_POSTGRES_URL",
  "WORKER_POSTGRES_URL",
];

export const ALERT_TOPIC = "alerts";
export function alertTopicName(environment: Environment): string {
  return `${PROJECT}-${ALERT_TOPIC}-${environment}`;
}

export const STATE_MACHINE = "backtest-workflow";
export function stateMachineName(environment: Environment): string {
  return `${PROJECT}-${STATE_MACHINE}-${environment}`;
}

/** Everything the deployment builders read, so tests can pass a changed copy. */
export interface Topology {
  services: Readonly<Record<ServiceName, ServiceConfig>>;
  lambdas: Readonly<Record<LambdaName, LambdaConfig>>;
  lambdaSchedules: Readonly<Record<ScheduledLambdaName, LambdaSchedule>>;
}

export const TOPOLOGY: Topology = {
  services: SERVICES,
  lambdas: LAMBDA_CONFIGS,
  lambdaSchedules: LAMBDA_SCHEDULES,
};

/** A copy of a topology with one service's fields replaced (for drift tests and what-if synths). */
export function withService(
  topology: Topology,
  name: ServiceName,
  changes: Partial<Omit<ServiceConfig, "name">>,
): Topology {
  return {
    ...topology,
    services: { ...topology.services, [name]: { ...topology.services[name], ...changes } },
  };
}

/** A copy of a topology with one schedule's default expression replaced. */
export function withSchedule(topology: Topology, name: ScheduledLambdaName, expression: string): Topology {
  return {
    ...topology,
    lambdaSchedules: {
      ...topology.lambdaSchedules,
      [name]: { ...topology.lambdaSchedules[name], expression },
    },
  };
}
