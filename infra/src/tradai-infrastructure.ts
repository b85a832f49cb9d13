// The whole AWS deployment of one environment, from infra/shared/config.ts (spec §1, §2, §5).
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import {
  DEFAULT_REGION,
  DISABLED_FUNCTIONS_CONFIG_KEY,
  TOPOLOGY,
  parseEnvironment,
  resolveEnabledFunctions,
  resolveLambdaSchedules,
  stateMachineName,
} from "../shared/config";
import type { Environment, ScheduledLambdaName, Topology } from "../shared/config";
import { createCompute } from "./compute";
import type { Compute } from "./compute";
import { createDataStores } from "./data-stores";
import type { DataStores } from "./data-stores";
import { createFunctions } from "./functions";
import type { Functions } from "./functions";
import { createNetwork } from "./network";
import type { Network } from "./network";

export interface TradaiInfrastructureArgs {
  environment: Environment;
  /** Default: TOPOLOGY from infra/shared/config.ts. */
  topology?: Topology;
  /** Default: eu-central-1 (spec §1). */
  region?: string;
  /** Default: the region's a and b zones. */
  availabilityZones?: string[];
  /** Default: 10.0.0.0/16. */
  vpcCidr?: string;
  /** Default: t3.nano. */
  natInstanceType?: string;
  /** Image tag of every service and function image. Default: "latest". */
  imageTag?: string;
  /** Schedule overrides by the spec's config keys (e.g. `orphan_scanner_schedule`). */
  scheduleOverrides?: Readonly<Record<string, string>>;
  /** Optional functions to leave out (stack config `disabled_functions`). Default: none. */
  disabledFunctions?: readonly string[];
  consolidatedAmiId?: string;
  certificateArn?: string;
}

export interface TradaiInfrastructure {
  environment: Environment;
  network: Network;
  stores: DataStores;
  compute: Compute;
  functions: Functions;
  schedules: Record<ScheduledLambdaName, string>;
}

/** Tags every resource carries (set on each resource, so a test can check them). */
export function standardTags(environment: Environment): Record<string, string> {
  return { Project: "tradai", Environment: environment, ManagedBy: "pulumi" };
}

export function createTradaiInfrastructure(args: TradaiInfrastructureArgs): TradaiInfrastructure {
  const environment = parseEnvironment(args.environment);
  const topology = args.topology ?? TOPOLOGY;
  const region = args.region ?? DEFAULT_REGION;
  const tags = standardTags(environment);
  const overrides = args.scheduleOverrides ?? {};
  const schedules = resolveLambdaSchedules((key) => overrides[key], topology.lambdaSchedules);
  const enabledFunctions = resolveEnabledFunctions(args.disabledFunctions ?? [], topology.lambdas);
  const imageTag = args.imageTag ?? "latest";
  const account = { accountId: aws.getCallerIdentityOutput().accountId, region };

  const network = createNetwork({
    environment,
    topology,
    cidr: args.vpcCidr ?? "10.0.0.0/16",
    availabilityZones: args.availabilityZones ?? [`${region}a`, `${region}b`],
    natInstanceType: args.natInstanceType ?? "t3.nano",
    tags,
  });
  const stores = createDataStores(environment, tags);
  const compute = createCompute({
    environment,
    topology,
    account,
    network,
    stores,
    imageTag,
    stateMachineArn: pulumi.interpolate`arn:aws:states:${region}:${account.accountId}:stateMachine:${stateMachineName(environment)}`,
    consolidatedAmiId: args.consolidatedAmiId,
    certificateArn: args.certificateArn,
    tags,
  });
  const functions = createFunctions({
    environment,
    topology,
    account,
    network,
    stores,
    compute,
    imageTag,
    schedules,
    enabledFunctions,
    tags,
  });
  return { environment, network, stores, compute, functions, schedules };
}

/** Stack configuration → program arguments (the stack name is the environment). */
export function argsFromConfig(stack: string, config: pulumi.Config): TradaiInfrastructureArgs {
  const environment = parseEnvironment(stack, "stack");
  const scheduleOverrides: Record<string, string> = {};
  for (const { configKey } of Object.values(TOPOLOGY.lambdaSchedules)) {
    const value = config.get(configKey);
    if (value !== undefined) scheduleOverrides[configKey] = value;
  }
  const zones = config.get("availability_zones");
  const disabled = config.get(DISABLED_FUNCTIONS_CONFIG_KEY);
  const region = new pulumi.Config("aws").get("region") ?? process.env.AWS_REGION ?? DEFAULT_REGION;
  const optional = (key: string) => config.get(key);
  return {
    environment,
    region,
    scheduleOverrides,
    ...(disabled !== undefined
      ? {
          disabledFunctions: disabled
            .split(",")
            .map((name) => name.trim())
            .filter((name) => name !== ""),
        }
      : {}),
    ...(zones !== undefined ? { availabilityZones: zones.split(",").map((zone) => zone.trim()) } : {}),
    ...(optional("vpc_cidr") !== undefined ? { vpcCidr: optional("vpc_cidr") } : {}),
    ...(optional("nat_instance_type") !== undefined
      ? { natInstanceType: optional("nat_instance_type") }
      : {}),
    ...(optional("image_tag") !== undefined ? { imageTag: optional("image_tag") } : {}),
    ...(optional("custom_ami_id") !== undefined ? { consolidatedAmiId: optional("custom_ami_id") } : {}),
    ...(optional("certificate_arn") !== undefined ? { certificateArn: optional("certificate_arn") } : {}),
  };
}
