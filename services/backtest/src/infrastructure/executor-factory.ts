// ExecutorFactory (the spec's §4 table): builds the BacktestJobSubmitter for the configured
// ExecutorMode. `create()` names every missing setting at once; `createWithFallback()` returns
// undefined in dev mode instead of failing, so a laptop without AWS still starts.
import { Code } from "@connectrpc/connect";
import { createAwsClients } from "@tradai/aws";
import { DomainError, type Logger } from "@tradai/common";
import { ExecutorMode, LocalExecutionMode, type BacktestJobSubmitter } from "../core/backtest-job-submitter";
import { createEcsSubmitter, createSqsSubmitter, createStepFunctionsSubmitter } from "./cloud-submitters";
import { createLocalDockerSubmitter } from "./local-docker-submitter";
import { createLocalSubprocessSubmitter } from "./local-subprocess-submitter";
import type { BacktestSettings } from "./backtest-config";
import { createQueueSubmitter } from "./queue-submitter";
import { workerEnv } from "./worker-env";

/** Everything any executor may need; which fields are required depends on the mode. */
export interface ExecutorSettings {
  mode: ExecutorMode;
  localExecutionMode: LocalExecutionMode;
  /** LOCAL/SUBPROCESS */
  workerEntry?: string;
  localWorkers?: number;
  /** Env for local workers and worker containers. */
  workerEnv?: Record<string, string>;
  /**
   * Variables of the service's own environment handed to worker containers as they are (AWS
   * credentials and region: a container, unlike a worker process, does not inherit them).
   */
  forwardedEnv?: Record<string, string>;
  /** LOCAL/DOCKER */
  dockerSocket?: string;
  workerImage?: string;
  workerCommand?: string[];
  dockerBinds?: string[];
  /** Docker network mode of worker containers; default "host". */
  dockerNetwork?: string;
  /** QUEUE */
  redisUrl?: string;
  queueName?: string;
  /** SQS / ECS / STEPFUNCTIONS */
  awsRegion?: string;
  awsEndpoint?: string;
  backtestQueueUrl?: string;
  ecsCluster?: string;
  ecsSubnets?: string[];
  ecsSecurityGroups?: string[];
  ecsTaskDefinition?: string;
  stepFunctionsStateMachineArn?: string;
  devMode?: boolean;
}

export interface ExecutorCallbacks {
  logger: Logger;
  /** A local worker or container died with the job: mark it FAILED. */
  onJobLost(jobId: string, reason: string): Promise<void> | void;
}

export class ExecutorConfigError extends Error {
  constructor(
    readonly mode: string,
    readonly missing: string[],
  ) {
    super(`executor ${mode} is not configured: expected ${missing.join(", ")} to be set, got nothing`);
    this.name = "ExecutorConfigError";
  }
}

/**
 * The submitter of a disabled executor (dev mode without its settings): every submission fails
 * with FAILED_PRECONDITION naming the missing variables, before any validation or data download.
 */
