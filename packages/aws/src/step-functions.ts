// Step Functions: start and inspect executions of the backtest state machine (§4, STEPFUNCTIONS).
import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  StartExecutionCommand,
  type SFNClient,
} from "@aws-sdk/client-sfn";

export interface StartExecutionOptions {
  stateMachineArn: string;
  /** Execution name, unique per state machine for 90 days (1..80 chars of [A-Za-z0-9-_]); a job id fits. */
  name?: string;
  /** The execution input; objects are sent as JSON. */
  input: string | object;
  /** X-Ray trace header, if any. W3C trace context belongs in the input. */
  traceHeader?: string;
}

export interface StartedExecution {
  executionArn: string;
  startDate: Date;
}

const EXECUTION_NAME = /^[A-Za-z0-9_-]{1,80}$/;

export async function startExecution(
  sfn: SFNClient,
  options: StartExecutionOptions,
): Promise<StartedExecution> {
  if (options.name !== undefined && !EXECUTION_NAME.test(options.name)) {
    throw new Error(`name: expected 1..80 characters of A-Z a-z 0-9 - _, got "${options.name}"`);
  }
  const result = await sfn.send(
    new StartExecutionCommand({
      stateMachineArn: options.stateMachineArn,
      name: options.name,
      input: typeof options.input === "string" ? options.input : JSON.stringify(options.input),
      traceHeader: options.traceHeader,
    }),
  );
  if (result.executionArn === undefined)
    throw new Error(`StartExecution ${options.stateMachineArn}: no executionArn`);
  return { executionArn: result.executionArn, startDate: result.startDate ?? new Date() };
}

export type ExecutionStatus =
  "RUNNING" | "SUCCEEDED" | "FAILED" | "TIMED_OUT" | "ABORTED" | "PENDING_REDRIVE";

export interface ExecutionDescription {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  status: ExecutionStatus;
  startDate?: Date;
  stopDate?: Date;
  /** The input, as JSON text. */
  input?: string;
  /** The output, as JSON text, when SUCCEEDED. */
  output?: string;
  error?: string;
  cause?: string;
}

export async function describeExecution(sfn: SFNClient, executionArn: string): Promise<ExecutionDescription> {
  const result = await sfn.send(new DescribeExecutionCommand({ executionArn }));
  const description: ExecutionDescription = {
    executionArn,
    stateMachineArn: result.stateMachineArn ?? "",
    name: result.name ?? "",
    status: (result.status ?? "RUNNING") as ExecutionStatus,
  };
  if (result.startDate !== undefined) description.startDate = result.startDate;
  if (result.stopDate !== undefined) description.stopDate = result.stopDate;
  if (result.input !== undefined) description.input = result.input;
  if (result.output !== undefined) description.output = result.output;
  if (result.error !== undefined) description.error = result.error;
  if (result.cause !== undefined) description.cause = result.cause;
  return description;
}

/** Polls until the execution leaves RUNNING, or the timeout passes (then returns it as it is). */
export async function waitForExecution(
  sfn: SFNClient,
  executionArn: string,
  options: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<ExecutionDescription> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  for (;;) {
    const description = await describeExecution(sfn, executionArn);
    if (description.status !== "RUNNING" || Date.now() > deadline) return description;
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 200));
  }
}

/** Creates a state machine (tests, the local stack); production ones come from infra/. */
export async function createStateMachine(
  sfn: SFNClient,
  options: { name: string; definition: string | object; roleArn: string; type?: "STANDARD" | "EXPRESS" },
): Promise<string> {
  const result = await sfn.send(
    new CreateStateMachineCommand({
      name: options.name,
      definition:
        typeof options.definition === "string" ? options.definition : JSON.stringify(options.definition),
      roleArn: options.roleArn,
      type: options.type ?? "STANDARD",
    }),
  );
  if (result.stateMachineArn === undefined)
    throw new Error(`CreateStateMachine ${options.name}: no ARN returned`);
  return result.stateMachineArn;
}
