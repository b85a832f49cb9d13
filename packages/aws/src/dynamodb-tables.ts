// DynamoDB helpers shared by the state repositories, lambdas and tests.
import {
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  type CreateTableCommandInput,
  type DynamoDBClient,
} from "@aws-sdk/client-dynamodb";
import { isAwsError } from "./aws-clients";

export interface EnsureTableOptions {
  /** How long to wait for the table to become ACTIVE, ms. Default 30000. */
  timeoutMs?: number;
}

/** Creates the table when it does not exist, then waits until it is ACTIVE. Returns true when it created it. */
export async function ensureTable(
  client: DynamoDBClient,
  definition: CreateTableCommandInput,
  options: EnsureTableOptions = {},
): Promise<boolean> {
  const tableName = definition.TableName;
  if (tableName === undefined || tableName === "")
    throw new Error("TableName: expected a table name, got none");
  let created = false;
  try {
    await client.send(new CreateTableCommand(definition));
    created = true;
  } catch (error) {
    if (!isAwsError(error, "ResourceInUseException")) throw error;
  }
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  for (;;) {
    const described = await client.send(new DescribeTableCommand({ TableName: tableName }));
    if (described.Table?.TableStatus === "ACTIVE") return created;
    if (Date.now() > deadline) {
      throw new Error(
        `table ${tableName}: expected status ACTIVE, got ${described.Table?.TableStatus ?? "none"}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Deletes the table; a table that does not exist is not an error. */
export async function deleteTableIfExists(client: DynamoDBClient, tableName: string): Promise<void> {
  try {
    await client.send(new DeleteTableCommand({ TableName: tableName }));
  } catch (error) {
    if (!isAwsError(error, "ResourceNotFoundException")) throw error;
  }
}

/** A conditional write (ConditionExpression) that did not hold. */
export function isConditionalCheckFailed(error: unknown): boolean {
  return isAwsError(error, "ConditionalCheckFailedException");
}

/** A transaction cancelled because a condition did not hold; the reasons say which items failed. */
export function transactionCancellationReasons(error: unknown): (string | undefined)[] | undefined {
  if (!isAwsError(error, "TransactionCanceledException")) return undefined;
  const reasons = (error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons;
  return reasons?.map((reason) => reason.Code);
}