export function createUnconfiguredSubmitter(error: ExecutorConfigError): BacktestJobSubmitter {
  const unavailable = new DomainError(
    Code.FailedPrecondition,
    `backtests are disabled: ${error.message}`,
    error.missing.map((variable) => ({
      field: variable,
      message: `${variable} is not set`,
      expected: `${variable} set for executor ${error.mode}`,
      found: "nothing",
    })),
  );
  return {
    executor: "NONE",
    unavailable,
    submit: () => Promise.reject(unavailable),
    cancel: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
}

/** The service's variables LOCAL/DOCKER worker containers get as they are, when set. */
export const FORWARDED_WORKER_VARIABLES = [
  "AWS_ACCESS_KEY_ID",
  "AWS_SECRET_ACCESS_KEY",
  "AWS_SESSION_TOKEN",
  "AWS_REGION",
  "AWS_PROFILE",
] as const;

/** The FORWARDED_WORKER_VARIABLES set (non-empty) in `hostEnv`. */
export function forwardedWorkerEnv(hostEnv: Record<string, string | undefined>): Record<string, string> {
  const forwarded: Record<string, string> = {};
  for (const variable of FORWARDED_WORKER_VARIABLES) {
    const value = hostEnv[variable];
    if (value !== undefined && value !== "") forwarded[variable] = value;
  }
  return forwarded;
}

/**
 * The executor settings of the service's loaded BACKEND_* config (main.ts), also used by infra/ and
 * charts/ tests to check that each deployment's variables configure the executor. `hostEnv` is the
 * service's process environment (main.ts passes process.env), from which AWS credentials are
 * forwarded to worker containers; default none.
 */
export function executorSettingsFrom(
  settings: BacktestSettings,
  hostEnv: Record<string, string | undefined> = {},
): ExecutorSettings {
  return {
    forwardedEnv: forwardedWorkerEnv(hostEnv),
    mode: settings.executorMode,
    localExecutionMode: settings.localExecutionMode,
    workerEntry: settings.workerEntry,
    localWorkers: settings.localWorkers,
    workerEnv: workerEnv(settings),
    ...(settings.workerImage === undefined ? {} : { workerImage: settings.workerImage }),
    dockerNetwork: settings.workerNetwork,
    dockerBinds: settings.workerVolumes,
    dockerSocket: settings.dockerSocket,
    ...(settings.redisUrl === undefined ? {} : { redisUrl: settings.redisUrl }),
    queueName: settings.queueName,
    ...(settings.awsRegion === undefined ? {} : { awsRegion: settings.awsRegion }),
    ...(settings.awsEndpointUrl === undefined ? {} : { awsEndpoint: settings.awsEndpointUrl }),
    ...(settings.backtestQueueUrl === undefined ? {} : { backtestQueueUrl: settings.backtestQueueUrl }),
    ...(settings.ecsCluster === undefined ? {} : { ecsCluster: settings.ecsCluster }),
    ecsSubnets: settings.ecsSubnets,
    ecsSecurityGroups: settings.ecsSecurityGroups,
    ...(settings.ecsTaskDefinition === undefined ? {} : { ecsTaskDefinition: settings.ecsTaskDefinition }),
    ...(settings.stepfunctionsStateMachineArn === undefined
      ? {}
      : { stepFunctionsStateMachineArn: settings.stepfunctionsStateMachineArn }),
    devMode: settings.devMode,
  };
}

export type ExecutorResult =
  { ok: true; submitter: BacktestJobSubmitter } | { ok: false; error: ExecutorConfigError };

const isSet = (value: string | undefined) => value !== undefined && value !== "";
const isListSet = (value: string[] | undefined) => value !== undefined && value.length > 0;

/** The env variables each mode requires, with the settings they fill. */
export function missingSettings(settings: ExecutorSettings): string[] {
  const missing: string[] = [];
  const need = (ok: boolean, variable: string) => {
    if (!ok) missing.push(variable);
  };
  switch (settings.mode) {
    case ExecutorMode.LOCAL:
      if (settings.localExecutionMode === LocalExecutionMode.DOCKER)
        need(isSet(settings.workerImage), "BACKEND_WORKER_IMAGE");
      else need(isSet(settings.workerEntry), "BACKEND_WORKER_ENTRY");
      break;
    case ExecutorMode.QUEUE:
      need(isSet(settings.redisUrl), "BACKEND_REDIS_URL");
      break;
    case ExecutorMode.SQS:
      need(isSet(settings.backtestQueueUrl), "BACKEND_BACKTEST_QUEUE_URL");
      need(isSet(settings.awsRegion), "BACKEND_AWS_REGION");
      break;
    case ExecutorMode.ECS:
      need(isSet(settings.ecsCluster), "BACKEND_ECS_CLUSTER");
      need(isListSet(settings.ecsSubnets), "BACKEND_ECS_SUBNETS");
      need(isListSet(settings.ecsSecurityGroups), "BACKEND_ECS_SECURITY_GROUPS");
      need(isSet(settings.ecsTaskDefinition), "BACKEND_ECS_TASK_DEFINITION");
      need(isSet(settings.awsRegion), "BACKEND_AWS_REGION");
      break;
    case ExecutorMode.STEPFUNCTIONS:
      need(isSet(settings.stepFunctionsStateMachineArn), "BACKEND_STEPFUNCTIONS_STATE_MACHINE_ARN");
      need(isSet(settings.awsRegion), "BACKEND_AWS_REGION");
      break;
  }
  return missing;
}

export const ExecutorFactory = {
  create(settings: ExecutorSettings, callbacks: ExecutorCallbacks): ExecutorResult {
    const missing = missingSettings(settings);
    const label =
      settings.mode === ExecutorMode.LOCAL ? `LOCAL/${settings.localExecutionMode}` : settings.mode;
    if (missing.length > 0) return { ok: false, error: new ExecutorConfigError(label, missing) };
    const aws = () =>
      createAwsClients({
        region: settings.awsRegion ?? "",
        ...(settings.awsEndpoint === undefined ? {} : { endpoint: settings.awsEndpoint }),
      });
    switch (settings.mode) {
      case ExecutorMode.LOCAL:
        return {
          ok: true,
          submitter:
            settings.localExecutionMode === LocalExecutionMode.DOCKER
              ? createLocalDockerSubmitter({
                  image: settings.workerImage ?? "",
                  ...(settings.dockerSocket === undefined ? {} : { socketPath: settings.dockerSocket }),
                  ...(settings.workerCommand === undefined ? {} : { command: settings.workerCommand }),
                  env: { ...settings.forwardedEnv, ...settings.workerEnv },
                  binds: settings.dockerBinds ?? [],
                  ...(settings.dockerNetwork === undefined ? {} : { networkMode: settings.dockerNetwork }),
                  logger: callbacks.logger,
                  onJobLost: callbacks.onJobLost,
                })
              : createLocalSubprocessSubmitter({
                  workerEntry: settings.workerEntry ?? "",
                  workers: settings.localWorkers ?? 1,
                  env: settings.workerEnv ?? {},
                  logger: callbacks.logger,
                  onJobLost: callbacks.onJobLost,
                }),
        };
      case ExecutorMode.QUEUE:
        return {
          ok: true,
          submitter: createQueueSubmitter({
            redisUrl: settings.redisUrl ?? "",
            ...(settings.queueName === undefined ? {} : { queueName: settings.queueName }),
            onJobFailed: callbacks.onJobLost,
            logger: callbacks.logger,
          }),
        };
      case ExecutorMode.SQS:
        return {
          ok: true,
          submitter: createSqsSubmitter({ aws: aws(), queueUrl: settings.backtestQueueUrl ?? "" }),
        };
      case ExecutorMode.ECS:
        return {
          ok: true,
          submitter: createEcsSubmitter({
            aws: aws(),
            cluster: settings.ecsCluster ?? "",
            subnets: settings.ecsSubnets ?? [],
            securityGroups: settings.ecsSecurityGroups ?? [],
            taskDefinition: settings.ecsTaskDefinition ?? "",
          }),
        };
      case ExecutorMode.STEPFUNCTIONS:
        return {
          ok: true,
          submitter: createStepFunctionsSubmitter({
            aws: aws(),
            stateMachineArn: settings.stepFunctionsStateMachineArn ?? "",
          }),
        };
    }
  },

  /**
   * Like `createWithFallback`, but in dev mode an unconfigured executor yields the
   * `createUnconfiguredSubmitter` placeholder, so submissions say what is missing.
   */
  createOrUnconfigured(settings: ExecutorSettings, callbacks: ExecutorCallbacks): BacktestJobSubmitter {
    const result = ExecutorFactory.create(settings, callbacks);
    if (result.ok) return result.submitter;
    if (settings.devMode === true) {
      callbacks.logger.warn(
        { missing: result.error.missing },
        `${result.error.message}; dev mode: backtests are disabled`,
      );
      return createUnconfiguredSubmitter(result.error);
    }
    throw result.error;
  },

  /** Like `create`, but in dev mode an unconfigured executor yields undefined (logged) instead of an error. */
  createWithFallback(
    settings: ExecutorSettings,
    callbacks: ExecutorCallbacks,
  ): BacktestJobSubmitter | undefined {
    const result = ExecutorFactory.create(settings, callbacks);
    if (result.ok) return result.submitter;
    if (settings.devMode === true) {
      callbacks.logger.warn(
        { missing: result.error.missing },
        `${result.error.message}; dev mode: backtests are disabled`,
      );
      return undefined;
    }
    throw result.error;
  },
};
