// Runs the Pulumi program under mocks (no cloud account, no CLI): records every resource with its
// resolved inputs so tests can assert on them. setMocks runs before the program is imported.
import * as pulumi from "@pulumi/pulumi";
import type { TradaiInfrastructureArgs } from "../src/tradai-infrastructure";

export const ACCOUNT = "123456789012";
export const REGION = "eu-central-1";

export interface RecordedResource {
  type: string;
  name: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- resolved Pulumi inputs are untyped
  inputs: Record<string, any>;
}

let recorded: RecordedResource[] = [];

const mocks: pulumi.runtime.Mocks = {
  newResource(args) {
    recorded.push({ type: args.type, name: args.name, inputs: args.inputs });
    const service = args.type.split(":")[1]?.split("/")[0] ?? "unknown";
    const name: string = args.inputs.name ?? args.inputs.family ?? args.name;
    const arn = `arn:aws:${service}:${REGION}:${ACCOUNT}:${name}`;
    const state: Record<string, unknown> = { ...args.inputs, name, arn };
    switch (args.type) {
      case "aws:sqs/queue:Queue":
        state.url = `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${name}`;
        break;
      case "aws:ecr/repository:Repository":
        state.repositoryUrl = `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/${name}`;
        break;
      case "aws:ecs/taskDefinition:TaskDefinition":
        state.arnWithoutRevision = `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/${name}`;
        state.arn = `${state.arnWithoutRevision as string}:1`;
        break;
      case "aws:lambda/function:Function":
        state.arn = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`;
        break;
      case "aws:ec2/instance:Instance":
        state.privateIp = "10.0.10.5";
        break;
      case "aws:lb/loadBalancer:LoadBalancer":
        state.dnsName = `${name}.${REGION}.elb.amazonaws.com`;
        break;
      case "aws:s3/bucket:Bucket":
        state.bucket = args.inputs.bucket;
        state.arn = `arn:aws:s3:::${args.inputs.bucket as string}`;
        break;
    }
    return { id: `${args.name}-id`, state };
  },
  call(args) {
    switch (args.token) {
      case "aws:index/getCallerIdentity:getCallerIdentity":
        return { accountId: ACCOUNT, arn: `arn:aws:iam::${ACCOUNT}:user/test`, userId: "test", id: ACCOUNT };
      case "aws:ec2/getAmi:getAmi":
        return { ...args.inputs, id: "ami-0123456789abcdef0", imageId: "ami-0123456789abcdef0" };
      default:
        return args.inputs;
    }
  },
};

/** Waits until no resource has been registered for a few ticks (bounded). */
async function settle(): Promise<void> {
  let stableTicks = 0;
  let last = -1;
  for (let tick = 0; tick < 400 && stableTicks < 4; tick++) {
    await new Promise((resolve) => setTimeout(resolve, 25));
    stableTicks = recorded.length === last ? stableTicks + 1 : 0;
    last = recorded.length;
  }
}

export function outputValue<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply((value) => resolve(value)));
}

/** Instantiates the program for one stack and returns every resource it registered. */
export async function runProgram(
  args: TradaiInfrastructureArgs,
  config: Record<string, string> = {},
): Promise<RecordedResource[]> {
  recorded = [];
  await pulumi.runtime.setMocks(mocks, "tradai", args.environment, false);
  pulumi.runtime.setAllConfig(config);
  const { createTradaiInfrastructure } = await import("../src/tradai-infrastructure");
  const infrastructure = createTradaiInfrastructure(args);
  await outputValue(infrastructure.functions.stateMachine.arn);
  await settle();
  return recorded;
}
