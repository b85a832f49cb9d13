// ECS RunTask for one-off worker tasks (the spec's strategy-container, §3.7/§4): Fargate or the
// FARGATE_SPOT capacity provider, awsvpc networking, container overrides carrying the job.
import {
  DescribeTasksCommand,
  ListTasksCommand,
  RunTaskCommand,
  StopTaskCommand,
  type ECSClient,
  type RunTaskCommandInput,
  type Task,
} from "@aws-sdk/client-ecs";
import type { TraceContext } from "./sqs-queue";

/** Where the task runs: the FARGATE launch type, or the FARGATE_SPOT capacity provider. */
export type EcsCapacity = "FARGATE" | "FARGATE_SPOT";

export interface RunTaskOptions {
  /** Cluster name or ARN. */
  cluster: string;
  /** Family, family:revision or ARN. */
  taskDefinition: string;
  /** Default "FARGATE". Live trading must never use FARGATE_SPOT (ARCHITECTURE.md §4.9). */
  capacity?: EcsCapacity;
  /** awsvpc networking: at least one subnet. */
  subnets: readonly string[];
  /** At least one (the spec requires BACKEND_ECS_SECURITY_GROUPS). */
  securityGroups: readonly string[];
  /** Default false (tasks reach the internet through the NAT instance). */
  assignPublicIp?: boolean;
  /** The container the overrides apply to. */
  containerName: string;
  /** Environment variables set on that container. */
  environment?: Record<string, string>;
  /** W3C trace headers, passed as TRACEPARENT/TRACESTATE/BAGGAGE env (OpenTelemetry's env carrier). */
  traceContext?: TraceContext;
  command?: readonly string[];
  /** Task-level CPU/memory overrides (Fargate sizes), e.g. "1024" / "2048". */
  cpu?: string;
  memory?: string;
  /** Shows in ListTasks(startedBy); at most 36 characters. */
  startedBy?: string;
  group?: string;
  tags?: Record<string, string>;
}

export interface RunTaskResult {
  taskArn: string;
  clusterArn?: string;
  lastStatus?: string;
}

export class EcsRunTaskError extends Error {
  constructor(
    message: string,
    readonly failures: { arn?: string; reason?: string; detail?: string }[],
  ) {
    super(message);
    this.name = "EcsRunTaskError";
  }
}

export function traceContextEnvironment(traceContext: TraceContext | undefined): Record<string, string> {
  const environment: Record<string, string> = {};
  for (const [key, value] of Object.entries(traceContext ?? {})) {
    if (["traceparent", "tracestate", "baggage"].includes(key) && value !== "")
      environment[key.toUpperCase()] = value;
  }
  return environment;
}

/** The RunTask request for these options (validated); exported so submitters can log or test it. */
export function buildRunTaskInput(options: RunTaskOptions): RunTaskCommandInput {
  if (options.subnets.length === 0) {
    throw new Error("subnets: expected at least one subnet for awsvpc networking, got none");
  }
  if (options.securityGroups.length === 0) {
    throw new Error("securityGroups: expected at least one security group for awsvpc networking, got none");
  }
  if (options.startedBy !== undefined && options.startedBy.length > 36) {
    throw new Error(`startedBy: expected at most 36 characters, got ${options.startedBy.length}`);
  }
  const capacity = options.capacity ?? "FARGATE";
  if (capacity !== "FARGATE" && capacity !== "FARGATE_SPOT") {
    throw new Error(`capacity: expected FARGATE or FARGATE_SPOT, got ${String(capacity)}`);
  }
  const environment = { ...options.environment, ...traceContextEnvironment(options.traceContext) };
  return {
    cluster: options.cluster,
    taskDefinition: options.taskDefinition,
    count: 1,
    // A capacity provider strategy and a launch type are mutually exclusive in RunTask.
    ...(capacity === "FARGATE"
      ? { launchType: "FARGATE" }
      : { capacityProviderStrategy: [{ capacityProvider: "FARGATE_SPOT", weight: 1 }] }),
    networkConfiguration: {
      awsvpcConfiguration: {
        subnets: [...options.subnets],
        securityGroups: [...options.securityGroups],
        assignPublicIp: options.assignPublicIp === true ? "ENABLED" : "DISABLED",
      },
    },
    overrides: {
      ...(options.cpu === undefined ? {} : { cpu: options.cpu }),
      ...(options.memory === undefined ? {} : { memory: options.memory }),
      containerOverrides: [
        {
          name: options.containerName,
          environment: Object.entries(environment).map(([name, value]) => ({ name, value })),
          ...(options.command === undefined ? {} : { command: [...options.command] }),
        },
      ],
    },
    ...(options.startedBy === undefined ? {} : { startedBy: options.startedBy }),
    ...(options.group === undefined ? {} : { group: options.group }),
    ...(options.tags === undefined
      ? {}
      : { tags: Object.entries(options.tags).map(([key, value]) => ({ key, value })) }),
  };
}

export async function runTask(ecs: ECSClient, options: RunTaskOptions): Promise<RunTaskResult> {
  const result = await ecs.send(new RunTaskCommand(buildRunTaskInput(options)));
  const task = result.tasks?.[0];
  if (task?.taskArn === undefined) {
    const failures = result.failures ?? [];
    const reasons = failures.map(
      (failure) => `${failure.reason ?? "unknown"}${failure.detail ? ` (${failure.detail})` : ""}`,
    );
    throw new EcsRunTaskError(
      `RunTask ${options.taskDefinition} on ${options.cluster}: expected a started task, got ${reasons.length > 0 ? reasons.join("; ") : "none"}`,
      failures,
    );
  }
  return {
    taskArn: task.taskArn,
    ...(task.clusterArn === undefined ? {} : { clusterArn: task.clusterArn }),
    ...(task.lastStatus === undefined ? {} : { lastStatus: task.lastStatus }),
  };
}

export async function describeTasks(
  ecs: ECSClient,
  cluster: string,
  taskArns: readonly string[],
): Promise<Task[]> {
  if (taskArns.length === 0) return [];
  const result = await ecs.send(
    new DescribeTasksCommand({ cluster, tasks: [...taskArns], include: ["TAGS"] }),
  );
  return result.tasks ?? [];
}

/** Every task ARN in the cluster with the given desired status (default RUNNING), all pages. */
export async function listTaskArns(
  ecs: ECSClient,
  cluster: string,
  options: { desiredStatus?: "RUNNING" | "STOPPED" | "PENDING"; startedBy?: string; family?: string } = {},
): Promise<string[]> {
  const arns: string[] = [];
  let nextToken: string | undefined;
  for (let page = 0; page < 1000; page++) {
    const result = await ecs.send(
      new ListTasksCommand({
        cluster,
        desiredStatus: options.desiredStatus ?? "RUNNING",
        startedBy: options.startedBy,
        family: options.family,
        nextToken,
      }),
    );
    arns.push(...(result.taskArns ?? []));
    nextToken = result.nextToken;
    if (nextToken === undefined) break;
  }
  return arns;
}

export async function stopTask(
  ecs: ECSClient,
  cluster: string,
  taskArn: string,
  reason: string,
): Promise<void> {
  await ecs.send(new StopTaskCommand({ cluster, task: taskArn, reason }));
}
